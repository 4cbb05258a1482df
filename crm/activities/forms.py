"""The short forms that log an activity on a record page, one per kind, and the rich-text editor widget."""
from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.activities import richtext
from crm.activities.models import Activity
from crm.core.widgets import FastSelect

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
REMINDER_CHOICES = [
    ("", gettext_lazy("No reminder")),
    ("0", gettext_lazy("At the time")),
    ("5", gettext_lazy("5 minutes before")),
    ("15", gettext_lazy("15 minutes before")),
    ("30", gettext_lazy("30 minutes before")),
    ("60", gettext_lazy("1 hour before")),
    ("120", gettext_lazy("2 hours before")),
    ("1440", gettext_lazy("1 day before")),
]
MAX_MEETING = timedelta(days=14)


def _datetime_widget():
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT)


class RichTextWidget(forms.Textarea):
    """A formatting toolbar over a contenteditable area that writes its HTML into the textarea it hides
    (static/js/activities.js); without script the textarea stays and takes plain text. Either way the server
    sanitizes what arrives (crm.activities.richtext)."""

    BUTTONS = [("bold", "type-bold", gettext_lazy("Bold")), ("italic", "type-italic", gettext_lazy("Italic")),
               ("underline", "type-underline", gettext_lazy("Underline")),
               ("insertUnorderedList", "list-ul", gettext_lazy("Bulleted list")),
               ("insertOrderedList", "list-ol", gettext_lazy("Numbered list")),
               ("createLink", "link-45deg", gettext_lazy("Link")),
               ("removeFormat", "eraser", gettext_lazy("Clear formatting"))]

    def __init__(self, attrs=None):
        super().__init__({"rows": 4, **(attrs or {})})

    def render(self, name, value, attrs=None, renderer=None):
        textarea = super().render(name, value, {**(attrs or {}), "data-rich-source": ""}, renderer)
        html = richtext.clean_input(value or "")
        link_prompt = escape(_("Address of the link (https://…)"))
        buttons = "".join(
            f'<button class="btn btn-outline-secondary" type="button" data-cmd="{cmd}" title="{escape(label)}" '
            f'aria-label="{escape(label)}"><i class="bi bi-{icon}" aria-hidden="true"></i></button>'
            for cmd, icon, label in self.BUTTONS)
        return mark_safe(
            f'<div class="rich-editor" data-rich-editor data-link-prompt="{link_prompt}">'
            f'<div class="btn-group btn-group-sm mb-1" role="toolbar" aria-label="{escape(_("Formatting"))}" hidden '
            f'data-rich-toolbar>{buttons}</div>'
            f'<div class="form-control" contenteditable="true" role="textbox" aria-multiline="true" hidden '
            f'data-rich-area>{html}</div>{textarea}</div>')


class MultiLookupSelect(forms.SelectMultiple):
    """Several records of a type picked by type-ahead (Tom Select on the list engine's lookup, which
    searches only what the reader may see); renders only the chosen ones."""

    def __init__(self, attrs=None, lookup_url: str = "", labels=None):
        super().__init__(attrs)
        self.lookup_url, self.labels = lookup_url, labels or {}

    def render(self, name, value, attrs=None, renderer=None):
        from django.forms.utils import flatatt

        attrs = self.build_attrs(self.attrs, attrs)
        parts = [f'<select name="{escape(name)}"{flatatt(attrs)} multiple data-tom-select '
                 f'data-lookup="{escape(self.lookup_url)}">']
        for v in self.format_value(value):
            if str(v) in self.labels:
                parts.append(f'<option value="{escape(v)}" selected>{escape(self.labels[str(v)])}</option>')
        parts.append("</select>")
        return mark_safe("".join(parts))


class UserChoiceField(forms.TypedChoiceField):
    """An active user from the user directory (no query to draw the list)."""

    def __init__(self, *args, **kwargs):
        from crm.access.models import User

        kwargs.setdefault("coerce", int)
        kwargs.setdefault("widget", FastSelect(attrs={"class": "form-select"}))
        # A callable: read when a form is drawn, never at import (no query before the tables exist).
        super().__init__(*args, choices=User.objects.choices, **kwargs)


class ActivityForm(forms.ModelForm):
    """Common ground of the kinds' forms. `service_fields()` is what the services take."""

    kind = ""
    fields_order: tuple[str, ...] = ()

    class Meta:
        model = Activity
        fields = ["subject", "body"]

    def __init__(self, *args, user=None, record=None, instance=None, **kwargs):
        super().__init__(*args, instance=instance, **kwargs)
        self.user, self.record = user, record
        if "subject" in self.fields:
            self.fields["subject"].required = True

    @property
    def editing(self) -> bool:
        return self.instance is not None and self.instance.pk is not None

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self._meta.fields if name in self.cleaned_data}

    def attendees(self):
        return None

    def clean(self):
        cleaned = super().clean()
        # Times far outside any calendar (year 9999 overflows a meeting's end) are refused before the kinds'
        # own checks compute with them.
        for name in ("due_at", "ends_at", "occurred_at"):
            value = cleaned.get(name)
            if value is not None and not 1900 <= value.year <= 2200:
                self.add_error(name, _("Enter a date between 1900 and 2200."))
        return cleaned


