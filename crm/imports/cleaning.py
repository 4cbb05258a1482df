"""Cleaning one cell, by the type of the field it fills: the same rules and translated messages as the
forms, plus what real exports write (labels in any of our languages, other systems' spellings of our
picklist values, owners by name, countries by name, "12 500,00" and "1,234.50", dates as people write
them, the export guard's apostrophe). A cell that cannot be read raises ValueError with the message."""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from functools import cache

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone, translation
from django.utils.dateparse import parse_date as parse_iso_date
from django.utils.dateparse import parse_datetime as parse_iso_datetime
from django.utils.translation import gettext as _

from crm.core.export import unguard

TRUE = {"1", "true", "yes", "y", "x", "on", "kyllä", "k", "بله", "آری", "درست", "✓", "checked"}
FALSE = {"0", "false", "no", "n", "off", "ei", "خیر", "نه", "نادرست", "unchecked", ""}
_PERSIAN_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


def text(value) -> str:
    """A cell as text, without surrounding spaces and without the formula guard our export adds; line ends
    inside it are "\n" whatever the file's (Windows programs write CRLF inside quoted cells too)."""
    value = "" if value is None else str(value).strip()
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return unguard(value)


# Outlook writes 0/0/00 into every empty date, and MySQL-based CRMs 0000-00-00: no date.
_NO_DATE = re.compile(r"0+[./-]0+[./-]0+(?:[ T][\d:.]*)?")
_NUMERIC_DATE = re.compile(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})(?:[ T].*)?")


def parse_date(value: str, *, month_first: bool | None = None) -> date | None:
    """ISO dates, and the day-first and month-first forms of address books and CRMs (31.12.2026, 31/12/2026,
    12/31/2026 when it cannot be a day first), with a time or without; Persian digits too. An ambiguous
    5/6/2026 is read `month_first` (default: as the current user writes dates)."""
    value = text(value).translate(_PERSIAN_DIGITS)
    if not value or _NO_DATE.fullmatch(value):
        return None
    iso = parse_iso_datetime(value.replace(" ", "T", 1)) if (" " in value or "T" in value) else None
    if iso is not None:
        return iso.date()
    try:
        found = parse_iso_date(value[:10])
    except ValueError:
        found = None
    if found is not None:
        return found
    match = _NUMERIC_DATE.fullmatch(value)
    if match:
        a, b, year = (int(g) for g in match.groups())
        if month_first is None:
            month_first = _month_first()
        day, month = (a, b) if a > 12 or b <= 12 and not month_first else (b, a)
        try:
            return date(year, month, day)
        except ValueError:
            return None
    return None


def _month_first() -> bool:
    from crm.core.formatting import current_user

    user = current_user.get()
    return getattr(user, "date_format", "") == "m/d/Y"


def date_order(values) -> bool | None:
    """Whether the numeric dates among `values` are month first (True), day first (False), or cannot tell
    (None): one cell that can only be read one way (5/23/1984, 23.5.1984) decides for its whole column, since
    a file is exported in one format."""
    day_first = month_first = False
    for value in values:
        match = _NUMERIC_DATE.fullmatch(text(value).translate(_PERSIAN_DIGITS))
        if match:
            day_first |= int(match[1]) > 12
            month_first |= int(match[2]) > 12
    return month_first if day_first != month_first else None


def parse_datetime(value: str, *, month_first: bool | None = None) -> datetime | None:
    value = text(value).translate(_PERSIAN_DIGITS)
    if not value or _NO_DATE.fullmatch(value):
        return None
    found = parse_iso_datetime(value.replace(" ", "T", 1))
    if found is None:
        day = parse_date(value, month_first=month_first)
        if day is None:
            return None
        found = datetime.combine(day, datetime.min.time())
    return found if timezone.is_aware(found) else timezone.make_aware(found)


class Cleaner:
    """Cleans the cells of one field. `aliases` map other spellings (lower case) to our values."""

    def __init__(self, field: models.Field, *, aliases: dict[str, str] | None = None, mapping: dict | None = None):
        self.field = field
        self.mapping = {str(k).lower(): v for k, v in (mapping or {}).items()}
        self.aliases = {str(k).lower(): v for k, v in (aliases or {}).items()}
        self.unknown: set[str] = set()  # values no choice stands for (the dry run lists them for mapping)
        # What was read with a change, once per column ("ranges were read as their lower bound"): the dry run
        # and the result show them as notes.
        self.notes: dict[str, None] = {}

    def __call__(self, raw):
        return self.clean(text(raw))

    def prepare(self, values) -> None:
        """Look at the column's distinct cells before each is cleaned (a date column's day-month order)."""

    def clean(self, value: str):
        raise NotImplementedError


