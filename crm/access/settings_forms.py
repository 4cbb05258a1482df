"""Forms and list filters of the admins' /settings/ area."""
from __future__ import annotations

import zoneinfo

import django_filters
from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from crm.access.models import (
    Access,
    AuditLog,
    FieldAccess,
    LoginEvent,
    ObjectPermission,
    PermissionProfile,
    Role,
    SharingRule,
    Team,
    User,
)
from crm.core import records
from crm.core.forms import ConditionField

ACTION_LABELS = {
    "view": _("View"), "create": _("Create"), "edit": _("Edit"),
    "delete": _("Delete"), "import": _("Import"), "export": _("Export"),
}


def timezone_choices() -> list[tuple[str, str]]:
    return [(tz, tz) for tz in sorted(zoneinfo.available_timezones())]


def record_type_choices() -> list[tuple[str, str]]:
    return [(rt.key, str(rt.label_plural).capitalize()) for rt in records.all_types()]


def field_label(rt, name: str) -> str:
    try:
        return str(rt.model_field(name).verbose_name).capitalize()
    except Exception:  # noqa: BLE001 - a registered name that is not a concrete field
        return name.replace("_", " ").capitalize()


def record_type_field_choices(record_type: str) -> list[tuple[str, str]]:
    """Fields of a type for rules and field-level security: model fields and active custom fields."""
    from crm.customization.models import CustomField

    rt = records.get(record_type)
    choices = [(name, field_label(rt, name)) for name in rt.fields]
    choices += [(cf.key, f"{cf.display_label} ({_('custom')})")
                for cf in CustomField.objects.filter(record_type=record_type, is_active=True)]
    return choices


# --- users ----------------------------------------------------------------------------------

class UserFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    is_active = django_filters.ChoiceFilter(
        label=_("Status"), empty_label=_("All"),
        choices=[("1", _("Active")), ("0", _("Inactive"))], method="filter_active")
    role = django_filters.ModelChoiceFilter(label=_("Role"), queryset=Role.objects.all())
    profile = django_filters.ModelChoiceFilter(label=_("Permission profile"), queryset=PermissionProfile.objects.all())

    class Meta:
        model = User
        fields = ["q", "is_active", "role", "profile"]

    def search(self, queryset, name, value):
        from django.db.models import Q

        for word in value.split():
            queryset = queryset.filter(Q(email__icontains=word) | Q(first_name__icontains=word)
                                       | Q(last_name__icontains=word) | Q(title__icontains=word))
        return queryset

    def filter_active(self, queryset, name, value):
        return queryset.filter(is_active=value == "1")


