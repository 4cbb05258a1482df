"""Writes to opportunities: each atomic, taking the acting user, recording stage changes and emitting an event.
Forms, inline edit, the board, lead conversion and imports come through here.

A stage change is recorded with the amount and probability at that moment; entering a stage asks for the
fields that stage requires (`missing_for_stage`), and closing lost asks for a loss reason. Locks (an approval
waiting on the record) refuse edits through `crm.core.locks`."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core.events import emit
from crm.core.services import record_changes, record_delete
from opportunities.models import Opportunity, Stage, StageChange

KEPT_BY_DATABASE = ("amount_corporate", "expected_revenue")
RT = "opportunities.opportunity"


def _actor(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def snapshot(opportunity: Opportunity) -> dict:
    """The stored values of an opportunity, to diff after an edit (`opportunity_update`)."""
    data = {f.attname: getattr(opportunity, f.attname) for f in Opportunity._meta.concrete_fields
            if f.attname not in ("updated_at", *KEPT_BY_DATABASE)}
    data["custom"] = dict(opportunity.custom or {})
    return data


def default_open_stage() -> Stage | None:
    """The first open stage of the default pipeline (else of any pipeline)."""
    return (Stage.objects.filter(pipeline__is_default=True, outcome=Stage.Outcome.OPEN).order_by("order").first()
            or Stage.objects.filter(outcome=Stage.Outcome.OPEN).order_by("pipeline__order", "order").first())


def open_stages_of_default_pipeline():
    return Stage.objects.filter(pipeline__is_default=True, outcome=Stage.Outcome.OPEN).order_by("order")


def required_for_stage(stage: Stage) -> list[str]:
    """The fields an opportunity must have to enter `stage`: the admin's list, plus a loss reason to close
    lost. Custom fields are named "custom.<key>"."""
    names = [name for name in (stage.required_fields or []) if name]
    if stage.outcome == Stage.Outcome.LOST and "loss_reason" not in names:
        names.append("loss_reason")
    return names


def _empty(opportunity: Opportunity, name: str) -> bool:
    return _value(opportunity, name) in (None, "", [])


def _value(opportunity: Opportunity, name: str):
    if name.startswith("custom."):
        return (opportunity.custom or {}).get(name.removeprefix("custom."))
    return getattr(opportunity, Opportunity._meta.get_field(name).attname)


def field_label(name: str) -> str:
    """The label of a field `required_for_stage` names, in the current language."""
    if name.startswith("custom."):
        from crm.customization.fields import by_key

        field = by_key(RT).get("cf_" + name.removeprefix("custom."))
        return str(field.display_label) if field else name
    return str(Opportunity._meta.get_field(name).verbose_name).capitalize()


def missing_for_stage(opportunity: Opportunity, stage: Stage) -> list[str]:
    """The fields `stage` requires that `opportunity` leaves empty (names as in `required_for_stage`)."""
    return [name for name in required_for_stage(stage) if _empty(opportunity, name)]


class StageRequires(ValidationError):
    """Entering `stage` needs the `missing` fields: the form or the board asks for them."""

    def __init__(self, stage: Stage, missing: list[str]):
        self.stage, self.missing = stage, missing
        message = _("To enter the stage “%(stage)s”, fill in: %(fields)s.") % {
            "stage": stage, "fields": ", ".join(field_label(name) for name in missing)}
        super().__init__({name if not name.startswith("custom.") else "__all__": message for name in missing},
                         code="stage_requires")


def check_unlocked(opportunity: Opportunity, actor) -> None:
    from crm.core.locks import lock_reason

    reason = lock_reason(opportunity, actor)
    if reason:
        raise ValidationError(reason, code="locked")


def _enter_stage(opportunity: Opportunity, stage: Stage, *, before_stage_id, before_probability) -> None:
    """Stamp the times that follow a stage: in stage since, closed at; a probability left at the old stage's
    default follows the new stage's."""
    old = Stage.objects.filter(pk=before_stage_id).only("probability").first() if before_stage_id else None
    if old is None or opportunity.probability == before_probability == old.probability:
        opportunity.probability = stage.probability
    if stage.outcome == Stage.Outcome.WON:
        opportunity.probability = 100
    elif stage.outcome == Stage.Outcome.LOST:
        opportunity.probability = 0
    opportunity.stage_entered_at = timezone.now()
    opportunity.closed_at = opportunity.stage_entered_at if stage.outcome != Stage.Outcome.OPEN else None
    if stage.outcome != Stage.Outcome.LOST:
        opportunity.loss_reason = None


def _check_stage(opportunity: Opportunity) -> None:
    if opportunity.stage.pipeline_id != opportunity.pipeline_id:
        raise ValidationError({"stage": _("This stage belongs to another pipeline.")})
    missing = missing_for_stage(opportunity, opportunity.stage)
    if missing:
        raise StageRequires(opportunity.stage, missing)


