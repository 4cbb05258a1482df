"""Account and contact pages: detail with key facts, the tabs (details, timeline, history) and the panels
other apps contribute (an account's contacts and opportunities, the lead it came from). The lists are the
shared list engine's (crm.lists), configured in accounts/records.py."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from accounts.models import Account, Contact
from crm.access.fls import hidden_fields
from crm.core import display
from crm.core.services import recent_view_touch

ACCOUNT_RT = "accounts.account"
CONTACT_RT = "accounts.contact"

ACCOUNT_FIELDS = ["name", "account_type", "industry", "parent", "website", "phone", "billing_street", "billing_city",
                  "billing_state", "billing_postal_code", "billing_country", "employees", "annual_revenue", "rating",
                  "description", "owner", "created_at"]
CONTACT_FIELDS = ["salutation", "first_name", "last_name", "title", "department", "account", "reports_to", "email",
                  "phone", "mobile", "mailing_street", "mailing_city", "mailing_postal_code", "mailing_country",
                  "birthdate", "preferred_language", "email_opt_out", "do_not_call", "owner", "created_at"]


@login_required
def account_detail(request, pk):
    user = request.user
    account = get_object_or_404(Account.objects.visible_to(user).select_related("owner", "parent"), pk=pk)
    recent_view_touch(user=user, record=account)
    return render(request, "accounts/account_detail.html", {
        "account": account,
        "hidden": hidden_fields(user, ACCOUNT_RT),
        "parent_visible": account.parent_id and Account.objects.visible_to(user).filter(pk=account.parent_id).exists(),
        "rows": display.detail_rows(account, ACCOUNT_FIELDS, user),
        "custom": display.custom_sections(account, user),
        "can_edit": Account.objects.visible_to(user, "edit").filter(pk=pk).exists(),
        # Only web addresses become links (an imported value could carry another scheme).
        "website_url": account.website if account.website.lower().startswith(("http://", "https://")) else "",
    })


@login_required
def contact_detail(request, pk):
    user = request.user
    contact = get_object_or_404(
        Contact.objects.visible_to(user).select_related("owner", "account", "reports_to"), pk=pk)
    recent_view_touch(user=user, record=contact)
    return render(request, "accounts/contact_detail.html", {
        "contact": contact,
        "hidden": hidden_fields(user, CONTACT_RT),
        "account_visible": contact.account_id and Account.objects.visible_to(user).filter(pk=contact.account_id).exists(),
        "rows": display.detail_rows(contact, CONTACT_FIELDS, user),
        "custom": display.custom_sections(contact, user),
        "can_edit": Contact.objects.visible_to(user, "edit").filter(pk=pk).exists(),
    })
