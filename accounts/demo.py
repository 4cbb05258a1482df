"""Demo accounts in the demo companies' countries: each with a buyer and a second contact who plays roles on
it, two groups of companies (a parent with subsidiaries, one of them with its own), and consent given
through the channels the CRM records."""
from __future__ import annotations

from crm.core.demo import COMPANIES, NAMES, TITLES


def seed(context: dict) -> None:
    from django.utils import timezone

    from accounts.models import Account, ConsentSource, Contact, ContactRole
    from crm.core.duplicates import normalize_phone
    from crm.core.vocabularies import BuyingRole

    users = context["users"]
    if Account.objects.exists():
        return
    owners = [users["rep1"], users["rep2"], users["rep3"]]
    now = timezone.now()
    accounts = []
    for i, (company, country, city, industry, lang) in enumerate(COMPANIES[:9]):
        owner = owners[i % 3]
        name = f"{company} Group" if lang == "en" else company + " (دفتر مرکزی)" if lang == "fa" else f"{company} Ab"
        account = Account.objects.create(name=name, account_type="customer" if i % 2 else "prospect",
                                         industry=industry, billing_city=city, billing_country=country,
                                         shipping_city=city, shipping_country=country, employees=40 + 35 * i,
                                         owner=owner, created_by=owner)
        accounts.append(account)
        first, last = NAMES[lang][i % len(NAMES[lang])]
        email = f"{i}.buyer@account{i}.example.com"
        # Phone numbers in each country's own form, so a Persian page shows that they read left to right.
        phone = {"fi": f"+358 40 555 01{i:02d}", "fa": f"+98 21 5550 1{i:03d}"}.get(lang, f"+44 20 7946 0{i:03d}")
        buyer = Contact.objects.create(first_name=first, last_name=last, account=account, owner=owner, email=email,
                                       phone=phone, phone_normalized=normalize_phone(phone),
                                       title="Head of Purchasing", preferred_language=lang, email_normalized=email,
                                       email_opt_in=i % 3 != 2, email_opt_in_at=now if i % 3 != 2 else None,
                                       email_opt_in_source=ConsentSource.WEB_FORM if i % 3 != 2 else "")
        first, last = NAMES[lang][(i + 3) % len(NAMES[lang])]
        email = f"{i}.tech@account{i}.example.com"
        tech = Contact.objects.create(first_name=first, last_name=last, account=account, owner=owner, email=email,
                                      title=TITLES[(i + 1) % len(TITLES)], preferred_language=lang,
                                      email_normalized=email, reports_to=buyer, do_not_call=i % 4 == 0,
                                      do_not_call_at=now if i % 4 == 0 else None,
                                      do_not_call_source=ConsentSource.MANUAL if i % 4 == 0 else "")
        ContactRole.objects.create(contact=buyer, account=account, role=BuyingRole.DECISION_MAKER, is_primary=True)
        ContactRole.objects.create(contact=buyer, account=account, role=BuyingRole.ECONOMIC_BUYER)
        ContactRole.objects.create(contact=tech, account=account,
                                   role=(BuyingRole.TECHNICAL_BUYER, BuyingRole.CHAMPION, BuyingRole.INFLUENCER)[i % 3])
    # Two groups: each rep's first account is a parent holding company's subsidiary, with one of its own.
    for owner, members, name, country, service in (
            (owners[0], (0, 3), "Pohjola Holdings Oyj", "FI", "Metsähuolto Pohjanmaa Oy"),
            (owners[1], (1, 4), "Kaleva Industries Oyj", "FI", "Robotiikkahuolto Kaakko Oy")):
        parent = Account.objects.create(name=name, account_type="customer", industry="finance", billing_country=country,
                                        owner=owner, created_by=owner, employees=1200)
        Account.objects.filter(pk__in=[accounts[i].pk for i in members]).update(parent=parent)
        first = accounts[members[0]]
        Account.objects.create(name=service, account_type="customer", industry=first.industry,
                               billing_city=first.billing_city, billing_country=first.billing_country, parent=first,
                               owner=owner, created_by=owner, employees=25)
        # The group's CFO is the economic buyer of the parent, and influences the subsidiary's purchases too.
        cfo = Contact.objects.create(first_name="Helena" if owner == owners[0] else "Mikko",
                                     last_name="Virta" if owner == owners[0] else "Aaltonen", account=parent,
                                     title="CFO", owner=owner, preferred_language="fi",
                                     email=f"cfo@{parent.pk}.group.example.com",
                                     email_normalized=f"cfo@{parent.pk}.group.example.com")
        ContactRole.objects.create(contact=cfo, account=parent, role=BuyingRole.ECONOMIC_BUYER, is_primary=True)
        ContactRole.objects.create(contact=cfo, account=first, role=BuyingRole.INFLUENCER)