def _record_change(opportunity: Opportunity, *, from_stage_id, actor) -> StageChange:
    return StageChange.objects.create(opportunity=opportunity, from_stage_id=from_stage_id,
                                      to_stage_id=opportunity.stage_id, amount=opportunity.amount,
                                      probability=opportunity.probability, actor=_actor(actor),
                                      created_at=opportunity.stage_entered_at)


def _refresh_money(opportunity: Opportunity) -> None:
    opportunity.refresh_from_db(fields=list(KEPT_BY_DATABASE))


@transaction.atomic
def opportunity_create(*, actor, data: dict | None = None, **fields) -> Opportunity:
    """A new opportunity from field values: its first stage change is recorded with the amount and probability."""
    opportunity = Opportunity(**fields)
    opportunity.created_by = _actor(actor)
    if opportunity.owner_id is None:
        opportunity.owner = opportunity.created_by
    if opportunity.stage_id and opportunity.pipeline_id is None:
        opportunity.pipeline_id = opportunity.stage.pipeline_id
    if "probability" not in fields and opportunity.stage_id:
        opportunity.probability = opportunity.stage.probability
    opportunity.stage_entered_at = timezone.now()
    if opportunity.stage_id and opportunity.stage.outcome != Stage.Outcome.OPEN:
        opportunity.closed_at = opportunity.stage_entered_at
    opportunity._history_user = opportunity.created_by
    opportunity.full_clean()
    _check_stage(opportunity)
    opportunity.save()
    _refresh_money(opportunity)
    _record_change(opportunity, from_stage_id=None, actor=actor)
    emit("opportunity.created", opportunity, actor=actor, data=data)
    return opportunity


@transaction.atomic
def opportunity_update(*, actor, opportunity: Opportunity, before: dict) -> Opportunity:
    """Save the changes made to `opportunity` (a form's instance); `before` is `snapshot(opportunity)` from before
    the edit. A stage change is recorded and checked against the new stage's required fields; a locked record
    is refused. Both refusals are ValidationErrors."""
    check_unlocked(opportunity, actor)
    stage_moved = opportunity.stage_id != before.get("stage_id")
    if stage_moved:
        _enter_stage(opportunity, opportunity.stage, before_stage_id=before.get("stage_id"),
                     before_probability=before.get("probability"))
    opportunity._history_user = _actor(actor)
    opportunity.full_clean()
    # An edit that leaves the stage alone is held to its requirements only where it touches them (a stage's
    # list may have grown since the deal entered it).
    old = Opportunity(**{k: v for k, v in before.items() if k != "custom"}, custom=before.get("custom") or {})
    if stage_moved or any(_value(opportunity, name) != _value(old, name)
                          for name in required_for_stage(opportunity.stage)):
        _check_stage(opportunity)
    opportunity.save()
    _refresh_money(opportunity)
    changes = record_changes(before, snapshot(opportunity))
    custom_changed = changes.pop("custom", None) is not None
    if stage_moved:
        _record_change(opportunity, from_stage_id=before.get("stage_id"), actor=actor)
    if changes or custom_changed:
        emit("opportunity.updated", opportunity, actor=actor, changes=changes)
    if stage_moved:
        emit("opportunity.stage_changed", opportunity, actor=actor,
             data={"from": before.get("stage_id"), "to": opportunity.stage_id, "outcome": opportunity.stage.outcome})
    return opportunity


def opportunity_move(*, actor, opportunity: Opportunity, stage: Stage, values: dict | None = None) -> Opportunity:
    """Move to `stage` (the board's drag, the stage path's buttons), setting `values` first (the fields the stage
    asked for). ValidationError lists what is still missing or why the move is refused."""
    before = snapshot(opportunity)
    for name, value in (values or {}).items():
        if name.startswith("custom."):
            opportunity.custom = {**opportunity.custom, name.removeprefix("custom."): value}
        else:
            setattr(opportunity, name, value)
    opportunity.pipeline_id = stage.pipeline_id
    opportunity.stage = stage
    return opportunity_update(actor=actor, opportunity=opportunity, before=before)


def opportunity_forecast_override(*, actor, opportunity: Opportunity, category: str | None) -> Opportunity:
    """The rep's call: count an open deal in another forecast category than its stage's (None or "": follow
    the stage again), through `opportunity_update` (lock, history, event). A closed deal is refused."""
    if opportunity.stage.outcome != Stage.Outcome.OPEN:
        raise ValidationError({"forecast_override": _("A won or lost deal counts by its outcome: its forecast "
                                                      "category cannot be overridden.")})
    before = snapshot(opportunity)
    opportunity.forecast_override = category or None
    return opportunity_update(actor=actor, opportunity=opportunity, before=before)


@transaction.atomic
def opportunity_delete(*, actor, opportunity: Opportunity) -> None:
    check_unlocked(opportunity, actor)
    record_delete(actor=actor, record=opportunity)
