"""What the accounts app contributes to record pages and the merged timeline: an account's contacts (with the
roles they play on it), and which records an account's or a contact's 360° timeline covers."""
from __future__ import annotations

from html import escape

from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _


def roles_html(roles) -> str:
    """Role badges, the primary contact's marked (escaped HTML)."""
    primary = escape(_("Primary"))
    parts = []
    for role in roles:
        star = f' <i class="bi bi-star-fill" aria-hidden="true"></i><span class="visually-hidden"> {primary}</span>' \
            if role.is_primary else ""
        parts.append(f'<span class="badge {"text-bg-primary" if role.is_primary else "text-bg-light border"}" '
                     f'data-role="{escape(role.role)}">{escape(str(role.get_role_display()))}{star}</span>')
    return " ".join(parts)


def account_contacts(request, account):
    """The account's contacts (the list engine's cells), with a column of the roles each plays on it."""
    from accounts.models import Contact
    from accounts.selectors import roles_by_contact
    from crm.lists.related import related_table

    table = related_table(user=request.user, record_type="accounts.contact",
                          queryset=Contact.objects.filter(account=account).order_by("last_name", "first_name", "id"),
                          columns=["last_name", "first_name", "title", "email", "phone", "owner"],
                          list_query=f"account={account.pk}")
    if table is None:
        return None
    roles = roles_by_contact(account=account, contact_ids=[record.pk for record, _cells in table["rows"]])
    table["headers"] = [*table["headers"], _("Roles")]
    table["rows"] = [(record, mark_safe(f'{cells}<td data-roles>{roles_html(roles.get(record.pk, ()))}</td>'))
                     for record, cells in table["rows"]]
    return {"table": table, "title": _("Contacts"), "empty": _("No contacts yet.")}


# --- the merged (360°) timeline ------------------------------------------------------------------------------

def account_related(user, account) -> list:
    """An account's timeline also shows what happened to its contacts and its opportunities (those the user may
    open)."""
    from accounts.selectors import account_contact_labels
    from crm.activities.merged import Related
    from opportunities.selectors import opportunity_labels

    return [Related("accounts.contact", account_contact_labels(user=user, account=account)),
            Related("opportunities.opportunity", opportunity_labels(user=user, account_ids=[account.pk]))]


def contact_related(user, contact) -> list:
    """A contact's timeline also shows what happened to the opportunities they are the contact of."""
    from crm.activities.merged import Related
    from opportunities.selectors import opportunity_labels

    return [Related("opportunities.opportunity", opportunity_labels(user=user, contact_ids=[contact.pk]))]
