"""Forms of the sales catalogue: exchange rates (and their CSV import), products, price books and their prices,
and an opportunity's line items."""
from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from opportunities.models import ExchangeRate, LineItem, PriceBook, PriceBookEntry, Product

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


# --- exchange rates -------------------------------------------------------------------------------------------

class ExchangeRateForm(forms.ModelForm):
    currency = forms.ChoiceField(label=gettext_lazy("Currency"), choices=())

    class Meta:
        model = ExchangeRate
        fields = ["currency", "rate", "valid_from"]
        widgets = {"valid_from": DATE_WIDGET}
        help_texts = {"rate": gettext_lazy("How many units of this currency one unit of the corporate currency buys.")}

    def __init__(self, *args, **kwargs):
        from opportunities.currency import corporate_currency, currency_choices

        super().__init__(*args, **kwargs)
        corporate = corporate_currency()
        self.fields["currency"].choices = [c for c in currency_choices() if c[0] != corporate]
        self.fields["currency"].widget.attrs["data-tom-select"] = ""


class RateImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV file"),
                           help_text=gettext_lazy("Columns currency, rate and valid_from (the ECB's CURRENCY, OBS_VALUE "
                                                  "and TIME_PERIOD are read too)."))
    good_rows_only = forms.BooleanField(
        label=gettext_lazy("Import the good rows and skip the bad ones"), required=False,
        help_text=gettext_lazy("Otherwise nothing is written when any row is bad."))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > 5 * 1024 * 1024:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        return upload


class ProductImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV or XLSX file"),
                           help_text=gettext_lazy("Columns code and name, then any of family, description, active, "
                                                  "list price and currency."))
    good_rows_only = forms.BooleanField(
        label=gettext_lazy("Import the good rows and skip the bad ones"), required=False,
        help_text=gettext_lazy("Otherwise nothing is written when any row is bad."))


# --- products and price books ---------------------------------------------------------------------------------

class ProductForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = ["code", "name", "family", "description", "is_active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def clean_code(self):
        return self.cleaned_data["code"].strip()


class ProductFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Search"), required=False)
    family = forms.ChoiceField(label=gettext_lazy("Product family"), required=False)
    active = forms.ChoiceField(label=gettext_lazy("Active"), required=False, choices=(
        ("", gettext_lazy("Active and inactive")), ("1", gettext_lazy("Active")), ("0", gettext_lazy("Inactive"))))

    def __init__(self, *args, families=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["family"].choices = [("", _("All families")), *[(f, f) for f in families]]


class PriceBookForm(forms.ModelForm):
    currency = forms.ChoiceField(label=gettext_lazy("Currency"), choices=())

    class Meta:
        model = PriceBook
        fields = ["name", "currency", "is_standard", "is_active", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        from opportunities.currency import currency_choices

        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = currency_choices()
        self.fields["currency"].widget.attrs["data-tom-select"] = ""
        if self.instance.pk and self.instance.entries.exists():
            # Its prices are in that currency.
            self.fields["currency"].disabled = True

    def clean(self):
        data = super().clean()
        if data.get("is_standard") and data.get("currency"):
            others = PriceBook.objects.filter(is_standard=True, currency=data["currency"]).exclude(pk=self.instance.pk)
            if others.exists():
                self.add_error("is_standard", _("%(currency)s already has a standard price book.") % {
                    "currency": data["currency"]})
        return data


class PriceBookEntryForm(forms.ModelForm):
    class Meta:
        model = PriceBookEntry
        fields = ["product", "unit_price", "is_active"]

    def __init__(self, *args, price_book: PriceBook, **kwargs):
        super().__init__(*args, **kwargs)
        self.price_book = price_book
        self.instance.price_book = price_book
        products = Product.objects.all() if self.instance.pk else Product.objects.filter(is_active=True)
        self.fields["product"].queryset = products.order_by("name")
        self.fields["product"].widget.attrs["data-tom-select"] = ""
        if self.instance.pk:
            self.fields["product"].disabled = True

    def clean(self):
        data = super().clean()
        product = data.get("product")
        if product and not self.instance.pk and PriceBookEntry.objects.filter(price_book=self.price_book,
                                                                              product=product).exists():
            self.add_error("product", _("This product already has a price in this book."))
        return data


class ProductPriceForm(forms.Form):
    """A product's price in one book, from the product's page."""

    price_book = forms.ModelChoiceField(label=gettext_lazy("Price book"), queryset=PriceBook.objects.none())
    unit_price = forms.DecimalField(label=gettext_lazy("List price"), max_digits=16, decimal_places=2, min_value=0)

    def __init__(self, *args, product: Product, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["price_book"].queryset = PriceBook.objects.exclude(entries__product=product).order_by(
            "-is_standard", "currency", "name")


# --- line items -----------------------------------------------------------------------------------------------

class LineItemForm(forms.ModelForm):
    """A line of an opportunity: a product with a price in the opportunity's book, quantity, list price (the
    book's when left empty), discount %."""

    product = forms.ModelChoiceField(label=gettext_lazy("Product"), queryset=Product.objects.none())
    list_price = forms.DecimalField(label=gettext_lazy("List price"), max_digits=16, decimal_places=2, required=False,
                                    help_text=gettext_lazy("Empty: the price book's price."))
    quantity = forms.DecimalField(label=gettext_lazy("Quantity"), max_digits=12, decimal_places=2,
                                  initial=Decimal(1))
    discount_percent = forms.DecimalField(label=gettext_lazy("Discount %"), max_digits=5, decimal_places=2,
                                          required=False, initial=Decimal(0))

    class Meta:
        model = LineItem
        fields = ["product", "quantity", "list_price", "discount_percent", "description"]

    def __init__(self, *args, prices: dict, **kwargs):
        """`prices`: product id → the book's PriceBookEntry, for the active products of the book."""
        super().__init__(*args, **kwargs)
        self.prices = prices
        ids = set(prices)
        if self.instance.pk and self.instance.product_id:
            ids.add(self.instance.product_id)  # an old line keeps its product even once inactive
        self.fields["product"].queryset = Product.objects.filter(pk__in=ids).order_by("name")
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
        discount = self.cleaned_data.get("discount_percent")
        if discount is None:
            return Decimal(0)
        if discount < 0 or discount > 100:
            raise forms.ValidationError(_("The discount must be between 0 and 100 %."))
        return discount

    def clean(self):
        data = super().clean()
        product = data.get("product")
        if product is not None and data.get("list_price") is None:
            entry = self.prices.get(product.pk)
            if entry is None:
                self.add_error("list_price", _("This product has no price in the opportunity's price book; "
                                               "give a list price."))
            else:
                data["list_price"] = entry.unit_price
        return data