class FormFieldCleaner(Cleaner):
    """The model field's form field: the same rules and messages as the forms. Choice cells may hold the value
    ("hot") or the label in any of our languages ("Hot", "Kuuma", "داغ")."""

    def __init__(self, field, **kwargs):
        super().__init__(field, **kwargs)
        self.form_field = field.formfield()
        if isinstance(self.form_field, forms.URLField):
            self.form_field = forms.URLField(max_length=field.max_length, assume_scheme="https")
        self.form_field.required = False  # required columns are checked row by row, once
        self.choices = {}
        if field.choices:
            for value, label in field.flatchoices:
                self.choices[str(value).lower()] = value
                for lang, _name in settings.LANGUAGES:
                    with translation.override(lang):
                        self.choices[str(label).lower()] = value

    def clean(self, value: str):
        if self.field.choices and value:
            key = value.lower()
            mapped = self.mapping.get(key, self.aliases.get(key))
            if mapped is not None:
                return mapped
            if key not in self.choices:
                self.unknown.add(value)
                raise ValueError(_("Unknown value “%(value)s”.") % {"value": value})
            value = self.choices[key]
        try:
            return self.form_field.clean(value)
        except ValidationError as exc:
            raise ValueError(" ".join(exc.messages)) from None


# Salesforce's Data Loader writes doubles as 1.85E7.
_SCIENTIFIC = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)[eE][+-]?\d{1,3}")
# HubSpot's "Number of Employees" is a picklist of ranges: 25-50, 1000+.
_RANGE = re.compile(r"(?P<low>\d[\d ,.]*?)\s*(?:[-\u2013\u2014]\s*\d[\d ,.]*|\+)")


class NumberCleaner(Cleaner):
    """Numbers as other programs and languages write them (12 500,50 · 1,234.50 · ۱۲٬۵۰۰ · €1,200 · 1.85E7);
    a range of whole numbers (25-50, 1000+) as its lower bound, with a note."""

    def clean(self, value: str):
        from crm.core.formatting import parse_number

        if not value:
            return None
        number = parse_number(value)
        if number is None and _SCIENTIFIC.fullmatch(value):
            number = Decimal(value)
        if number is None and isinstance(self.field, models.IntegerField):
            match = _RANGE.fullmatch(value.translate(_PERSIAN_DIGITS))
            number = parse_number(match["low"]) if match else None
            if number is not None and not self.notes:  # one example is enough
                self.notes[_("ranges such as “%(value)s” were read as their lower bound.") % {"value": value}] = None
        form_field = self.field.formfield()
        form_field.required = False
        if number is None:  # the form field's own message ("Enter a whole number.")
            try:
                form_field.clean(value)
            except ValidationError as exc:
                raise ValueError(" ".join(exc.messages)) from None
            raise ValueError(_("“%(value)s” is not a number.") % {"value": value})
        try:
            return form_field.clean(str(int(number)) if isinstance(self.field, models.IntegerField) and
                                    number == number.to_integral() else format(number, "f"))
        except ValidationError as exc:
            raise ValueError(" ".join(exc.messages)) from None


class BooleanCleaner(Cleaner):
    def clean(self, value: str):
        key = value.lower()
        if key in TRUE:
            return True
        if key in FALSE:
            return None if self.field.null and not key else False
        for lang, _name in settings.LANGUAGES:
            with translation.override(lang):
                if key == _("Yes").lower():
                    return True
                if key == _("No").lower():
                    return False
        raise ValueError(_("“%(value)s” is not yes or no.") % {"value": value})


class DateCleaner(Cleaner):
    """Dates in any of the forms parse_date reads. Numeric dates are read in one order for the whole column:
    the one its unambiguous cells show, else the user's (a US export's 11/2/1971 is 2 November when the
    same column has 5/23/1984)."""

    month_first: bool | None = None
    parse = staticmethod(parse_date)

    def prepare(self, values) -> None:
        self.month_first = date_order(values)
        if self.month_first is not None and self.month_first != _month_first():
            self.notes[_("dates were read month first (12/31/2026), as the file writes them.") if self.month_first
                       else _("dates were read day first (31/12/2026), as the file writes them.")] = None

    def clean(self, value: str):
        if not value or _NO_DATE.fullmatch(value):
            return None
        day = self.parse(value, month_first=self.month_first)
        if day is None:
            raise ValueError(_("“%(value)s” is not a date.") % {"value": value})
        return day


class DateTimeCleaner(DateCleaner):
    parse = staticmethod(parse_datetime)


class CountryCleaner(Cleaner):
    """A country by its code or name, in English, Finnish, Persian and the usual aliases; stored as the upper
    case ISO code, as the forms store it."""

    def clean(self, value: str):
        from crm.imports.countries import country_code

        mapped = self.mapping.get(value.lower())
        if not value or mapped == "":
            return ""
        code = mapped or country_code(value)
        if not code:
            self.unknown.add(value)
            raise ValueError(_("Unknown country “%(value)s”.") % {"value": value})
        return code


