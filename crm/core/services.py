"""Small platform services shared by every app: recently viewed records, and the
writes every record type has (assign owners, delete) for bulk actions."""
from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext, ngettext, override

from crm.core.events import emit
from crm.core.models import RecentView


def recent_view_touch(*, user, record) -> None:
    """One INSERT ... ON CONFLICT UPDATE: every record page writes it. On its own (outside a request's other
    writes) it commits without waiting for the WAL to reach the disk (about a millisecond a page here): a
    crash can lose the last few "recently viewed" stamps, which is all they are."""
    touch = RecentView(user=user, content_type=ContentType.objects.get_for_model(record), object_id=record.pk,
                       viewed_at=timezone.now())
    alone = not connection.in_atomic_block
    with transaction.atomic():
        if alone:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        RecentView.objects.bulk_create([touch], update_conflicts=True,
                                       unique_fields=["user", "content_type", "object_id"], update_fields=["viewed_at"])


def record_changes(before: dict, after: dict) -> dict:
    """{field: [old, new]} for every key whose value differs. A changed custom-field dict is also given per
    field under its key ("cf_budget": [old, new]), so a workflow rule can watch one custom field; services drop
    the whole "custom" entry from their events and keep these."""
    changes = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
    if "custom" in changes:
        old, new = changes["custom"][0] or {}, changes["custom"][1] or {}
        for name in sorted(old.keys() | new.keys()):
            if old.get(name) != new.get(name):
                changes[f"cf_{name}"] = [old.get(name), new.get(name)]
    return changes


def event_name(model, verb: str) -> str:
    """"lead.updated", "account.deleted": the events of a record type are named after its model."""
    return f"{model._meta.model_name}.{verb}"


@transaction.atomic
def records_assign(*, actor, model, ids, owner_id) -> int:
    """Give the records among `ids` that `actor` may edit to the user `owner_id`; the new owner is told in
    one notification. Returns how many changed owner."""
    from crm.access.models import User

    owner = User.objects.filter(pk=owner_id, is_active=True).first()
    if owner is None:
        return 0
    changed = []
    for record in model.objects.visible_to(actor, "edit").filter(pk__in=ids).select_for_update(of=("self",)):
        if record.owner_id == owner.pk:
            continue
        before = record.owner_id
        record.owner = owner
        record._history_user = actor
        record.save(update_fields=["owner", "updated_at"])
        emit(event_name(model, "updated"), record, actor=actor, changes={"owner_id": [before, owner.pk]})
        changed.append(record)
    if changed and owner.pk != getattr(actor, "pk", None):
        _notify_assigned(owner, actor, model, changed)
    return len(changed)


def _notify_assigned(owner, actor, model, changed: list) -> None:
    from crm.core import records
    from crm.notifications.services import notification_send

    rt = records.for_model(model)
    with override(owner.language or None):
        if len(changed) == 1:
            message = gettext("%(name)s was assigned to you.") % {"name": changed[0]}
            url, target = "", changed[0]
        else:
            message = ngettext("%(count)s record was assigned to you: %(type)s.",
                               "%(count)s records were assigned to you: %(type)s.", len(changed)) % {
                "count": len(changed), "type": rt.label_plural}
            url, target = f"{rt.list_url()}?mine=1", None
    notification_send(recipient=owner, message=message, url=url, verb=event_name(model, "assigned"), actor=actor,
                      target=target)


@transaction.atomic
def record_delete(*, actor, record) -> None:
    """Delete one record with what only points at it generically (timeline, touches, recent views): the
    event is emitted first, so subscribers still learn what was deleted."""
    from crm.core.relations import delete_generic

    emit(event_name(type(record), "deleted"), record, actor=actor)
    delete_generic(record)
    record._history_user = actor
    record.delete()


@transaction.atomic
def records_delete(*, actor, model, ids) -> int:
    """Delete the records among `ids` that `actor` may edit and has the right to delete."""
    from crm.core import records

    if not actor.can(records.key_of(model), "delete"):
        return 0
    count = 0
    for record in model.objects.visible_to(actor, "edit").filter(pk__in=ids):
        record_delete(actor=actor, record=record)
        count += 1
    return count
