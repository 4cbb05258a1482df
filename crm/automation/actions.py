"""What a workflow rule can do, as a registry: each action kind registers its runner, the form admins fill in,
and a sentence saying what it would do. The engine and the "Test this rule" page know actions only through it,
so a later module adds a kind ("submit for approval") with one call in its AppConfig.ready():

    register_action("submit_for_approval", _("Submit for approval"), run=submit, form=ApprovalActionForm,
                    describe=describe_submit, writes_record=True)

A runner is `run(ctx: ActionContext, config: dict) -> dict` (the result kept on the ActionRun). An action whose
effect leaves the database (an e-mail) also registers `deliver(payload) -> dict` and `finish(record, payload,
delivered) -> dict`: then `run` only prepares (renders, checks) and returns the payload, the engine commits the
claim, calls `deliver` outside any transaction, and records `finish` (the timeline entry) with the outcome, so
a worker killed mid-way never sends twice (see crm.automation.engine). A runner raises
`ActionSkipped` when there is nothing to do (an opted-out recipient), `PermanentActionError` when retrying cannot
help (the template was deleted, the record is locked) and anything else to be retried with backoff.

Writes go through each app's own service (lead_update, opportunity_update, …: their validation, history and
events), and automation respects record locks (crm.core.locks) like any other writer: a locked record is not
changed by a rule, the action fails and shows on the Failed runs screen, where an admin can retry it once the
lock is gone."""
from __future__ import annotations

import functools
import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.core import records

WEBHOOK_TIMEOUT = 10  # seconds
RESPONSE_EXCERPT = 2048


class ActionSkipped(Exception):
    """Nothing to do for this record (no address, an opted-out contact, no one to assign): not a failure."""


class PermanentActionError(Exception):
    """Retrying cannot help; the action fails at once and shows on the Failed runs screen."""


class ActionError(Exception):
    """A failure worth retrying; `result` (a webhook's response) is kept on the action run."""

    def __init__(self, message: str, *, result: dict | None = None):
        super().__init__(message)
        self.result = result or {}


@dataclass
class ActionContext:
    """What a runner gets: the record (locked by nobody: runners lock what they change), the rule and version,
    and the run's depth and rule chain, which a runner that writes records passes on to the events it causes."""

    record: models.Model
    record_type: str
    rule: Any
    version: Any
    run: Any = None
    key: str = ""
    depth: int = 1
    chain: tuple[int, ...] = ()
    dry_run: bool = False

    @property
    def owner(self):
        owner = getattr(self.record, "owner", None)
        return owner if owner is not None and owner.is_active else None

    @property
    def sender(self):
        """Who an automated e-mail or notification comes from: the record's owner, else the rule's author."""
        return self.owner or self.rule.created_by

    def automation_data(self) -> dict:
        return {"automation": {"depth": self.depth, "rules": list(self.chain),
                               "run": getattr(self.run, "pk", None), "key": self.key}}


@dataclass(frozen=True)
class ActionKind:
    kind: str
    label: Any
    run: Callable[[ActionContext, dict], dict | None]
    form: type[forms.Form]
    describe: Callable[[dict, str], str]
    writes_record: bool = False  # its events carry the run's depth (loop protection)
    order: int = 100
    deliver: Callable[[dict], dict | None] | None = None  # the effect outside the database, outside transactions
    finish: Callable[[Any, dict, dict], dict | None] | None = None  # after `deliver`, with the outcome


_registry: dict[str, ActionKind] = {}


def register_action(kind: str, label, *, run, form, describe, writes_record: bool = False, order: int = 100,
                    deliver=None, finish=None) -> ActionKind:
    """Add an action kind (or replace one of the same name). `form(data=..., record_type=...)` edits its
    options; `describe(config, record_type)` says what it does in words; `deliver` and `finish`: see above."""
    action = ActionKind(kind, label, run, form, describe, writes_record, order, deliver, finish)
    _registry[kind] = action
    return action


def get_action(kind: str) -> ActionKind | None:
    return _registry.get(kind)


def action_kinds() -> list[ActionKind]:
    return sorted(_registry.values(), key=lambda a: (a.order, a.kind))


def describe_action(config: dict, record_type: str) -> str:
    action = get_action(config.get("kind", ""))
    if action is None:
        return _("Unknown action “%(kind)s”") % {"kind": config.get("kind", "")}
    try:
        return action.describe(config, record_type)
    except Exception:  # noqa: BLE001 - a sentence must never break a page; the validator names the problem
        return str(action.label)


