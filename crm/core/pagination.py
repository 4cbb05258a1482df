"""Pagination for lists that can hold millions of rows."""
from django.conf import settings
from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CappedPaginator(Paginator):
    """Counts at most LIST_COUNT_LIMIT rows. Counting every visible row of a broad list (a manager's
    50,000 leads, a search that matches a tenth of the table) costs more than showing the page; past
    the limit the list says "more than 10,000", as Salesforce's list views do (filters narrow it down).
    Lists of leads show their pages with ListPage and ask for this count afterwards."""

    @cached_property
    def _counted(self) -> int:
        limit = settings.LIST_COUNT_LIMIT
        # Without the ordering: sorted, the capped count would walk the sort index instead of the filter's.
        return self.object_list.order_by()[: limit + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self._counted, settings.LIST_COUNT_LIMIT)

    @property
    def capped(self) -> bool:
        return self._counted > settings.LIST_COUNT_LIMIT


class ListPage:
    """One page of a list, fetched without counting the list: one row more than the page says whether
    there is a next page. The count ("4,278 leads") comes in its own request after the page is shown
    (CappedPaginator), so a broad or filtered list appears at the speed of its first 50 rows. Pages
    stop where the count stops (LIST_COUNT_LIMIT)."""

    def __init__(self, object_list, number, per_page: int = 50):
        try:
            number = int(number or 1)
        except (TypeError, ValueError):
            number = 1
        last = max(1, -(-settings.LIST_COUNT_LIMIT // per_page))
        self.number = min(max(1, number), last)
        start = (self.number - 1) * per_page
        rows = list(object_list[start: start + per_page + 1])
        self.object_list = rows[:per_page]
        self._has_next = len(rows) > per_page and self.number < last

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    def has_next(self) -> bool:
        return self._has_next

    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self.has_next() or self.has_previous()

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1