class PicklistCleaner(Cleaner):
    """An admin-editable picklist value by its value, its label in any language, an alias other systems use
    (kept on the value: flags["aliases"]) or what the user mapped it to."""

    def __init__(self, field, **kwargs):
        super().__init__(field, **kwargs)
        self.picklist = (field.remote_field.limit_choices_to or {}).get("picklist", "")
        self._values = None

    def values(self) -> dict:
        if self._values is None:
            from crm.customization.models import PicklistValue

            self._values = {}
            for item in PicklistValue.objects.filter(picklist=self.picklist, is_active=True):
                for key in [item.value, item.label, *(item.label_translations or {}).values(),
                            *((item.flags or {}).get("aliases") or [])]:
                    self._values[str(key).strip().lower()] = item
            for alias, value in self.aliases.items():
                item = next((v for v in self._values.values() if v.value == value), None)
                if item is not None:
                    self._values.setdefault(alias, item)
        return self._values

    def clean(self, value: str):
        if not value:
            return None
        key = value.lower()
        mapped = self.mapping.get(key)
        if mapped == "":  # the user chose to leave it empty
            return None
        if mapped is not None:
            found = next((v for v in self.values().values() if v.value == mapped), None)
            if found is not None:
                return found
        found = self.values().get(key)
        if found is None:
            self.unknown.add(value)
            raise ValueError(_("Unknown value “%(value)s”.") % {"value": value})
        return found


class UserCleaner(Cleaner):
    """An owner by email or by name ("Mikko Virtanen", "Virtanen, Mikko"), active users only."""

    _users = None

    def users(self) -> dict:
        if self._users is None:
            from crm.access.models import User

            self._users = {}
            names: dict[str, list] = {}
            for user in (User.objects.select_related(None).filter(is_active=True)
                         .only("id", "email", "first_name", "last_name")):
                self._users[user.email.lower()] = user
                for name in {f"{user.first_name} {user.last_name}", f"{user.last_name}, {user.first_name}",
                             f"{user.last_name} {user.first_name}"}:
                    names.setdefault(" ".join(name.lower().split()), []).append(user)
            for name, found in names.items():  # a name two people share names nobody
                if len(found) == 1 and name:
                    self._users.setdefault(name, found[0])
        return self._users

    def clean(self, value: str):
        if not value or self.mapping.get(value.lower()) == "":
            return None
        key = self.mapping.get(value.lower()) or " ".join(value.lower().split())
        user = self.users().get(str(key).lower())
        if user is None:
            self.unknown.add(value)
            raise ValueError(_("No active user with the email or name “%(value)s”.") % {"value": value})
        return user


class RelatedByNameCleaner(Cleaner):
    """A related record named in the cell (a contact's account): matched case-insensitively among the records
    the importing user may see; a name that matches nothing is remembered, for the import to create when the
    type allows it, else an error."""

    def __init__(self, field, *, by: str, user, create: bool, **kwargs):
        super().__init__(field, **kwargs)
        self.by, self.user, self.create = by, user, create
        self.names: dict[str, int] | None = None
        self.missing: dict[str, str] = {}  # key → name as written, for the records to create

    def clean(self, value: str):
        from crm.core.duplicates import name_key

        if not value:
            return None
        if self.names is None:
            model = self.field.related_model
            self.names = {}
            for pk, name in model.objects.visible_to(self.user).order_by("pk").values_list("pk", self.by):
                self.names.setdefault(name_key(name), pk)
        key = name_key(value)
        if key in self.names:
            return self.names[key]
        if self.create:
            self.missing.setdefault(key, value)
            return NewRelated(key)
        raise ValueError(_("No %(type)s named “%(value)s”.") % {"type": self.field.related_model._meta.verbose_name,
                                                                   "value": value})


class ConfigurationCleaner(Cleaner):
    """A row of a configuration table (a pipeline, a stage) by its name in any of our languages, or what the
    user mapped it to (its id)."""

    def __init__(self, field, **kwargs):
        super().__init__(field, **kwargs)
        self._names = None

    def names(self) -> dict:
        if self._names is None:
            self._names = {}
            for obj in self.field.related_model._default_manager.all():
                spellings = {getattr(obj, "name", "")}
                for lang, _label in settings.LANGUAGES:
                    with translation.override(lang):
                        spellings.add(str(obj))
                for spelling in spellings:
                    self._names.setdefault(" ".join(str(spelling).lower().split()), obj.pk)
        return self._names

    def clean(self, value: str):
        if not value:
            return None
        mapped = self.mapping.get(value.lower())
        if mapped == "":
            return None
        if mapped is not None and str(mapped).isdigit():
            return int(mapped)
        found = self.names().get(" ".join(value.lower().split()))
        if found is None:
            self.unknown.add(value)
            raise ValueError(_("Unknown value “%(value)s”.") % {"value": value})
        return found