def validate_actions(actions, record_type: str) -> list[dict]:
    """The actions, each checked by its kind's form and returned as it stores them; ValidationError naming
    the first problem otherwise."""
    if not isinstance(actions, list):
        raise ValidationError(_("The actions could not be read."))
    cleaned = []
    for number, config in enumerate(actions, start=1):
        action = get_action((config or {}).get("kind", "")) if isinstance(config, dict) else None
        if action is None:
            raise ValidationError(_("Action %(n)s: unknown kind.") % {"n": number})
        form = action.form(data=action.form.data_from_config(config), record_type=record_type)
        if not form.is_valid():
            problems = "; ".join(f"{form.fields[k].label if k in form.fields else ''} {' '.join(v)}".strip()
                                 for k, v in form.errors.items())
            raise ValidationError(_("Action %(n)s (%(kind)s): %(problems)s") % {
                "n": number, "kind": action.label, "problems": problems})
        cleaned.append(form.to_config())
    return cleaned


# --- the forms admins fill in -------------------------------------------------------------------------------------

class ActionForm(forms.Form):
    """Options of one action kind. Field names are the config's keys, so a stored config is the form's data."""

    kind = ""

    def __init__(self, *args, record_type: str, **kwargs):
        self.record_type = record_type
        super().__init__(*args, **kwargs)

    @classmethod
    def data_from_config(cls, config: dict) -> dict:
        return {k: ("" if v is None else v) for k, v in config.items() if k != "kind"}

    def to_config(self) -> dict:
        return {"kind": self.kind, **{k: v for k, v in self.cleaned_data.items() if v not in (None, "")}}


def _user_choices():
    from crm.access.models import User

    return [(str(pk), name) for pk, name in User.objects.choices()]


def _team_choices():
    from crm.access.models import Team

    return [(str(pk), name) for pk, name in Team.objects.order_by("name").values_list("pk", "name")]


def _merge_errors(text: str, record_type: str) -> None:
    from crm.mail import templating

    problems = templating.errors(text, record_type)
    if problems:
        raise forms.ValidationError(problems)


PERSON_CHOICES = [("owner", gettext_lazy("the record's owner")), ("owner_manager", gettext_lazy("the owner's manager"))]


