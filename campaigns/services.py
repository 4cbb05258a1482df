"""Writes of campaigns: touches of any record, one at a time or in bulk (the first touch of a record that
keeps attribution, first_touch_campaign / last_touch_campaign, is its first touch; the newest its last);
and segments: create, change, delete."""
from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Campaign, Segment, Touch
# What other apps call to use segments (campaigns' dynamic lists, automation) are reads, kept with the selectors
# and offered here too.
from campaigns.selectors import (  # noqa: F401
    SegmentCount,
    SegmentNotUsable,
    segment_conditions_check,
    segment_contains,
    segment_count,
    segment_members,
)
from crm.core.events import emit, emit_many
from crm.core.services import event_name, record_changes


def _keeps_attribution(model) -> bool:
    names = {f.name for f in model._meta.concrete_fields}
    return {"first_touch_campaign", "last_touch_campaign"} <= names


@transaction.atomic
def touch_add(*, record, campaign: Campaign, channel: str, at=None, actor=None) -> Touch:
    """Record that `campaign` touched `record`; updates its first and last touch; emits "<type>.touched"."""
    touch = Touch.objects.create(record=record, campaign=campaign, channel=channel, touched_at=at or timezone.now())
    model = type(record)
    if _keeps_attribution(model):
        updates = {"last_touch_campaign": campaign}
        if record.first_touch_campaign_id is None:
            updates["first_touch_campaign"] = campaign
        model._base_manager.filter(pk=record.pk).update(**updates)
        for name, value in updates.items():
            setattr(record, name, value)
    emit(event_name(model, "touched"), record, actor=actor, data={"campaign": campaign.pk, "channel": channel})
    return touch


@transaction.atomic
def touches_add(*, campaign: Campaign, model, ids: list[int], channel: str, actor=None) -> int:
    """A touch of `campaign` for each of the records `ids` (an import, a bulk action): one INSERT, one UPDATE of
    their attribution, one INSERT of their events."""
    from crm.core.bulk import insert_each

    ids = list(ids)
    if not ids:
        return 0
    insert_each(Touch, "object_id", ids, campaign=campaign.pk, content_type=ContentType.objects.get_for_model(model).pk,
                channel=channel, touched_at=timezone.now())
    if _keeps_attribution(model):
        model._base_manager.filter(pk__in=ids).update(
            last_touch_campaign_id=campaign.pk,
            first_touch_campaign_id=Coalesce(F("first_touch_campaign_id"), Value(campaign.pk)))
    emit_many(event_name(model, "touched"), model, ids, actor=actor, data={"campaign": campaign.pk, "channel": channel})
    return len(ids)


def touches_move(*, source, target, opportunity=None) -> int:
    """A converted lead's touches become its contact's, attributed to the opportunity it became."""
    updates = {"content_type": ContentType.objects.get_for_model(target), "object_id": target.pk}
    if opportunity is not None:
        updates["opportunity"] = opportunity
    return Touch.objects.filter(content_type=ContentType.objects.get_for_model(source), object_id=source.pk).update(**updates)


def campaign_add(*, actor, campaign: Campaign, model, ids) -> int:
    """The bulk action: the records among `ids` the actor may edit get a touch of `campaign`."""
    from crm.core import records

    qs = model.objects.visible_to(actor, "edit").filter(pk__in=ids)
    locked = records.for_model(model).locked
    editable = list((qs.exclude(locked()) if locked else qs).values_list("pk", flat=True))
    return touches_add(campaign=campaign, model=model, ids=editable, channel=Touch.Channel.MANUAL, actor=actor)


# --- segments -------------------------------------------------------------------------------------------------

class SegmentInvalid(ValueError):
    """The segment cannot be saved; the message says why, in the actor's language."""


def _segment_clean(*, actor, name: str, record_type: str, condition) -> tuple[str, dict]:
    name = (name or "").strip()
    if not name:
        raise SegmentInvalid(_("Give the segment a name."))
    try:
        tree = segment_conditions_check(user=actor, record_type=record_type, condition=condition)
    except SegmentNotUsable as exc:
        raise SegmentInvalid(str(exc)) from None
    return name, tree


def _segment_editable(*, actor, segment: Segment) -> None:
    if not Segment.objects.visible_to(actor, "edit").filter(pk=segment.pk).exists():
        raise PermissionDenied


@transaction.atomic
def segment_create(*, actor, name: str, record_type: str, conditions, description: str = "",
                   shared: bool = False) -> Segment:
    """A segment over `record_type` owned by `actor`; its conditions are checked against the fields the
    actor may see (SegmentInvalid says what is wrong). Emits "segment.created"."""
    name, tree = _segment_clean(actor=actor, name=name, record_type=record_type, condition=conditions)
    segment = Segment.objects.create(name=name[:200], description=description or "", record_type=record_type,
                                     conditions=tree, shared=bool(shared), owner=actor)
    emit(event_name(Segment, "created"), segment, actor=actor, data={"record_type": record_type})
    return segment


@transaction.atomic
def segment_update(*, actor, segment: Segment, name: str, record_type: str, conditions, description: str = "",
                   shared: bool = False) -> Segment:
    """Change a segment its owner (or an admin) edits; emits "segment.updated" with what changed."""
    _segment_editable(actor=actor, segment=segment)
    name, tree = _segment_clean(actor=actor, name=name, record_type=record_type, condition=conditions)
    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    after = {"name": name[:200], "description": description or "", "record_type": record_type,
             "conditions": tree, "shared": bool(shared)}
    changes = record_changes({key: getattr(segment, key) for key in after}, after)
    for key, value in after.items():
        setattr(segment, key, value)
    segment.save()
    emit(event_name(Segment, "updated"), segment, actor=actor, changes=changes)
    return segment


@transaction.atomic
def segment_delete(*, actor, segment: Segment) -> None:
    """Delete a segment its owner (or an admin) may change; "segment.deleted" is emitted first."""
    _segment_editable(actor=actor, segment=segment)
    emit(event_name(Segment, "deleted"), segment, actor=actor, data={"name": segment.name})
    segment.delete()


@transaction.atomic
def segment_copy(*, actor, segment: Segment) -> Segment:
    """A private copy, owned by `actor`, of a segment they may use (someone's shared segment they would
    change for themselves); refused (SegmentInvalid) when it tests fields hidden from them."""
    if not Segment.objects.visible_to(actor).filter(pk=segment.pk).exists():
        raise PermissionDenied
    name = _("Copy of %(name)s") % {"name": segment.name}
    return segment_create(actor=actor, name=name[:200], record_type=segment.record_type,
                          conditions=segment.conditions, description=segment.description, shared=False)


def segment_add_to_campaign(*, actor, segment: Segment, campaign: Campaign) -> int:
    """Each of the segment's members that `actor` may see and edit gets a touch of `campaign` (as "Add to
    campaign" on a list does for the ticked rows); SegmentNotUsable when the segment cannot be evaluated for
    them. Returns how many were added."""
    from campaigns.models import CAMPAIGN_MEMBER_TYPES

    if segment.record_type not in CAMPAIGN_MEMBER_TYPES:
        raise SegmentInvalid(_("Only segments of leads or contacts can be added to a campaign."))
    members = segment_members(segment=segment, user=actor)
    return campaign_add(actor=actor, campaign=campaign, model=members.model, ids=members.values("pk"))
