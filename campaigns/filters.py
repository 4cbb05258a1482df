"""The "segment" filter campaigns adds to the lists of the types segments are built over
(crm.lists.spec.register_filter): `/contacts/?segment=12` is the contacts list of that segment, with the list's
own search, filters, sorting, pages, bulk actions and exports on top."""
from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.core.widgets import LookupSelect


class _Unusable:
    """A segment id the reader may not use (someone else's private segment, deleted, another type's)."""

    def __str__(self) -> str:
        return ""


UNUSABLE = _Unusable()


class SegmentChoiceField(forms.ModelChoiceField):
    """A segment among the reader's. An id that is not one of them is kept as UNUSABLE rather than refused:
    the list engine leaves refused filters out, and the list would then show every record as the segment."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return super().to_python(value)
        except ValidationError:
            return UNUSABLE


class SegmentFilter(django_filters.ModelChoiceFilter):
    field_class = SegmentChoiceField

    def filter(self, qs, value):
        from campaigns.selectors import SegmentNotUsable, segment_q

        if value in (None, ""):
            return qs
        if value is UNUSABLE:
            return self._refuse(qs, _("This segment does not exist or is not shared with you."))
        try:
            return qs.filter(segment_q(segment=value, user=self.parent.user))
        except SegmentNotUsable as exc:
            return self._refuse(qs, str(exc))

    def _refuse(self, qs, message: str):
        """Nothing matches, and the filter says why. (The form is being read: its errors are added to, not
        its cleaned data, which the filter set is going through.)"""
        form = self.parent.form
        errors = form.errors.setdefault(self.field_name, form.error_class())
        if message not in errors:  # the count and the export read the list again
            errors.append(message)
        return qs.none()


def segment_filter(record_type: str) -> SegmentFilter:
    """The filter of one type's list: the segment is picked by type-ahead among the reader's segments of the
    type (only the chosen one is rendered, so the filter panel stays the same for everyone)."""
    from campaigns.models import Segment

    flt = SegmentFilter(field_name="segment", label=gettext_lazy("Segment"), queryset=Segment.objects.none(),
                        widget=LookupSelect(lookup_url=f"{reverse('campaigns:segment_lookup')}?type={record_type}"))
    flt.lookup_queryset = Segment.objects.filter(record_type=record_type)
    return flt
