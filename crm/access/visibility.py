"""Who sees and edits which records, decided in SQL.

`filter_visible(qs, user, action)` is behind every `Model.objects.visible_to()`.
It ORs together the grants that apply to the user (owner, role hierarchy,
sharing rules, teams); `explain()` checks the very same grants one by one to
answer "why can this user see this record?".
"""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext as _

from crm.access.models import Access, FieldPermission, ObjectPermission, OrgDefault, SharingRule, Team, User
from crm.core.config_cache import ConfigCache

# Permissions, field access, org defaults, sharing rules and team membership: read once per process and
# configuration change, not on every request (each services change calls clear_caches()).
access_config = ConfigCache("access")


def record_type_key(model) -> str:
    meta = model._meta
    return f"{meta.app_label}.{meta.model_name}"


def org_default(record_type: str) -> str:
    defaults = access_config.get("org-defaults", lambda: dict(OrgDefault.objects.values_list("record_type", "access")))
    return defaults.get(record_type, Access.PUBLIC_READ_WRITE)


def clear_caches() -> None:
    """Called by every service that changes defaults, profiles, roles, teams, users' teams or rules."""
    access_config.changed()


def _memo(user, name, compute):
    # Per-request memo on the user instance: the request's user lives for one request.
    store = user.__dict__.setdefault("_access_memo", {})
    if name not in store:
        store[name] = compute()
    return store[name]


def object_permissions(user) -> dict[str, frozenset[str]]:
    def compute():
        perms = {}
        for row in ObjectPermission.objects.filter(profile_id=user.profile_id):
            perms[row.record_type] = frozenset(a for a in ObjectPermission.ACTIONS if getattr(row, f"can_{a}"))
        return perms

    if not user.profile_id:
        return {}
    return _memo(user, "object_permissions", lambda: access_config.get(("object-permissions", user.profile_id), compute))


# Fields computed from others ({record type: {source field: (derived fields)}}): hiding the source hides them
# too, or an opportunity's hidden amount would show as its corporate amount and expected revenue.
_derived: dict[str, dict[str, tuple[str, ...]]] = {}


def register_derived_fields(record_type: str, source: str, derived: tuple[str, ...]) -> None:
    """Declare that `derived` fields of `record_type` are computed from `source` (from the app's ready())."""
    _derived.setdefault(record_type, {})[source] = tuple(derived)


def field_access(user, record_type: str) -> dict[str, str]:
    """{field_name: "hidden" | "read_only"} for this user's profile; a hidden field hides what is derived
    from it (`register_derived_fields`)."""
    if user.is_crm_admin or not user.profile_id:
        return {}

    def compute():
        result: dict[str, dict[str, str]] = {}
        for rt, field, access in FieldPermission.objects.filter(profile_id=user.profile_id).values_list(
            "record_type", "field_name", "access"
        ):
            result.setdefault(rt, {})[field] = access
        for rt, access in result.items():
            for source, derived in _derived.get(rt, {}).items():
                if access.get(source) == "hidden":
                    access.update({name: "hidden" for name in derived})
        return result

    return _memo(user, "field_access",
                 lambda: access_config.get(("field-access", user.profile_id), compute)).get(record_type, {})


@dataclass(frozen=True)
class Grant:
    reason: str  # "owner", "hierarchy", "sharing_rule", "team", "org_default", "admin"
    label: str  # shown to admins
    condition: Q | None  # on the record; None with no owners either = every record
    owners: Q | None = None  # for grants by who owns the record: the owners, as a condition on User

    @property
    def every(self) -> bool:
        return self.condition is None and self.owners is None

    @property
    def q(self) -> Q | None:
        """The grant as a condition on the record (None = every record). Built only when asked for:
        filter_visible reads `owners` and never needs the sub-select."""
        if self.condition is None and self.owners is not None:
            return Q(owner_id__in=User.objects.filter(self.owners).values("id"))
        return self.condition


def _by_owner(reason: str, label: str, owners: Q) -> Grant:
    return Grant(reason, label, None, owners)


def _user_teams(user) -> list[Team]:
    return _memo(user, "teams", lambda: access_config.get(("teams", user.pk), lambda: list(user.teams.all())))


def _rules_for(user, record_type: str) -> list[SharingRule]:
    """Active sharing rules on this record type whose target includes the user."""

    def compute():
        return list(SharingRule.objects.filter(is_active=True).select_related("source_role", "target_role"))

    team_ids = {t.pk for t in _user_teams(user)}
    role = user.role if user.role_id else None
    applicable = []
    for rule in access_config.get("sharing-rules", compute):
        if rule.record_type != record_type:
            continue
        if rule.target_kind == SharingRule.Target.TEAM:
            hit = rule.target_team_id in team_ids
        elif role is None or rule.target_role is None:
            hit = False
        elif rule.target_kind == SharingRule.Target.ROLE:
            hit = rule.target_role_id == role.pk
        else:  # role and subordinates
            hit = role.path.startswith(rule.target_role.path)
        if hit:
            applicable.append(rule)
    return applicable


