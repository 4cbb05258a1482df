"""The one import engine, for any registered record type (ImportSpec):

    upload (limits checked before parsing) → column mapping and options → dry run listing every bad row
    and every unknown picklist value → the user maps those values → import, inline or on a Celery worker.

The import is one transaction. In all-or-nothing mode one bad row writes nothing; in good-rows mode only
the valid rows are written. A failure or a worker crash rolls the whole file back, and a finished job is
never run twice.

It is built for large files (over 5,000 rows per second end to end on two cores). django-import-export
supplies the fields and the result; the rows are processed set-wise: each column is cleaned once per
distinct value (crm.imports.cleaning: the forms' rules and messages), rows are matched against duplicates
with one lookup per file (the type's DuplicateSpec: email, phone, then the exact name for rows with
neither), new records go in through COPY and one INSERT … SELECT, updates through one UPDATE … FROM a
copied table, and their history and events take one statement each. The dry run leaves its cleaned
columns in Redis for the import, which cleans again only the columns the database can change (picklists,
users, related records)."""
from __future__ import annotations

import hashlib
import logging
from collections import Counter
from contextlib import contextmanager
from operator import itemgetter

import tablib
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connection, models, transaction
from django.db.models.expressions import RawSQL
from django.db.models.functions import Upper
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from import_export import resources
from import_export.results import RowResult

from crm.core.bulk import TEXT_ARRAY_PARAM, copy_insert, copy_update, int_array, pk_in, text_array
from crm.core.duplicates import EMAIL_KEY, PHONE_KEY, name_key
from crm.core.events import emit_many
from crm.core.formatting import current_user
from crm.core.services import event_name
from crm.customization.fields import definitions_version, validate_values
from crm.customization.resources import CustomFieldsResourceMixin
from crm.imports.cleaning import NewRelated, RelatedByNameCleaner, cleaner_for, text
from crm.imports.mapping import writable_fields
from crm.imports.models import ImportJob
from crm.imports.reading import ImportRefused, read

logger = logging.getLogger(__name__)
PREPARED_SECONDS = 2 * 3600


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


def progress_key(job_id: int) -> str:
    return f"imports:{job_id}:progress"


