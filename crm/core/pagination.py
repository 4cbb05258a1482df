"""Pagination for lists that can hold millions of rows."""
from django.conf import settings
from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CappedPaginator(Paginator):
    """Counts at most LIST_COUNT_LIMIT rows. Counting every visible row of a broad list (a manager's
    50,000 leads, a search that matches a tenth of the table) costs more than showing the page; past
    the limit the list says "more than 10,000", as Salesforce's list views do, and pages stop there
    (filters narrow it down)."""

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
