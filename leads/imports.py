"""Lead import from CSV, XLSX and vCard with django-import-export.

    upload (limits checked before parsing) → column mapping and options →
    dry run listing every bad row → import, inline or on a Celery worker.

The real import is one transaction: in all-or-nothing mode
(`rollback_on_validation_errors`) a single bad row rolls back every row; in
good-rows mode only valid rows are written. A failure or a worker crash rolls
the whole file back, and a re-delivered task simply runs it again."""
from __future__ import annotations

import csv
import hashlib
import io
import logging
import zipfile
from collections import Counter
from operator import itemgetter
from pathlib import Path

import tablib
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connection, models, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from import_export import resources, widgets
from import_export.fields import Field
from import_export.results import RowResult

from crm.core.bulk import TEXT_ARRAY_PARAM, copy_insert, copy_update, insert_each, int_array, pk_in, text_array
from crm.core.events import emit_many
from crm.customization.fields import definitions, definitions_version, validate_values
from crm.customization.models import PicklistValue
from crm.customization.resources import CustomFieldsResourceMixin
from leads.models import SOURCE_PICKLIST, STATUS_PICKLIST, ImportJob, Lead, LifecycleStage, LifecycleTransition
from leads.services import duplicate_keys, normalize_phone

logger = logging.getLogger(__name__)
RT = "leads.lead"
IMPORT_FIELDS = ["first_name", "last_name", "company", "title", "email", "phone", "mobile", "website", "street", "city",
                 "state", "postal_code", "country", "industry", "employees", "annual_revenue", "currency",
                 "description", "competitors", "objections", "rating", "source", "status", "owner",
                 "budget_confirmed", "budget_amount", "authority_role", "need_pain_points", "need_requirements",
                 "need_desired_outcome", "timeline_urgency", "timeline_timeframe", "champ_challenges",
                 "champ_authority", "champ_money", "champ_prioritization"]

# Header spellings recognised when guessing the mapping (compared lower-case, without spaces, dashes, underscores).
SYNONYMS = {
    "first_name": ["firstname", "givenname", "forename", "etunimi", "نام"],
    "last_name": ["lastname", "surname", "familyname", "sukunimi", "نامخانوادگی"],
    "company": ["company", "organization", "organisation", "org", "account", "yritys", "شرکت", "سازمان"],
    "title": ["title", "jobtitle", "position", "titteli", "سمت", "عنوان"],
    "email": ["email", "e-mail", "mail", "emailaddress", "sähköposti", "ایمیل", "رایانامه"],
    "phone": ["phone", "telephone", "tel", "phonenumber", "workphone", "puhelin", "تلفن"],
    "mobile": ["mobile", "cell", "mobilephone", "cellphone", "matkapuhelin", "موبایل", "همراه"],
    "website": ["website", "web", "url", "www", "verkkosivu", "وبسایت"],
    "street": ["street", "address", "katuosoite", "osoite", "آدرس", "نشانی"],
    "city": ["city", "town", "kaupunki", "شهر"],
    "state": ["state", "province", "region", "lääni", "استان"],
    "postal_code": ["postalcode", "zip", "zipcode", "postcode", "postinumero", "کدپستی"],
    "country": ["country", "maa", "کشور"],
}


# Cleaned against the database (picklists, users), so cleaned again by the import rather than prepared.
LOOKUP_COLUMNS = ("source", "status", "owner")
PREPARED_SECONDS = 2 * 3600


class ImportRefused(Exception):
    """The file is refused before parsing (size, rows, format); the message says why."""


# --- reading files ----------------------------------------------------------------------------------------

def file_format(name: str) -> str:
    suffix = Path(name).suffix.lower().lstrip(".")
    if suffix in ("csv", "txt"):
        return "csv"
    if suffix in ("xlsx", "vcf", "vcard"):
        return "vcf" if suffix == "vcard" else suffix
    raise ImportRefused(_("Unsupported file type. Upload a .csv, .xlsx or .vcf file."))


