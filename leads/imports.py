"""Lead import from CSV, XLSX and vCard with django-import-export.

    upload (limits checked before parsing) → column mapping and options →
    dry run listing every bad row → import, inline or on a Celery worker.

The real import is one transaction: in all-or-nothing mode
(`rollback_on_validation_errors`) a single bad row rolls back every row; in
good-rows mode only valid rows are written. A failure or a worker crash rolls
the whole file back, and a re-delivered task simply runs it again."""
from __future__ import annotations

import csv
import io
import logging
import zipfile
from pathlib import Path

import tablib
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from import_export import resources, widgets
from import_export.fields import Field

from crm.core.events import emit_many
from crm.customization.fields import definitions
from crm.customization.models import PicklistValue
from crm.customization.resources import CustomFieldsResourceMixin
from leads.models import SOURCE_PICKLIST, STATUS_PICKLIST, ImportJob, Lead, LifecycleTransition
from leads.services import _keys, normalize_email, normalize_phone

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
        rows = [row for row in reader if any(cell.strip() for cell in row)]
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
    body = [row + [""] * (len(headers) - len(row)) for row in rows[1:]]
    return headers, [row[: len(headers)] for row in body], problems


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
    columns = [(i, mapping.get(h)) for i, h in enumerate(headers) if mapping.get(h)]
    dataset = tablib.Dataset(headers=[target for _, target in columns])
    for row in rows:
        dataset.append([row[i] if i < len(row) else "" for i, _ in columns])
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
    form_field.required = False  # the model's full_clean says what is required, once
    return FormFieldWidget(form_field, choices=field.choices)