# Several values in one cell: Google's " ::: ", and the ", " or ";" of Pipedrive's and SuiteCRM's lists.
_SEVERAL = re.compile(r"\s*(?::::|;|,\s)\s*")


class PhoneCleaner(FormFieldCleaner):
    """A phone number in Latin digits (Persian and Arabic-Indic ones are read as such); of several numbers in
    one cell, the first, with a note."""

    def clean(self, value: str):
        value = value.translate(_PERSIAN_DIGITS)
        numbers = [n for n in _SEVERAL.split(value) if n]
        if len(numbers) > 1:
            value = numbers[0]
            self.notes[_("cells with several numbers kept the first one.")] = None
        return super().clean(value)


class EmailCleaner(FormFieldCleaner):
    """Of several addresses in one cell (Google's " ::: ", "a@x; b@y"), the first, with a note."""

    def clean(self, value: str):
        addresses = [a for a in re.split(r"\s*(?::::|[;,])\s*", value) if a]
        if len(addresses) > 1:
            value = addresses[0]
            self.notes[_("cells with several addresses kept the first one.")] = None
        return super().clean(value)


class DigitsCleaner(FormFieldCleaner):
    """Text whose digits are stored Latin (postal codes): Persian and Arabic-Indic digits are read as such."""

    def clean(self, value: str):
        return super().clean(value.translate(_PERSIAN_DIGITS))


@cache
def _language_codes() -> dict[str, str]:
    """Language names in the languages our users' files are in, and the codes themselves → the code."""
    from babel import Locale

    from crm.imports.countries import LANGUAGES

    codes: dict[str, str] = {}
    for lang in LANGUAGES:
        for code, name in Locale.parse(lang).languages.items():
            if "_" not in code:
                codes.setdefault(code.casefold(), code)
                codes.setdefault(" ".join(name.casefold().split()), code)
    return codes


class LanguageCleaner(FormFieldCleaner):
    """A preferred language by its code or its name ("suomi", "Finnish", "فارسی"), stored as the code the
    forms store; of several ("persia; suomi"), the first. Anything else is kept as written."""

    def clean(self, value: str):
        parts = [p for p in re.split(r"\s*[;,/]\s*", value) if p]
        for part in parts:
            key = " ".join(part.casefold().split())
            code = _language_codes().get(key) or _language_codes().get(re.split(r"[-_]", key)[0] if re.fullmatch(
                r"[a-z]{2,3}[-_][a-z0-9]{2,8}", key) else "")  # fi-FI, en_GB
            if code:
                if len(parts) > 1:
                    self.notes[_("cells with several languages kept the first one.")] = None
                return code
        return super().clean(value)


_PHONE_FIELD = re.compile(r"(?:^|_)(?:phone|mobile|fax)$")


class NewRelated(str):
    """A related record the import will create (its name key), in place of an id until then."""


def cleaner_for(model, name: str, *, spec, user, mapping: dict | None = None) -> Cleaner:
    from django.contrib.auth import get_user_model

    field = model._meta.get_field(name)
    aliases = spec.value_aliases.get(name) if spec else None
    if field.many_to_one:
        related = field.related_model
        if related._meta.label == "customization.PicklistValue":
            return PicklistCleaner(field, aliases=aliases, mapping=mapping)
        if related is get_user_model():
            return UserCleaner(field, mapping=mapping)
        if spec and name in spec.related_by_name:
            return RelatedByNameCleaner(field, by=spec.related_by_name[name], user=user,
                                        create=name in spec.create_related, mapping=mapping)
        if not hasattr(related._default_manager, "visible_to"):
            return ConfigurationCleaner(field, mapping=mapping)
    if isinstance(field, models.BooleanField):
        return BooleanCleaner(field)
    if isinstance(field, (models.IntegerField, models.DecimalField, models.FloatField)):
        return NumberCleaner(field)
    if isinstance(field, models.DateTimeField):
        return DateTimeCleaner(field)
    if isinstance(field, models.DateField):
        return DateCleaner(field)
    if isinstance(field, models.CharField) and field.max_length == 2 and name.endswith("country"):
        return CountryCleaner(field, mapping=mapping)
    if isinstance(field, models.EmailField):
        return EmailCleaner(field)
    if isinstance(field, models.CharField) and not field.choices:
        if _PHONE_FIELD.search(name):
            return PhoneCleaner(field)
        if name.endswith("postal_code"):
            return DigitsCleaner(field)
        if name.endswith("language"):
            return LanguageCleaner(field)
    return FormFieldCleaner(field, aliases=aliases, mapping=mapping)
