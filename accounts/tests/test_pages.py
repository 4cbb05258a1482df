"""Account and contact pages: contacts at /contacts/ (the old URLs redirect), create with the account picked by a
type-ahead among visible accounts, edit, inline edit, delete, consent stamps, field-level security and 404 for
records the user may not see."""
import pytest
from django.urls import reverse

from accounts import services
from accounts.models import Account, ConsentSource, Contact
from accounts.tests.factories import AccountFactory, ContactFactory
from crm.access.models import FieldAccess, FieldPermission, ObjectPermission

pytestmark = pytest.mark.django_db


def test_contacts_moved_to_their_own_url_and_the_old_ones_redirect_permanently(client, reps):
    rep, _, _ = reps
    contact = ContactFactory(owner=rep)
    client.force_login(rep)

    assert reverse("contacts:list") == "/contacts/"
    assert reverse("contacts:detail", args=[contact.pk]) == f"/contacts/{contact.pk}/"
    old_list = client.get("/accounts/contacts/?q=anna&sort=-email")
    assert old_list.status_code == 301 and old_list["Location"] == "/contacts/?q=anna&sort=-email"
    old_detail = client.get(f"/accounts/contacts/{contact.pk}/")
    assert old_detail.status_code == 301 and old_detail["Location"] == f"/contacts/{contact.pk}/"
    assert client.get("/contacts/").status_code == 200


def test_create_contact_with_the_account_picked_from_visible_accounts_only(client, reps):
    rep, other, _ = reps
    mine = AccountFactory(owner=rep, name="Nordic Steel Oy")
    theirs = AccountFactory(owner=other, name="Nordic Secret Oy")
    client.force_login(rep)

    # the type-ahead the account field asks finds only what the rep may see
    form_page = client.get(reverse("contacts:create")).content.decode()
    lookup = reverse("lists:lookup", args=["accounts"])
    assert f'data-lookup="{lookup}"' in form_page
    found = client.get(lookup, {"q": "nordic"}).json()["results"]
    assert found == [{"value": mine.pk, "text": "Nordic Steel Oy"}]

    # a posted account the rep may not see is refused
    refused = client.post(reverse("contacts:create"), {"last_name": "Sneaky", "account": theirs.pk, "owner": rep.pk})
    assert refused.status_code == 422 and not Contact.objects.filter(last_name="Sneaky").exists()

    response = client.post(reverse("contacts:create"), {
        "first_name": "Anna", "last_name": "Virtanen", "account": mine.pk, "email": "anna@steel.example",
        "owner": rep.pk, "email_opt_in": "on", "preferred_language": "fi", "mailing_country": "Finland"})
    contact = Contact.objects.get(last_name="Virtanen")
    assert response.status_code == 302 and response["Location"] == reverse("contacts:detail", args=[contact.pk])
    assert (contact.account, contact.owner, contact.created_by) == (mine, rep, rep)
    assert contact.mailing_country == "FI" and contact.preferred_language == "fi"
    # consent is stored with when and how it was given
    assert contact.email_opt_in and contact.email_opt_in_at and contact.email_opt_in_source == ConsentSource.MANUAL
    assert contact.email_opt_out_at is None


def test_create_warns_of_a_duplicate_and_saves_when_confirmed(client, reps):
    rep, _, _ = reps
    services.contact_create(actor=rep, owner=rep, last_name="Korhonen", email="juha@timber.example")
    client.force_login(rep)
    data = {"first_name": "Juha", "last_name": "Korhonen", "email": "JUHA@timber.example", "owner": rep.pk}

    warned = client.post(reverse("contacts:create"), data)
    assert warned.status_code == 409 and "This record may already exist." in warned.content.decode()
    assert Contact.objects.count() == 1
    saved = client.post(reverse("contacts:create"), {**data, "confirm_duplicates": "on"})
    assert saved.status_code == 302 and Contact.objects.count() == 2


