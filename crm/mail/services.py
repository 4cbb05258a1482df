"""Sending e-mail from the CRM, and its templates. One API for reps on record pages, reminders, and later
automation and campaigns:

    rendered = mail_render(template=t, record=lead, reader=user)      # subject, html, text, language
    mail_send(to=[lead.email], subject=..., html=..., actor=user, record=lead)   # sends, logs on the timeline
    mail_send_template(template=t, record=lead, actor=user)           # both, to the record's own address
    mail_log(record=lead, actor=user, subject=..., body_html=..., direction="inbound")  # a logged e-mail

Mail goes out through Django's e-mail backend (EMAIL_BACKEND); a sent e-mail lands on the record's timeline
as a copy of what left."""
from __future__ import annotations

from dataclasses import dataclass, field
from email.utils import formataddr, make_msgid, parseaddr

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.activities import richtext
from crm.mail import templating
from crm.mail.models import EmailTemplate, EmailTemplateVariant

LANGUAGE_CODES = tuple(code for code, _name in settings.LANGUAGES)
# A recipient whose language we do not know: their country's, where the CRM speaks it.
COUNTRY_LANGUAGES = {"FI": "fi", "IR": "fa", "AF": "fa", "TJ": "fa"}


class MailRefused(Exception):
    """The e-mail may not be sent (no address, an opted-out recipient); the message says why."""


@dataclass
class RenderedEmail:
    subject: str
    html: str
    text: str
    language: str
    template_id: int | None = None
    withheld: list[str] = field(default_factory=list)  # fields left empty: hidden from the reader


# --- languages and rendering -------------------------------------------------------------------------------

def recipient_language(record) -> str | None:
    """The language a record's person reads: their preferred language, else their country's, else None."""
    if record is None:
        return None
    for attr in ("preferred_language", "language"):
        value = (getattr(record, attr, "") or "").split("-")[0].lower()
        if value in LANGUAGE_CODES:
            return value
    for attr in ("country", "mailing_country", "billing_country"):
        language = COUNTRY_LANGUAGES.get((getattr(record, attr, "") or "").upper())
        if language:
            return language
    return None


def template_variant(template: EmailTemplate, language: str | None) -> EmailTemplateVariant | None:
    """The template's variant in `language`, else English, else the site's language, else any."""
    variants = {v.language: v for v in template.variants.all()}
    for code in (language, "en", settings.LANGUAGE_CODE):
        if code in variants:
            return variants[code]
    return next(iter(variants.values()), None)


def _check_reader(reader, record) -> None:
    if reader is None or record is None:
        return
    model = type(record)
    if hasattr(model.objects, "visible_to") and not model.objects.visible_to(reader).filter(pk=record.pk).exists():
        raise PermissionDenied("the reader may not see this record")


def mail_render_text(*, subject: str, body_html: str, record, reader, record_type: str = "", language: str = "",
                     sender=None, sample: bool = False) -> RenderedEmail:
    """Render a subject and body with merge fields for `record` as `reader` may see it (a template's
    preview renders unsaved text this way). `sample`: stand-ins instead of a record's values."""
    from crm.core import records

    key = record_type or (records.key_of(record) if record is not None else "")
    body_html = richtext.sanitize(body_html)
    found_subject, _e1 = templating.placeholders(subject, key)
    found_body, _e2 = templating.placeholders(body_html, key, html=True)
    language = language or recipient_language(record) or translation.get_language() or settings.LANGUAGE_CODE
    with translation.override(language):
        if sample or record is None:
            subject_values = templating.sample_values(found_subject, key)
            body_values = templating.sample_values(found_body, key)
            withheld: list[str] = []
        else:
            subject_values, withheld = templating.values(found_subject, record=record, reader=reader, sender=sender or reader)
            body_values, withheld_body = templating.values(found_body, record=record, reader=reader, sender=sender or reader)
            withheld = sorted(set(withheld) | set(withheld_body))
    rendered_subject = " ".join(templating.render(subject, subject_values, html=False).split())[:255]
    # Values are escaped into the HTML; sanitizing again takes out what a value could still smuggle into an
    # attribute (a javascript: address put where a link's href names a field).
    html = richtext.sanitize(templating.render(body_html, body_values, html=True))
    return RenderedEmail(subject=rendered_subject, html=html, text=richtext.to_text(html), language=language,
                         withheld=withheld)


def mail_render(*, template: EmailTemplate, record, reader, language: str | None = None, sender=None) -> RenderedEmail:
    """A template for `record`, in the recipient's language (or `language`), with the fields `reader` may see.
    Raises PermissionDenied when the reader may not see the record."""
    _check_reader(reader, record)
    variant = template_variant(template, language or recipient_language(record))
    if variant is None:
        raise MailRefused(_("The template %(name)s has no text yet.") % {"name": template.name})
    rendered = mail_render_text(subject=variant.subject, body_html=variant.body_html, record=record, reader=reader,
                                record_type=template.record_type, language=variant.language, sender=sender)
    rendered.template_id = template.pk
    return rendered


# --- sending and logging ------------------------------------------------------------------------------------

def _addresses(values) -> list[str]:
    if isinstance(values, str):
        values = values.replace(";", ",").split(",")
    result = []
    for value in values or ():
        value = (value or "").strip()
        if not value:
            continue
        address = parseaddr(value)[1] or value
        try:
            validate_email(address)
        except ValidationError:
            raise MailRefused(_("%(address)s is not a valid e-mail address.") % {"address": value}) from None
        if address.lower() not in (a.lower() for a in result):
            result.append(address)
    return result


def _sender_address(actor) -> str:
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    if getattr(actor, "is_authenticated", False):
        name = actor.get_full_name() or name
    return formataddr((name, address)) if name else address