def check_limits(uploaded, fmt: str) -> None:
    """Refuse what is too big before any parser sees it."""
    if uploaded.size > settings.IMPORT_MAX_BYTES:
        raise ImportRefused(_("The file is %(size)s MB; the limit is %(limit)s MB.") % {
            "size": round(uploaded.size / 1048576, 1), "limit": round(settings.IMPORT_MAX_BYTES / 1048576, 1)})
    if fmt == "xlsx":
        uploaded.seek(0)
        try:
            with zipfile.ZipFile(uploaded) as archive:
                unzipped = sum(info.file_size for info in archive.infolist())
        except zipfile.BadZipFile:
            raise ImportRefused(_("This is not a valid XLSX file.")) from None
        finally:
            uploaded.seek(0)
        if unzipped > settings.IMPORT_MAX_UNZIPPED_BYTES:
            raise ImportRefused(_("The XLSX file unpacks to %(size)s MB, more than the allowed %(limit)s MB.") % {
                "size": round(unzipped / 1048576), "limit": round(settings.IMPORT_MAX_UNZIPPED_BYTES / 1048576)})


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "utf-16") if data[:2] not in (b"\xff\xfe", b"\xfe\xff") else ("utf-16",):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("cp1252", errors="replace")


def read_table(data: bytes, fmt: str) -> tuple[list[str], list[list], list[dict]]:
    """(headers, rows, per-row problems found while reading). Rows are lists of strings."""
    problems = []
    if fmt == "csv":
        text = _decode(data)
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        reader = csv.reader(io.StringIO(text), dialect)
        rows = [row for row in reader if "".join(row).strip()]
    elif fmt == "xlsx":
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:
            raise ImportRefused(_("This is not a valid XLSX file.")) from None
        sheet = book.worksheets[0]
        rows = []
        for values in sheet.iter_rows(values_only=True):
            if len(rows) > settings.IMPORT_MAX_ROWS + 1:
                break
            cells = ["" if v is None else (v.isoformat() if hasattr(v, "isoformat") else str(v)) for v in values]
            if any(c.strip() for c in cells):
                rows.append(cells)
        book.close()
    else:
        from leads.vcard import parse_vcards

        cards = parse_vcards(data)
        headers = sorted({k for card in cards for k in card.fields}, key=lambda k: IMPORT_FIELDS.index(k)
                         if k in IMPORT_FIELDS else 99)
        problems = [{"row": card.index, "errors": card.errors} for card in cards if card.errors]
        return headers, [[card.fields.get(h, "") for h in headers] for card in cards], problems
    if not rows:
        return [], [], problems
    headers = [h.strip() for h in rows[0]]
    width = len(headers)
    body = [row if len(row) == width else (row + [""] * width)[:width] for row in rows[1:]]
    return headers, body, problems


def guess_mapping(headers: list[str]) -> dict[str, str]:
    def norm(text: str) -> str:
        return "".join(ch for ch in str(text).lower() if ch not in " -_.\u200c")

    known = {}
    for name in IMPORT_FIELDS:
        field = Lead._meta.get_field(name)
        known[norm(name)] = name
        for lang, _label in settings.LANGUAGES:
            with translation.override(lang):
                known.setdefault(norm(str(field.verbose_name)), name)
    for name, words in SYNONYMS.items():
        for word in words:
            known.setdefault(norm(word), name)
    for cf in definitions(RT):
        known[norm(cf.key)] = cf.key
        known[norm(cf.name)] = cf.key
        known.setdefault(norm(cf.label), cf.key)
    mapping, used = {}, set()
    for header in headers:
        target = known.get(norm(header), "")
        if target in used:
            target = ""
        used.add(target)
        mapping[header] = target
    return mapping


def target_choices() -> list[tuple[str, str]]:
    choices = [("", _("— do not import —"))]
    choices += [(n, str(Lead._meta.get_field(n).verbose_name).capitalize()) for n in IMPORT_FIELDS]
    choices += [(cf.key, cf.display_label) for cf in definitions(RT)]
    return choices