class RecordImportResource(CustomFieldsResourceMixin, resources.ModelResource):
    """One record type's import. Built per type by `resource_for`."""

    record_type = None  # RecordType, set on the class

    def __init__(self, *, job: ImportJob, actor):
        super().__init__()
        self.job, self.actor = job, actor
        self.rt = type(self).record_type_object
        self.spec, self.dup, self.model = self.rt.imports, self.rt.duplicates, self.rt.model
        self.created: list[int] = []
        self.updated: list[int] = []
        self.assigned: Counter = Counter()  # owner id → records the assignment rules gave them
        self.cleaners: dict = {}
        self.warnings: list[dict] = []
        self.notes: dict[str, list[str]] = {}  # column → what its cleaner read with a change

    # --- columns and their values -----------------------------------------------------------------------

    def before_import(self, dataset, **kwargs):
        """Only the file's columns are imported (and, on update, written), and only those the user may write
        (field-level security is checked again here: the mapping may be older than a profile change)."""
        allowed = set(writable_fields(self.rt, self.actor))
        for name in [h for h in dataset.headers if h not in allowed]:
            del dataset[name]
            self.warnings.append({"row": 0, "message": _("The column for “%(field)s” was not imported: you may not "
                                                         "change that field.") % {"field": self._label(name)}})
        for name in [n for n in self.fields if n not in dataset.headers]:
            del self.fields[name]

    def _clean_columns(self, dataset, prepared) -> tuple[dict[str, list], dict[int, dict]]:
        """{column: cleaned value per row}, {row index: {column: [messages]}}: every distinct cell of a column
        cleaned once. Columns the dry run `prepared` come from it, but for those the database can change."""
        values, errors = {}, {}
        customs = {cf.key: cf for cf in self.custom_fields}
        for key in dataset.headers:
            if key in customs:
                clean = _custom_cleaner(self.rt.key, customs[key])
            else:
                clean = self.cleaners[key] = cleaner_for(self.model, key, spec=self.spec, user=self.actor,
                                                         mapping=(self.job.value_mapping or {}).get(key))
            if prepared and key in prepared["values"]:
                values[key] = prepared["values"][key]
                for i, messages in prepared["errors"][key].items():
                    errors.setdefault(int(i), {})[key] = messages
                self._note(key, prepared.get("notes", {}).get(key, ()))
                continue
            memo, column = {}, []
            cells = dataset.get_col(dataset.headers.index(key))
            if hasattr(clean, "prepare"):
                clean.prepare(set(cells))
            for i, raw in enumerate(cells):
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
            self._note(key, getattr(clean, "notes", ()))
        cache.set(progress_key(self.job.pk), len(dataset) // 2, 3600)
        return values, errors

    def _note(self, key: str, notes) -> None:
        """A column's notes on what was read with a change, as warnings under the field's name."""
        self.notes[key] = list(notes)
        for note in notes:
            self.warnings.append({"row": 0, "message": f"{self._label(key)}: {note}"})

    def _label(self, key: str) -> str:
        return next((cf.display_label for cf in self.custom_fields if cf.key == key), None) or _field_label(
            self.model, key)

    def _database_columns(self) -> set[str]:
        """Columns cleaned against the database (picklists, users, related records): cleaned again by the
        import rather than taken from the dry run."""
        result = set()
        for name in self.spec.fields:
            field = self.model._meta.get_field(name)
            if field.many_to_one:
                result.add(name)
        return result

    # --- duplicates -----------------------------------------------------------------------------------------

    def _keys(self, values: dict[str, list], n: int) -> tuple[list[str], list[tuple], list[str]]:
        """Per row: the email key, every phone key, and the name key (for rows with neither)."""
        dup = self.dup
        emails, phones, names = [""] * n, [()] * n, [""] * n
        if dup is None:
            return emails, phones, names
        for i in range(n):
            row = {f: values[f][i] for f in (dup.email, *dup.phones, dup.country, *dup.similar) if f and f in values}
            if dup.email and dup.email in values:
                emails[i] = dup.keys(row).get(EMAIL_KEY, "")
            if dup.phones:
                phones[i] = tuple(sorted(dup.phone_keys(row)))
            if dup.similar and all(f in values for f in dup.similar) and not emails[i] and not phones[i]:
                parts = [row.get(f) for f in dup.similar]
                names[i] = name_key(*parts) if all(parts) else ""
        return emails, phones, names

    def _match(self, emails, phones, names) -> None:
        """The existing records the rows' keys match (the oldest wins, as in the duplicate rules), which of
        them the user may edit, and which are read-only for other reasons (a converted lead)."""
        self._by_email, self._by_phone, self._by_name = {}, {}, {}
        self._editable, self._locked = set(), set()
        if self.job.duplicates == ImportJob.Duplicates.CREATE or self.dup is None:
            return
        dup, qs = self.dup, self.model._base_manager.all()
        keyed_email, keyed_phone = list(set(emails) - {""}), list({p for row in phones for p in row})
        conditions, params = [], []
        if dup.email and keyed_email:
            conditions.append(f'"{EMAIL_KEY}" = ANY({TEXT_ARRAY_PARAM})')
            params.append(text_array(keyed_email))
        if dup.phones and keyed_phone:
            conditions.append(f'"{PHONE_KEY}" = ANY({TEXT_ARRAY_PARAM})')
            params.append(text_array(keyed_phone))
        if conditions:
            # Two parameters instead of one per key (Django's __in): big files send 40,000 keys.
            matches = qs.filter(RawSQL(" OR ".join(conditions), params, output_field=models.BooleanField()))
            key_columns = list(dup.keyed)
            for pk, *keys in matches.order_by("-pk").values_list("pk", *key_columns):
                found = dict(zip(key_columns, keys))
                if found.get(EMAIL_KEY):
                    self._by_email[found[EMAIL_KEY]] = pk
                if found.get(PHONE_KEY):
                    self._by_phone[found[PHONE_KEY]] = pk
        wanted = {n for n in names if n}
        if wanted:
            first = dup.similar[-1]
            upper_firsts = {n.split("|")[-1] for n in wanted}
            candidates = (qs.annotate(_u=Upper(first)).filter(_u__in=upper_firsts).order_by("-pk")
                          .values_list("pk", *dup.similar))
            for pk, *parts in candidates:
                key = name_key(*parts)
                if key in wanted:
                    self._by_name[key] = pk
        matched = set(self._by_email.values()) | set(self._by_phone.values()) | set(self._by_name.values())
        if matched:
            self._editable = set(self.model.objects.visible_to(self.actor, "edit").filter(pk_in(self.model, matched))
                                 .values_list("pk", flat=True))
            from crm.core.locks import locked_q

            locked = locked_q(self.rt)  # read-only records (a converted lead, one awaiting approval) stay as they are
            if locked is not None:
                self._locked = set(qs.filter(pk_in(self.model, matched)).filter(locked).values_list("pk", flat=True))

    # --- the run --------------------------------------------------------------------------------------------

    def import_data_inner(self, dataset, dry_run, raise_errors, using_transactions, collect_failed_rows, **kwargs):
        result = self.get_result_class()()
        result.total_rows = len(dataset)
        try:
            self.before_import(dataset, **kwargs)  # the base class's import_data_inner would, and FLS is checked there
            key = self._prepared_key(dataset)
            prepared = None if dry_run else cache.get(key)
            values, errors = self._clean_columns(dataset, prepared)
            if prepared:
                emails, phones, names = prepared["emails"], prepared["phones"], prepared["names"]
            else:
                emails, phones, names = self._keys(values, len(dataset))
            if dry_run:
                self._leave_prepared(key, values, errors, emails, phones, names)
            self._match(emails, phones, names)
            new, updates = self._sort_rows(len(dataset), values, errors, result, emails, phones, names)
            written = new + [i for i, _pk in updates]
            self._note_new_related(values, written)
            if not dry_run:
                self._create_related(values, written)
                self._create(new, values, emails, phones)
                self._update(updates, values)
        except Exception as exc:  # noqa: BLE001 - reported as the file's error (django-import-export's contract)
            self.handle_import_error(result, exc, raise_errors)
        return result

    def _prepared_key(self, dataset) -> str:
        """Where the dry run leaves its work for the import: valid while the cells, the mapping of values, the
        custom-field definitions, the language and the user's date format are the ones it cleaned with."""
        digest = hashlib.sha256(repr((self.rt.key, dataset.headers, self.job.value_mapping,
                                      definitions_version(self.rt.key), translation.get_language(),
                                      getattr(self.actor, "date_format", ""))).encode())
        for row in dataset:
            digest.update("\x1f".join(str(c) for c in row).encode())
            digest.update(b"\x1e")
        return f"imports:{self.job.pk}:prepared:{digest.hexdigest()}"

    def _leave_prepared(self, key, values, errors, emails, phones, names) -> None:
        database = self._database_columns()
        kept = [name for name in values if name not in database]
        column_errors = {name: {} for name in kept}
        for i, row_errors in errors.items():
            for name, messages in row_errors.items():
                if name in column_errors:
                    column_errors[name][i] = messages
        cache.set(key, {"values": {n: values[n] for n in kept}, "errors": column_errors, "emails": emails,
                        "phones": phones, "names": names, "notes": {n: self.notes.get(n, []) for n in kept}},
                  PREPARED_SECONDS)

    def _sort_rows(self, n, values, errors, result, emails, phones, names) -> tuple[list[int], list[tuple[int, int]]]:
        """Decide each row: new (row index), update ((row index, id)), skipped or invalid. A row repeating the
        email, phone or name of an earlier new row of the file is skipped, so is a match the user may not
        edit or that is locked; only rows that would be written are validated."""
        totals = result.totals
        creating = self.job.duplicates == ImportJob.Duplicates.CREATE
        required = [f for f in self.model._meta.concrete_fields if f.name in self.spec.fields and not f.blank
                    and not f.many_to_one]
        required_custom = [cf for cf in self.custom_fields if cf.required]
        new, updates = [], []
        seen_emails, seen_phones, seen_names = set(), set(), set()
        for i in range(n):
            email, row_phones, name = emails[i], phones[i], names[i]
            pk = None
            if not creating:
                if email and email in seen_emails or any(p in seen_phones for p in row_phones) or name and name in seen_names:
                    totals[RowResult.IMPORT_TYPE_SKIP] += 1
                    continue
                pk = (self._by_email.get(email) or next((self._by_phone[p] for p in row_phones if p in self._by_phone), None)
                      or self._by_name.get(name))
                if pk is not None and (self.job.duplicates == ImportJob.Duplicates.SKIP or pk in self._locked
                                       or pk not in self._editable):
                    totals[RowResult.IMPORT_TYPE_SKIP] += 1
                    continue
            row_errors = dict(errors.get(i, {}))
            for field in required:  # a column in the file must not be blank; a new record needs it or a default
                blank = (values[field.name][i] in (None, "") if field.name in values
                         else pk is None and not field.has_default())
                if blank and field.name not in row_errors:
                    row_errors[field.name] = [str(field.error_messages["blank"])]
            for cf in required_custom if pk is None else ():
                if cf.key not in row_errors and (cf.key not in values or values[cf.key][i] is None):
                    row_errors[cf.key] = [_("%(field)s: this field is required.") % {"field": cf.display_label}]
            if row_errors:
                result.append_invalid_row(i + 1, {}, ValidationError(row_errors))
                totals[RowResult.IMPORT_TYPE_INVALID] += 1
                continue
            if pk is None:
                new.append(i)
                totals[RowResult.IMPORT_TYPE_NEW] += 1
                if not creating:
                    seen_emails.add(email)
                    seen_phones.update(row_phones)
                    seen_names.add(name)
                    seen_emails.discard("")
                    seen_names.discard("")
            else:
                updates.append((i, pk))
                totals[RowResult.IMPORT_TYPE_UPDATE] += 1
        return new, updates

    # --- writing ------------------------------------------------------------------------------------------

    def _new_related(self, values, rows: list[int]):
        """(column, cleaner, name keys) of the related records the written `rows` name that do not exist yet."""
        for name, cleaner in self.cleaners.items():
            if not isinstance(cleaner, RelatedByNameCleaner) or not cleaner.missing or name not in values:
                continue
            column = values[name]
            wanted = list(dict.fromkeys(column[i] for i in sorted(rows) if isinstance(column[i], NewRelated)))
            if wanted:
                yield name, cleaner, wanted

    def _note_new_related(self, values, rows: list[int]) -> None:
        """The dry run and the result name the records the import creates besides its own (a contact's account)."""
        for _name, cleaner, wanted in self._new_related(values, rows):
            names = [cleaner.missing[key] for key in wanted]
            self.warnings.append({"row": 0, "message": _("New %(type)s created by the import: %(names)s.") % {
                "type": cleaner.field.related_model._meta.verbose_name_plural,
                "names": ", ".join(f"“{n}”" for n in names[:20]) + (" …" if len(names) > 20 else "")}})

    def _create_related(self, values, rows: list[int]) -> None:
        """Records named in a column that do not exist yet, where the type allows it (a contacts file brings
        its accounts): created once per name, owned by the importing user, with history and events. Only the
        rows that are written bring theirs: a skipped or invalid row creates nothing."""
        for name, cleaner, wanted in list(self._new_related(values, rows)):
            related = cleaner.field.related_model
            now = timezone.now()
            ids = copy_insert(related, [cleaner.by], [[cleaner.missing[key]] for key in wanted],
                              owner_id=self.actor.pk, created_by_id=self.actor.pk, created_at=now, updated_at=now,
                              custom={})
            history(related, ids, "+", self.actor, now)
            emit_many(event_name(related, "created"), related, ids, actor=self.actor, data={"import": self.job.pk})
            by_key = dict(zip(wanted, ids))
            values[name] = [by_key.get(v, v) if isinstance(v, NewRelated) else v for v in values[name]]

    def _create(self, rows: list[int], values, emails, phones) -> None:
        """COPY the new records in, then their history in one statement."""
        if not rows:
            return
        model, now, actor = self.model, timezone.now(), self.actor
        fields = list(model._meta.concrete_fields)
        constants = {f.attname: f.get_default() for f in fields}
        constants.update(created_at=now, updated_at=now, created_by_id=actor.pk, owner_id=None)
        constants.update(self.spec.defaults() if self.spec.defaults else {})
        model_columns = [f for f in fields if f.name in values]
        custom_columns = [cf for cf in self.custom_fields if cf.key in values]
        keyed = [k for k in (self.dup.keyed if self.dup else ())]
        # The columns that can differ between rows (owner, custom, keys, then the file's); the rest is the same
        # for every new record. A record is a list in that order.
        varying = list(dict.fromkeys(["owner_id", "custom", *keyed, *self.spec.row_fields,
                                      *(f.attname for f in model_columns)]))
        at = {name: index for index, name in enumerate(varying)}
        owner, custom = at["owner_id"], at["custom"]
        relations = [(at[f.attname], values[f.name]) for f in model_columns if f.is_relation]
        plain = [(at[f.attname], values[f.name], f.null) for f in model_columns if not f.is_relation]
        empty = [constants.get(name) for name in varying]
        key_fields = {f: i for f, i in ((EMAIL_KEY, at.get(EMAIL_KEY)), (PHONE_KEY, at.get(PHONE_KEY))) if i is not None}
        records = []
        for i in rows:
            record = empty.copy()
            for index, column in relations:
                value = column[i]
                if value is not None:
                    record[index] = value.pk if hasattr(value, "pk") else value
            for index, column, null in plain:
                if column[i] is not None or null:
                    record[index] = column[i]
            record[custom] = {cf.name: values[cf.key][i] for cf in custom_columns if values[cf.key][i] is not None}
            if EMAIL_KEY in key_fields:
                record[key_fields[EMAIL_KEY]] = emails[i]
            if PHONE_KEY in key_fields:
                row = {f: record[at[f]] if f in at else constants.get(f) for f in
                       (*self.dup.phones, self.dup.country) if f}
                record[key_fields[PHONE_KEY]] = self.dup.keys(row).get(PHONE_KEY, "")
            if self.spec.complete is not None:
                filled = dict(zip(varying, record))
                self.spec.complete(filled, set(values))
                record = [filled[name] for name in varying]
            if self.job.assign_by_rules and self.spec.assign and record[owner] is None:
                assigned = self.spec.assign(self.job, {**constants, **dict(zip(varying, record))})
                if assigned is not None:
                    record[owner] = assigned
                    self.assigned[assigned] += 1
            record[owner] = record[owner] or actor.pk
            records.append(record)
        ids = copy_insert(model, varying, records, **{k: v for k, v in constants.items() if k not in varying and k != "id"})
        history(model, ids, "+", actor, now)
        self.created = ids
        cache.set(progress_key(self.job.pk), len(emails), 3600)

    def _update(self, rows: list[tuple[int, int]], values) -> None:
        """Write the file's columns onto the records the rows matched (custom fields merged, duplicate keys
        recomputed; when two rows match one record the later wins) with one UPDATE, then history."""
        if not rows:
            return
        model = self.model
        latest = dict((pk, i) for i, pk in rows)
        dup = self.dup
        key_sources = [f for f in ((dup.email, *dup.phones, dup.country) if dup else ()) if f]
        stored = {pk: dict(zip(["custom", *key_sources], rest)) for pk, *rest in
                  model._base_manager.filter(pk_in(model, latest)).values_list("pk", "custom", *key_sources)}
        model_columns = [model._meta.get_field(name) for name in self.spec.fields if name in values]
        custom_columns = [cf for cf in self.custom_fields if cf.key in values]
        keyed = list(dup.keyed) if dup else []
        columns = ["id", *(f.attname for f in model_columns), "custom", *keyed]
        records = []
        for pk, i in latest.items():
            current = stored[pk]
            record = [pk]
            for field in model_columns:
                value = values[field.name][i]
                record.append(value.pk if field.is_relation and hasattr(value, "pk") else value)
                if field.name in current:
                    current[field.name] = value
            custom = dict(current["custom"] or {})
            for cf in custom_columns:
                if values[cf.key][i] is None:
                    custom.pop(cf.name, None)
                else:
                    custom[cf.name] = values[cf.key][i]
            record.append(custom)
            if dup:
                keys = dup.keys(current)
                record += [keys.get(k, "") for k in keyed]
            records.append(record)
        now = timezone.now()
        copy_update(model, columns, records, updated_at=now)
        self.updated = list(latest)
        history(model, self.updated, "~", self.actor, now)


def _custom_cleaner(record_type: str, cf):
    def clean(raw):
        values, errors = validate_values(record_type, {cf.key: text(raw)}, [cf])
        if errors:
            raise ValueError(" ".join(errors[cf.key]))
        return values[cf.name]
    return clean


def history(model, ids: list[int], kind: str, actor, when) -> None:
    """One history row per record, copied from the table as it now is ("+" created, "~" changed)."""
    if not ids or not hasattr(model, "history"):
        return
    historical = model.history.model
    columns_of_record = {f.attname for f in model._meta.concrete_fields}
    columns, selected, params = [], [], []
    for field in historical._meta.concrete_fields:
        if field.attname in columns_of_record:
            columns.append(field.column)
            selected.append(f'"{field.column}"')
        elif field.attname in ("history_date", "history_type", "history_user_id", "history_change_reason"):
            columns.append(field.column)
            selected.append("%s")
            params.append({"history_date": when, "history_type": kind, "history_user_id": getattr(actor, "pk", None),
                           "history_change_reason": None}[field.attname])
    sql = 'INSERT INTO {} ({}) SELECT {} FROM {} WHERE "id" = ANY(%s::bigint[]) ORDER BY "id"'.format(
        historical._meta.db_table, ", ".join(f'"{c}"' for c in columns), ", ".join(selected), model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, int_array(ids)])