def test_create_account_with_shipping_as_billing_and_a_subsidiary(client, reps):
    rep, _, _ = reps
    parent = AccountFactory(owner=rep, name="Pohjola Holdings")
    client.force_login(rep)

    page = client.get(reverse("accounts:create"), {"parent": parent.pk}).content.decode()
    assert f'<option value="{parent.pk}" selected>Pohjola Holdings</option>' in page
    response = client.post(reverse("accounts:create"), {
        "name": "Pohjola Timber", "account_type": "customer", "parent": parent.pk, "owner": rep.pk,
        "billing_street": "Puutie 1", "billing_city": "Kuopio", "billing_country": "FI", "shipping_same": "on",
        "annual_revenue": "1250000", "currency": "usd"})
    account = Account.objects.get(name="Pohjola Timber")
    assert response.status_code == 302 and account.parent == parent
    assert (account.shipping_street, account.shipping_city, account.shipping_country) == ("Puutie 1", "Kuopio", "FI")
    assert account.currency == "USD"


def test_an_account_cannot_move_under_its_own_subsidiary(client, reps):
    rep, _, _ = reps
    top = AccountFactory(owner=rep, name="Top")
    middle = AccountFactory(owner=rep, name="Middle", parent=top)
    bottom = AccountFactory(owner=rep, name="Bottom", parent=middle)
    client.force_login(rep)

    response = client.post(reverse("accounts:edit", args=[top.pk]), {"name": "Top", "account_type": "customer",
                                                                     "owner": rep.pk, "parent": bottom.pk})
    assert response.status_code == 422
    assert "cannot be its own parent" in response.content.decode()
    top.refresh_from_db()
    assert top.parent_id is None


def test_edit_stamps_a_changed_consent_and_opting_out_withdraws_the_opt_in(client, reps):
    rep, _, _ = reps
    contact = ContactFactory(owner=rep, last_name="Laine", email_opt_in=True)
    client.force_login(rep)

    data = {"last_name": "Laine", "email": contact.email, "owner": rep.pk}
    response = client.post(reverse("contacts:edit", args=[contact.pk]), {**data, "email_opt_in": "on",
                                                                        "email_opt_out": "on"})
    assert response.status_code == 422  # both ticked: refused
    response = client.post(reverse("contacts:edit", args=[contact.pk]), {**data, "email_opt_out": "on",
                                                                        "do_not_call": "on"})
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.do_not_call and contact.do_not_call_source == ConsentSource.MANUAL and contact.do_not_call_at
    assert contact.email_opt_out and contact.email_opt_out_source == ConsentSource.MANUAL
    assert not contact.email_opt_in and contact.email_opt_in_at  # withdrawn by the opt-out, and when


