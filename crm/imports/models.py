"""An import of a CSV, XLSX or vCard file into any registered record type: its file, the user's choices
(mapping, duplicates, values for unknown picklist entries), the dry run's findings and the outcome."""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ImportJob(models.Model):
    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        PREVIEWED = "previewed", _("Previewed")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Duplicates(models.TextChoices):
        SKIP = "skip", _("Skip duplicates")
        UPDATE = "update", _("Update the existing record")
        CREATE = "create", _("Create anyway")

    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all_or_nothing", _("All or nothing: import only if every row is valid")
        GOOD_ROWS = "good_rows", _("Import the good rows, skip the bad ones")

    record_type = models.CharField(max_length=100, db_index=True)
    file = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file"), max_length=255)
    file_format = models.CharField(max_length=10)  # csv, xlsx, vcf
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    # {field: {unknown value as in the file, lower-cased: the value of ours it stands for}}
    value_mapping = models.JSONField(_("value mapping"), default=dict, blank=True)
    duplicates = models.CharField(_("duplicates"), max_length=10, choices=Duplicates.choices, default=Duplicates.SKIP)
    mode = models.CharField(_("when rows are invalid"), max_length=20, choices=Mode.choices, default=Mode.ALL_OR_NOTHING)
    assign_by_rules = models.BooleanField(_("assign using active rules"), default=False)
    campaign = models.ForeignKey("campaigns.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.UPLOADED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    # [{"row": 3, "errors": ["Email: Enter a valid email address."]}, ...]: one entry per bad row or card
    errors = models.JSONField(default=list, blank=True)
    # [{"row": 4, "message": "..."}]: what was read with a change (a dropped web address, a card without a name)
    warnings = models.JSONField(default=list, blank=True)
    # The dry run's findings for the page: {"unknown": {field: [values]}, "sample": [[cells]], "columns": [...]}
    preview = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return self.original_name

    @property
    def progress_percent(self) -> int:
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
