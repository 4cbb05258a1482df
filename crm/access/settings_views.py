"""The admins' /settings/ area: users, roles, profiles, teams, organisation-wide
defaults, sharing rules, "why can this user see this?", login history and the
audit log. Each section needs one profile right; without it the page is a 404."""
from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.access import services, visibility
from crm.access.models import Access, AuditLog, LoginEvent, OrgDefault, PermissionProfile, Role, SharingRule, Team, User
from crm.access.settings_forms import (
    AuditLogFilter,
    ExplainForm,
    FieldSecurityForm,
    LoginEventFilter,
    OrgDefaultsForm,
    ProfileForm,
    RoleForm,
    SharingRuleForm,
    TeamForm,
    UserFilter,
    UserForm,
)
from crm.core import records
from crm.core.settings_sections import sections

PAGE_SIZE = 50

SETTINGS_RIGHTS = tuple(PermissionProfile.RIGHTS)


def sections_for(user) -> list[dict]:
    """The settings sections `user` has the right for (apps register them: crm.core.settings_sections)."""
    return [{"key": s.key, "label": s.label, "icon": s.icon, "url": reverse(s.url_name)}
            for s in sections() if user.has_right(s.right)]


def right_required(*rights: str):
    """Sign-in plus one of `rights`; anyone else gets a 404, so the settings area
    does not even admit it exists to users who may not use it."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not any(request.user.has_right(r) for r in rights):
                raise Http404
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


class RightRequiredMixin(LoginRequiredMixin):
    """The class-based twin of `right_required`: set `required_rights = ("manage_access",)`."""

    required_rights: tuple[str, ...] = ()

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not any(request.user.has_right(r) for r in self.required_rights):
            raise Http404
        return super().dispatch(request, *args, **kwargs)


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def render_settings(request, template: str, context: dict, *, section: str):
    context.update(settings_sections=sections_for(request.user), settings_section=section)
    return render(request, template, context)


def form_copy(obj):
    """A separate instance for a ModelForm: validation writes the posted values into
    its instance, and the service must still see the saved values to audit before/after."""
    return type(obj)._default_manager.get(pk=obj.pk) if obj is not None else None


def paginate(request, queryset):
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


@right_required(*SETTINGS_RIGHTS)
def index(request):
    return render_settings(request, "settings/index.html", {}, section="index")


# --- users --------------------------------------------------------------------------------------

USER_SORTS = {
    "name": ("first_name", "last_name", "email"),
    "email": ("email",),
    "role": ("role__name", "first_name"),
    "profile": ("profile__name", "first_name"),
    "last_login": ("last_login", "email"),
}


@right_required("manage_users")
def user_list(request):
    sort = request.GET.get("sort", "name")
    key = sort.removeprefix("-")
    if key not in USER_SORTS:
        sort, key = "name", "name"
    order = [f"-{f}" if sort.startswith("-") else f for f in USER_SORTS[key]]
    filterset = UserFilter(request.GET, queryset=User.objects.order_by(*order))
    page, query = paginate(request, filterset.qs)
    sort_query = request.GET.copy()
    for name in ("sort", "page"):
        sort_query.pop(name, None)
    ctx = {"filter": filterset, "page": page, "query": query, "sort": sort, "sort_query": sort_query.urlencode()}
    if request.htmx:
        return render(request, "settings/user_list.html#results", ctx)
    return render_settings(request, "settings/user_list.html", ctx, section="users")


def _user_fields(form) -> dict:
    return {k: form.cleaned_data[k] for k in UserForm._meta.fields}


@right_required("manage_users")
def user_create(request):
    form = UserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        set_password = form.cleaned_data["password_mode"] == UserForm.PASSWORD_SET
        user = services.user_create(
            actor=request.user, ip=client_ip(request), teams=form.cleaned_data["teams"],
            password=form.cleaned_data["password"] if set_password else None, **_user_fields(form))
        if not set_password:
            services.user_send_password_reset(user=user, request=request)
            messages.success(request, _("User %(user)s created; a link to set the password was emailed.") % {"user": user})
        else:
            messages.success(request, _("User %(user)s created.") % {"user": user})
        return redirect("settings:user_edit", pk=user.pk)
    return render_settings(request, "settings/user_form.html", {"form": form}, section="users")


@right_required("manage_users")
def user_edit(request, pk):
    user = get_object_or_404(User, pk=pk)
    # The form gets its own copy: an invalid POST must not relabel the page header.
    form = UserForm(request.POST or None, instance=form_copy(user))
    if request.method == "POST" and form.is_valid():
        fields = _user_fields(form)
        if user == request.user:
            fields.pop("is_active")  # nobody locks themselves out of the settings by accident
        services.user_update(actor=request.user, user=user, ip=client_ip(request),
                             teams=form.cleaned_data["teams"], **fields)
        messages.success(request, _("User %(user)s saved.") % {"user": user})
        return redirect("settings:user_edit", pk=user.pk)
    ctx = {"form": form, "object": user, "locked_out": services.user_is_locked_out(user)}
    return render_settings(request, "settings/user_form.html", ctx, section="users")


@right_required("manage_users")
@require_POST
def user_set_active(request, pk):
    user = get_object_or_404(User, pk=pk)
    active = request.POST.get("active") == "1"
    if user == request.user and not active:
        messages.error(request, _("You cannot deactivate your own account."))
    else:
        services.user_set_active(actor=request.user, user=user, active=active, ip=client_ip(request))
        messages.success(request, (_("%(user)s is active again.") if active
                                   else _("%(user)s is deactivated and signed out everywhere.")) % {"user": user})
    return redirect("settings:user_edit", pk=user.pk)


@right_required("manage_users")
@require_POST
def user_unlock(request, pk):
    user = get_object_or_404(User, pk=pk)
    services.user_unlock(actor=request.user, user=user, ip=client_ip(request))
    messages.success(request, _("%(user)s can sign in again.") % {"user": user})
    return redirect("settings:user_edit", pk=user.pk)


@right_required("manage_users")
@require_POST
def user_password_reset(request, pk):
    user = get_object_or_404(User, pk=pk, is_active=True)
    services.user_send_password_reset(user=user, request=request)
    messages.success(request, _("A link to set a new password was emailed to %(email)s.") % {"email": user.email})
    return redirect("settings:user_edit", pk=user.pk)


# --- roles --------------------------------------------------------------------------------------

def role_tree() -> list[dict]:
    """The hierarchy as nested dicts, from one query ordered by materialised path."""
    roles = Role.objects.annotate(user_count=Count("users")).order_by("path")
    nodes = {role.pk: {"role": role, "children": []} for role in roles}
    tree = []
    for role in roles:
        parent = nodes.get(role.parent_id)
        (parent["children"] if parent else tree).append(nodes[role.pk])
    return tree


@right_required("manage_access")
def role_list(request):
    return render_settings(request, "settings/role_list.html", {"tree": role_tree()}, section="roles")


@right_required("manage_access")
def role_form(request, pk=None):
    role = get_object_or_404(Role, pk=pk) if pk else None
    initial = {}
    if role is None and request.GET.get("parent"):
        initial["parent"] = Role.objects.filter(pk=request.GET["parent"]).first()
    form = RoleForm(request.POST or None, instance=form_copy(role), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if role is None:
                role = services.role_create(actor=request.user, ip=client_ip(request), name=data["name"],
                                            parent=data["parent"], description=data["description"])
            else:
                services.role_update(actor=request.user, ip=client_ip(request), role=role, name=data["name"],
                                     parent=data["parent"], description=data["description"])
        except ValueError:
            form.add_error("parent", _("A role cannot report to itself or to a role below it."))
        else:
            messages.success(request, _("Role %(role)s saved.") % {"role": role})
            return redirect("settings:roles")
    return render_settings(request, "settings/role_form.html", {"form": form, "object": role}, section="roles")


@right_required("manage_access")
@require_POST
def role_delete(request, pk):
    role = get_object_or_404(Role, pk=pk)
    try:
        services.role_delete(actor=request.user, role=role, ip=client_ip(request))
    except ValueError as error:
        if str(error) == "users":
            messages.error(request, _("%(role)s still has users: move them to another role first.") % {"role": role})
        else:
            messages.error(request, _("%(role)s has roles below it: move or delete them first.") % {"role": role})
    else:
        messages.success(request, _("Role %(role)s deleted.") % {"role": role})
    return redirect("settings:roles")


# --- permission profiles --------------------------------------------------------------------------

@right_required("manage_access")
def profile_list(request):
    profiles = PermissionProfile.objects.annotate(user_count=Count("users")).order_by("name")
    return render_settings(request, "settings/profile_list.html", {"profiles": profiles}, section="profiles")


@right_required("manage_access")
def profile_form(request, pk=None):
    profile = get_object_or_404(PermissionProfile, pk=pk) if pk else None
    form = ProfileForm(request.POST or None, instance=form_copy(profile))
    if request.method == "POST" and form.is_valid():
        profile = services.profile_save(actor=request.user, profile=profile, ip=client_ip(request),
                                        permissions=form.permissions(), **form.model_fields())
        messages.success(request, _("Profile %(profile)s saved.") % {"profile": profile})
        return redirect("settings:profile_edit", pk=profile.pk)
    ctx = {"form": form, "object": profile, "record_types": records.all_types(),
           "actions": ["view", "create", "edit", "delete", "import", "export"]}
    return render_settings(request, "settings/profile_form.html", ctx, section="profiles")


@right_required("manage_access")
def profile_fields(request, pk, record_type):
    profile = get_object_or_404(PermissionProfile, pk=pk)
    try:
        rt = records.get(record_type)
    except KeyError:
        raise Http404 from None
    form = FieldSecurityForm(request.POST or None, profile=profile, record_type=record_type)
    if request.method == "POST" and form.is_valid():
        services.profile_field_access_set(actor=request.user, profile=profile, record_type=record_type,
                                          access=form.access(), ip=client_ip(request))
        messages.success(request, _("Field access saved."))
        return redirect("settings:profile_fields", pk=profile.pk, record_type=record_type)
    ctx = {"form": form, "object": profile, "record_type": rt, "record_types": records.all_types()}
    return render_settings(request, "settings/profile_fields.html", ctx, section="profiles")


# --- teams ----------------------------------------------------------------------------------------

@right_required("manage_access")
def team_list(request):
    teams = Team.objects.select_related("leader").annotate(member_count=Count("members")).order_by("name")
    return render_settings(request, "settings/team_list.html", {"teams": teams}, section="teams")


@right_required("manage_access")
def team_form(request, pk=None):
    team = get_object_or_404(Team, pk=pk) if pk else None
    form = TeamForm(request.POST or None, instance=form_copy(team))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        team = services.team_save(actor=request.user, team=team, ip=client_ip(request), members=data["members"],
                                  **{k: data[k] for k in ("name", "description", "leader", "record_access")})
        messages.success(request, _("Team %(team)s saved.") % {"team": team})
        return redirect("settings:teams")
    return render_settings(request, "settings/team_form.html", {"form": form, "object": team}, section="teams")


@right_required("manage_access")
@require_POST
def team_delete(request, pk):
    team = get_object_or_404(Team, pk=pk)
    services.team_delete(actor=request.user, team=team, ip=client_ip(request))
    messages.success(request, _("Team %(team)s deleted.") % {"team": team})
    return redirect("settings:teams")


# --- organisation-wide defaults ------------------------------------------------------------------------

@right_required("manage_access")
def org_defaults(request):
    current = dict(OrgDefault.objects.values_list("record_type", "access"))
    form = OrgDefaultsForm(request.POST or None, current=current)
    if request.method == "POST" and form.is_valid():
        for key, access in form.cleaned_data.items():
            if current.get(key, Access.PUBLIC_READ_WRITE) != access:
                services.org_default_set(actor=request.user, record_type=key, access=access, ip=client_ip(request))
        messages.success(request, _("Organisation-wide defaults saved."))
        return redirect("settings:org_defaults")
    return render_settings(request, "settings/org_defaults.html", {"form": form}, section="org_defaults")


# --- sharing rules ----------------------------------------------------------------------------------------

@right_required("manage_access")
def sharing_rule_list(request):
    rules = SharingRule.objects.select_related("source_role", "target_role", "target_team").order_by("record_type", "name")
    by_type = {rt.key: {"type": rt, "rules": []} for rt in records.all_types()}
    for rule in rules:
        if rule.record_type in by_type:
            by_type[rule.record_type]["rules"].append(rule)
    return render_settings(request, "settings/sharing_rule_list.html", {"groups": list(by_type.values())}, section="sharing")


@right_required("manage_access")
def sharing_rule_form(request, record_type=None, pk=None):
    rule = get_object_or_404(SharingRule, pk=pk) if pk else None
    record_type = rule.record_type if rule else record_type
    try:
        rt = records.get(record_type)
    except KeyError:
        raise Http404 from None
    form = SharingRuleForm(request.POST or None, instance=form_copy(rule), record_type=record_type)
    if request.method == "POST" and form.is_valid():
        rule = services.sharing_rule_save(actor=request.user, rule=rule, ip=client_ip(request), **form.service_fields())
        messages.success(request, _("Sharing rule %(rule)s saved.") % {"rule": rule})
        return redirect("settings:sharing_rules")
    ctx = {"form": form, "object": rule, "record_type": rt}
    return render_settings(request, "settings/sharing_rule_form.html", ctx, section="sharing")


@right_required("manage_access")
@require_POST
def sharing_rule_delete(request, pk):
    rule = get_object_or_404(SharingRule, pk=pk)
    services.sharing_rule_delete(actor=request.user, rule=rule, ip=client_ip(request))
    messages.success(request, _("Sharing rule %(rule)s deleted.") % {"rule": rule})
    return redirect("settings:sharing_rules")


# --- why can this user see this? ---------------------------------------------------------------------------

@right_required("manage_access")
def explain(request):
    # Record pages link here with ?type=&id= and no user yet: prefill, do not show errors.
    if request.GET.get("user"):
        form = ExplainForm(request.GET)
    else:
        form = ExplainForm(initial={k: request.GET.get(k) for k in ("type", "id") if request.GET.get(k)})
    result = None
    if form.is_bound and form.is_valid():
        subject, rt = form.cleaned_data["user"], records.get(form.cleaned_data["type"])
        try:
            record = rt.model._default_manager.filter(pk=form.cleaned_data["id"]).first()
        except (ValueError, TypeError, Exception):  # noqa: BLE001 - a malformed id is "not found"
            record = None
        if record is None:
            form.add_error("id", _("There is no %(type)s with this id.") % {"type": rt.label})
        else:
            result = {
                "subject": subject, "record": record, "record_type": rt,
                "actions": [
                    (_("View"), visibility.explain(subject, record, "view"), subject.can(rt.key, "view")),
                    (_("Edit"), visibility.explain(subject, record, "edit"), subject.can(rt.key, "edit")),
                ],
            }
            try:
                result["record_url"] = rt.detail_url(record.pk)
            except Exception:  # noqa: BLE001 - the detail page may not exist yet
                result["record_url"] = ""
    return render_settings(request, "settings/explain.html", {"form": form, "result": result}, section="explain")


# --- login history and audit log ---------------------------------------------------------------------------

@right_required("view_audit_log")
def login_history(request):
    filterset = LoginEventFilter(request.GET, queryset=LoginEvent.objects.select_related("user").order_by("-created_at"))
    page, query = paginate(request, filterset.qs)
    ctx = {"filter": filterset, "page": page, "query": query}
    return render_settings(request, "settings/login_history.html", ctx, section="login_history")


@right_required("view_audit_log")
def audit_log(request):
    filterset = AuditLogFilter(request.GET, queryset=AuditLog.objects.order_by("-created_at"))
    page, query = paginate(request, filterset.qs)
    ctx = {"filter": filterset, "page": page, "query": query}
    return render_settings(request, "settings/audit_log.html", ctx, section="audit_log")
