"""Settings → Currencies and exchange rates (admins with the customization right): the corporate currency, the
dated rates per currency, adding, correcting and deleting one, and importing a CSV of them."""
from __future__ import annotations

from itertools import groupby

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm.access.settings_views import render_settings, right_required
from opportunities.currency import (
    corporate_currency,
    currencies_without_rate,
    currency_name,
    exchange_rate_delete,
    exchange_rate_save,
    exchange_rates_import,
    parse_rates_csv,
)
from opportunities.forms_products import ExchangeRateForm, RateImportForm
from opportunities.models import ExchangeRate

RIGHT = "manage_customization"
SECTION = "currencies"


def _save(request, form, rate) -> bool:
    if not form.is_valid():
        return False
    try:
        exchange_rate_save(actor=request.user, rate=form.instance)
    except ValidationError as error:
        form.add_error(None, error)
        return False
    return True


@right_required(RIGHT)
def currency_settings(request):
    form = ExchangeRateForm(request.POST or None, prefix="rate")
    if request.method == "POST" and _save(request, form, form.instance):
        rate = form.instance
        messages.success(request, _("Rate for %(currency)s from %(date)s saved.") % {
            "currency": rate.currency, "date": rate.valid_from.isoformat()})
        return redirect("opportunities:currencies")
    rates = list(ExchangeRate.objects.order_by("currency", "-valid_from"))
    for rate in rates:  # as typed: 1.085, not 1.08500000
        rate.decimals = max(0, -rate.rate.normalize().as_tuple().exponent)
    currencies = [{"code": code, "name": currency_name(code), "rates": list(group)}
                  for code, group in groupby(rates, key=lambda r: r.currency)]
    return render_settings(request, "opportunities/currency/settings.html", {
        "form": form, "currencies": currencies, "corporate": corporate_currency(),
        "corporate_name": currency_name(corporate_currency()), "import_form": RateImportForm(),
        "without_rate": [{"code": code, "name": currency_name(code)} for code in currencies_without_rate()],
    }, section=SECTION)


@right_required(RIGHT)
def rate_edit(request, pk):
    rate = get_object_or_404(ExchangeRate, pk=pk)
    if request.method == "POST" and request.POST.get("delete"):
        exchange_rate_delete(actor=request.user, rate=rate)
        messages.success(request, _("Rate deleted. Opportunities of that currency were converted again."))
        return redirect("opportunities:currencies")
    form = ExchangeRateForm(request.POST or None, instance=rate, prefix="rate")
    if request.method == "POST" and _save(request, form, rate):
        messages.success(request, _("Rate corrected. Opportunities closing while it is in force were converted again."))
        return redirect("opportunities:currencies")
    return render_settings(request, "opportunities/currency/rate_form.html", {"form": form, "rate": rate},
                           section=SECTION)


@right_required(RIGHT)
def rate_import(request):
    form = RateImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        parsed = parse_rates_csv(form.cleaned_data["file"].read())
        good_only = form.cleaned_data["good_rows_only"]
        result = exchange_rates_import(actor=request.user, parsed=parsed, good_rows_only=good_only)
        if not result.errors or good_only:
            if result.written or result.updated:
                messages.success(request, ngettext(
                    "%(count)s rate imported (%(created)s new, %(updated)s corrected).",
                    "%(count)s rates imported (%(created)s new, %(updated)s corrected).",
                    result.written + result.updated) % {"count": result.written + result.updated,
                                                         "created": result.written, "updated": result.updated})
            elif not result.errors:
                messages.info(request, _("The file held no new rates."))
            if not result.errors:
                return redirect("opportunities:currencies")
    return render_settings(request, "opportunities/currency/import.html", {"form": form, "result": result},
                           section=SECTION)
