"""The sidebar: one entry per app that exists, shown only to users whose profile allows it."""
from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    url_name: str
    icon: str
    record_type: str | None = None  # needs view permission on this record type
    right: str | None = None  # needs this admin right (any of the settings rights when "settings")


# The fixed order of the sidebar. Entries whose URL does not exist yet (the app has
# not landed) are left out automatically.
ENTRIES = [
    NavItem("home", _("Home"), "home", "house"),
    NavItem("calendar", _("Calendar"), "activities:calendar", "calendar3"),
    NavItem("leads", _("Leads"), "leads:list", "person-plus", "leads.lead"),
    NavItem("accounts", _("Accounts"), "accounts:list", "building", "accounts.account"),
    NavItem("contacts", _("Contacts"), "contacts:list", "person-lines-fill", "accounts.contact"),
    NavItem("opportunities", _("Opportunities"), "opportunities:list", "graph-up-arrow", "opportunities.opportunity"),
    NavItem("tickets", _("Tickets"), "support:ticket_list", "life-preserver", "support.ticket"),
    NavItem("knowledge", _("Knowledge base"), "support:article_list", "journal-text", "support.article"),
    NavItem("campaigns", _("Campaigns"), "campaigns:list", "megaphone", "campaigns.campaign"),
    NavItem("approvals", _("Approvals"), "approvals:inbox", "check2-square"),
    NavItem("reports", _("Reports"), "analytics:reports", "bar-chart"),
    NavItem("settings", _("Settings"), "settings:index", "gear", right="settings"),
]


def _url(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def navigation_for(request) -> list[dict]:
    user = request.user
    items = []
    for entry in ENTRIES:
        url = _url(entry.url_name)
        if url is None:
            continue
        if entry.record_type and not user.can(entry.record_type, "view"):
            continue
        if entry.right == "settings" and not any(user.has_right(r) for r in ("manage_users", "manage_access", "manage_customization", "view_audit_log")):
            continue
        items.append({"key": entry.key, "label": entry.label, "url": url, "icon": entry.icon, "active": False})
    # The active entry is the one with the longest URL the path starts with (/accounts/contacts/ is Contacts, not Accounts).
    matches = [i for i in items if (request.path == i["url"] if i["key"] == "home" else request.path.startswith(i["url"]))]
    if matches:
        max(matches, key=lambda i: len(i["url"]))["active"] = True
    return items
