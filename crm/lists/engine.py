"""The one list engine: a record type's list for one reader, from the query string.

    RecordList(record_type, user, request.GET)

applies, in SQL: visibility, search (only in fields the reader may see), the
filters, the order (any column both ways, by fields the reader may see) and a
keyset page. Keyset pages ("the 50 rows after this one") cost the same at page
100 as at page 1, where OFFSET walked and discarded every earlier row. The count
("4,278 leads") is asked for separately, after the page is shown, and capped."""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from uuid import UUID

from django.db import models
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from crm.access.fls import hidden_fields
from crm.core.pagination import CappedPaginator
from crm.lists.columns import Column, columns_for, prefetch_related
from crm.lists.filters import filterset_class

# Parameters the engine reads itself; every other one goes to the filters.
RESERVED = ("q", "sort", "cols", "after", "before", "count", "export")
MAX_QUERY_LENGTH = 200
MAX_PARAM_LENGTH = 1000
# A page cursor holds the sort keys of a row: up to 200 characters of text (columns.SORT_PREFIX) in any script.
MAX_CURSOR_LENGTH = 4000
MAX_PAGE = 1_000_000  # a page number past any list's (pages stop where the count stops)


class HostileInput(ValueError):
    """A parameter no list can take (a NUL byte, which PostgreSQL refuses in text); the message says which."""


@dataclass
class Page:
    rows: list  # [(record, cells HTML)]
    number: int
    per_page: int
    has_next: bool = False
    has_previous: bool = False
    next_cursor: str = ""
    previous_cursor: str = ""

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.rows else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.rows)

    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous


@dataclass
class Header:
    name: str
    label: str
    sort: str | None  # the sort parameter a click sets (toggles the direction); None: not sortable
    direction: str = ""  # "ascending" / "descending" when the list is sorted by it (aria-sort)


@dataclass
class Ordering:
    column: str
    descending: bool
    keys: list[str] = field(default_factory=list)  # annotation names, then "pk"


def check_params(params: QueryDict) -> None:
    for key, values in params.lists():
        for value in [key, *values]:
            if "\x00" in value:
                raise HostileInput(_("The address contains a character that cannot be searched or filtered on."))
            if len(value) > (MAX_CURSOR_LENGTH if key in ("after", "before") else MAX_PARAM_LENGTH):
                raise HostileInput(_("A search or filter value is too long."))