class UserForm(forms.ModelForm):
    PASSWORD_SET = "set"
    PASSWORD_EMAIL = "email"

    teams = forms.ModelMultipleChoiceField(label=_("Teams"), queryset=Team.objects.all(), required=False,
                                           widget=forms.CheckboxSelectMultiple)
    timezone = forms.ChoiceField(label=_("Time zone"), choices=timezone_choices)
    password_mode = forms.ChoiceField(
        label=_("Password"), widget=forms.RadioSelect, initial=PASSWORD_EMAIL,
        choices=[(PASSWORD_EMAIL, _("Email the user a link to set a password")),
                 (PASSWORD_SET, _("Set an initial password now"))])
    password = forms.CharField(label=_("Initial password"), required=False, strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    class Meta:
        model = User
        fields = ["email", "first_name", "last_name", "title", "phone", "role", "profile",
                  "language", "timezone", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["teams"].initial = list(self.instance.teams.values_list("pk", flat=True))
            # Passwords of existing users are changed by the user or by the reset email.
            del self.fields["password_mode"], self.fields["password"]

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("Another user already has this email address."))
        return email

    def clean(self):
        data = super().clean()
        if data.get("password_mode") == self.PASSWORD_SET:
            password = data.get("password")
            if not password:
                self.add_error("password", _("Enter the initial password, or choose to email a link."))
            else:
                try:
                    password_validation.validate_password(password, User(email=data.get("email", "")))
                except forms.ValidationError as error:
                    self.add_error("password", error)
        return data


# --- roles ----------------------------------------------------------------------------------

class RoleForm(forms.ModelForm):
    class Meta:
        model = Role
        fields = ["name", "parent", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        parents = Role.objects.all()
        if self.instance.pk:
            # A role cannot report to itself or anything below it (the service refuses it too).
            parents = parents.exclude(path__startswith=self.instance.path)
        self.fields["parent"].queryset = parents
        self.fields["parent"].empty_label = _("(top of the hierarchy)")


# --- profiles -------------------------------------------------------------------------------

class ProfileForm(forms.ModelForm):
    """Name, rights and the record-type matrix (one checkbox per type × action)."""

    class Meta:
        model = PermissionProfile
        fields = ["name", "description", "is_admin", *PermissionProfile.RIGHTS]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        existing = {}
        if self.instance.pk:
            existing = {row.record_type: row for row in ObjectPermission.objects.filter(profile=self.instance)}
        self.matrix = []
        for rt in records.all_types():
            row = existing.get(rt.key)
            cells = []
            for action in ObjectPermission.ACTIONS:
                name = self.perm_name(rt.key, action)
                self.fields[name] = forms.BooleanField(
                    required=False, label=f"{ACTION_LABELS[action]} {rt.label_plural}",
                    initial=bool(row and getattr(row, f"can_{action}")))
                cells.append(name)
            self.matrix.append((rt, cells))

    @staticmethod
    def perm_name(key: str, action: str) -> str:
        return f"perm__{key}__{action}"

    def matrix_rows(self):
        return [(rt, [self[name] for name in cells]) for rt, cells in self.matrix]

    def permissions(self) -> dict[str, set[str]]:
        return {rt.key: {a for a in ObjectPermission.ACTIONS if self.cleaned_data.get(self.perm_name(rt.key, a))}
                for rt, _cells in self.matrix}

    def clean(self):
        data = super().clean()
        for rt, _cells in self.matrix:
            granted = [a for a in ObjectPermission.ACTIONS if data.get(self.perm_name(rt.key, a))]
            if granted and "view" not in granted:
                self.add_error(None, _("%(type)s: every other action needs View.") % {"type": str(rt.label_plural).capitalize()})
        return data

    def model_fields(self):
        return {k: self.cleaned_data[k] for k in self._meta.fields}


class FieldSecurityForm(forms.Form):
    LEVELS = [("", _("Editable")), (FieldAccess.READ_ONLY, _("Read only")), (FieldAccess.HIDDEN, _("Hidden"))]

    def __init__(self, *args, profile, record_type: str, **kwargs):
        from crm.access.models import FieldPermission

        super().__init__(*args, **kwargs)
        current = dict(FieldPermission.objects.filter(profile=profile, record_type=record_type)
                       .values_list("field_name", "access"))
        self.names = []
        for name, label in record_type_field_choices(record_type):
            self.fields[f"fls__{name}"] = forms.ChoiceField(label=label, choices=self.LEVELS, required=False, widget=forms.RadioSelect,
                                                          initial=current.get(name, ""))
            self.names.append(name)

    def rows(self):
        return [(name, self[f"fls__{name}"]) for name in self.names]

    def access(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(f"fls__{name}") or "" for name in self.names}


# --- teams ----------------------------------------------------------------------------------

class TeamForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name", "description", "leader", "members", "record_access"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2}), "members": forms.SelectMultiple(attrs={"size": 10})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["leader"].queryset = User.objects.filter(is_active=True)
        self.fields["members"].queryset = User.objects.filter(is_active=True)

    def clean(self):
        data = super().clean()
        leader, members = data.get("leader"), data.get("members")
        if leader and members is not None and leader not in members:
            self.add_error("leader", _("The leader must be one of the members."))
        return data


# --- organisation-wide defaults --------------------------------------------------------------

class OrgDefaultsForm(forms.Form):
    def __init__(self, *args, current: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.types = records.all_types()
        for rt in self.types:
            self.fields[rt.key] = forms.ChoiceField(
                label=str(rt.label_plural).capitalize(), choices=Access.choices, widget=forms.RadioSelect,
                initial=current.get(rt.key, Access.PUBLIC_READ_WRITE))


# --- sharing rules ----------------------------------------------------------------------------

class SharingRuleForm(forms.ModelForm):
    criteria = ConditionField(label=_("Records where"), sql=True)

    class Meta:
        model = SharingRule
        fields = ["name", "kind", "source_role", "source_include_subordinates", "criteria", "target_kind",
                  "target_role", "target_team", "access_level", "is_active"]

    def __init__(self, *args, record_type: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.record_type = record_type
        self.fields["criteria"].set_record_type(record_type)
        self.fields["kind"].widget = forms.RadioSelect(choices=SharingRule.Kind.choices)

    def clean(self):
        data = super().clean()
        if data.get("kind") == SharingRule.Kind.OWNER:
            if not data.get("source_role"):
                self.add_error("source_role", _("Owner-based rules need the role whose records are shared."))
        elif data.get("kind") == SharingRule.Kind.CRITERIA and "criteria" in data:
            from crm.core.conditions import leaves

            if not leaves(data["criteria"]):
                self.add_error("criteria", _("Criteria-based rules need at least one condition."))
        target = data.get("target_kind")
        if target in (SharingRule.Target.ROLE, SharingRule.Target.ROLE_AND_SUBORDINATES) and not data.get("target_role"):
            self.add_error("target_role", _("Choose the role to share with."))
        if target == SharingRule.Target.TEAM and not data.get("target_team"):
            self.add_error("target_team", _("Choose the team to share with."))
        return data

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        # Keep only what the chosen kind and target use, so a rule never carries stale settings.
        if data["kind"] == SharingRule.Kind.OWNER:
            data.update(criteria={})
        else:
            data.update(source_role=None, source_include_subordinates=False)
        if data["target_kind"] == SharingRule.Target.TEAM:
            data["target_role"] = None
        else:
            data["target_team"] = None
        data["record_type"] = self.record_type
        return data


# --- explain ----------------------------------------------------------------------------------

class ExplainForm(forms.Form):
    user = forms.ModelChoiceField(label=_("User"), queryset=User.objects.order_by("email"))
    type = forms.ChoiceField(label=_("Record type"), choices=record_type_choices)
    id = forms.CharField(label=_("Record id"), max_length=64)


# --- login history and audit log ----------------------------------------------------------------

class DateRangeMixin:
    def filter_from(self, queryset, name, value):
        return queryset.filter(created_at__date__gte=value)

    def filter_to(self, queryset, name, value):
        return queryset.filter(created_at__date__lte=value)


DATE_WIDGET = forms.DateInput(attrs={"type": "date"})


class LoginEventFilter(DateRangeMixin, django_filters.FilterSet):
    user = django_filters.CharFilter(label=_("User or email"), method="filter_user")
    outcome = django_filters.ChoiceFilter(label=_("Outcome"), choices=LoginEvent.Outcome.choices, empty_label=_("All"))
    date_from = django_filters.DateFilter(label=_("From"), method="filter_from", widget=DATE_WIDGET)
    date_to = django_filters.DateFilter(label=_("To"), method="filter_to", widget=DATE_WIDGET)

    class Meta:
        model = LoginEvent
        fields = ["user", "outcome", "date_from", "date_to"]

    def filter_user(self, queryset, name, value):
        from django.db.models import Q

        return queryset.filter(Q(email__icontains=value) | Q(user__email__icontains=value))


class AuditLogFilter(DateRangeMixin, django_filters.FilterSet):
    actor = django_filters.CharFilter(label=_("Actor email"), field_name="actor_email", lookup_expr="icontains")
    action = django_filters.ChoiceFilter(label=_("Action"), choices=AuditLog.Action.choices, empty_label=_("All"))
    date_from = django_filters.DateFilter(label=_("From"), method="filter_from", widget=DATE_WIDGET)
    date_to = django_filters.DateFilter(label=_("To"), method="filter_to", widget=DATE_WIDGET)
    q = django_filters.CharFilter(label=_("Target contains"), field_name="target_repr", lookup_expr="icontains")

    class Meta:
        model = AuditLog
        fields = ["actor", "action", "date_from", "date_to", "q"]