class _ReminderMixin(forms.Form):
    remind_minutes = forms.TypedChoiceField(label=gettext_lazy("Reminder"), choices=REMINDER_CHOICES, required=False,
                                            coerce=int, empty_value=None,
                                            widget=FastSelect(attrs={"class": "form-select"}))

    def _check_reminder(self, cleaned, when_field: str, message) -> None:
        if cleaned.get("remind_minutes") is not None and not cleaned.get(when_field):
            self.add_error("remind_minutes", message)


class TaskForm(_ReminderMixin, ActivityForm):
    kind = Activity.Kind.TASK
    assigned_to = UserChoiceField(label=gettext_lazy("Assigned to"))

    class Meta:
        model = Activity
        fields = ["subject", "due_at", "priority", "status", "body"]
        widgets = {"due_at": _datetime_widget(), "body": forms.Textarea(attrs={"rows": 3})}
        labels = {"due_at": gettext_lazy("Due"), "body": gettext_lazy("Description")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        order = ["subject", "due_at", "remind_minutes", "priority", "assigned_to", "status", "body"]
        self.fields["priority"].required = False  # the short form: normal unless chosen
        self.fields["priority"].widget = FastSelect(attrs={"class": "form-select"}, choices=Activity.Priority.choices)
        self.initial.setdefault("priority", Activity.Priority.NORMAL)
        if not self.editing:
            del self.fields["status"]
            order.remove("status")
            self.initial.setdefault("assigned_to", self.user.pk if self.user else None)
        else:
            self.initial.setdefault("assigned_to", self.instance.assigned_to_id)
            self.initial.setdefault("remind_minutes", self.instance.remind_minutes)
            self.fields["status"].choices = [c for c in Activity.Status.choices]
        self.order_fields(order)

    def clean_assigned_to(self):
        from crm.access.models import User

        user = User.objects.filter(pk=self.cleaned_data["assigned_to"], is_active=True).first()
        if user is None:
            raise forms.ValidationError(_("Choose an active user."))
        return user

    def clean(self):
        cleaned = super().clean()
        cleaned["priority"] = cleaned.get("priority") or (self.instance.priority if self.editing else Activity.Priority.NORMAL)
        if "status" in self.fields:
            cleaned["status"] = cleaned.get("status") or self.instance.status
        self._check_reminder(cleaned, "due_at", _("A reminder needs a due date and time."))
        return cleaned

    def service_fields(self) -> dict:
        fields = super().service_fields()
        fields["assigned_to"] = self.cleaned_data["assigned_to"]
        fields["remind_minutes"] = self.cleaned_data.get("remind_minutes")
        return fields


class CallForm(ActivityForm):
    kind = Activity.Kind.CALL
    outcome = forms.ChoiceField(label=gettext_lazy("Outcome"), required=False,
                                widget=FastSelect(attrs={"class": "form-select"}))

    class Meta:
        model = Activity
        fields = ["subject", "direction", "occurred_at", "duration_minutes", "outcome", "body"]
        widgets = {"occurred_at": _datetime_widget(), "body": forms.Textarea(attrs={"rows": 3})}
        labels = {"occurred_at": gettext_lazy("When"), "body": gettext_lazy("Notes")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "---------")] + list(Activity.Outcome.choices)
        current = self.instance.outcome if self.editing else ""
        if current and current not in Activity.Outcome.values:
            choices.append((current, current))  # a free-text outcome logged before the list existed
        self.fields["outcome"].choices = choices
        self.fields["direction"].required = True
        self.fields["direction"].choices = list(Activity.Direction.choices)
        self.fields["direction"].widget = forms.RadioSelect(choices=Activity.Direction.choices)
        self.fields["duration_minutes"].widget.attrs.update({"min": 0, "max": 1440})
        if not self.editing:
            self.initial.setdefault("direction", Activity.Direction.OUTBOUND)
            self.initial.setdefault("occurred_at", timezone.localtime().replace(second=0, microsecond=0))

    def clean_duration_minutes(self):
        minutes = self.cleaned_data.get("duration_minutes")
        if minutes is not None and minutes > 24 * 60:
            raise forms.ValidationError(_("A call lasts at most 24 hours (1,440 minutes)."))
        return minutes

    def clean_occurred_at(self):
        when = self.cleaned_data.get("occurred_at") or timezone.now()
        if when > timezone.now() + timedelta(minutes=5):
            raise forms.ValidationError(_("A logged call cannot be in the future; create a task to plan one."))
        return when