_resources: dict[str, type] = {}


def resource_for(record_type) -> type[RecordImportResource]:
    cls = _resources.get(record_type.key)
    if cls is None:
        meta = type("Meta", (), {"model": record_type.model, "fields": list(record_type.imports.fields),
                                 "skip_diff": True})
        cls = _resources[record_type.key] = type(f"{record_type.model.__name__}ImportResource",
                                                 (RecordImportResource,), {"Meta": meta,
                                                                           "record_type_object": record_type})
    return cls


# --- running ----------------------------------------------------------------------------------------------

def _report(job: ImportJob, result, table, numbers: list[int]) -> list[dict]:
    """Every row that cannot be imported, once, with every reason, under the number the user finds it by."""
    from crm.core import records

    model = records.get(job.record_type).model
    by_row: dict[int, list[str]] = {}
    for problem in table.problems:
        by_row.setdefault(problem["row"], []).extend(problem["errors"])
    for invalid in result.invalid_rows:
        messages = []
        for key, msgs in invalid.error_dict.items():
            label = "" if key == NON_FIELD_ERRORS else _field_label(model, key)
            for m in msgs:
                messages.append(m if (not label or m.startswith(label)) else f"{label}: {m}")
        by_row.setdefault(numbers[invalid.number - 1], []).extend(messages)
    for number, row_errors in result.row_errors():
        by_row.setdefault(numbers[number - 1] if 0 < number <= len(numbers) else number, []).extend(
            str(e.error) for e in row_errors)
    errors = [{"row": row, "errors": msgs} for row, msgs in sorted(by_row.items())]
    for base in result.base_errors:
        errors.append({"row": 0, "errors": [str(base.error)]})
    return errors