def build_dataset(headers, rows, mapping) -> tablib.Dataset:
    """The mapped columns of `rows` (each as wide as `headers`), under their target names."""
    columns = [(i, mapping.get(h)) for i, h in enumerate(headers) if mapping.get(h)]
    dataset = tablib.Dataset(headers=[target for _, target in columns])
    if len(columns) == 1:
        index = columns[0][0]
        dataset.extend([(row[index],) for row in rows])
    elif columns:
        dataset.extend(map(itemgetter(*[i for i, _ in columns]), rows))
    return dataset


# --- the resource -----------------------------------------------------------------------------------------

class FormFieldWidget(widgets.Widget):
    """Cleans a cell with the model field's form field: the same rules and translated messages as the forms."""

    def __init__(self, form_field, choices=None):
        super().__init__()
        self.form_field = form_field
        # Choice cells may hold the value ("hot") or the label in any language ("Hot", "Kuuma").
        self.aliases = {}
        for value, _label in choices or ():
            self.aliases[str(value).lower()] = value
            for lang, _name in settings.LANGUAGES:
                with translation.override(lang):
                    self.aliases[str(_label).lower()] = value

    def clean(self, value, row=None, **kwargs):
        value = "" if value is None else str(value).strip()
        if self.aliases:
            value = self.aliases.get(value.lower(), value)
        try:
            return self.form_field.clean(value)
        except ValidationError as exc:
            raise ValueError(" ".join(exc.messages)) from None


class CountryWidget(FormFieldWidget):
    """Countries are stored as upper-case ISO codes, as the forms store them."""

    def clean(self, value, row=None, **kwargs):
        return super().clean(value, row, **kwargs).upper()


class PicklistWidget(widgets.Widget):
    def __init__(self, picklist):
        super().__init__()
        self.picklist = picklist
        self._values = None

    def clean(self, value, row=None, **kwargs):
        value = "" if value is None else str(value).strip()
        if not value:
            return None
        if self._values is None:
            self._values = {}
            for item in PicklistValue.objects.filter(picklist=self.picklist, is_active=True):
                for key in [item.value, item.label, *(item.label_translations or {}).values()]:
                    self._values[str(key).strip().lower()] = item
        found = self._values.get(value.lower())
        if found is None:
            raise ValueError(_("Unknown value “%(value)s”.") % {"value": value})
        return found


class OwnerWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        from crm.access.models import User

        value = "" if value is None else str(value).strip()
        if not value:
            return None
        user = User.objects.filter(email__iexact=value, is_active=True).first()
        if user is None:
            raise ValueError(_("No active user with the email %(email)s.") % {"email": value})
        return user


def _widget_for(name: str):
    field = Lead._meta.get_field(name)
    if name == "source":
        return PicklistWidget(SOURCE_PICKLIST)
    if name == "status":
        return PicklistWidget(STATUS_PICKLIST)
    if name == "owner":
        return OwnerWidget()
    form_field = field.formfield()
    if name == "budget_confirmed":
        from django import forms

        form_field = forms.NullBooleanField(required=False)
        return FormFieldWidget(form_field, choices=[("true", _("Yes")), ("false", _("No")), ("yes", "yes"),
                                                    ("kyllä", "true"), ("بله", "true"), ("ei", "false"), ("خیر", "false")])
    form_field.required = False  # the required columns are checked row by row, once
    if name == "country":
        return CountryWidget(form_field)
    return FormFieldWidget(form_field, choices=field.choices)