class RecordList:
    def __init__(self, record_type, user, params: QueryDict):
        check_params(params)
        self.rt, self.spec, self.user, self.params = record_type, record_type.list, user, params
        self.model = record_type.model
        self.hidden = frozenset(hidden_fields(user, record_type.key))
        self.available: dict[str, Column] = columns_for(record_type, self.hidden)
        self.columns = self._columns()
        self.messages: list[str] = []
        query = params.get("q", "").strip()
        if len(query) > MAX_QUERY_LENGTH:
            self.messages.append(_("The search was shortened to %(n)s characters.") % {"n": MAX_QUERY_LENGTH})
            query = query[:MAX_QUERY_LENGTH]
        self.query = query
        self.ordering = self._ordering(params.get("sort", ""))
        data = params.copy()
        for name in RESERVED:
            data.pop(name, None)
        self.filterset = filterset_class(record_type, self.hidden)(
            data or None, queryset=self.model.objects.all(), user=user)

    # --- what the reader asked for -------------------------------------------------------------------------

    def _columns(self) -> list[Column]:
        asked = [c.strip() for value in self.params.getlist("cols") for c in value.split(",") if c.strip()]
        names = [n for n in dict.fromkeys(asked) if n in self.available]
        if not names:  # the type's default columns, and the custom fields admins show in lists
            names = [n for n in self.spec.columns if n in self.available]
            names += [c.name for c in self.available.values() if c.custom is not None and c.custom.show_in_list]
        return [self.available[n] for n in names]

    @property
    def chosen_columns(self) -> bool:
        return bool(self.params.get("cols"))

    def _ordering(self, sort: str) -> Ordering:
        default = self.spec.default_sort
        for candidate in (sort, default):
            name = candidate.removeprefix("-")  # one minus: "--name" is no sort of ours
            column = self.available.get(name)
            if column is not None and column.sortable:
                return Ordering(name, candidate.startswith("-"))
            if name in self.spec.sorts and name not in self.hidden:
                return Ordering(name, candidate.startswith("-"))
        return Ordering("pk", True)

    @property
    def sort(self) -> str:
        return ("-" if self.ordering.descending else "") + self.ordering.column

    # --- the queryset --------------------------------------------------------------------------------------

    def queryset(self) -> QuerySet:
        """Visible, searched and filtered; not ordered."""
        qs = self.model.objects.visible_to(self.user)
        qs = self._search(qs)
        self.filterset.queryset = qs
        self.filterset.__dict__.pop("_qs", None)
        if not self.filterset.is_bound:
            return qs
        self.filterset.is_valid()  # invalid filters are left out and shown with their message
        return self.filterset.qs

    def _search(self, qs: QuerySet) -> QuerySet:
        if not self.query:
            return qs
        paths = list(self.spec.search_fields or self.rt.search_fields)
        visible = [p for p in paths if p.split("__", 1)[0] not in self.hidden]
        if self.spec.search is not None and len(visible) == len(paths):
            return self.spec.search(qs, self.query)
        if not visible:
            return qs.none()
        # Every word must match one of the fields the reader may see: "anna virt" finds Anna Virtanen.
        for word in self.query.split():
            condition = Q()
            for path in visible:
                condition |= Q(**{f"{path}__icontains": word})
            qs = qs.filter(condition)
        return qs

    def ordered(self, qs: QuerySet) -> tuple[QuerySet, Ordering]:
        ordering = self.ordering
        if ordering.column == "pk":
            ordering.keys = ["pk"]
            return qs, ordering
        if ordering.column in self.spec.sorts:
            expressions = self.spec.sorts[ordering.column]()
        else:
            expressions = self.available[ordering.column].sort_expressions(self.model, ordering.descending)
        annotations = {f"sortkey{i}": e for i, e in enumerate(expressions)}
        ordering.keys = [*annotations, "pk"]
        return qs.annotate(**annotations), ordering

    def loads(self) -> list[str]:
        names = {"pk", *self.spec.load}
        for column in self.columns:
            names |= column.loads()
        concrete = {f.name for f in self.model._meta.concrete_fields}
        return [n for n in names if n == "pk" or n in concrete]

    # --- one page ------------------------------------------------------------------------------------------

    def page(self, *, selectable: bool = False) -> Page:
        """One page of rows; `selectable` rows start with the checkbox bulk actions read."""
        qs, ordering = self.ordered(self.queryset())
        per_page = self.spec.per_page
        cursor, backwards = _decode(self.params.get("before")), True
        if cursor is None:
            cursor, backwards = _decode(self.params.get("after")), False
        number = 1
        if cursor is not None:
            number, values = cursor
            condition = _keyset(qs, ordering, values, forward=not backwards)
            if condition is None:  # a cursor that does not fit this order: start again at page 1
                cursor, number, backwards = None, 1, False
            else:
                qs = qs.filter(condition)
        descending = ordering.descending != backwards
        qs = qs.only(*self.loads()).order_by(*[("-" if descending else "") + k for k in ordering.keys])
        rows = list(qs[: per_page + 1])
        more = len(rows) > per_page
        rows = rows[:per_page]
        if backwards:
            rows.reverse()
            number = max(1, number - 1)
            page = Page([], number, per_page, has_next=True, has_previous=more or number > 1)
        else:
            number = number + 1 if cursor is not None else 1
            page = Page([], number, per_page, has_next=more, has_previous=number > 1)
        if rows:
            page.next_cursor = _encode(number, rows[-1], ordering) if page.has_next else ""
            page.previous_cursor = _encode(number, rows[0], ordering) if page.has_previous else ""
        page.rows = self.render(rows, selectable=selectable)
        return page

    def render(self, records: list, *, selectable: bool = False) -> list:
        """(record, its cells' HTML) for each record."""
        prefetch_related(records, self.columns)
        renderers = [column.renderer() for column in self.columns]
        select = str(_("Select %(name)s")) if selectable else ""
        url = self.rt.detail_url
        rows = []
        for record in records:
            cells = []
            if select:
                label = escape(select % {"name": record})
                cells.append(f'<td><input class="form-check-input" type="checkbox" name="ids" value="{record.pk}" '
                             f'form="bulk-form" data-bulk-item aria-label="{label}"></td>')
            if renderers:
                cells.append(f'<td><a href="{url(record.pk)}">{renderers[0](record) or "—"}</a></td>')
                cells.extend(f"<td>{render(record)}</td>" for render in renderers[1:])
            rows.append((record, mark_safe("".join(cells))))
        return rows

    def count(self) -> CappedPaginator:
        return CappedPaginator(self.queryset(), self.spec.per_page)

    def headers(self) -> list[Header]:
        headers = []
        for column in self.columns:
            sortable = column.sortable or column.name in self.spec.sorts
            current = self.ordering.column == column.name
            direction = ("descending" if self.ordering.descending else "ascending") if current else ""
            toggle = f"-{column.name}" if current and not self.ordering.descending else column.name
            headers.append(Header(column.name, column.label, toggle if sortable else None, direction))
        return headers

    def current_query(self) -> str:
        """The reader's query without paging and one-off parameters: what a saved view keeps."""
        query = self.params.copy()
        for name in ("after", "before", "count", "export", "partial"):
            query.pop(name, None)
        return query.urlencode()