def _field_label(model, key: str) -> str:
    if key.startswith("cf_"):
        return ""  # custom-field messages already name their field
    try:
        return str(capfirst(model._meta.get_field(key).verbose_name))
    except Exception:  # noqa: BLE001 - not a field: the key as it is
        return key


def _load(job: ImportJob):
    job.file.open("rb")
    try:
        data = job.file.read()
    finally:
        job.file.close()
    table = read(data, job.file_format)
    mapping = job.mapping if job.file_format != "vcf" else _vcard_mapping(job, table.headers)
    return build_dataset(table.headers, table.rows, mapping), table


def _vcard_mapping(job: ImportJob, headers: list[str]) -> dict[str, str]:
    """vCards carry neutral person fields: each goes to the field the type maps that concept to."""
    from crm.core import records

    rt = records.get(job.record_type)
    allowed = set(writable_fields(rt, job.created_by))
    return {h: rt.imports.concepts.get(h, "") if rt.imports.concepts.get(h, "") in allowed else "" for h in headers}


@contextmanager
def _as_user(actor):
    """The importing user's formats (how they write dates) while cells are cleaned, in a request or on a worker
    alike: the import must read a file as its dry run did."""
    token = current_user.set(actor)
    try:
        yield
    finally:
        current_user.reset(token)


