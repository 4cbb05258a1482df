"""Who people are and what they may do: users, the role hierarchy, permission
profiles with field-level security, teams, organisation-wide defaults,
sharing rules, login history and the append-only audit log."""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.Model):
    """A node in the role hierarchy. `path` is the materialised path of ids
    ("/1/4/9/") so "this role and everything below it" is one prefix match."""

    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey("self", verbose_name=_("reports to"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children")
    description = models.TextField(_("description"), blank=True)
    path = models.CharField(max_length=500, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["path"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self) -> str:
        return self.name

    def compute_path(self) -> tuple[str, int]:
        if self.parent_id:
            parent = Role.objects.only("path", "depth").get(pk=self.parent_id)
            return f"{parent.path}{self.pk}/", parent.depth + 1
        return f"/{self.pk}/", 0

    def subordinate_roles(self):
        return Role.objects.filter(path__startswith=self.path).exclude(pk=self.pk)


class PermissionProfile(models.Model):
    """What a user may do per record type, plus admin-only rights."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    is_admin = models.BooleanField(_("administrator"), default=False,
                                   help_text=_("Sees and edits every record and has every right."))
    manage_users = models.BooleanField(_("manage users"), default=False)
    manage_access = models.BooleanField(_("manage roles, profiles and sharing"), default=False)
    manage_customization = models.BooleanField(_("manage custom fields and picklists"), default=False)
    view_audit_log = models.BooleanField(_("view audit log and login history"), default=False)

    RIGHTS = ("manage_users", "manage_access", "manage_customization", "view_audit_log")

    class Meta:
        ordering = ["name"]
        verbose_name = _("permission profile")
        verbose_name_plural = _("permission profiles")

    def __str__(self) -> str:
        return self.name


class ObjectPermission(models.Model):
    ACTIONS = ("view", "create", "edit", "delete", "import", "export")

    profile = models.ForeignKey(PermissionProfile, on_delete=models.CASCADE, related_name="object_permissions")
    record_type = models.CharField(_("record type"), max_length=100)
    can_view = models.BooleanField(_("view"), default=True)
    can_create = models.BooleanField(_("create"), default=False)
    can_edit = models.BooleanField(_("edit"), default=False)
    can_delete = models.BooleanField(_("delete"), default=False)
    can_import = models.BooleanField(_("import"), default=False)
    can_export = models.BooleanField(_("export"), default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["profile", "record_type"], name="uniq_profile_record_type")]


class FieldAccess(models.TextChoices):
    HIDDEN = "hidden", _("Hidden")
    READ_ONLY = "read_only", _("Read only")


class FieldPermission(models.Model):
    """Field-level security: a field hidden or read-only for a profile.
    Custom fields are named `cf_<name>`."""

    profile = models.ForeignKey(PermissionProfile, on_delete=models.CASCADE, related_name="field_permissions")
    record_type = models.CharField(_("record type"), max_length=100)
    field_name = models.CharField(_("field"), max_length=100)
    access = models.CharField(_("access"), max_length=20, choices=FieldAccess.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["profile", "record_type", "field_name"], name="uniq_field_permission")]


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_queryset(self):
        # Every request reads the user's role and profile for visibility checks.
        return super().get_queryset().select_related("role", "profile")

    def choices(self, *, active_only: bool = True) -> list[tuple[int, str]]:
        """(id, name) pairs for a dropdown, as str(user) names them, from the user directory (no query)."""
        from crm.access.directory import choices

        return list(choices(active_only=active_only))

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class DateFormat(models.TextChoices):
    ISO = "Y-m-d", "2026-11-22"
    EUROPEAN = "d.m.Y", "22.11.2026"
    US = "m/d/Y", "11/22/2026"
    LONG = "j F Y", _("22 November 2026")


class User(AbstractBaseUser, PermissionsMixin):
    """A person who works in the CRM. Email is the login."""

    email = models.EmailField(_("email"), max_length=254, unique=True)  # stored lower-case
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    title = models.CharField(_("title"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    role = models.ForeignKey(Role, verbose_name=_("role"), null=True, blank=True, on_delete=models.PROTECT, related_name="users")
    profile = models.ForeignKey(PermissionProfile, verbose_name=_("permission profile"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="users")
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("Django admin access"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    # preferences
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="en")
    timezone = models.CharField(_("time zone"), max_length=64, default="UTC")
    date_format = models.CharField(_("date format"), max_length=20, choices=DateFormat.choices, default=DateFormat.ISO)
    use_jalali = models.BooleanField(_("Jalali calendar"), default=False,
                                     help_text=_("Show dates in the Persian (Jalali) calendar."))

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["first_name", "last_name"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name or self.email

    @property
    def is_crm_admin(self) -> bool:
        return self.is_superuser or bool(self.profile_id and self.profile.is_admin)

    def has_right(self, right: str) -> bool:
        if self.is_crm_admin:
            return True
        return bool(self.profile_id and getattr(self.profile, right, False))

    def can(self, record_type: str, action: str) -> bool:
        """Profile permission for an action on a record type (view/create/edit/delete/import/export)."""
        from crm.access.visibility import object_permissions

        if not self.is_active:
            return False
        if self.is_crm_admin:
            return True
        return action in object_permissions(self).get(record_type, frozenset())


class Team(models.Model):
    """A group of users. Sharing rules can target a team; a team that shares
    records lets each member see (or edit) what the other members own."""

    class Access(models.TextChoices):
        NONE = "none", _("Members do not share records")
        READ = "read", _("Members see each other's records")
        READ_WRITE = "read_write", _("Members see and edit each other's records")

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    leader = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("leader"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="led_teams")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("members"), blank=True, related_name="teams")
    record_access = models.CharField(_("record sharing"), max_length=20, choices=Access.choices, default=Access.NONE)

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class Access(models.TextChoices):
    PRIVATE = "private", _("Private")
    PUBLIC_READ = "public_read", _("Public read only")
    PUBLIC_READ_WRITE = "public_read_write", _("Public read/write")


class OrgDefault(models.Model):
    record_type = models.CharField(_("record type"), max_length=100, unique=True)
    access = models.CharField(_("default access"), max_length=20, choices=Access.choices, default=Access.PUBLIC_READ_WRITE)

    class Meta:
        verbose_name = _("organisation-wide default")
        verbose_name_plural = _("organisation-wide defaults")


class SharingRule(models.Model):
    class Kind(models.TextChoices):
        OWNER = "owner", _("Based on record owner")
        CRITERIA = "criteria", _("Based on criteria")

    class Target(models.TextChoices):
        ROLE = "role", _("Role")
        ROLE_AND_SUBORDINATES = "role_subordinates", _("Role and subordinates")
        TEAM = "team", _("Team")

    class Level(models.TextChoices):
        READ = "read", _("Read only")
        READ_WRITE = "read_write", _("Read/write")

    name = models.CharField(_("name"), max_length=150)
    record_type = models.CharField(_("record type"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OWNER)
    # owner-based
    source_role = models.ForeignKey(Role, verbose_name=_("records owned by role"), null=True, blank=True,
                                    on_delete=models.CASCADE, related_name="+")
    source_include_subordinates = models.BooleanField(_("and its subordinates"), default=False)
    # criteria-based: a condition of crm.core.conditions ({"all": [{"field": ..., "op": ..., "value": ...}]})
    criteria = models.JSONField(_("criteria"), default=dict, blank=True)
    # who gets access
    target_kind = models.CharField(_("share with"), max_length=30, choices=Target.choices, default=Target.ROLE)
    target_role = models.ForeignKey(Role, verbose_name=_("role"), null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    target_team = models.ForeignKey(Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    access_level = models.CharField(_("access"), max_length=20, choices=Level.choices, default=Level.READ)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["record_type", "name"]
        verbose_name = _("sharing rule")
        verbose_name_plural = _("sharing rules")

    def __str__(self) -> str:
        return self.name

    @property
    def criteria_text(self) -> str:
        from crm.core.conditions import describe

        return describe(self.criteria, self.record_type)


class LoginEvent(models.Model):
    class Outcome(models.TextChoices):
        SUCCESS = "success", _("Signed in")
        FAILURE = "failure", _("Wrong email or password")
        LOCKED_OUT = "locked_out", _("Locked out")
        OTP_FAILURE = "otp_failure", _("Wrong two-factor code")
        LOGOUT = "logout", _("Signed out")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="login_events")
    email = models.CharField(_("email"), max_length=254, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=500, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("login event")
        verbose_name_plural = _("login history")


class AuditLog(models.Model):
    """Append-only: a database trigger (migration 0002) refuses UPDATE and DELETE."""

    class Action(models.TextChoices):
        LOGIN = "login", _("Sign-in")
        LOGIN_FAILED = "login_failed", _("Failed sign-in")
        LOCKOUT = "lockout", _("Account locked")
        LOGOUT = "logout", _("Sign-out")
        PASSWORD_CHANGED = "password_changed", _("Password changed")
        USER_CHANGED = "user_changed", _("User changed")
        ROLE_CHANGED = "role_changed", _("Role changed")
        PROFILE_CHANGED = "profile_changed", _("Profile changed")
        TEAM_CHANGED = "team_changed", _("Team changed")
        SHARING_CHANGED = "sharing_changed", _("Sharing changed")
        CUSTOMIZATION_CHANGED = "customization_changed", _("Customization changed")
        IMPORT = "import", _("Import")
        EXPORT = "export", _("Export")

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
                              db_constraint=False, related_name="+")
    actor_email = models.CharField(_("actor"), max_length=254, blank=True)
    action = models.CharField(_("action"), max_length=40, choices=Action.choices, db_index=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    target_type = models.CharField(_("target type"), max_length=100, blank=True)
    target_id = models.CharField(_("target id"), max_length=64, blank=True)
    target_repr = models.CharField(_("target"), max_length=255, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("time (UTC)"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