class LeadImportResource(CustomFieldsResourceMixin, resources.ModelResource):
    """The import's fields, widgets and result come from django-import-export; the rows are processed
    set-wise (`import_data_inner`): each column is cleaned once per distinct value, the rows are matched
    against lookups made once per file, and new leads are written with PostgreSQL COPY, their history,
    lifecycle rows and events with one INSERT … SELECT each."""

    def __init__(self, *, job: ImportJob, actor):
        super().__init__()
        self.job, self.actor = job, actor
        for name in IMPORT_FIELDS:
            self.fields[name] = Field(attribute=name, column_name=name, widget=_widget_for(name))
        self.created: list[int] = []
        self.updated: list[int] = []
        self.assigned: Counter = Counter()  # owner id → leads the assignment rules gave them

    class Meta:
        model = Lead
        fields = IMPORT_FIELDS
        skip_diff = True

    def before_import(self, dataset, prepared=None, **kwargs):
        """Everything the rows look up, in a few queries for the whole file: the leads their emails and
        phones match, which of those the user may edit, the default status and source. Only the file's
        columns are imported (and, on update, written)."""
        for name in [n for n in self.fields if n not in dataset.headers]:
            del self.fields[name]
        if prepared:
            self._emails, self._phones, self._phone_keys = prepared["emails"], prepared["phones"], prepared["phone_keys"]
        else:  # each row's keys: its email and phone as a new lead stores them, and phone and mobile to match
            self._emails, self._phones, self._phone_keys = [], [], []
            for email, phone, mobile, country in zip(*(_column(dataset, name) for name in ("email", "phone", "mobile", "country"))):
                email_key, phone_key = duplicate_keys(email, phone, mobile, country)
                self._emails.append(email_key)
                self._phone_keys.append(phone_key)
                self._phones.append(tuple(p for p in (normalize_phone(phone, country), normalize_phone(mobile, country)) if p))
        self._by_email: dict[str, int] = {}
        self._by_phone: dict[str, int] = {}
        self._converted: set[int] = set()
        if self.job.duplicates != ImportJob.Duplicates.CREATE:
            emails = list(set(self._emails) - {""})
            phones = list({p for row in self._phones for p in row})
            # two parameters instead of one per email and phone (Django's __in): big files send 40,000 keys
            matches = Lead.objects.filter(RawSQL(
                '"email_normalized" = ANY(%s) OR "phone_normalized" = ANY(%s)'.replace("%s", TEXT_ARRAY_PARAM),
                [text_array(emails), text_array(phones)], output_field=models.BooleanField()))
            for pk, email, phone, stage in matches.order_by("-pk").values_list(
                    "pk", "email_normalized", "phone_normalized", "lifecycle_stage"):
                if email:
                    self._by_email[email] = pk  # the oldest match wins, as in the duplicate rules
                if phone:
                    self._by_phone[phone] = pk
                if stage == LifecycleStage.CONVERTED:
                    self._converted.add(pk)
        matched = set(self._by_email.values()) | set(self._by_phone.values())
        self._editable = set(Lead.objects.visible_to(self.actor, "edit").filter(pk_in(Lead, matched))
                             .values_list("pk", flat=True)) if matched else set()
        self._default_status = PicklistValue.objects.filter(picklist=STATUS_PICKLIST, is_default=True).first()
        self._import_source = PicklistValue.objects.filter(picklist=SOURCE_PICKLIST, value="import").first()

    def import_data_inner(self, dataset, dry_run, raise_errors, using_transactions, collect_failed_rows, **kwargs):
        result = self.get_result_class()()
        result.total_rows = len(dataset)
        try:
            key = self._prepared_key(dataset)
            prepared = None if dry_run else cache.get(key)
            self.before_import(dataset, prepared=prepared, **kwargs)
            values, errors = self._clean_columns(dataset, prepared)
            if dry_run:
                self._leave_prepared(key, values, errors)
            new, updates = self._sort_rows(dataset, values, errors, result)
            if not dry_run:
                self._create(new, values)
                self._update(updates, values)
        except Exception as exc:
            self.handle_import_error(result, exc, raise_errors)
        return result

    def _prepared_key(self, dataset) -> str:
        """Where the dry run leaves its work for the import: valid while the cells, the custom field
        definitions and the language are the ones it cleaned with."""
        digest = hashlib.sha256(repr((dataset.headers, definitions_version(RT), translation.get_language())).encode())
        for row in dataset:
            digest.update("\x1f".join(row).encode())
            digest.update(b"\x1e")
        return f"leads:import:{self.job.pk}:prepared:{digest.hexdigest()}"

    def _leave_prepared(self, key: str, values: dict[str, list], errors: dict[int, dict]) -> None:
        """Keep what the dry run computed and the database cannot change (each column's cleaned values and
        errors, the rows' email and phone keys) for the import, which often runs in another process."""
        kept = [name for name in values if name not in LOOKUP_COLUMNS]
        column_errors = {name: {} for name in kept}
        for i, row_errors in errors.items():
            for name, messages in row_errors.items():
                if name in column_errors:
                    column_errors[name][i] = messages
        prepared = {"values": {name: values[name] for name in kept}, "errors": column_errors,
                    "emails": self._emails, "phones": self._phones, "phone_keys": self._phone_keys}
        cache.set(key, prepared, PREPARED_SECONDS)

    def _clean_columns(self, dataset, prepared=None) -> tuple[dict[str, list], dict[int, dict]]:
        """{column: cleaned value per row}, {row index: {column: [messages]}}. Every distinct cell of a
        column is cleaned once, with the same widgets (and so the same rules and messages) as the forms.
        The columns the dry run `prepared` come from it."""
        values, errors = {}, {}
        cleaners = {name: self.fields[name].widget.clean for name in IMPORT_FIELDS if name in self.fields}
        cleaners.update({cf.key: _custom_cleaner(cf) for cf in self.custom_fields
                         if cf.key in dataset.headers})
        for key, clean in cleaners.items():
            if prepared and key in prepared["values"]:
                values[key] = prepared["values"][key]
                for i, messages in prepared["errors"][key].items():
                    errors.setdefault(i, {})[key] = messages
                continue
            memo, column = {}, []
            for i, raw in enumerate(dataset.get_col(dataset.headers.index(key))):
                try:
                    value, error = memo[raw]
                except KeyError:
                    try:
                        value, error = clean(raw), None
                    except ValueError as exc:
                        value, error = None, str(exc)
                    memo[raw] = value, error
                column.append(value)
                if error is not None:
                    errors.setdefault(i, {})[key] = [error]
            values[key] = column
        cache.set(progress_key(self.job.pk), len(dataset) // 2, 3600)
        return values, errors

    def _sort_rows(self, dataset, values, errors, result) -> tuple[list[int], list[tuple[int, int]]]:
        """Decide each row: new (row index), update ((row index, lead id)), skipped or invalid. A row
        repeating the email or phone of an earlier new row of the file is skipped, so is a match the user
        may not edit or that is converted; only rows that would be written are validated."""
        totals = result.totals
        creating = self.job.duplicates == ImportJob.Duplicates.CREATE
        required = [f for f in Lead._meta.concrete_fields if f.name in IMPORT_FIELDS and not f.blank]
        required_custom = [cf for cf in self.custom_fields if cf.required]
        new, updates, file_emails, file_phones = [], [], set(), set()
        for i in range(len(dataset)):
            email, phones = self._emails[i], self._phones[i]
            pk = None
            if not creating:
                if email in file_emails or any(p in file_phones for p in phones):
                    totals[RowResult.IMPORT_TYPE_SKIP] += 1
                    continue
                pk = self._by_email.get(email) or next((self._by_phone[p] for p in phones if p in self._by_phone), None)
                if pk is not None and (self.job.duplicates == ImportJob.Duplicates.SKIP or pk in self._converted
                                       or pk not in self._editable):
                    totals[RowResult.IMPORT_TYPE_SKIP] += 1
                    continue
            row_errors = dict(errors.get(i, {}))
            for field in required:  # a column in the file must not be blank; a new lead needs it or a default
                blank = not values[field.name][i] if field.name in values else pk is None and not field.has_default()
                if blank and field.name not in row_errors:
                    row_errors[field.name] = [str(field.error_messages["blank"])]
            for cf in required_custom if pk is None else ():
                if cf.key not in row_errors and (cf.key not in values or values[cf.key][i] is None):
                    row_errors[cf.key] = [_("%(field)s: this field is required.") % {"field": cf.display_label}]
            if row_errors:
                result.append_invalid_row(i + 1, {}, ValidationError(row_errors))
                totals[RowResult.IMPORT_TYPE_INVALID] += 1
            elif pk is None:
                new.append(i)
                totals[RowResult.IMPORT_TYPE_NEW] += 1
                if not creating:
                    file_emails.add(email)
                    file_phones.update(phones)
                    file_emails.discard("")
            else:
                updates.append((i, pk))
                totals[RowResult.IMPORT_TYPE_UPDATE] += 1
        return new, updates

    def _create(self, rows: list[int], values: dict[str, list]) -> None:
        """COPY the new leads in, then their history in one statement."""
        from leads.assignment import owner_by_rules

        if not rows:
            return
        now, actor = timezone.now(), self.actor
        fields = [f for f in Lead._meta.concrete_fields]
        constants = {f.attname: f.get_default() for f in fields}
        constants.update(created_at=now, updated_at=now, created_by_id=actor.pk,
                         status_id=getattr(self._default_status, "pk", None),
                         source_id=getattr(self._import_source, "pk", None))
        model_columns = [f for f in fields if f.name in values]
        custom_columns = [cf for cf in self.custom_fields if cf.key in values]
        # The columns that can differ between rows (owner, custom, keys, then the file's); the rest is the
        # same for every new lead. A record is a list in that order.
        varying = list(dict.fromkeys(["owner_id", "custom", "email_normalized", "phone_normalized",
                                      *(f.attname for f in model_columns)]))
        owner, custom, email_key, phone_key = range(4)
        at = {name: index for index, name in enumerate(varying)}
        relations = [(at[f.attname], values[f.name]) for f in model_columns if f.is_relation]
        plain = [(at[f.attname], values[f.name], f.null) for f in model_columns if not f.is_relation]
        empty = [constants.get(name) for name in varying]

        records = []
        for i in rows:
            record = empty.copy()
            for index, column in relations:
                if column[i] is not None:
                    record[index] = column[i].pk
            for index, column, null in plain:
                if column[i] is not None or null:
                    record[index] = column[i]
            record[custom] = {cf.name: values[cf.key][i] for cf in custom_columns if values[cf.key][i] is not None}
            record[email_key], record[phone_key] = self._emails[i], self._phone_keys[i]
            if self.job.assign_by_rules and record[owner] is None:
                assigned = owner_by_rules(Lead(**{**constants, **dict(zip(varying, record))}))
                if assigned is not None:
                    record[owner] = assigned.pk
                    self.assigned[assigned.pk] += 1
            record[owner] = record[owner] or actor.pk
            records.append(record)
        ids = copy_insert(Lead, varying, records, **{k: v for k, v in constants.items() if k not in varying and k != "id"})
        _history(ids, "+", actor, now)
        self.created = ids
        cache.set(progress_key(self.job.pk), len(self._emails), 3600)

    def _update(self, rows: list[tuple[int, int]], values: dict[str, list]) -> None:
        """Write the file's columns onto the leads the rows matched (custom fields merged, duplicate keys
        recomputed; when two rows match one lead the later wins) with one UPDATE, then history."""
        if not rows:
            return
        latest = dict((pk, i) for i, pk in rows)
        keys = ("custom", "email", "phone", "mobile", "country")
        stored = {pk: dict(zip(keys, rest)) for pk, *rest in
                  Lead.objects.filter(pk_in(Lead, latest)).values_list("pk", *keys)}
        model_columns = [Lead._meta.get_field(name) for name in IMPORT_FIELDS if name in values]
        custom_columns = [cf for cf in self.custom_fields if cf.key in values]
        columns = ["id", *(f.attname for f in model_columns), "custom", "email_normalized", "phone_normalized"]
        records = []
        for pk, i in latest.items():
            lead = stored[pk]
            record = [pk]
            for field in model_columns:
                value = values[field.name][i]
                record.append(value.pk if field.is_relation and value is not None else value)
                if field.name in keys:
                    lead[field.name] = value
            custom = dict(lead["custom"] or {})
            for cf in custom_columns:
                if values[cf.key][i] is None:
                    custom.pop(cf.name, None)
                else:
                    custom[cf.name] = values[cf.key][i]
            record += [custom, *duplicate_keys(lead["email"], lead["phone"], lead["mobile"], lead["country"])]
            records.append(record)
        now = timezone.now()
        copy_update(Lead, columns, records, updated_at=now)
        self.updated = list(latest)
        _history(self.updated, "~", self.actor, now)


def _column(dataset, name: str) -> list[str]:
    """A column's raw cells, or empty strings when the file has no such column."""
    if name not in dataset.headers:
        return [""] * len(dataset)
    return ["" if v is None else str(v) for v in dataset.get_col(dataset.headers.index(name))]


def _custom_cleaner(cf):
    def clean(raw):
        values, errors = validate_values(RT, {cf.key: raw}, [cf])
        if errors:
            raise ValueError(" ".join(errors[cf.key]))
        return values[cf.name]
    return clean


def _history(ids: list[int], kind: str, actor, when) -> None:
    """One history row per lead, copied from the table as it now is ("+" created, "~" changed)."""
    history = Lead.history.model
    lead_columns = {f.attname for f in Lead._meta.concrete_fields}
    columns, selected, params = [], [], []
    for field in history._meta.concrete_fields:
        if field.attname in lead_columns:
            columns.append(field.column)
            selected.append(f'"{field.column}"')
        elif field.attname in ("history_date", "history_type", "history_user_id", "history_change_reason"):
            columns.append(field.column)
            selected.append("%s")
            params.append({"history_date": when, "history_type": kind, "history_user_id": getattr(actor, "pk", None),
                           "history_change_reason": None}[field.attname])
    sql = 'INSERT INTO {} ({}) SELECT {} FROM {} WHERE "id" = ANY(%s::bigint[]) ORDER BY "id"'.format(
        history._meta.db_table, ", ".join(f'"{c}"' for c in columns), ", ".join(selected), Lead._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, int_array(ids)])