def import_preview(job: ImportJob, actor) -> ImportJob:
    """Dry run: every row validated and matched, nothing written. Stores the counts, every bad row, the unknown
    picklist values (for the user to map) and a sample of what will be written."""
    from crm.core import records

    rt = records.get(job.record_type)
    with translation.override(actor.language or settings.LANGUAGE_CODE), _as_user(actor):
        dataset, table = _load(job)
        resource = resource_for(rt)(job=job, actor=actor)
        result = resource.import_data(dataset, dry_run=True, use_transactions=True)
        for number, errors in result.row_errors():
            logger.warning("import %s dry run: row %s failed: %s", job.pk, number, [e.error for e in errors])
        job.errors = _report(job, result, table, table.numbers)
        job.warnings = table.warnings + resource.warnings
        job.total_rows = len(dataset) + len(table.problems)
        job.created_count = result.totals["new"]
        job.updated_count = result.totals["update"]
        job.skipped_count = result.totals["skip"] + table.skipped
        job.error_count = len(job.errors)
        job.preview = {
            "unknown": {name: sorted(cleaner.unknown)[:100] for name, cleaner in resource.cleaners.items()
                        if cleaner.unknown},
            "columns": list(dataset.headers),
            "sample": [[str(c) for c in row] for row in dataset[:5]],
        }
        job.status = ImportJob.Status.PREVIEWED
        job.save()
    return job


