"""Reads of e-mail templates."""
from __future__ import annotations

from django.db.models import Prefetch

from crm.mail.models import EmailTemplate, EmailTemplateVariant


def templates_for(*, record_type: str, active_only: bool = True) -> list[EmailTemplate]:
    """The templates a rep may pick when writing to a record of `record_type` (templates carry no business
    data; what a rendered template shows is limited by the reader's access to the record)."""
    qs = EmailTemplate.objects.filter(record_type=record_type)
    if active_only:
        qs = qs.filter(is_active=True)
    return list(qs.order_by("name"))


def template_list() -> list[EmailTemplate]:
    """Every template with its languages, for the settings page (two queries)."""
    return list(EmailTemplate.objects.order_by("record_type", "name").prefetch_related(
        Prefetch("variants", queryset=EmailTemplateVariant.objects.only("id", "template_id", "language"))))


def template_get(pk: int, *, record_type: str | None = None, active_only: bool = False) -> EmailTemplate | None:
    qs = EmailTemplate.objects.filter(pk=pk).prefetch_related("variants")
    if record_type:
        qs = qs.filter(record_type=record_type)
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.first()