def test_inline_edit_of_one_field_through_visibility_and_field_security(client, reps):
    rep, other, manager = reps
    account = AccountFactory(owner=rep, phone="+358 9 1")
    url = reverse("accounts:field", args=[account.pk, "phone"])
    client.force_login(rep)

    opened = client.get(url, {"edit": "1"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'name="phone"' in opened and 'name="name"' not in opened
    saved = client.post(url, {"phone": "+358 9 2"}, HTTP_HX_REQUEST="true")
    assert saved.status_code == 200 and "Saved" in saved.content.decode()
    account.refresh_from_db()
    assert account.phone == "+358 9 2" and account.name  # nothing else touched

    assert client.get(reverse("accounts:field", args=[account.pk, "description"])).status_code == 404  # not inline
    client.force_login(other)
    assert client.post(url, {"phone": "x"}).status_code == 404


def test_a_read_only_field_is_not_edited_in_place(client, reps):
    rep, _, _ = reps
    FieldPermission.objects.create(profile=rep.profile, record_type="accounts.account", field_name="phone",
                                   access=FieldAccess.READ_ONLY)
    account = AccountFactory(owner=rep, phone="+358 9 2")
    client.force_login(rep)

    shown = client.post(reverse("accounts:field", args=[account.pk, "phone"]), {"phone": "+1 555"},
                        HTTP_HX_REQUEST="true").content.decode()
    account.refresh_from_db()
    assert account.phone == "+358 9 2" and "bi-pencil" not in shown
    page = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert 'id="inline-phone"' not in page and 'id="inline-rating"' in page


def test_hidden_fields_are_left_out_of_forms_and_pages(client, reps):
    rep, _, _ = reps
    FieldPermission.objects.create(profile=rep.profile, record_type="accounts.contact", field_name="birthdate",
                                   access=FieldAccess.HIDDEN)
    FieldPermission.objects.create(profile=rep.profile, record_type="accounts.contact", field_name="email",
                                   access=FieldAccess.READ_ONLY)
    contact = ContactFactory(owner=rep, email="keep@example.com", birthdate="1980-05-17")
    client.force_login(rep)

    form = client.get(reverse("contacts:edit", args=[contact.pk])).content.decode()
    assert 'name="birthdate"' not in form and 'name="email"' in form and "disabled" in form
    client.post(reverse("contacts:edit", args=[contact.pk]), {"last_name": contact.last_name, "owner": rep.pk,
                                                             "email": "changed@example.com", "birthdate": "2000-01-01"})
    contact.refresh_from_db()
    assert contact.email == "keep@example.com" and str(contact.birthdate) == "1980-05-17"
    page = client.get(reverse("contacts:detail", args=[contact.pk])).content.decode()
    assert "1980" not in page and 'data-field="birthdate"' not in page
    assert client.get(reverse("contacts:field", args=[contact.pk, "email"]), {"edit": "1"}).content.decode().count(
        'name="email"') == 0


def test_every_page_of_a_record_the_user_may_not_see_is_404(client, reps):
    rep, other, _ = reps
    account = AccountFactory(owner=rep)
    contact = ContactFactory(owner=rep, account=account)
    client.force_login(other)

    for url in (reverse("accounts:detail", args=[account.pk]), reverse("accounts:edit", args=[account.pk]),
                reverse("accounts:delete", args=[account.pk]), reverse("accounts:timeline", args=[account.pk]),
                reverse("accounts:field", args=[account.pk, "phone"]),
                reverse("contacts:detail", args=[contact.pk]), reverse("contacts:edit", args=[contact.pk]),
                reverse("contacts:delete", args=[contact.pk]), reverse("contacts:timeline", args=[contact.pk]),
                reverse("contacts:vcard_one", args=[contact.pk]),
                reverse("contacts:field", args=[contact.pk, "title"])):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("accounts:delete", args=[account.pk])).status_code == 404
    assert Account.objects.filter(pk=account.pk).exists()


def test_create_and_delete_need_their_rights(client, reps):
    rep, _, _ = reps
    account = AccountFactory(owner=rep)
    ObjectPermission.objects.filter(profile=rep.profile, record_type="accounts.account").update(
        can_create=False, can_delete=False)
    client.force_login(rep)

    assert client.get(reverse("accounts:create")).status_code == 404
    assert client.post(reverse("accounts:delete", args=[account.pk])).status_code == 404
    page = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert reverse("accounts:delete", args=[account.pk]) not in page


def test_delete_keeps_the_contacts_without_their_account(client, reps):
    rep, _, _ = reps
    account = AccountFactory(owner=rep)
    contact = ContactFactory(owner=rep, account=account)
    client.force_login(rep)

    assert client.get(reverse("accounts:delete", args=[account.pk])).status_code == 200
    response = client.post(reverse("accounts:delete", args=[account.pk]))
    assert response.status_code == 302 and not Account.objects.filter(pk=account.pk).exists()
    contact.refresh_from_db()
    assert contact.account_id is None


def test_detail_pages_name_countries_and_languages_in_the_readers_language(client, reps):
    rep, _, _ = reps
    account = AccountFactory(owner=rep, billing_country="FI", shipping_country="SE")
    contact = ContactFactory(owner=rep, mailing_country="IR", preferred_language="fa")
    client.force_login(rep)

    page = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert ">Finland<" in page and ">Sweden<" in page
    page = client.get(reverse("contacts:detail", args=[contact.pk])).content.decode()
    assert ">Iran<" in page and ">Persian<" in page