def progress_key(job_id: int) -> str:
    return f"leads:import:{job_id}:progress"


# --- running ----------------------------------------------------------------------------------------------

def _row_label(job: ImportJob, number: int) -> int:
    """The number the user finds in their file: the spreadsheet row (header is row 1), or the card."""
    return number if job.file_format == "vcf" else number + 1


def _report(job: ImportJob, result, read_problems) -> list[dict]:
    errors = [{"row": p["row"], "errors": p["errors"]} for p in read_problems]
    for invalid in result.invalid_rows:
        messages = []
        for key, msgs in invalid.error_dict.items():
            label = "" if key == NON_FIELD_ERRORS else _field_label(key)
            for m in msgs:
                messages.append(m if (not label or m.startswith(label)) else f"{label}: {m}")
        errors.append({"row": _row_label(job, invalid.number), "errors": messages})
    for number, row_errors in result.row_errors():
        errors.append({"row": _row_label(job, number), "errors": [str(e.error) for e in row_errors]})
    for base in result.base_errors:
        errors.append({"row": 0, "errors": [str(base.error)]})
    return sorted(errors, key=lambda e: e["row"])


def _field_label(key: str) -> str:
    if key.startswith("cf_"):
        return ""  # custom-field messages already name their field
    try:
        return str(Lead._meta.get_field(key).verbose_name).capitalize()
    except Exception:
        return key


