"""In-app notifications: the bell in the header."""
from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    keep_after_target_deleted = True  # the bell keeps telling what happened; its link falls back to the URL

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    verb = models.CharField(max_length=100, blank=True)
    message = models.CharField(_("message"), max_length=500)
    url = models.CharField(max_length=500, blank=True)
    # The record the notification is about, when there is one: merges re-point it (crm.core.relations), so
    # the link follows a merged record where a stored URL would lead to a 404.
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    object_id = models.BigIntegerField(null=True, blank=True)
    target = GenericForeignKey("content_type", "object_id")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at", "-created_at"])]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return self.message

    @property
    def link(self) -> str:
        """Where the notification leads: its record's page while the record exists, else the stored URL."""
        if self.content_type_id and self.object_id:
            from crm.core import records

            model = self.content_type.model_class()
            try:
                rt = records.for_model(model)
            except (KeyError, AttributeError):
                return self.url
            if model._base_manager.filter(pk=self.object_id).exists():
                return rt.detail_url(self.object_id)
        return self.url