class MeetingForm(_ReminderMixin, ActivityForm):
    kind = Activity.Kind.MEETING
    attendee_users = forms.TypedMultipleChoiceField(label=gettext_lazy("Colleagues"), required=False, coerce=int)
    attendee_contacts = forms.TypedMultipleChoiceField(label=gettext_lazy("Contacts"), required=False, coerce=int)
    CONTACTS = "accounts.contact"

    class Meta:
        model = Activity
        fields = ["subject", "due_at", "ends_at", "location", "status", "body"]
        widgets = {"due_at": _datetime_widget(), "ends_at": _datetime_widget(), "body": forms.Textarea(attrs={"rows": 3})}
        labels = {"due_at": gettext_lazy("Starts"), "ends_at": gettext_lazy("Ends"), "body": gettext_lazy("Agenda")}

    def __init__(self, *args, **kwargs):
        from crm.access.models import User

        super().__init__(*args, **kwargs)
        self.fields["due_at"].required = True
        if self.editing:  # a meeting is cancelled here (calendars subscribed to the feed then drop it)
            self.fields["status"].widget = FastSelect(attrs={"class": "form-select"}, choices=Activity.Status.choices)
            self.fields["status"].required = False  # unchanged unless chosen
        else:
            del self.fields["status"]
        self.fields["attendee_users"].choices = User.objects.choices()
        self.fields["attendee_users"].widget = forms.SelectMultiple(attrs={"class": "form-select", "data-tom-select": ""},
                                                                    choices=self.fields["attendee_users"].choices)
        self._contacts_type = self._contact_type()
        if self._contacts_type is None:
            del self.fields["attendee_contacts"]
        if self.editing:
            self.initial.setdefault("remind_minutes", self.instance.remind_minutes)
            attendees = list(self.instance.attendees.all())
            self.initial.setdefault("attendee_users", [a.user_id for a in attendees if a.user_id])
            if self._contacts_type is not None:
                ct_id = self._contacts_ct_id()
                self.initial.setdefault("attendee_contacts", [a.object_id for a in attendees if a.content_type_id == ct_id])
        elif self.record is not None and self._contacts_type is not None and self._contacts_type.model is type(self.record):
            self.initial.setdefault("attendee_contacts", [self.record.pk])  # meeting a contact: they attend
        if self._contacts_type is not None:
            self._set_contacts_widget()
        self.order_fields(["subject", "due_at", "ends_at", "location", "attendee_users", "attendee_contacts",
                           "remind_minutes", "status", "body"])

    def _contact_type(self):
        from crm.core import records

        try:
            rt = records.get(self.CONTACTS)
        except KeyError:
            return None
        return rt if self.user is not None and self.user.can(rt.key, "view") else None

    def _contacts_ct_id(self) -> int:
        from django.contrib.contenttypes.models import ContentType

        return ContentType.objects.get_for_model(self._contacts_type.model).pk

    def _visible_contacts(self, ids) -> dict:
        ids = [int(i) for i in ids if str(i).isdigit() and len(str(i)) <= 18]  # a bigint, never a database error
        if not ids or self._contacts_type is None:
            return {}
        return {c.pk: c for c in self._contacts_type.model.objects.visible_to(self.user).filter(pk__in=ids)}

    def _set_contacts_widget(self):
        from django.urls import reverse

        field = self.fields["attendee_contacts"]
        chosen = self.data.getlist(self.add_prefix("attendee_contacts")) if self.is_bound else \
            self.initial.get("attendee_contacts", [])
        labels = {str(pk): str(c) for pk, c in self._visible_contacts(chosen).items()}
        field.choices = [(int(k), v) for k, v in labels.items()]
        field.widget = MultiLookupSelect(attrs={"class": "form-select"}, labels=labels,
                                         lookup_url=reverse("lists:lookup", args=[self._contacts_type.slug]))

    def clean_attendee_contacts(self):
        ids = self.cleaned_data.get("attendee_contacts") or []
        found = self._visible_contacts(ids)
        if len(found) != len(set(ids)):
            raise forms.ValidationError(_("Choose contacts you can see."))
        self._contacts = list(found.values())
        return ids

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("due_at"), cleaned.get("ends_at")
        if start and not end:
            cleaned["ends_at"] = start + timedelta(minutes=30)
        elif start and end:
            if end <= start:
                self.add_error("ends_at", _("A meeting must end after it starts."))
            elif end - start > MAX_MEETING:
                self.add_error("ends_at", _("A meeting lasts at most 14 days."))
        if "status" in self.fields:
            cleaned["status"] = cleaned.get("status") or self.instance.status
        self._check_reminder(cleaned, "due_at", _("A reminder needs a start time."))
        return cleaned

    def service_fields(self) -> dict:
        fields = super().service_fields()
        fields["remind_minutes"] = self.cleaned_data.get("remind_minutes")
        return fields

    def attendees(self):
        from crm.access.models import User

        users = list(User.objects.filter(pk__in=self.cleaned_data.get("attendee_users") or [], is_active=True))
        return users + list(getattr(self, "_contacts", []))