class UpdateFieldForm(ActionForm):
    kind = "update_field"
    field = forms.ChoiceField(label=gettext_lazy("Field"))
    value = forms.CharField(label=gettext_lazy("New value"), required=False, max_length=500, help_text=gettext_lazy(
        "As it is stored: a picklist's value, a user's id, a date as 2025-12-31, true or false. Empty clears it."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = [("", "---------")] + [(f.name, f.label) for f in updatable_fields(self.record_type)]

    def clean(self):
        data = super().clean()
        if data.get("field"):
            try:
                coerce_value(self.record_type, data["field"], data.get("value", ""))
            except ValidationError as exc:
                self.add_error("value", exc)
        return data

    def to_config(self) -> dict:
        return {"kind": self.kind, "field": self.cleaned_data["field"], "value": self.cleaned_data.get("value", "")}


class CreateTaskForm(ActionForm):
    kind = "create_task"
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=255, help_text=gettext_lazy(
        "Merge fields such as {{ lead.first_name }} are filled in."))
    assignee = forms.ChoiceField(label=gettext_lazy("Assigned to"))
    due_days = forms.IntegerField(label=gettext_lazy("Due after (days)"), min_value=0, max_value=3650, initial=0)
    priority = forms.ChoiceField(label=gettext_lazy("Priority"), required=False)

    def __init__(self, *args, **kwargs):
        from crm.activities.models import Activity

        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = PERSON_CHOICES + _user_choices()
        self.fields["priority"].choices = [("", "---------"), *Activity.Priority.choices]

    def clean_subject(self):
        _merge_errors(self.cleaned_data["subject"], self.record_type)
        return self.cleaned_data["subject"]

    def to_config(self) -> dict:
        data = self.cleaned_data
        assignee = data["assignee"]
        return {"kind": self.kind, "subject": data["subject"],
                "assignee": int(assignee) if assignee.isdigit() else assignee,
                "due_days": data["due_days"] or 0, **({"priority": data["priority"]} if data.get("priority") else {})}


class SendEmailForm(ActionForm):
    kind = "send_email"
    template = forms.ChoiceField(label=gettext_lazy("Template"))
    to = forms.ChoiceField(label=gettext_lazy("To"), choices=[
        ("record", gettext_lazy("the record's own address")), ("owner", gettext_lazy("the record's owner"))])

    def __init__(self, *args, **kwargs):
        from crm.mail.models import EmailTemplate

        super().__init__(*args, **kwargs)
        self.fields["template"].choices = [("", "---------")] + [
            (str(pk), name) for pk, name in EmailTemplate.objects.filter(record_type=self.record_type, is_active=True)
            .values_list("pk", "name")]

    def to_config(self) -> dict:
        return {"kind": self.kind, "template": int(self.cleaned_data["template"]), "to": self.cleaned_data["to"]}


class NotifyForm(ActionForm):
    kind = "notify"
    to = forms.ChoiceField(label=gettext_lazy("Notify"), choices=[
        *PERSON_CHOICES, ("user", gettext_lazy("a user")), ("team", gettext_lazy("a team's members"))])
    user = forms.ChoiceField(label=gettext_lazy("User"), required=False)
    team = forms.ChoiceField(label=gettext_lazy("Team"), required=False)
    message = forms.CharField(label=gettext_lazy("Message"), max_length=500, help_text=gettext_lazy(
        "Merge fields such as {{ lead.first_name }} are filled in; the notification links to the record."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [("", "---------"), *_user_choices()]
        self.fields["team"].choices = [("", "---------"), *_team_choices()]

    @classmethod
    def data_from_config(cls, config: dict) -> dict:
        to = str(config.get("to", ""))
        kind, _sep, ident = to.partition(":")
        data = {"to": kind, "message": config.get("message", "")}
        if kind in ("user", "team"):
            data[kind] = ident
        return data

    def clean_message(self):
        _merge_errors(self.cleaned_data["message"], self.record_type)
        return self.cleaned_data["message"]

    def clean(self):
        data = super().clean()
        if data.get("to") in ("user", "team") and not data.get(data["to"]):
            self.add_error(data["to"], _("Choose whom to notify."))
        return data

    def to_config(self) -> dict:
        data = self.cleaned_data
        to = f"{data['to']}:{data[data['to']]}" if data["to"] in ("user", "team") else data["to"]
        return {"kind": self.kind, "to": to, "message": data["message"]}


class AssignOwnerForm(ActionForm):
    kind = "assign_owner"
    user = forms.ChoiceField(label=gettext_lazy("A user"), required=False)
    round_robin_team = forms.ChoiceField(label=gettext_lazy("Or round robin in a team"), required=False,
                                         help_text=gettext_lazy("The team's active members take turns."))
    countries = forms.CharField(
        label=gettext_lazy("Territory: only records in these countries"), required=False, max_length=500,
        help_text=gettext_lazy("Two-letter codes separated by commas, e.g. FI, SE, EE. With a team: the team's "
                               "territory; records elsewhere are left to the next rule. Empty: every record."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [("", "---------"), *_user_choices()]
        self.fields["round_robin_team"].choices = [("", "---------"), *_team_choices()]

    @classmethod
    def data_from_config(cls, config: dict) -> dict:
        data = super().data_from_config(config)
        if isinstance(data.get("countries"), list):
            data["countries"] = ", ".join(data["countries"])
        return data

    def clean_countries(self):
        from crm.imports.countries import country_code

        codes, bad = [], []
        for part in (self.cleaned_data.get("countries") or "").replace(";", ",").split(","):
            if part.strip():
                code = country_code(part.strip())
                (codes if code else bad).append(code or part.strip())
        if bad:
            raise forms.ValidationError(_("Not a country: %(values)s. Use two-letter codes such as FI.")
                                        % {"values": ", ".join(bad)})
        return list(dict.fromkeys(codes))

    def clean(self):
        data = super().clean()
        if bool(data.get("user")) == bool(data.get("round_robin_team")):
            raise forms.ValidationError(_("Choose either a user or a team."))
        if data.get("countries") and not data.get("round_robin_team"):
            self.add_error("countries", _("A territory goes to a team: choose the team."))
        return data

    def to_config(self) -> dict:
        data = self.cleaned_data
        if data.get("user"):
            return {"kind": self.kind, "user": int(data["user"])}
        config = {"kind": self.kind, "round_robin_team": int(data["round_robin_team"])}
        if data.get("countries"):
            config["countries"] = data["countries"]
        return config


class WebhookForm(ActionForm):
    kind = "webhook"
    url = forms.URLField(label=gettext_lazy("URL"), max_length=500, assume_scheme="https")
    secret = forms.CharField(label=gettext_lazy("Signing secret"), max_length=200, help_text=gettext_lazy(
        "The request carries X-CRM-Signature: sha256=<HMAC-SHA256 of the body with this secret>."))

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            webhook_addresses(url)
        except WebhookRefused as exc:
            raise forms.ValidationError(str(exc)) from None
        except OSError:
            pass  # a name that does not resolve today may tomorrow; the run reports it
        return url

    def to_config(self) -> dict:
        return {"kind": self.kind, "url": self.cleaned_data["url"], "secret": self.cleaned_data["secret"]}


# --- helpers the runners share --------------------------------------------------------------------------------

def managers_of(user) -> list:
    """The owner's manager: the active users of the role their role reports to, in a stable order."""
    from crm.access.models import User

    if user is None or not user.role_id or not user.role.parent_id:
        return []
    return list(User.objects.filter(role_id=user.role.parent_id, is_active=True).order_by("pk"))


def person(ctx: ActionContext, who):
    """"owner", "owner_manager" or a user id → the active user, or None."""
    from crm.access.models import User

    if who == "owner":
        return ctx.owner
    if who == "owner_manager":
        return next(iter(managers_of(ctx.owner or getattr(ctx.record, "owner", None))), None)
    if who not in (None, "") and str(who).isdigit():
        return User.objects.filter(pk=int(who), is_active=True).first()
    return None


def merge_text(text: str, record, reader) -> str:
    """A subject or message with its merge fields filled in for `record`, as `reader` may see it (crm.mail's
    safe placeholders: nothing the record type does not expose)."""
    from crm.mail import templating

    key = records.key_of(record)
    found, _errors = templating.placeholders(text, key)
    values, _withheld = templating.values(found, record=record, reader=reader, sender=reader)
    return " ".join(templating.render(text, values, html=False).split())


def updatable_fields(record_type: str) -> list:
    """The fields an "update field" action may set: the record type's rule fields an edit form could change,
    and its custom fields."""
    from crm.core import conditions

    result = []
    for f in conditions.fields_for(record_type).values():
        if f.custom is not None:
            result.append(f)
        elif f.model_field is not None and f.model_field.editable and not f.model_field.primary_key \
                and f.name not in NOT_UPDATABLE.get(record_type, ()):
            result.append(f)
    return result


# Fields with a service of their own (a lead's lifecycle goes through lead_stage_set, its score is computed).
NOT_UPDATABLE = {"leads.lead": {"lifecycle_stage", "score", "created_at"}}


def coerce_value(record_type: str, name: str, raw) -> tuple[str, Any]:
    """("field attname" or "custom.<name>", value) for setting `name` to the text `raw`; ValidationError when
    the text is not a value of the field."""
    from crm.access.models import User
    from crm.customization.fields import by_key, validate_values

    raw = "" if raw is None else str(raw).strip()
    if name.startswith("cf_"):
        cf = by_key(record_type).get(name)
        if cf is None:
            raise ValidationError(_("The field no longer exists."))
        values, errors = validate_values(record_type, {name: raw})
        if errors:
            raise ValidationError(errors[name])
        return f"custom.{cf.name}", values.get(cf.name)
    model = records.get(record_type).model
    try:
        model_field = model._meta.get_field(name)
    except Exception:  # noqa: BLE001 - FieldDoesNotExist
        raise ValidationError(_("The field no longer exists.")) from None
    if model_field.many_to_one:
        if raw == "":
            if not model_field.null:
                raise ValidationError(_("This field cannot be empty."))
            return model_field.name, None
        related = model_field.related_model
        if related._meta.label == "customization.PicklistValue":
            picklist = (model_field.remote_field.limit_choices_to or {}).get("picklist")
            value = related.objects.filter(picklist=picklist, value__iexact=raw).first()
        elif related is User:
            value = User.objects.filter(pk=int(raw), is_active=True).first() if raw.isdigit() else None
        else:
            value = related._default_manager.filter(pk=int(raw)).first() if raw.isdigit() else None
        if value is None:
            raise ValidationError(_("“%(value)s” is not a valid value for %(field)s.") % {
                "value": raw, "field": model_field.verbose_name})
        return model_field.name, value
    if raw == "":
        if isinstance(model_field, (models.CharField, models.TextField)) and model_field.blank:
            return model_field.attname, ""
        if model_field.null:
            return model_field.attname, None
        raise ValidationError(_("This field cannot be empty."))
    if isinstance(model_field, models.BooleanField):
        lowered = raw.lower()
        if lowered not in ("true", "false", "1", "0", "yes", "no"):
            raise ValidationError(_("Write true or false."))
        return model_field.attname, lowered in ("true", "1", "yes")
    value = model_field.to_python(raw)
    model_field.run_validators(value)
    if model_field.choices and str(value) not in {str(v) for v, _label in model_field.flatchoices}:
        raise ValidationError(_("“%(value)s” is not one of the choices.") % {"value": raw})
    return model_field.attname, value


# Each record type's own update service: (snapshot, update, the update's keyword for the record).
UPDATERS = {
    "leads.lead": ("leads.services.lead_snapshot", "leads.services.lead_update", "lead"),
    "accounts.account": ("accounts.services.snapshot", "accounts.services.account_update", "account"),
    "accounts.contact": ("accounts.services.snapshot", "accounts.services.contact_update", "contact"),
    "opportunities.opportunity": ("opportunities.services.snapshot", "opportunities.services.opportunity_update",
                                  "opportunity"),
}


def register_updater(record_type: str, snapshot: str, update: str, keyword: str) -> None:
    """Name the service that saves changes to `record_type` (dotted paths); others get the generic update."""
    UPDATERS[record_type] = (snapshot, update, keyword)


def _dotted(path: str):
    module, name = path.rsplit(".", 1)
    return getattr(import_module(module), name)


def record_write(ctx: ActionContext, values: dict) -> dict:
    """Set `values` ({attname or "custom.<name>": value}) on the record through its type's update service,
    under a row lock; the events that causes carry the run's depth and rule chain. Returns the changes."""
    from crm.core.events import emit
    from crm.core.locks import lock_reason
    from crm.core.models import Event
    from crm.core.services import event_name, record_changes

    model = type(ctx.record)
    record = model._default_manager.select_for_update(of=("self",)).filter(pk=ctx.record.pk).first()
    if record is None:
        raise ActionSkipped(_("The record was deleted."))
    reason = lock_reason(record, None)
    rt = records.for_model(model)
    if not reason and rt.locked is not None and model._default_manager.filter(rt.locked(), pk=record.pk).exists():
        reason = _("The record cannot be changed.")
    if reason:
        raise PermanentActionError(reason)
    updater = UPDATERS.get(rt.key)
    before = _dotted(updater[0])(record) if updater else {f.attname: getattr(record, f.attname)
                                                          for f in model._meta.concrete_fields}
    before_custom = dict(record.custom or {})
    for name, value in values.items():
        if name.startswith("custom."):
            record.custom = {**(record.custom or {}), name.removeprefix("custom."): value}
        else:
            setattr(record, name, value)
    if updater:
        marker = Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        try:
            _dotted(updater[1])(actor=None, before=before, **{updater[2]: record})
        except ValidationError as exc:
            raise PermanentActionError("; ".join(exc.messages)) from None
        except Exception as exc:
            if type(exc).__name__ in ("LeadReadOnly",):
                raise PermanentActionError(str(exc)) from None
            raise
        _tag_events(Event.objects.filter(pk__gt=marker, content_type__model=model._meta.model_name,
                                         content_type__app_label=model._meta.app_label, object_id=record.pk),
                    ctx.automation_data())
        changes = record_changes({k: v for k, v in before.items() if k != "custom"},
                                 {k: getattr(record, k) for k in before if k != "custom" and hasattr(record, k)})
    else:
        try:
            record.full_clean(exclude=[f.name for f in model._meta.fields if f.attname not in values
                                       and f.name not in values])
        except ValidationError as exc:
            raise PermanentActionError("; ".join(exc.messages)) from None
        record.save()
        after = {f.attname: getattr(record, f.attname) for f in model._meta.concrete_fields}
        changes = record_changes(before, after)
        changes.pop("updated_at", None)
        changes.pop("custom", None)
        if changes or before_custom != record.custom:
            emit(event_name(model, "updated"), record, changes=changes, data=ctx.automation_data())
    ctx.record = record
    return changes


def _tag_events(queryset, data: dict) -> None:
    for event in queryset:
        event.data = {**(event.data or {}), **data}
        event.save(update_fields=["data"])


def _display(value) -> str:
    if value is None:
        return ""
    return str(value)


# --- the runners ---------------------------------------------------------------------------------------------------

def run_update_field(ctx: ActionContext, config: dict) -> dict:
    try:
        name, value = coerce_value(ctx.record_type, config["field"], config.get("value", ""))
    except ValidationError as exc:
        raise PermanentActionError("; ".join(exc.messages)) from None
    changes = record_write(ctx, {name: value})
    return {"field": config["field"], "value": _display(value), "changed": bool(changes)}


def describe_update_field(config: dict, record_type: str) -> str:
    from crm.core import conditions

    field = conditions.fields_for(record_type).get(config.get("field", ""))
    label = field.label if field else config.get("field", "")
    if config.get("value", "") == "":
        return _("Clear %(field)s") % {"field": label}
    shown = dict(field.choices).get(str(config["value"]), config["value"]) if field else config["value"]
    return _("Set %(field)s to “%(value)s”") % {"field": label, "value": shown}


def run_create_task(ctx: ActionContext, config: dict) -> dict:
    from crm.activities.models import Activity
    from crm.activities.services import activity_create

    assignee = person(ctx, config.get("assignee", "owner"))
    if assignee is None:
        raise ActionSkipped(_("No one to assign the task to."))
    subject = merge_text(config.get("subject", ""), ctx.record, assignee)[:255] or _("Follow up")
    due = timezone.now() + timedelta(days=int(config.get("due_days") or 0))
    task = activity_create(target=ctx.record, actor=None, kind=Activity.Kind.TASK, subject=subject,
                           assigned_to=assignee, due_at=due, priority=config.get("priority") or Activity.Priority.NORMAL,
                           data={"automation": {"rule": ctx.rule.pk, "run": getattr(ctx.run, "pk", None),
                                                "key": ctx.key}})
    return {"task": task.pk, "assigned_to": assignee.pk, "subject": subject}


def _who(value) -> str:
    from crm.access.models import Team, User

    value = str(value)
    if value == "owner":
        return _("the owner")
    if value == "owner_manager":
        return _("the owner's manager")
    kind, _sep, ident = value.partition(":")
    if kind == "team":
        team = Team.objects.filter(pk=int(ident)).first() if ident.isdigit() else None
        return _("the members of %(team)s") % {"team": team or ident}
    ident = ident if kind == "user" else value
    user = User.objects.filter(pk=int(ident)).first() if ident.isdigit() else None
    return str(user or ident)


def describe_create_task(config: dict, record_type: str) -> str:
    return _("Create the task “%(subject)s” for %(who)s, due in %(days)s days") % {
        "subject": config.get("subject", ""), "who": _who(config.get("assignee", "owner")),
        "days": config.get("due_days", 0)}


def run_send_email(ctx: ActionContext, config: dict) -> dict:
    """Prepare the e-mail (rendered, addressed, checked against opt-out): what `deliver_email` sends."""
    from email.utils import parseaddr

    from crm.mail.models import EmailTemplate
    from crm.mail.services import MailRefused, mail_render

    template = EmailTemplate.objects.filter(pk=config.get("template"), is_active=True).first()
    if template is None:
        raise PermanentActionError(_("The e-mail template no longer exists or is inactive."))
    sender = ctx.sender
    if config.get("to") == "owner":
        owner = ctx.owner
        if owner is None or not owner.email:
            raise ActionSkipped(_("The record has no active owner."))
        to, reader, language = owner.email, owner, owner.language
    else:
        # The recipient's language picks the variant; an opted-out contact or lead is never mailed.
        to, reader, language = (getattr(ctx.record, "email", "") or "").strip(), sender, None
        if not to:
            raise ActionSkipped(_("%(name)s has no e-mail address.") % {"name": ctx.record})
        if getattr(ctx.record, "email_opt_out", False):
            raise ActionSkipped(_("%(name)s has opted out of e-mail.") % {"name": ctx.record})
    try:
        rendered = mail_render(template=template, record=ctx.record, reader=reader, language=language)
    except MailRefused as exc:
        raise ActionSkipped(str(exc)) from None
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "crm.local"
    digest = hashlib.sha256(ctx.key.encode()).hexdigest()[:32]
    return {"to": to, "subject": rendered.subject, "html": rendered.html, "text": rendered.text,
            "language": rendered.language, "template": template.pk, "sender": getattr(sender, "pk", None),
            "key": ctx.key, "message_id": f"<automation-{digest}@{domain}>"}


def _user(pk):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(pk=pk).first() if pk else None


def deliver_email(payload: dict) -> dict:
    """Send the prepared e-mail (outside any transaction). Its Message-ID is the same on a retry."""
    from crm.mail.services import MailRefused, mail_send

    try:
        mail_send(to=payload["to"], subject=payload["subject"], html=payload["html"], text=payload["text"],
                  actor=_user(payload.get("sender")), log=False, respect_opt_out=False,
                  headers={"X-CRM-Automation": payload["key"], "Message-ID": payload["message_id"]})
    except MailRefused as exc:
        raise PermanentActionError(str(exc)) from None
    return {}


def finish_email(record, payload: dict, delivered: dict) -> dict:
    """The e-mail as it left, on the record's timeline."""
    from crm.activities.models import Activity
    from crm.activities.services import activity_create

    activity = None
    if record is not None:
        activity = activity_create(
            target=record, actor=_user(payload.get("sender")), kind=Activity.Kind.EMAIL, subject=payload["subject"],
            body=payload["text"], body_html=payload["html"], direction=Activity.Direction.OUTBOUND,
            data={"sent": True, "to": [payload["to"]], "cc": [], "template": payload["template"],
                  "language": payload["language"], "message_id": payload["message_id"],
                  "automation": {"key": payload["key"]}})  # automation's doing, not a person's touch
    return {"to": payload["to"], "template": payload["template"], "language": payload["language"],
            "activity": getattr(activity, "pk", None)}


def describe_send_email(config: dict, record_type: str) -> str:
    from crm.mail.models import EmailTemplate

    template = EmailTemplate.objects.filter(pk=config.get("template")).first()
    to = _("the record's owner") if config.get("to") == "owner" else _("the record's own address")
    return _("Send the e-mail “%(template)s” to %(to)s") % {"template": template or config.get("template"), "to": to}


def run_notify(ctx: ActionContext, config: dict) -> dict:
    from crm.access.models import Team
    from crm.notifications.services import notification_send

    to = str(config.get("to", "owner"))
    kind, _sep, ident = to.partition(":")
    if to == "owner":
        people = [ctx.owner] if ctx.owner else []
    elif to == "owner_manager":
        people = managers_of(ctx.owner)
    elif kind == "team":
        team = Team.objects.filter(pk=int(ident)).first() if ident.isdigit() else None
        if team is None:
            raise PermanentActionError(_("The team no longer exists."))
        people = list(team.members.filter(is_active=True).order_by("pk"))
    else:
        people = [u for u in [person(ctx, ident if kind == "user" else to)] if u]
    if not people:
        raise ActionSkipped(_("No one to notify."))
    sent = []
    for user in people:
        message = merge_text(config.get("message", ""), ctx.record, user)[:500]
        if notification_send(recipient=user, message=message, target=ctx.record, verb="automation.notify"):
            sent.append(user.pk)
    return {"notified": sent}


def describe_notify(config: dict, record_type: str) -> str:
    return _("Notify %(who)s: “%(message)s”") % {"who": _who(config.get("to", "owner")),
                                                 "message": config.get("message", "")}


def next_in_turn(team_id: int):
    """The team's next active member after the last one given a record, advancing the turn under a row lock."""
    from crm.access.models import Team
    from crm.automation.models_rules import RoundRobinTurn

    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise PermanentActionError(_("The team no longer exists."))
    RoundRobinTurn.objects.get_or_create(team=team)
    turn = RoundRobinTurn.objects.select_for_update().get(team=team)
    members = list(team.members.filter(is_active=True).order_by("pk"))
    if not members:
        return None
    after = turn.last_user_id
    chosen = next((m for m in members if after is not None and m.pk > after), members[0])
    turn.last_user, turn.assigned_count = chosen, turn.assigned_count + 1
    turn.save(update_fields=["last_user", "assigned_count"])
    return chosen


def run_assign_owner(ctx: ActionContext, config: dict) -> dict:
    from crm.access.models import User
    from crm.notifications.services import notification_send

    if config.get("user"):
        owner = User.objects.filter(pk=config["user"], is_active=True).first()
        if owner is None:
            raise PermanentActionError(_("The user is no longer active."))
    else:
        territory = [c.upper() for c in config.get("countries") or []]
        if territory:
            country = record_country(ctx.record)
            if country not in territory:
                raise ActionSkipped(_("The record's country (%(country)s) is outside the territory %(codes)s.") % {
                    "country": country or _("none"), "codes": ", ".join(territory)})
        owner = next_in_turn(int(config.get("round_robin_team") or 0))
        if owner is None:
            raise ActionSkipped(_("The team has no active members."))
    if ctx.record.owner_id == owner.pk:
        return {"owner": owner.pk, "changed": False}
    record_write(ctx, {"owner": owner})
    rt = records.for_model(ctx.record)
    from django.utils.translation import override

    with override(owner.language or None):
        message = _("%(type)s assigned to you: %(name)s") % {"type": rt.label, "name": ctx.record}
    notification_send(recipient=owner, message=message, target=ctx.record, verb="automation.assigned")
    return {"owner": owner.pk, "changed": True}


def record_country(record) -> str:
    """The record's two-letter country: its own, else its billing or mailing address's, else its account's."""
    for attr in ("country", "billing_country", "mailing_country"):
        value = (getattr(record, attr, "") or "").strip().upper()
        if value:
            return value
    account = getattr(record, "account", None) if hasattr(record, "account_id") else None
    return record_country(account) if account is not None else ""


def describe_assign_owner(config: dict, record_type: str) -> str:
    from crm.access.models import Team

    if config.get("user"):
        return _("Assign the owner: %(user)s") % {"user": _who(config["user"])}
    team = Team.objects.filter(pk=config.get("round_robin_team")).first()
    if config.get("countries"):
        return _("Assign the owner: round robin in %(team)s, for records in %(codes)s") % {
            "team": team or config.get("round_robin_team"), "codes": ", ".join(config["countries"])}
    return _("Assign the owner: round robin in %(team)s") % {"team": team or config.get("round_robin_team")}


def webhook_payload(ctx: ActionContext) -> dict:
    from crm.core import conditions

    fields = conditions.fields_for(ctx.record_type)
    return {
        "id": ctx.key,
        "rule": {"id": ctx.rule.pk, "name": ctx.rule.name, "version": ctx.version.number},
        "record": {"type": ctx.record_type, "id": ctx.record.pk, "name": str(ctx.record),
                   "url": ctx.record.get_absolute_url() if hasattr(ctx.record, "get_absolute_url") else "",
                   "fields": {name: conditions.raw_value(ctx.record, f) for name, f in fields.items()}},
        "sent_at": timezone.now(),
    }


def sign(body: bytes, secret: str) -> str:
    """The X-CRM-Signature header: receivers compute the same HMAC over the raw body and compare."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookRefused(Exception):
    """The URL points inside the CRM's own network (server-side request forgery) or is not http(s)."""


def _allowed_networks():
    """The networks the admin allowed; an entry that is not one allows nothing (and the system check says so)."""
    networks = []
    for value in getattr(settings, "AUTOMATION_WEBHOOK_ALLOWED_NETWORKS", []) or []:
        try:
            networks.append(ipaddress.ip_network(str(value).strip(), strict=False))
        except ValueError:
            continue
    return networks


def check_allowed_networks(app_configs=None, **kwargs):
    """System check: every AUTOMATION_WEBHOOK_ALLOWED_NETWORKS entry is a network, said at start-up (migrate,
    check, runserver) rather than when an admin saves a webhook."""
    from django.core import checks

    errors = []
    for value in getattr(settings, "AUTOMATION_WEBHOOK_ALLOWED_NETWORKS", []) or []:
        try:
            ipaddress.ip_network(str(value).strip(), strict=False)
        except ValueError:
            errors.append(checks.Error(
                f"AUTOMATION_WEBHOOK_ALLOWED_NETWORKS: {value!r} is not a network; it allows nothing.",
                hint="Write networks as address/prefix, e.g. 10.20.0.0/16 or 192.168.1.5/32, separated by commas.",
                id="automation.E001"))
    return errors


def webhook_addresses(url: str) -> list[str]:
    """The addresses `url`'s host resolves to, refused (WebhookRefused) when any is loopback, private,
    link-local (cloud metadata at 169.254.169.254), multicast or reserved, unless the admin allowed its network
    in AUTOMATION_WEBHOOK_ALLOWED_NETWORKS. OSError when the name does not resolve."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRefused(_("Only http and https addresses can be called."))
    port = parts.port or (443 if parts.scheme == "https" else 80)
    found = {info[4][0] for info in socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)}
    allowed = _allowed_networks()
    for address in found:
        ip = ipaddress.ip_address(address.split("%")[0])
        if getattr(ip, "ipv4_mapped", None):
            ip = ip.ipv4_mapped
        internal = (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved
                    or ip.is_unspecified)
        if internal and not any(ip in network for network in allowed):
            raise WebhookRefused(_("The address %(host)s is inside the CRM's own network and cannot be called "
                                   "(an administrator can allow the network in AUTOMATION_WEBHOOK_ALLOWED_NETWORKS).")
                                 % {"host": parts.hostname})
    return sorted(found)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is answered as the response it is: following it could lead the request inside the network."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address the guard checked, not to whatever the name resolves to a moment later (DNS
    rebinding: a name that passes the check, then points inside the network)."""

    def __init__(self, *args, address: str, **kwargs):
        super().__init__(*args, **kwargs)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout, self.source_address)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """The same for https: the certificate is still checked against the URL's host name."""

    def __init__(self, *args, address: str, **kwargs):
        super().__init__(*args, **kwargs)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout, self.source_address)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class _Pinned(urllib.request.HTTPHandler, urllib.request.HTTPSHandler):
    def __init__(self, address: str):
        urllib.request.HTTPHandler.__init__(self)
        urllib.request.HTTPSHandler.__init__(self)
        self.address = address

    def http_open(self, req):
        return self.do_open(functools.partial(_PinnedHTTPConnection, address=self.address), req)

    def https_open(self, req):
        return self.do_open(functools.partial(_PinnedHTTPSConnection, address=self.address), req,
                            context=self._context)


def _opener(address: str):
    """No redirects, no proxies from the environment (they would resolve the name again), and the connection
    pinned to `address`."""
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects, _Pinned(address))


def run_webhook(ctx: ActionContext, config: dict) -> dict:
    body = json.dumps(webhook_payload(ctx), cls=DjangoJSONEncoder, sort_keys=True).encode()
    request = urllib.request.Request(config["url"], data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "CRM-Automation/1",
        "X-CRM-Signature": sign(body, config.get("secret", "")), "X-CRM-Idempotency-Key": ctx.key})
    try:
        found = webhook_addresses(config["url"])
        address = next((a for a in found if ":" not in a), found[0])  # IPv4 first: not every host routes IPv6
    except WebhookRefused as exc:
        raise PermanentActionError(str(exc)) from None
    except OSError as exc:
        raise ActionError(_("The webhook could not be reached: %(error)s") % {"error": exc}) from None
    try:
        with _opener(address).open(request, timeout=WEBHOOK_TIMEOUT) as response:  # noqa: S310 - checked above
            status, excerpt = response.status, response.read(RESPONSE_EXCERPT)
    except urllib.error.HTTPError as exc:
        status, excerpt = exc.code, exc.read(RESPONSE_EXCERPT)
    except (urllib.error.URLError, socket.timeout, OSError) as exc:
        raise ActionError(_("The webhook could not be reached: %(error)s") % {
            "error": getattr(exc, "reason", exc)}) from None
    result = {"status": status, "body": excerpt.decode("utf-8", errors="replace")[:RESPONSE_EXCERPT],
              "url": config["url"]}
    if not 200 <= status < 300:
        raise ActionError(_("The webhook answered HTTP %(status)s.") % {"status": status}, result=result)
    return result


def describe_webhook(config: dict, record_type: str) -> str:
    return _("Call the webhook %(url)s") % {"url": config.get("url", "")}


def _register_builtins() -> None:
    register_action("update_field", gettext_lazy("Update a field"), run=run_update_field, form=UpdateFieldForm,
                    describe=describe_update_field, writes_record=True, order=10)
    register_action("create_task", gettext_lazy("Create a task"), run=run_create_task, form=CreateTaskForm,
                    describe=describe_create_task, order=20)
    register_action("send_email", gettext_lazy("Send an e-mail"), run=run_send_email, form=SendEmailForm,
                    deliver=deliver_email, finish=finish_email,
                    describe=describe_send_email, order=30)
    register_action("notify", gettext_lazy("Send a notification"), run=run_notify, form=NotifyForm,
                    describe=describe_notify, order=40)
    register_action("assign_owner", gettext_lazy("Assign the owner"), run=run_assign_owner, form=AssignOwnerForm,
                    describe=describe_assign_owner, writes_record=True, order=50)
    register_action("webhook", gettext_lazy("Call a webhook"), run=run_webhook, form=WebhookForm,
                    describe=describe_webhook, order=60)


_register_builtins()
