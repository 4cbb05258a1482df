"""Writes and reads around lists: saved views, and the bulk actions every record
type has (assign, delete) merged with the ones its app registers."""
from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.core.services import records_assign, records_delete
from crm.core.urls_safe import safe_next
from crm.lists.models import SavedView
from crm.lists.spec import BulkAction, extra_actions


def _user_choices(user):
    from crm.access.models import User

    return User.objects.choices()


def _generic_actions(rt) -> list[BulkAction]:
    model = rt.model
    return [
        BulkAction("assign", _("Assign"), lambda *, actor, ids, value: records_assign(
            actor=actor, model=model, ids=ids, owner_id=value), done=_("Assigned to %(value)s: %(count)s."),
            choices=_user_choices, prompt=_("Assign to…")),
        BulkAction("delete", _("Delete"), lambda *, actor, ids, value: records_delete(actor=actor, model=model, ids=ids),
                   done=_("Deleted: %(count)s."), permission="delete", confirm=_("Delete the selected records?"),
                   danger=True),
    ]


def bulk_actions(rt) -> list[BulkAction]:
    """The type's own actions, then the generic ones it does not replace (same key)."""
    own = list(rt.list.bulk_actions) + extra_actions(rt.key)
    keys = {a.key for a in own}
    generic = [a for a in _generic_actions(rt) if a.key not in keys]
    delete = [a for a in generic if a.key == "delete"]
    return [a for a in generic if a.key != "delete"] + own + delete


def saved_views(*, user, record_type: str):
    return SavedView.objects.filter(record_type=record_type).filter(Q(owner=user) | Q(shared=True))


def saved_view_create(*, owner, record_type: str, name: str, shared: bool, query: str) -> SavedView:
    from django.http import QueryDict

    # Paging and one-off parameters are not part of a view.
    params = QueryDict(query[:2000], mutable=True)
    for key in ("after", "before", "count", "export", "partial"):
        params.pop(key, None)
    return SavedView.objects.create(owner=owner, record_type=record_type, name=name.strip()[:100], shared=shared,
                                    query=params.urlencode()[:2000])


def saved_view_delete(*, view: SavedView) -> None:
    view.delete()


def list_back_url(request, rt) -> str:
    """Where a bulk action returns: the list the user came from, when it is one of ours."""
    back = safe_next(request, rt.list_url())
    return back if back.startswith(rt.list_url()) else rt.list_url()
