"""Writes of campaigns: touches of any record, one at a time or in bulk. The first touch of a record that
keeps attribution (first_touch_campaign / last_touch_campaign) is its first touch; the newest its last."""
from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from campaigns.models import Campaign, Touch
from crm.core.events import emit, emit_many
from crm.core.services import event_name


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
