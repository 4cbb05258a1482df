"""Demo accounts with a contact each, in the demo companies' countries."""
from __future__ import annotations

from crm.core.demo import COMPANIES, NAMES


def seed(context: dict) -> None:
    from accounts.models import Account, Contact

    users = context["users"]
    if Account.objects.exists():
        return
    owners = [users["rep1"], users["rep2"], users["rep3"]]
    for i, (company, country, city, industry, lang) in enumerate(COMPANIES[:9]):
        owner = owners[i % 3]
        account = Account.objects.create(name=f"{company} Group" if lang == "en" else company + " ۲" if lang == "fa" else f"{company} Ab",
                                         account_type="customer" if i % 2 else "prospect", industry=industry,
                                         billing_city=city, billing_country=country, owner=owner, created_by=owner)
        first, last = NAMES[lang][i % len(NAMES[lang])]
        Contact.objects.create(first_name=first, last_name=last, account=account, owner=owner,
                               email=f"{i}.buyer@account{i}.example.com", title="Head of Purchasing",
                               preferred_language=lang, email_normalized=f"{i}.buyer@account{i}.example.com")
