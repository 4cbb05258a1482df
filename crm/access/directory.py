"""Everyone's id, name, e-mail address and whether they are active, loaded once per process and change:
the owner selects, owner filters and owner cells of every list read it instead of querying users; and
what else depends on who the users are (the owners a role hierarchy reaches) keys its cache on the
directory's version. Saving or deleting a user marks it changed; signing in does not."""
from __future__ import annotations

from crm.core.config_cache import ConfigCache

users_config = ConfigCache("users", size=5000)  # also each signed-in user (crm/access/backends.py)
UNSEEN = frozenset({"last_login"})


def _load() -> tuple[tuple, ...]:
    from crm.access.models import User

    rows = User._base_manager.order_by("first_name", "last_name", "id").values_list(
        "id", "first_name", "last_name", "email", "is_active")
    return tuple(rows)


def everyone() -> tuple[tuple[int, str, str, str, bool], ...]:
    """(id, first name, last name, e-mail address, active) of every user, ordered by name."""
    return users_config.get("everyone", _load)


def choices(*, active_only: bool) -> list[tuple[int, str]]:
    """(id, name) pairs as str(user) names them."""
    def build():
        return [(pk, f"{first} {last}".strip() or email) for pk, first, last, email, active in everyone()
                if active or not active_only]

    return users_config.get(("choices", active_only), build)


def people(ids) -> dict[int, object]:
    """Users by id, with only what their name needs (other fields load on access, as with `only()`)."""
    from crm.access.models import User

    wanted = set(ids)
    # from_db() takes the values in the model's field order (email before the names), not in field_names'.
    loaded = ("id", "first_name", "last_name", "email")
    order = [f.attname for f in User._meta.concrete_fields if f.attname in loaded]
    where = [loaded.index(name) for name in order]
    return {row[0]: User.from_db(None, order, [row[i] for i in where]) for row in everyone() if row[0] in wanted}


def user_saved(sender, instance, update_fields=None, **kwargs) -> None:
    if update_fields is not None and UNSEEN.issuperset(update_fields):
        return
    users_config.changed()


def user_deleted(sender, **kwargs) -> None:
    users_config.changed()