class LeadImportResource(CustomFieldsResourceMixin, resources.ModelResource):
    def __init__(self, *, job: ImportJob, actor):
        super().__init__()
        self.job, self.actor = job, actor
        for name in IMPORT_FIELDS:
            self.fields[name] = Field(attribute=name, column_name=name, widget=_widget_for(name))
        self.created: list[int] = []
        self.updated: list[int] = []
        self.rows_seen = 0
        self._editable = None

    class Meta:
        model = Lead
        fields = IMPORT_FIELDS
        clean_model_instances = True
        skip_diff = True
        report_skipped = True
        # Rows are validated one by one and written a thousand at a time (bulk_create / bulk_update, with
        # their history rows in bulk too); the whole import is still one transaction.
        use_bulk = True
        batch_size = 1000

    def before_import(self, dataset, **kwargs):
        """Everything the rows look up, in a few queries for the whole file instead of several per row:
        the leads their emails and phones match, which of those the user may edit, the default status
        and source. Only the file's columns are imported (and, on update, written)."""
        for name in [n for n in self.fields if n not in dataset.headers]:
            del self.fields[name]
        self._by_email: dict[str, int] = {}
        self._by_phone: dict[str, int] = {}
        if self.job.duplicates != ImportJob.Duplicates.CREATE:
            emails, phones = set(), set()
            for row in dataset.dict:
                emails.add(normalize_email(row.get("email") or ""))
                phones.update(self._phones(row))
            emails.discard("")
            matches = Lead.objects.filter(Q(email_normalized__in=emails) | Q(phone_normalized__in=phones))
            for pk, email, phone in matches.order_by("-pk").values_list("pk", "email_normalized", "phone_normalized"):
                if email:
                    self._by_email[email] = pk  # the oldest match wins, as in the duplicate rules
                if phone:
                    self._by_phone[phone] = pk
        matched = set(self._by_email.values()) | set(self._by_phone.values())
        self._editable = set(Lead.objects.visible_to(self.actor, "edit").filter(pk__in=matched).values_list("pk", flat=True))
        self._file_emails: set[str] = set()  # keys of the rows of this file that create leads
        self._file_phones: set[str] = set()
        self._default_status = PicklistValue.objects.filter(picklist=STATUS_PICKLIST, is_default=True).first()
        self._import_source = PicklistValue.objects.filter(picklist=SOURCE_PICKLIST, value="import").first()

    @staticmethod
    def _phones(row) -> set[str]:
        country = row.get("country") or ""
        return {p for p in (normalize_phone(row.get("phone") or "", country),
                            normalize_phone(row.get("mobile") or "", country)) if p}

    def get_instance(self, instance_loader, row):
        if self.job.duplicates == ImportJob.Duplicates.CREATE:
            return None
        email, phones = normalize_email(row.get("email") or ""), sorted(self._phones(row))
        # An earlier row of this file has the same email or phone: this row is skipped, in the dry run
        # (which writes nothing) and in the import alike.
        if email in self._file_emails or any(p in self._file_phones for p in phones):
            duplicate = Lead()
            duplicate._earlier_row = True
            return duplicate
        pk = self._by_email.get(email)
        if pk is None:
            pk = next((self._by_phone[p] for p in phones if p in self._by_phone), None)
        return Lead.objects.get(pk=pk) if pk is not None else None

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if getattr(instance, "_earlier_row", False):
            return True
        if instance.pk is None:
            return False
        if self.job.duplicates == ImportJob.Duplicates.SKIP or instance.is_converted:
            return True
        return instance.pk not in self._editable  # update only leads the importing user may edit

    def before_save_instance(self, instance, row, **kwargs):
        from leads.assignment import owner_by_rules

        if instance.pk is None:
            if instance.status_id is None:
                instance.status = self._default_status
            if instance.source_id is None:
                instance.source = self._import_source
            if self.job.assign_by_rules and not kwargs.get("dry_run"):
                instance.owner = owner_by_rules(instance) or instance.owner
            instance.owner = instance.owner or self.actor
            instance.created_by = self.actor
        else:
            instance.updated_at = timezone.now()  # bulk_update does not apply auto_now
        _keys(instance)
        instance._history_user = self.actor

    def after_save_instance(self, instance, row, **kwargs):
        if instance.pk is not None:
            self.updated.append(instance.pk)
        elif self.job.duplicates != ImportJob.Duplicates.CREATE:
            self._file_emails.add(instance.email_normalized)
            self._file_phones.add(instance.phone_normalized)
            self._file_emails.discard("")
            self._file_phones.discard("")

    def bulk_create(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        instances = list(self.create_instances)
        self.create_instances.clear()
        if not instances or dry_run:  # the dry run validates every row and writes nothing
            return
        try:
            Lead.objects.bulk_create(instances, batch_size=batch_size)
            Lead.history.bulk_history_create(instances, batch_size=batch_size, default_user=self.actor)
        except Exception as exc:
            self.handle_import_error(result, exc, raise_errors)
            return
        self.created.extend(lead.pk for lead in instances)

    def get_bulk_update_fields(self):
        model_fields = {f.name for f in Lead._meta.concrete_fields}
        return [name for name in self.fields if name in model_fields] + [
            "custom", "email_normalized", "phone_normalized", "updated_at"]

    def bulk_update(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        instances = list(self.update_instances)
        self.update_instances.clear()
        if not instances or dry_run:
            return
        try:
            Lead.objects.bulk_update(instances, self.get_bulk_update_fields(), batch_size=batch_size)
            Lead.history.bulk_history_create(instances, batch_size=batch_size, update=True, default_user=self.actor)
        except Exception as exc:
            self.handle_import_error(result, exc, raise_errors)

    def import_row(self, row, instance_loader, **kwargs):
        self.rows_seen += 1
        if self.rows_seen % 200 == 0:
            cache.set(progress_key(self.job.pk), self.rows_seen, 3600)
        return super().import_row(row, instance_loader, **kwargs)



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
    from leads.services import touch_add

    LifecycleTransition.objects.bulk_create(
        [LifecycleTransition(lead_id=pk, to_stage="new", actor=actor) for pk in resource.created], batch_size=2000)
    if job.campaign_id:
        for lead in Lead.objects.filter(pk__in=resource.created + resource.updated).iterator(chunk_size=2000):
            touch_add(lead=lead, campaign=job.campaign, channel="import")
    for name, ids in (("lead.created", resource.created), ("lead.updated", resource.updated)):
        emit_many(name, [Lead(pk=pk) for pk in ids], actor=actor, data={"import": job.pk})
