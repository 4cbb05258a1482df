"""The contact list's own filters, beside those the list engine makes from the fields' types."""
from __future__ import annotations

import django_filters
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from crm.core.widgets import FastSelect
from crm.lists.filters import RecordFilterSet


def _languages():
    from accounts.forms import language_choices

    return language_choices(get_language() or "en")


class ContactFilter(RecordFilterSet):
    # The field keeps a language code: the filter offers the languages by name, in the reader's language.
    preferred_language = django_filters.ChoiceFilter(choices=_languages, label=capfirst(_("preferred language")),
                                                     widget=FastSelect)
    preferred_language.fls_field = "preferred_language"