def import_run(job_id: int) -> ImportJob:
    """The real import, in one transaction. Safe to run again after a crash: a failed or interrupted run wrote
    nothing, and a finished job is not run twice."""
    from crm.core import records

    with transaction.atomic():
        job = ImportJob.objects.select_for_update(of=("self",)).select_related("created_by", "campaign").get(pk=job_id)
        if job.status == ImportJob.Status.DONE:
            return job
        job.status = ImportJob.Status.RUNNING
        job.save(update_fields=["status"])
    actor, rt = job.created_by, records.get(job.record_type)
    with translation.override(actor.language or settings.LANGUAGE_CODE), _as_user(actor):
        try:
            dataset, table = _load(job)
            resource = resource_for(rt)(job=job, actor=actor)
            all_or_nothing = job.mode == ImportJob.Mode.ALL_OR_NOTHING
            with transaction.atomic():
                result = resource.import_data(dataset, dry_run=False, use_transactions=True,
                                              rollback_on_validation_errors=all_or_nothing)
                rolled_back = result.has_errors() or (all_or_nothing and (result.has_validation_errors()
                                                                          or bool(table.problems)))
                if rolled_back:
                    transaction.set_rollback(True)
                else:
                    _after_import(job, actor, rt, resource)
            errors = _report(job, result, table, table.numbers)
            job.refresh_from_db()
            job.errors, job.error_count = errors, len(errors)
            job.warnings = table.warnings + resource.warnings
            job.total_rows = job.processed_rows = len(dataset) + len(table.problems)
            if rolled_back:
                job.status = ImportJob.Status.FAILED
                job.created_count = job.updated_count = job.skipped_count = 0
                job.message = _("Nothing was imported: %(count)s rows have errors.") % {"count": job.error_count}
            else:
                job.status = ImportJob.Status.DONE
                job.created_count, job.updated_count = len(resource.created), len(resource.updated)
                job.skipped_count = result.totals["skip"] + table.skipped
                job.message = _("%(created)s created, %(updated)s updated, %(skipped)s skipped, %(errors)s rows "
                                "with errors.") % {"created": job.created_count, "updated": job.updated_count,
                                                   "skipped": job.skipped_count, "errors": job.error_count}
        except ImportRefused as exc:
            job.status, job.message = ImportJob.Status.FAILED, str(exc)
        except Exception:  # noqa: BLE001 - logged; the job says nothing was written
            logger.exception("import %s failed", job.pk)
            job.refresh_from_db()
            job.status = ImportJob.Status.FAILED
            job.created_count = job.updated_count = 0
            job.message = _("The import failed and nothing was written. Try again, or contact your administrator.")
        job.finished_at = timezone.now()
        job.save()
    cache.delete(progress_key(job.pk))
    return job


def _after_import(job: ImportJob, actor, rt, resource: RecordImportResource) -> None:
    """What follows the writes, set-wise: the type's own steps (a lead's first lifecycle step, notifying the
    owners assignment rules chose), a campaign touch for every record when the job names a campaign, then the
    events."""
    model = rt.model
    if rt.imports.after_import:
        rt.imports.after_import(job=job, actor=actor, created=resource.created, updated=resource.updated,
                                assigned=resource.assigned)
    if job.campaign_id and rt.imports.supports_campaign:
        from campaigns.services import touches_add

        touches_add(campaign=job.campaign, model=model, ids=resource.created + resource.updated, channel="import")
    for verb, ids in (("created", resource.created), ("updated", resource.updated)):
        emit_many(event_name(model, verb), model, ids, actor=actor, data={"import": job.pk})
