"""A list's CSV and XLSX export: the reader's filtered and sorted list, only the
fields they may see, streamed in chunks (memory stays flat however many rows),
and written so that our own import reads it back unchanged: owners as their
email, amounts as plain numbers, dates as ISO dates, picklists and choices as
their labels, which the import accepts in every language."""
from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from crm.core import export as writer
from crm.core.formatting import current_user
from crm.customization.fields import definitions
from crm.customization.models import FieldType

CHUNK = 2000


def export_fields(listing) -> list[str]:
    """Field names (and custom-field keys) the export writes: the type's export fields the reader may see,
    then every custom field they may see."""
    names = [n for n in (listing.spec.export_fields or listing.spec.columns) if n not in listing.hidden]
    names += [cf.key for cf in definitions(listing.rt.key) if cf.key not in listing.hidden]
    return names


class _Extract:
    """Turns rows of `values_list(*paths)` into cells, one converter per field, built once per export."""

    def __init__(self, model, names: list[str]):
        self.model = model
        self.paths: list[str] = []
        self.headers: list[str] = []
        self.converters: list[tuple[int, Callable | None]] = []
        self.lookups: list[tuple[int, models.ForeignKey]] = []  # columns resolved per chunk (related names)
        customs = {cf.key: cf for cf in definitions(f"{model._meta.app_label}.{model._meta.model_name}")}
        custom_index = None
        for name in names:
            if name in customs:
                if custom_index is None:
                    custom_index = self._path("custom")
                cf = customs[name]
                self.headers.append(cf.display_label)
                self.converters.append((custom_index, _custom_converter(cf)))
                continue
            field = model._meta.get_field(name)
            self.headers.append(str(capfirst(field.verbose_name)))
            if field.many_to_one:
                related = field.related_model
                if related._meta.label == settings.AUTH_USER_MODEL:
                    self.converters.append((self._path(f"{name}__email"), None))
                elif related._meta.label == "customization.PicklistValue":
                    labels = {pk: label for pk, label in _picklist_labels(field)}
                    self.converters.append((self._path(field.attname), lambda v, _l=labels: _l.get(v, "")))
                else:
                    index = self._path(field.attname)
                    self.lookups.append((index, field))
                    self.converters.append((index, None))
            else:
                self.converters.append((self._path(name), _plain_converter(field)))

    def _path(self, path: str) -> int:
        if path not in self.paths:
            self.paths.append(path)
        return self.paths.index(path)

    def rows(self, values: Iterator[tuple]) -> Iterator[list]:
        chunk = []
        for row in values:
            chunk.append(row)
            if len(chunk) >= CHUNK:
                yield from self._convert(chunk)
                chunk = []
        if chunk:
            yield from self._convert(chunk)

    def _convert(self, chunk: list[tuple]) -> Iterator[list]:
        names = {}
        for index, field in self.lookups:  # related records' names, one query per chunk and relation
            ids = {row[index] for row in chunk if row[index] is not None}
            objects = field.related_model._base_manager.in_bulk(ids) if ids else {}
            names[index] = {pk: str(obj) for pk, obj in objects.items()}
        converters = [(i, c) for i, c in self.converters]
        for row in chunk:
            cells = []
            for index, convert in converters:
                value = row[index]
                if index in names:
                    value = names[index].get(value, "")
                elif convert is not None:
                    value = convert(value)
                cells.append(value)
            yield cells


def _picklist_labels(field) -> list[tuple[int, str]]:
    from crm.customization import picklists

    return picklists.choices((field.remote_field.limit_choices_to or {})["picklist"], active_only=False)


def _plain_converter(field: models.Field) -> Callable | None:
    if field.choices:
        labels = {value: str(label) for value, label in field.flatchoices}
        return lambda v: labels.get(v, v or "")
    if isinstance(field, models.BooleanField):
        yes, no = str(_("Yes")), str(_("No"))
        return lambda v: "" if v is None else (yes if v else no)
    if isinstance(field, models.DateTimeField):
        zone = timezone.get_current_timezone()
        return lambda v: v.astimezone(zone).replace(tzinfo=None, microsecond=0) if v is not None else None
    return None  # strings, numbers and dates are written as they are


def _custom_converter(cf) -> Callable:
    key, kind = cf.name, cf.field_type
    if kind in (FieldType.NUMBER, FieldType.CURRENCY, FieldType.PERCENT):
        return lambda custom: _decimal((custom or {}).get(key))
    if kind == FieldType.CHECKBOX:
        yes, no = str(_("Yes")), str(_("No"))
        return lambda custom: yes if (custom or {}).get(key) else no
    if kind == FieldType.DATE:
        return lambda custom: _iso_date((custom or {}).get(key))
    if kind == FieldType.MULTI_PICKLIST:
        return lambda custom: ", ".join((custom or {}).get(key) or [])
    if kind == FieldType.USER:
        from crm.access.models import User

        emails = dict(User.objects.values_list("pk", "email"))
        return lambda custom: emails.get((custom or {}).get(key), "")
    return lambda custom: (custom or {}).get(key) or ""


def _decimal(value):
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except ArithmeticError:
        return str(value)


def _iso_date(value):
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return str(value)


def export_response(listing, fmt: str):
    names = export_fields(listing)
    extract = _Extract(listing.model, names)
    qs, ordering = listing.ordered(listing.queryset())
    prefix = "-" if ordering.descending else ""
    values = qs.order_by(*[prefix + k for k in ordering.keys]).values_list(*extract.paths)
    filename = f"{listing.rt.slug}-{timezone.localdate().isoformat()}"
    context = (translation.get_language(), timezone.get_current_timezone(), current_user.get())

    def rows() -> Iterator[list]:
        # Streamed after the view returned: the reader's language, time zone and formats come back with it.
        language, zone, user = context
        token = current_user.set(user)
        try:
            with translation.override(language), timezone.override(zone):
                yield from extract.rows(values.iterator(chunk_size=CHUNK))
        finally:
            current_user.reset(token)

    if fmt == "xlsx":
        spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
        writer.write_xlsx(spool, extract.headers, rows(), title=str(listing.rt.label_plural))
        spool.seek(0)
        response = FileResponse(spool, content_type=writer.XLSX_CONTENT_TYPE, as_attachment=True,
                                filename=f"{filename}.xlsx")
        return response
    response = StreamingHttpResponse(writer.csv_stream(extract.headers, rows()), content_type=writer.CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