def mail_send(*, to, subject: str, html: str = "", text: str = "", actor=None, record=None, cc=(),
              template_id: int | None = None, language: str = "", headers: dict | None = None,
              attachments=(), log: bool = True, respect_opt_out: bool = True, from_email: str = ""):
    """Send one e-mail now through Django's backend; on `record`'s timeline too when `log` (returns the
    activity, else None). Raises MailRefused (with a message for the user) and the backend's errors: in
    either case nothing is logged. `from_email` ("Name <address>") replaces the actor's name on the CRM's
    address, and replies go to it."""
    recipients = _addresses(to)
    copies = [c for c in _addresses(cc) if c.lower() not in {r.lower() for r in recipients}]
    if not recipients:
        raise MailRefused(_("Enter at least one recipient."))
    if respect_opt_out and record is not None and getattr(record, "email_opt_out", False):
        raise MailRefused(_("%(name)s has opted out of e-mail.") % {"name": record})
    subject = " ".join((subject or "").split())[:255]
    if not subject:
        raise MailRefused(_("Enter a subject."))
    html = richtext.sanitize(html) if html else ""
    text = text or richtext.to_text(html)
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "crm.local"
    message_id = (headers or {}).get("Message-ID") or make_msgid(domain=domain)
    reply_to = [actor.email] if getattr(actor, "is_authenticated", False) and actor.email else None
    if from_email:
        reply_to = [parseaddr(from_email)[1]]
    message = EmailMultiAlternatives(subject=subject, body=text, from_email=from_email or _sender_address(actor),
                                     to=recipients,
                                     cc=copies, reply_to=reply_to, headers={**(headers or {}), "Message-ID": message_id})
    if html:
        message.attach_alternative(html, "text/html")
    for attachment in attachments:
        message.attach(*attachment)
    message.send(fail_silently=False)
    if not (log and record is not None):
        return None
    from crm.activities.models import Activity
    from crm.activities.services import activity_create

    with transaction.atomic():
        return activity_create(target=record, actor=actor, kind=Activity.Kind.EMAIL, subject=subject, body=text,
                               body_html=html, direction=Activity.Direction.OUTBOUND,
                               data={"sent": True, "to": recipients, "cc": copies, "template": template_id,
                                     "language": language, "message_id": message_id})


def mail_send_template(*, template: EmailTemplate, record, actor, to=None, language: str | None = None):
    """Render `template` for `record` (as `actor` sees it) and send it to `to` or the record's own address."""
    rendered = mail_render(template=template, record=record, reader=actor, language=language)
    address = to or getattr(record, "email", "")
    if not address:
        raise MailRefused(_("%(name)s has no e-mail address.") % {"name": record})
    return mail_send(to=address, subject=rendered.subject, html=rendered.html, text=rendered.text, actor=actor,
                     record=record, template_id=template.pk, language=rendered.language)


@transaction.atomic
def mail_log(*, record, actor, subject: str, body_html: str = "", direction: str = "outbound", to=(),
             occurred_at=None):
    """An e-mail written elsewhere (Outlook, Gmail), kept on the record's timeline."""
    from crm.activities.models import Activity
    from crm.activities.services import activity_create

    html = richtext.clean_input(body_html)
    return activity_create(target=record, actor=actor, kind=Activity.Kind.EMAIL, subject=subject,
                           body=richtext.to_text(html), body_html=html, direction=direction or Activity.Direction.OUTBOUND,
                           occurred_at=occurred_at or timezone.now(),
                           data={"sent": False, "to": _addresses(to) if to else []})


# --- templates ------------------------------------------------------------------------------------------------

def template_errors(*, record_type: str, subject: str, body_html: str) -> list[str]:
    return templating.errors(subject, record_type) + templating.errors(richtext.sanitize(body_html), record_type, html=True)


@transaction.atomic
def template_save(*, actor, name: str, record_type: str, variants: dict[str, tuple[str, str]],
                  description: str = "", is_active: bool = True, template: EmailTemplate | None = None,
                  ip: str | None = None) -> EmailTemplate:
    """Create or change a template and its language variants ({language: (subject, body html)}; a language
    with neither subject nor body is removed). Refuses merge fields the record type does not have."""
    from crm.access.models import AuditLog
    from crm.access.services import audit

    problems = [e for language, (subject, body) in variants.items() if subject or body
                for e in template_errors(record_type=record_type, subject=subject, body_html=body)]
    if problems:
        raise ValidationError(problems)
    created = template is None
    template = template or EmailTemplate(created_by=actor if getattr(actor, "is_authenticated", False) else None)
    template.name, template.record_type, template.description, template.is_active = name, record_type, description, is_active
    template.updated_at = timezone.now()
    template.save()
    for language, (subject, body) in variants.items():
        if language not in LANGUAGE_CODES:
            continue
        if not (subject or "").strip() and not richtext.to_text(richtext.sanitize(body or "")):
            EmailTemplateVariant.objects.filter(template=template, language=language).delete()
            continue
        EmailTemplateVariant.objects.update_or_create(
            template=template, language=language,
            defaults={"subject": " ".join(subject.split())[:255], "body_html": richtext.sanitize(body)})
    audit(actor=actor, action=AuditLog.Action.CUSTOMIZATION_CHANGED, target=template, ip=ip,
          data={"email_template": template.name, "created": created,
                "languages": sorted(template.variants.values_list("language", flat=True))})
    return template


@transaction.atomic
def template_delete(*, actor, template: EmailTemplate, ip: str | None = None) -> None:
    from crm.access.models import AuditLog
    from crm.access.services import audit

    audit(actor=actor, action=AuditLog.Action.CUSTOMIZATION_CHANGED, target=template, ip=ip,
          data={"email_template": template.name, "deleted": True})
    template.delete()