class NoteForm(ActivityForm):
    kind = Activity.Kind.NOTE

    class Meta:
        model = Activity
        fields = ["subject", "body_html"]
        widgets = {"body_html": RichTextWidget()}
        labels = {"body_html": gettext_lazy("Note")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject"].required = False
        self.fields["body_html"].required = True
        self.order_fields(["body_html", "subject"])

    def clean_body_html(self):
        html = richtext.clean_input(self.cleaned_data.get("body_html") or "")
        if not richtext.to_text(html):
            raise forms.ValidationError(_("Write the note."))
        return html

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("subject") and cleaned.get("body_html"):
            text = richtext.to_text(cleaned["body_html"])
            first_line = text.splitlines()[0] if text else ""
            cleaned["subject"] = first_line[:80] + ("…" if len(first_line) > 80 else "")
        return cleaned


class EmailForm(ActivityForm):
    """Send an e-mail through the CRM (optionally from a template), or log one written elsewhere."""

    kind = Activity.Kind.EMAIL
    SEND, LOG = "send", "log"
    mode = forms.ChoiceField(label=gettext_lazy("E-mail"), initial=SEND, widget=forms.RadioSelect,
                             choices=[(SEND, gettext_lazy("Send from the CRM")), (LOG, gettext_lazy("Log an e-mail sent or received elsewhere"))])
    to = forms.CharField(label=gettext_lazy("To"), required=False, max_length=1000,
                         help_text=gettext_lazy("Separate several addresses with commas."))
    cc = forms.CharField(label=gettext_lazy("Cc"), required=False, max_length=1000)
    template = forms.TypedChoiceField(label=gettext_lazy("Template"), required=False, coerce=int, empty_value=None)

    class Meta:
        model = Activity
        fields = ["subject", "direction", "body_html"]
        widgets = {"body_html": RichTextWidget(attrs={"rows": 6})}
        labels = {"body_html": gettext_lazy("Message")}

    def __init__(self, *args, **kwargs):
        from crm.core import records
        from crm.mail.selectors import templates_for

        super().__init__(*args, **kwargs)
        self.fields["subject"].required = False
        self.fields["direction"].required = False
        self.fields["direction"].choices = list(Activity.Direction.choices)
        self.fields["direction"].help_text = _("Only for a logged e-mail.")
        key = records.key_of(self.record) if self.record is not None else ""
        self.templates = {t.pk: t for t in templates_for(record_type=key)} if key else {}
        self.fields["template"].choices = [("", _("No template"))] + [(pk, t.name) for pk, t in self.templates.items()]
        self.fields["template"].widget = FastSelect(attrs={"class": "form-select"})
        if not self.templates:
            del self.fields["template"]
        if self.record is not None and not self.is_bound:
            self.initial.setdefault("to", getattr(self.record, "email", "") or "")
            self.initial.setdefault("direction", Activity.Direction.OUTBOUND)
        self.order_fields(["mode", "to", "cc", "template", "subject", "body_html", "direction"])

    def clean_body_html(self):
        return richtext.clean_input(self.cleaned_data.get("body_html") or "")

    def clean(self):
        cleaned = super().clean()
        mode = cleaned.get("mode")
        template = self.templates.get(cleaned.get("template")) if cleaned.get("template") else None
        self.chosen_template = template
        if mode == self.SEND:
            if not (cleaned.get("to") or "").strip():
                self.add_error("to", _("Enter at least one recipient."))
            if not template and not (cleaned.get("subject") or "").strip():
                self.add_error("subject", _("Enter a subject."))
            if not template and not richtext.to_text(cleaned.get("body_html") or ""):
                self.add_error("body_html", _("Write the message."))
        elif mode == self.LOG:
            if not (cleaned.get("subject") or "").strip():
                self.add_error("subject", _("Enter a subject."))
            cleaned["direction"] = cleaned.get("direction") or Activity.Direction.OUTBOUND
        return cleaned


FORMS: dict[str, type[ActivityForm]] = {
    Activity.Kind.TASK: TaskForm, Activity.Kind.CALL: CallForm, Activity.Kind.MEETING: MeetingForm,
    Activity.Kind.EMAIL: EmailForm, Activity.Kind.NOTE: NoteForm,
}


def form_for(kind: str, *args, **kwargs) -> ActivityForm:
    return FORMS[kind](*args, **kwargs)
