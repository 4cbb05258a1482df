"""Forms of quotes and invoices: a quote's header, its lines, the e-mail that sends one, the quote list's
filters, and Settings → Sales."""
from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from opportunities.models import Invoice, Product, Quote, QuoteLine, SalesSettings

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
LANGUAGE_CHOICES = (("en", gettext_lazy("English")), ("fa", gettext_lazy("Persian")), ("fi", gettext_lazy("Finnish")))


def _percent(value, *, label_error: str):
    if value is None:
        return Decimal(0)
    if value < 0 or value > 100:
        raise forms.ValidationError(label_error)
    return value


class QuoteForm(forms.ModelForm):
    language = forms.ChoiceField(label=gettext_lazy("Language of the quote"), choices=LANGUAGE_CHOICES,
                                 help_text=gettext_lazy("The PDF and its e-mail are written in it."))
    discount_percent = forms.DecimalField(label=gettext_lazy("Overall discount %"), max_digits=5, decimal_places=2,
                                          required=False)
    tax_percent = forms.DecimalField(label=gettext_lazy("Tax %"), max_digits=5, decimal_places=2, required=False)

    class Meta:
        model = Quote
        fields = ["name", "contact", "language", "valid_until", "discount_percent", "tax_percent", "terms"]
        widgets = {"valid_until": DATE_WIDGET, "terms": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, contacts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = contacts
        self.fields["contact"].required = False
        self.fields["contact"].help_text = _("A contact of the opportunity's account; the quote is e-mailed to them.")
        self.fields["terms"].required = False
        self.fields["valid_until"].required = True

    def clean_discount_percent(self):
        return _percent(self.cleaned_data.get("discount_percent"),
                        label_error=_("The discount must be between 0 and 100 %."))

    def clean_tax_percent(self):
        return _percent(self.cleaned_data.get("tax_percent"), label_error=_("The tax must be between 0 and 100 %."))


class QuoteLineForm(forms.ModelForm):
    """A line of a quote: a product (its price from the opportunity's price book when it has one there), or
    just a name, with quantity, list price and discount %."""

    product = forms.ModelChoiceField(label=gettext_lazy("Product"), queryset=Product.objects.none(), required=False)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200, required=False,
                           help_text=gettext_lazy("Empty: the product's name."))
    list_price = forms.DecimalField(label=gettext_lazy("List price"), max_digits=16, decimal_places=2, required=False,
                                    help_text=gettext_lazy("Empty: the price book's price."))
    quantity = forms.DecimalField(label=gettext_lazy("Quantity"), max_digits=12, decimal_places=2)
    discount_percent = forms.DecimalField(label=gettext_lazy("Discount %"), max_digits=5, decimal_places=2,
                                          required=False)

    class Meta:
        model = QuoteLine
        fields = ["product", "name", "quantity", "list_price", "discount_percent", "description"]

    def __init__(self, *args, prices: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.prices = prices
        products = Product.objects.filter(is_active=True)
        if self.instance.pk and self.instance.product_id:
            products = Product.objects.filter(pk=self.instance.product_id) | products
        self.fields["product"].queryset = products.order_by("name")
        self.fields["product"].widget.attrs.update({"data-tom-select": ""})
        self.fields["description"].required = False

    def clean_quantity(self):
        quantity = self.cleaned_data["quantity"]
        if quantity is None or quantity <= 0:
            raise forms.ValidationError(_("The quantity must be more than zero."))
        return quantity

    def clean_list_price(self):
        price = self.cleaned_data.get("list_price")
        if price is not None and price < 0:
            raise forms.ValidationError(_("The list price cannot be negative."))
        return price

    def clean_discount_percent(self):
        return _percent(self.cleaned_data.get("discount_percent"),
                        label_error=_("The discount must be between 0 and 100 %."))

    def clean(self):
        data = super().clean()
        product = data.get("product")
        if product is None and not (data.get("name") or "").strip():
            self.add_error("product", _("Choose a product or give the line a name."))
        if product is not None and not data.get("name"):
            data["name"] = product.name[:200]
            self.instance.name = data["name"]
        if data.get("list_price") is None and "list_price" not in self.errors:
            entry = self.prices.get(product.pk) if product is not None else None
            if entry is None:
                self.add_error("list_price", _("Give a list price: this product has no price in the "
                                               "opportunity's price book."))
            else:
                data["list_price"] = entry.unit_price
                self.instance.list_price = entry.unit_price
        return data


class SendForm(forms.Form):
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=255)
    message = forms.CharField(label=gettext_lazy("Message"), widget=forms.Textarea(attrs={"rows": 6}))


class QuoteFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Number or name"), required=False)
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False,
                               choices=(("", gettext_lazy("Any status")), *Quote.Status.choices))


class InvoiceFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Number, quote, opportunity or account"), required=False)
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False,
                               choices=(("", gettext_lazy("Any status")), *Invoice.Status.choices))


class SalesSettingsForm(forms.ModelForm):
    class Meta:
        model = SalesSettings
        fields = ["discount_approval_threshold", "quote_validity_days", "invoice_due_days", "default_tax_percent",
                  "quote_terms"]
        widgets = {"quote_terms": forms.Textarea(attrs={"rows": 5})}

    def clean_discount_approval_threshold(self):
        return _percent(self.cleaned_data.get("discount_approval_threshold"),
                        label_error=_("The threshold must be between 0 and 100 %."))

    def clean_default_tax_percent(self):
        return _percent(self.cleaned_data.get("default_tax_percent"),
                        label_error=_("The tax must be between 0 and 100 %."))