def _roles_below(path: str, *, exclude_role_id=None) -> Q:
    """Users whose role is at `path` or under it (a condition on User)."""
    users = Q(role__path__startswith=path)
    return users & ~Q(role_id=exclude_role_id) if exclude_role_id else users


def rule_owners(rule: SharingRule) -> Q | None:
    """For an owner-based rule, the owners whose records it shares (a condition on User)."""
    if rule.kind != SharingRule.Kind.OWNER:
        return None
    if rule.source_role is None:
        return Q(pk__in=[])
    if rule.source_include_subordinates:
        return _roles_below(rule.source_role.path)
    return Q(role_id=rule.source_role_id)


def rule_q(rule: SharingRule) -> Q:
    owners = rule_owners(rule)
    if owners is not None:
        return Q(owner_id__in=User.objects.filter(owners).values("id"))
    from crm.core import conditions, records

    try:
        model = records.get(rule.record_type).model
    except KeyError:
        return Q(pk__in=[])
    return conditions.to_q(rule.criteria, model)


def grants(user, record_type: str, action: str) -> list[Grant]:
    """Every grant through which `user` reaches records of `record_type`."""
    if user.is_crm_admin:
        return [Grant("admin", _("Administrator: sees every record"), None)]
    default = org_default(record_type)
    if default == Access.PUBLIC_READ_WRITE or (action == "view" and default == Access.PUBLIC_READ):
        return [Grant("org_default", _("Organisation-wide default: %(access)s") % {"access": Access(default).label}, None)]

    result = [Grant("owner", _("Owner of the record"), Q(owner_id=user.pk), Q(pk=user.pk))]
    if user.role_id:
        role = user.role
        result.append(_by_owner(
            "hierarchy",
            _("Role hierarchy: the owner's role is below %(role)s") % {"role": role.name},
            _roles_below(role.path, exclude_role_id=role.pk),
        ))
    for rule in _rules_for(user, record_type):
        if action == "edit" and rule.access_level != SharingRule.Level.READ_WRITE:
            continue
        label = _("Sharing rule: %(name)s") % {"name": rule.name}
        owners = rule_owners(rule)
        result.append(_by_owner("sharing_rule", label, owners) if owners is not None else Grant("sharing_rule", label, rule_q(rule)))
    for team in _user_teams(user):
        if team.record_access == Team.Access.READ_WRITE or (action == "view" and team.record_access == Team.Access.READ):
            result.append(_by_owner("team", _("Team: %(name)s") % {"name": team.name}, Q(teams=team)))
    return result


def _action_permission(action: str) -> str:
    return "edit" if action == "edit" else "view"


def filter_visible(qs, user, action: str = "view"):
    if user is None or not user.is_authenticated or not user.is_active:
        return qs.none()
    record_type = record_type_key(qs.model)
    if not user.can(record_type, _action_permission(action)):
        return qs.none()
    # Every grant by owner (own records, the hierarchy, owner-based sharing rules, teams) becomes one
    # `owner_id IN (<ids>)`: ORed separately they would force a scan of the whole table, and with the ids
    # as constants (one small query on users) PostgreSQL combines the owner index with the other
    # conditions' indexes (search, filters) instead of repeating them once per owner.
    # Criteria-based rules are ORed alongside.
    owners, others = None, []
    for grant in grants(user, record_type, action):
        if grant.every:
            return qs
        if grant.owners is not None:
            owners = grant.owners if owners is None else owners | grant.owners
        else:
            others.append(grant.condition)
    combined = None
    if owners is not None:
        # Keyed by the condition, not the type: most types reach the same owners (own and hierarchy), and a
        # record page that shows several types asks once.
        # Cached while neither the access configuration (roles, teams) nor any user changes.
        from crm.access.directory import users_config

        def reached():
            return access_config.get(("owners", users_config.version(), repr(owners)), lambda: list(
                User.objects.filter(owners).values_list("id", flat=True).distinct()))

        ids = _memo(user, f"owners:{owners!r}", reached)
        combined = Q(owner_id__in=ids)
    for q in others:
        combined = q if combined is None else combined | q
    return qs.filter(combined) if combined is not None else qs.none()


def explain(user, record, action: str = "view") -> list[Grant]:
    """The grants that give `user` the action on `record`; empty when none does."""
    if user is None or not user.is_active:
        return []
    record_type = record_type_key(type(record))
    if not user.can(record_type, _action_permission(action)):
        return []
    base = type(record)._default_manager.filter(pk=record.pk)
    return [g for g in grants(user, record_type, action) if g.every or base.filter(g.q).exists()]


def can_edit(user, record) -> bool:
    return type(record)._default_manager.filter(pk=record.pk).visible_to(user, "edit").exists()