def _load(job: ImportJob):
    job.file.open("rb")
    try:
        data = job.file.read()
    finally:
        job.file.close()
    headers, rows, problems = read_table(data, job.file_format)
    mapping = job.mapping if job.file_format != "vcf" else {h: h for h in headers}
    return build_dataset(headers, rows, mapping), problems


def import_preview(job: ImportJob, actor) -> ImportJob:
    """Dry run: every row validated and matched, nothing written. Stores counts and every bad row."""
    dataset, problems = _load(job)
    resource = LeadImportResource(job=job, actor=actor)
    result = resource.import_data(dataset, dry_run=True, use_transactions=True)
    for number, errors in result.row_errors():
        logger.warning("import %s dry run: row %s failed: %s", job.pk, number, [e.error for e in errors])
    job.errors = _report(job, result, problems)
    job.total_rows = len(dataset)
    job.created_count = result.totals["new"]
    job.updated_count = result.totals["update"]
    job.skipped_count = result.totals["skip"]
    job.error_count = len(job.errors)
    job.status = ImportJob.Status.PREVIEWED
    job.save()
    return job


def import_run(job_id: int) -> ImportJob:
    """The real import, in one transaction. Safe to run again after a crash: a failed or
    interrupted run wrote nothing, and a finished job is not run twice."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update(of=("self",)).select_related("created_by", "campaign").get(pk=job_id)
        if job.status in (ImportJob.Status.DONE,):
            return job
        job.status = ImportJob.Status.RUNNING
        job.save(update_fields=["status"])
    actor = job.created_by
    with translation.override(actor.language or settings.LANGUAGE_CODE):
        try:
            dataset, problems = _load(job)
            resource = LeadImportResource(job=job, actor=actor)
            all_or_nothing = job.mode == ImportJob.Mode.ALL_OR_NOTHING
            with transaction.atomic():
                result = resource.import_data(dataset, dry_run=False, use_transactions=True,
                                              rollback_on_validation_errors=all_or_nothing)
                rolled_back = result.has_errors() or (all_or_nothing and (result.has_validation_errors() or bool(problems)))
                if rolled_back:
                    transaction.set_rollback(True)
                else:
                    _after_import(job, actor, resource)
            errors = _report(job, result, problems)
            job.refresh_from_db()
            job.errors = errors
            job.error_count = len(errors)
            job.total_rows = job.processed_rows = len(dataset)
            if rolled_back:
                job.status = ImportJob.Status.FAILED
                job.created_count = job.updated_count = 0
                job.skipped_count = 0
                job.message = _("Nothing was imported: %(count)s rows have errors.") % {"count": job.error_count}
            else:
                job.status = ImportJob.Status.DONE
                job.created_count, job.updated_count = len(resource.created), len(resource.updated)
                job.skipped_count = result.totals["skip"]
                job.message = _("%(created)s created, %(updated)s updated, %(skipped)s skipped, %(errors)s rows with errors.") % {
                    "created": job.created_count, "updated": job.updated_count, "skipped": job.skipped_count,
                    "errors": job.error_count}
        except ImportRefused as exc:
            job.status, job.message = ImportJob.Status.FAILED, str(exc)
        except Exception:
            logger.exception("lead import %s failed", job.pk)
            job.refresh_from_db()
            job.status = ImportJob.Status.FAILED
            job.created_count = job.updated_count = 0
            job.message = _("The import failed and nothing was written. Try again, or contact your administrator.")
        job.finished_at = timezone.now()
        job.save()
    cache.delete(progress_key(job.pk))
    return job


def _after_import(job: ImportJob, actor, resource: LeadImportResource) -> None:
    """What follows the writes, set-wise: each new lead's first lifecycle step, the campaign touch (first
    and last touch), one notification per owner the assignment rules chose, and the events."""
    from django.db.models import F, Value
    from django.db.models.functions import Coalesce

    from campaigns.models import Touch

    now = timezone.now()
    insert_each(LifecycleTransition, "lead", resource.created, to_stage=LifecycleStage.NEW, actor=actor,
                created_at=now)
    if job.campaign_id:
        ids = resource.created + resource.updated
        insert_each(Touch, "lead", ids, campaign=job.campaign_id, channel=Touch.Channel.IMPORT, touched_at=now)
        Lead.objects.filter(pk__in=ids).update(
            last_touch_campaign_id=job.campaign_id,
            first_touch_campaign_id=Coalesce(F("first_touch_campaign_id"), Value(job.campaign_id)))
    _notify_assigned(resource.assigned, actor)
    for name, ids in (("lead.created", resource.created), ("lead.updated", resource.updated)):
        emit_many(name, Lead, ids, actor=actor, data={"import": job.pk})


def _notify_assigned(assigned: Counter, actor) -> None:
    """One notification per owner the assignment rules gave leads to, not one per lead."""
    from django.urls import reverse
    from django.utils.translation import ngettext

    from crm.access.models import User
    from crm.notifications.services import notification_send

    for owner in User.objects.filter(pk__in=list(assigned)).exclude(pk=actor.pk):
        count = assigned[owner.pk]
        with translation.override(owner.language or None):
            message = ngettext("%(count)s lead from an import was assigned to you.",
                               "%(count)s leads from an import were assigned to you.", count) % {"count": count}
        notification_send(recipient=owner, message=message, url=reverse("leads:list") + "?mine=1",
                          verb="lead.assigned", actor=actor)