# --- keyset cursors ---------------------------------------------------------------------------------------

def _encode(number: int, record, ordering: Ordering) -> str:
    values = [getattr(record, key) for key in ordering.keys]
    payload = json.dumps([number, values], default=_json_value, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _json_value(value):
    # Full precision: DjangoJSONEncoder cuts datetimes to milliseconds, and the next page would repeat rows.
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (Decimal, UUID)):
        return str(value)
    raise TypeError(type(value).__name__)


def _decode(token: str | None):
    if not token:
        return None
    try:
        number, values = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError, RecursionError):
        return None
    if type(number) is not int or not isinstance(values, list) or not 1 <= number <= MAX_PAGE:
        return None
    return number, values


def _cursor_value(output, raw):
    """A cursor's key as the type `_encode` wrote for this key (dates, decimals and text as strings, numbers
    as numbers), or ValueError: a cursor written by hand must not reach the query with anything else (a
    NUL byte, which PostgreSQL refuses in text, or a null, which no comparison takes)."""
    if isinstance(output, models.BooleanField):
        expected = (bool,)
    elif isinstance(output, models.IntegerField):
        expected = (int,)
    elif isinstance(output, models.FloatField):
        expected = (int, float)
    else:
        expected = (str,)
    if not isinstance(raw, expected) or (isinstance(raw, bool) and bool not in expected):
        raise ValueError("a cursor value of the wrong type")
    if isinstance(raw, str) and "\x00" in raw:
        raise ValueError("a NUL byte in a cursor")
    value = output.to_python(raw)
    if value is None:
        raise ValueError("an empty cursor value")
    return value


def _keyset(qs: QuerySet, ordering: Ordering, raw_values: list, *, forward: bool) -> Q | None:
    """The rows after (forward) or before the cursor's row in this order:
    k0 ≷ v0 OR (k0 = v0 AND (k1 ≷ v1 OR (k1 = v1 AND … pk ≷ id))), AND k0 ≷= v0 so that PostgreSQL
    starts its index scan at the cursor instead of filtering from the top."""
    keys = ordering.keys
    if len(raw_values) != len(keys):
        return None
    values = []
    try:
        for key, raw in zip(keys, raw_values):
            output = qs.model._meta.pk if key == "pk" else qs.query.annotations[key].output_field
            values.append(_cursor_value(output, raw))
    except Exception:  # noqa: BLE001 - a tampered or stale cursor (ValidationError, ValueError, TypeError...)
        return None
    later = (ordering.descending) != (not forward)  # True: rows with smaller keys come next
    op = "lt" if later else "gt"
    condition = Q(**{f"{keys[-1]}__{op}": values[-1]})
    for key, value in reversed(list(zip(keys[:-1], values[:-1]))):
        condition = Q(**{f"{key}__{op}": value}) | (Q(**{key: value}) & condition)
    return Q(**{f"{keys[0]}__{op}e": values[0]}) & condition
