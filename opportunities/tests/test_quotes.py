"""Quotes: made from an opportunity (numbered without repeats, even from two transactions at once; lines copied;
defaults from the sales settings and the recipient), totals, line edits through htmx and bad input refused, the
statuses and their allowed moves, approval above the discount threshold (the event, the waiting), sending by
e-mail with the PDF (opt-out honoured, timeline), accept/reject, the expiry task (direct and on a real worker),
visibility (404), the panel, the list, Settings → Sales, and query budgets."""
import datetime
import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import AccountFactory, ContactFactory
from crm.activities.models import Activity
from crm.core.models import Event
from opportunities import quotes
from opportunities.models import LineItem, NumberSequence, Product, Quote, QuoteLine, SalesSettings
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
YEAR = timezone.localdate().year


@pytest.fixture
def deal(reps):
    rep, _, _ = reps
    account = AccountFactory(owner=rep, name="Nordic Steel Oy")
    contact = ContactFactory(owner=rep, account=account, first_name="Aino", last_name="Virtanen",
                             email="aino@nordicsteel.example", preferred_language="fi")
    deal = OpportunityFactory(owner=rep, account=account, contact=contact, name="Nordic Steel platform",
                              amount=Decimal("5000"), currency="EUR",
                              close_date=datetime.date.today() + datetime.timedelta(days=30))
    product = Product.objects.create(code="LIC-PRO", name="Pro licence", family="Licences")
    LineItem.objects.create(opportunity=deal, product=product, name="Pro licence", quantity=Decimal(10),
                            list_price=Decimal("960.00"), discount_percent=Decimal(10), order=1)
    LineItem.objects.create(opportunity=deal, name="Onboarding", quantity=Decimal(1),
                            list_price=Decimal("3200.00"), order=2)
    return deal


def make_quote(deal, actor, **kwargs) -> Quote:
    return quotes.quote_create(actor=actor, opportunity=deal, **kwargs)


# --- creating ---------------------------------------------------------------------------------------------------

def test_a_quote_copies_the_lines_computes_totals_and_takes_the_defaults(reps, deal):
    rep, _, _ = reps
    sales = SalesSettings.load()
    sales.default_tax_percent, sales.quote_validity_days, sales.quote_terms = Decimal(24), 21, "Net 14 days."
    sales.save()

    quote = make_quote(deal, rep, discount_percent=Decimal(5))

    assert quote.number == f"Q-{YEAR}-00001"
    assert [(line.name, line.total) for line in quote.lines.all()] == [
        ("Pro licence", Decimal("8640.00")), ("Onboarding", Decimal("3200.00"))]
    # 11 840.00 − 5 % (592.00) = 11 248.00; tax 24 % = 2 699.52; total 13 947.52
    assert (quote.subtotal, quote.discount_amount, quote.tax_amount, quote.total) == (
        Decimal("11840.00"), Decimal("592.00"), Decimal("2699.52"), Decimal("13947.52"))
    assert quote.valid_until == timezone.localdate() + datetime.timedelta(days=21)
    assert quote.terms == "Net 14 days." and quote.tax_percent == Decimal(24)
    assert quote.contact == deal.contact and quote.language == "fi"  # the contact's preferred language
    assert quote.status == Quote.Status.DRAFT and quote.currency == "EUR"
    assert Event.objects.filter(name="quote.created", object_id=quote.pk).exists()
    assert Activity.objects.filter(verb="quote.created", object_id=deal.pk).exists()
    assert make_quote(deal, rep).number == f"Q-{YEAR}-00002"


def test_without_a_contact_language_the_users_language_is_the_default(reps, deal):
    rep, _, _ = reps
    rep.language = "fa"
    rep.save()
    deal.contact.preferred_language = ""
    deal.contact.save()
    assert make_quote(deal, rep).language == "fa"


def test_numbers_never_repeat_across_two_transactions_at_once(transactional_db, django_db_serialized_rollback):
    """Two threads, each in its own transaction and connection, take numbers at the same time: the row lock
    makes the second wait, and no number is given twice."""
    NumberSequence.objects.create(name=f"quote-{YEAR}", next_value=1)
    taken: list[str] = []
    barrier = threading.Barrier(2)

    def take():
        from django.db import transaction

        try:
            barrier.wait()
            for _ in range(10):
                with transaction.atomic():
                    taken.append(quotes.next_number("quote", "Q"))
        finally:
            connection.close()

    threads = [threading.Thread(target=take) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == 20 and len(set(taken)) == 20
    assert sorted(taken) == [f"Q-{YEAR}-{n:05d}" for n in range(1, 21)]


def test_the_new_quote_page_creates_a_quote_and_refuses_bad_input(client, reps, deal):
    rep, _, _ = reps
    client.force_login(rep)
    url = reverse("opportunities:quote_create", args=[deal.pk])
    page = client.get(url)
    assert page.status_code == 200 and "Aino Virtanen" in page.content.decode()
    valid = (timezone.localdate() + datetime.timedelta(days=10)).isoformat()
    bad = client.post(url, {"name": "Q", "contact": deal.contact.pk, "language": "en", "valid_until": valid,
                            "discount_percent": "120", "tax_percent": "-1", "terms": ""})
    assert bad.status_code == 200 and not Quote.objects.exists()
    text = bad.content.decode()
    assert "The discount must be between 0 and 100 %." in text and "The tax must be between 0 and 100 %." in text

    response = client.post(url, {"name": "Platform offer", "contact": deal.contact.pk, "language": "en",
                                 "valid_until": valid, "discount_percent": "0", "tax_percent": "24", "terms": "T"})
    quote = Quote.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("opportunities:quote_detail",
                                                                           args=[quote.pk])
    assert (quote.name, quote.language, quote.tax_percent, quote.lines.count()) == ("Platform offer", "en",
                                                                                    Decimal(24), 2)


def test_the_recipient_must_be_a_visible_contact_of_the_account(client, reps, deal):
    rep, other, _ = reps
    stranger = ContactFactory(owner=other, account=deal.account, first_name="Hidden", last_name="Person")
    client.force_login(rep)
    valid = (timezone.localdate() + datetime.timedelta(days=10)).isoformat()
    response = client.post(reverse("opportunities:quote_create", args=[deal.pk]), {
        "name": "Q", "contact": stranger.pk, "language": "en", "valid_until": valid, "discount_percent": "0",
        "tax_percent": "0", "terms": ""})
    assert response.status_code == 200 and not Quote.objects.exists()
    assert "Hidden Person" not in response.content.decode()


# --- lines ------------------------------------------------------------------------------------------------------

def test_lines_are_added_edited_and_removed_with_htmx_and_totals_follow(client, reps, deal):
    rep, _, _ = reps
    quote = make_quote(deal, rep)
    extra = Product.objects.create(code="SUP", name="Support", family="Services")
    client.force_login(rep)
    create = reverse("opportunities:quote_line_create", args=[quote.pk])

    form = client.get(create, **HTMX)
    assert form.status_code == 200 and "Support" in form.content.decode() and "<html" not in form.content.decode()
    response = client.post(create, {"product": extra.pk, "quantity": "2", "list_price": "500",
                                    "discount_percent": "0"}, **HTMX)
    assert response.status_code == 204 and response["HX-Refresh"] == "true"
    quote.refresh_from_db()
    assert quote.subtotal == Decimal("12840.00") and quote.lines.get(product=extra).name == "Support"

    line = quote.lines.get(name="Onboarding")
    client.post(reverse("opportunities:quote_line_edit", args=[quote.pk, line.pk]),
                {"name": "Onboarding", "quantity": "2", "list_price": "3200", "discount_percent": "50"}, **HTMX)
    quote.refresh_from_db()
    assert quote.lines.get(pk=line.pk).total == Decimal("3200.00") and quote.subtotal == Decimal("12840.00")

    client.post(reverse("opportunities:quote_line_remove", args=[quote.pk, line.pk]), **HTMX)
    quote.refresh_from_db()
    assert quote.subtotal == Decimal("9640.00") and not QuoteLine.objects.filter(pk=line.pk).exists()
    assert deal.line_items.count() == 2  # the opportunity's own lines are untouched


@pytest.mark.parametrize(("data", "message"), [
    ({"name": "X", "quantity": "-1", "list_price": "10", "discount_percent": "0"}, "The quantity must be more than zero."),
    ({"name": "X", "quantity": "1", "list_price": "10", "discount_percent": "101"},
     "The discount must be between 0 and 100 %."),
    ({"name": "X", "quantity": "1", "list_price": "-5", "discount_percent": "0"}, "The list price cannot be negative."),
    ({"name": "", "quantity": "1", "list_price": "5", "discount_percent": "0"}, "Choose a product or give the line a name."),
    ({"name": "X", "quantity": "1", "list_price": "", "discount_percent": "0"}, "Give a list price"),
])
def test_bad_line_input_is_refused_with_a_clear_message(client, reps, deal, data, message):
    rep, _, _ = reps
    quote = make_quote(deal, rep)
    client.force_login(rep)
    response = client.post(reverse("opportunities:quote_line_create", args=[quote.pk]), data, **HTMX)
    assert response.status_code == 200 and message in response.content.decode()
    assert quote.lines.count() == 2


def test_lines_cannot_change_once_the_quote_is_sent(client, reps, deal, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    rep, _, _ = reps
    quote = make_quote(deal, rep)
    quotes.quote_send(actor=rep, quote=quote)
    line = quote.lines.first()
    with pytest.raises(Exception, match="cannot be changed"):
        quotes.quote_line_remove(actor=rep, quote=quote, line=line)
    client.force_login(rep)
    response = client.post(reverse("opportunities:quote_line_edit", args=[quote.pk, line.pk]),
                           {"name": "X", "quantity": "1", "list_price": "1", "discount_percent": "0"})
    assert response.status_code == 302 and quote.lines.get(pk=line.pk).name == "Pro licence"
    page = client.get(reverse("opportunities:quote_detail", args=[quote.pk])).content.decode()
    assert "The lines cannot be changed any more." in page and "add-quote-line" not in page


# --- statuses and approval -------------------------------------------------------------------------------------

def test_a_discount_above_the_threshold_waits_for_approval_and_cannot_be_sent(client, reps, deal, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    rep, _, _ = reps
    SalesSettings.objects.filter(pk=SalesSettings.load().pk).update(discount_approval_threshold=Decimal(15))
    quote = make_quote(deal, rep, discount_percent=Decimal(20))
    client.force_login(rep)

    page = client.get(reverse("opportunities:quote_detail", args=[quote.pk])).content.decode()
    assert "it needs approval before it can be sent" in page and "submit-approval" in page
    response = client.post(reverse("opportunities:quote_send", args=[quote.pk]))
    quote.refresh_from_db()
    assert response.status_code == 302 and quote.status == Quote.Status.NEEDS_APPROVAL and not mail.outbox
    event = Event.objects.get(name="quote.approval_requested", object_id=quote.pk)
    assert event.data["threshold"] == "15.00" and event.data["discount_percent"] == "20.00"

    page = client.get(reverse("opportunities:quote_detail", args=[quote.pk])).content.decode()
    assert "Waiting for approval" in page and "send-quote" not in page and "edit-quote" not in page
    with pytest.raises(Exception, match="waiting for approval"):
        quotes.quote_send(actor=rep, quote=quote)
    client.post(reverse("opportunities:quote_send", args=[quote.pk]), {"subject": "S", "message": "M"})
    assert not mail.outbox

    # the approval engine's answer (it has no screen yet) lets it be sent
    quotes.quote_approval_decided(actor=None, quote=quote, approved=True)
    quote.refresh_from_db()
    assert quote.status == Quote.Status.APPROVED
    assert quotes.quote_send(actor=rep, quote=quote).sent and len(mail.outbox) == 1


def test_a_line_discount_above_the_threshold_needs_approval_too(reps, deal):
    rep, _, _ = reps
    quote = make_quote(deal, rep)
    line = quote.lines.first()
    line.discount_percent = Decimal(30)  # the default threshold is 20
    quotes.quote_line_save(actor=rep, quote=quote, line=line)
    result = quotes.quote_send(actor=rep, quote=quote)
    assert not result.sent and result.quote.status == Quote.Status.NEEDS_APPROVAL


def test_withdrawing_a_request_makes_it_a_draft_to_change(client, reps, deal):
    rep, _, _ = reps
    quote = make_quote(deal, rep, discount_percent=Decimal(40))
    quotes.quote_submit(actor=rep, quote=quote)
    with pytest.raises(Exception, match="waiting for approval"):
        quotes.quote_line_remove(actor=rep, quote=quote, line=quote.lines.first())
    client.force_login(rep)
    client.post(reverse("opportunities:quote_withdraw", args=[quote.pk]))
    quote.refresh_from_db()
    assert quote.status == Quote.Status.DRAFT


def test_only_allowed_moves_happen(reps, deal):
    rep, _, _ = reps
    quote = make_quote(deal, rep)
    with pytest.raises(Exception, match="cannot become accepted"):
        quotes.quote_decide(actor=rep, quote=quote, accepted=True)
    with pytest.raises(Exception, match="No discount on this quote is above"):
        quotes.quote_submit(actor=rep, quote=quote)
    Quote.objects.filter(pk=quote.pk).update(status=Quote.Status.EXPIRED)
    quote.refresh_from_db()
    with pytest.raises(Exception, match="cannot become sent"):
        quotes.quote_send(actor=rep, quote=quote)
    assert set(quotes.TRANSITIONS) == set(Quote.Status.values)


# --- sending, accepting ---------------------------------------------------------------------------------------

def test_sending_mails_the_pdf_to_the_recipient_and_logs_it_on_the_timeline(client, reps, deal, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    rep, _, _ = reps
    quote = make_quote(deal, rep, language="en")
    client.force_login(rep)
    url = reverse("opportunities:quote_send", args=[quote.pk])
    form = client.get(url).content.decode()
    assert f"Quote {quote.number}: Nordic Steel platform" in form and "aino@nordicsteel.example" in form

    response = client.post(url, {"subject": f"Our quote {quote.number}", "message": "Hello Aino,\nhere it is."})
    assert response.status_code == 302
    quote.refresh_from_db()
    assert quote.status == Quote.Status.SENT and quote.sent_at is not None
    message = mail.outbox[0]
    assert message.to == ["aino@nordicsteel.example"] and message.subject == f"Our quote {quote.number}"
    name, content, mimetype = message.attachments[0]
    assert name == f"{quote.number}.pdf" and mimetype == "application/pdf" and content.startswith(b"%PDF")
    activity = Activity.objects.get(kind=Activity.Kind.EMAIL, object_id=deal.pk)
    assert activity.subject == f"Our quote {quote.number}" and activity.data["to"] == ["aino@nordicsteel.example"]
    assert Event.objects.filter(name="quote.sent", object_id=quote.pk).exists()
    page = client.get(reverse("opportunities:quote_detail", args=[quote.pk])).content.decode()
    assert "Sent" in page and "accept" in page


def test_the_contacts_opt_out_is_honoured(client, reps, deal, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    rep, _, _ = reps
    deal.contact.email_opt_out = True
    deal.contact.save()
    quote = make_quote(deal, rep)
    client.force_login(rep)
    response = client.post(reverse("opportunities:quote_send", args=[quote.pk]),
                           {"subject": "S", "message": "M"}, follow=True)
    assert "has opted out of e-mail." in response.content.decode()
    quote.refresh_from_db()
    assert quote.status == Quote.Status.DRAFT and not mail.outbox
    assert not Activity.objects.filter(kind=Activity.Kind.EMAIL).exists()


def test_accepting_offers_the_invoice_and_rejecting_does_not(client, reps, deal, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    rep, _, _ = reps
    first, second = make_quote(deal, rep), make_quote(deal, rep)
    for quote in (first, second):
        quotes.quote_send(actor=rep, quote=quote)
    client.force_login(rep)
    client.post(reverse("opportunities:quote_decide", args=[first.pk]), {"accepted": "1"})
    client.post(reverse("opportunities:quote_decide", args=[second.pk]), {"accepted": "0"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (Quote.Status.ACCEPTED, Quote.Status.REJECTED)
    assert first.decided_at is not None
    assert "create-invoice" in client.get(reverse("opportunities:quote_detail", args=[first.pk])).content.decode()
    assert "create-invoice" not in client.get(reverse("opportunities:quote_detail", args=[second.pk])).content.decode()
    deal.refresh_from_db()
    assert deal.stage.outcome == "open"  # only offered, never moved to closed won


# --- expiry ---------------------------------------------------------------------------------------------------

def test_quotes_past_their_validity_expire_once_and_set_wise(reps, deal, django_assert_num_queries):
    rep, _, _ = reps
    old_draft, old_sent, accepted, fresh = (make_quote(deal, rep) for _ in range(4))
    past = timezone.localdate() - datetime.timedelta(days=1)
    Quote.objects.filter(pk__in=[old_draft.pk, old_sent.pk, accepted.pk]).update(valid_until=past)
    Quote.objects.filter(pk=old_sent.pk).update(status=Quote.Status.SENT)
    Quote.objects.filter(pk=accepted.pk).update(status=Quote.Status.ACCEPTED)
    from opportunities.tasks import quotes_expire_task

    with django_assert_num_queries(1):
        assert quotes_expire_task() == 2
    statuses = dict(Quote.objects.values_list("pk", "status"))
    assert statuses == {old_draft.pk: "expired", old_sent.pk: "expired", accepted.pk: "accepted",
                        fresh.pk: "draft"}
    assert quotes_expire_task() == 0


@pytest.mark.worker
def test_the_expiry_task_runs_on_a_real_worker(reps, celery_worker):
    from conftest import wait_for
    from opportunities.tasks import quotes_expire_task

    rep, _, _ = reps
    deal = OpportunityFactory(owner=rep, currency="EUR")
    quote = quotes.quote_create(actor=rep, opportunity=deal)
    Quote.objects.filter(pk=quote.pk).update(valid_until=timezone.localdate() - datetime.timedelta(days=3))
    quotes_expire_task.delay()
    assert wait_for(lambda: Quote.objects.get(pk=quote.pk).status == Quote.Status.EXPIRED)


def test_the_beat_schedule_has_both_tasks():
    from crm.core.schedule import entries

    schedule = entries()
    assert schedule["quotes-expire"]["task"] == "opportunities.tasks.quotes_expire_task"
    assert schedule["invoices-overdue"]["task"] == "opportunities.tasks.invoices_overdue_task"


# --- visibility, pages, budgets -------------------------------------------------------------------------------

def test_a_quote_of_an_opportunity_the_reader_cannot_see_is_404(client, reps, deal):
    rep, other, manager = reps
    quote = make_quote(deal, rep)
    client.force_login(other)
    for name in ("quote_detail", "quote_pdf", "quote_edit", "quote_send"):
        assert client.get(reverse(f"opportunities:{name}", args=[quote.pk])).status_code == 404
    assert client.post(reverse("opportunities:quote_decide", args=[quote.pk]), {"accepted": "1"}).status_code == 404
    assert client.get(reverse("opportunities:quote_create", args=[deal.pk])).status_code == 404
    assert quote.number not in client.get(reverse("opportunities:quote_list")).content.decode()
    client.force_login(manager)  # above the owner in the role hierarchy
    assert client.get(reverse("opportunities:quote_detail", args=[quote.pk])).status_code == 200


def test_the_panel_lists_quotes_and_invoices_on_the_opportunity_page(client, reps, deal):
    rep, _, _ = reps
    quote = make_quote(deal, rep)
    client.force_login(rep)
    page = client.get(reverse("opportunities:detail", args=[deal.pk])).content.decode()
    assert 'data-testid="quotes-panel"' in page and quote.number in page
    assert reverse("opportunities:quote_create", args=[deal.pk]) in page


def test_the_quote_page_and_list_stay_within_their_query_budgets(client, reps, deal, django_assert_max_num_queries):
    rep, _, _ = reps
    quote = make_quote(deal, rep)
    for index in range(20):
        QuoteLine.objects.create(quote=quote, name=f"Line {index}", quantity=Decimal(1), list_price=Decimal(10), order=10 + index,
                                 product=Product.objects.first())
    for _ in range(15):
        make_quote(deal, rep)
    client.force_login(rep)
    client.get(reverse("opportunities:quote_list"))  # warm the per-process caches
    with django_assert_max_num_queries(16):
        assert client.get(reverse("opportunities:quote_detail", args=[quote.pk])).status_code == 200
    with django_assert_max_num_queries(14):
        response = client.get(reverse("opportunities:quote_list"))
    assert response.status_code == 200 and quote.number in response.content.decode()


def test_the_list_filters_by_status_and_searches_by_number(client, reps, deal):
    rep, _, _ = reps
    first, second = make_quote(deal, rep), make_quote(deal, rep)
    Quote.objects.filter(pk=second.pk).update(status=Quote.Status.SENT)
    client.force_login(rep)
    sent = client.get(reverse("opportunities:quote_list"), {"status": "sent"}).content.decode()
    assert second.number in sent and first.number not in sent
    found = client.get(reverse("opportunities:quote_list"), {"q": first.number[-5:]}).content.decode()
    assert first.number in found and second.number not in found


def test_sales_settings_are_for_admins_and_validate(client, reps):
    from crm.access.tests.factories import AdminFactory

    rep, _, _ = reps
    client.force_login(rep)
    url = reverse("opportunities:sales_settings")
    assert client.get(url).status_code == 404
    client.force_login(AdminFactory())
    assert "Sales: quotes and invoices" in client.get(reverse("settings:index")).content.decode()
    bad = client.post(url, {"discount_approval_threshold": "150", "quote_validity_days": "30",
                            "invoice_due_days": "14", "default_tax_percent": "24", "quote_terms": ""})
    assert "The threshold must be between 0 and 100 %." in bad.content.decode()
    client.post(url, {"discount_approval_threshold": "12.5", "quote_validity_days": "45", "invoice_due_days": "30",
                      "default_tax_percent": "25.5", "quote_terms": "Payment in 30 days."})
    sales = SalesSettings.load()
    assert (sales.discount_approval_threshold, sales.quote_validity_days, sales.invoice_due_days,
            sales.default_tax_percent, sales.quote_terms) == (Decimal("12.5"), 45, 30, Decimal("25.5"),
                                                              "Payment in 30 days.")
    from crm.access.models import AuditLog

    entry = AuditLog.objects.filter(data__what="sales_settings").get()
    assert entry.data["changes"]["quote_validity_days"] == ["30", "45"]


def test_the_demo_seed_makes_a_persian_quote_one_waiting_for_approval_and_a_paid_invoice(reps):
    from opportunities.models import Invoice

    rep, other, _ = reps
    for n, owner in enumerate((rep, other, rep, other, rep, rep)):
        account = AccountFactory(owner=owner, name=f"Demo account {n}")
        contact = ContactFactory(owner=owner, account=account, email=f"buyer{n}@example.com")
        OpportunityFactory(owner=owner, account=account, contact=contact, currency="EUR", amount=Decimal(1000 + n))
    made = quotes.seed()
    assert len(made) == 5 and quotes.seed() == []
    statuses = sorted(Quote.objects.values_list("status", flat=True))
    assert statuses == ["accepted", "draft", "needs_approval", "sent", "sent"]
    persian = Quote.objects.get(language="fa")
    assert persian.name.startswith("پیشنهاد قیمت") and persian.lines.exists()
    assert Invoice.objects.get().status == Invoice.Status.PAID
    assert Event.objects.filter(name="quote.approval_requested").count() == 1


def test_editing_a_drafts_header_recomputes_totals_and_a_sent_quote_cannot_be_edited(client, reps, deal, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    rep, _, _ = reps
    quote = make_quote(deal, rep, tax_percent=Decimal(0))
    client.force_login(rep)
    url = reverse("opportunities:quote_edit", args=[quote.pk])
    valid = (timezone.localdate() + datetime.timedelta(days=5)).isoformat()
    data = {"name": "Revised offer", "contact": deal.contact.pk, "language": "fa", "valid_until": valid,
            "discount_percent": "10", "tax_percent": "24", "terms": "New terms"}
    assert client.post(url, {**data, "discount_percent": "-3"}).status_code == 200
    response = client.post(url, data)
    assert response.status_code == 302
    quote.refresh_from_db()
    # 11 840.00 − 10 % = 10 656.00; + 24 % = 13 213.44
    assert (quote.name, quote.language, quote.total, quote.number) == ("Revised offer", "fa", Decimal("13213.44"),
                                                                      f"Q-{YEAR}-00001")
    Quote.objects.filter(pk=quote.pk).update(status=Quote.Status.SENT)
    client.post(url, {**data, "name": "Sneaky"})
    quote.refresh_from_db()
    assert quote.name == "Revised offer"


def test_a_lock_on_the_quote_stops_every_change_but_the_recall(client, reps, deal, settings):
    """An approval process's lock (crm.core.locks, registered by automation) holds in the services and the pages."""
    from crm.core import locks

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    rep, _, _ = reps
    quote = make_quote(deal, rep)
    line = quote.lines.first()

    def check(record, user):
        return "Waiting for the manager's approval." if isinstance(record, Quote) and record.pk == quote.pk else None

    locks.register_lock(check)
    try:
        for write in (lambda: quotes.quote_update(actor=rep, quote=quote),
                      lambda: quotes.quote_line_save(actor=rep, quote=quote, line=line),
                      lambda: quotes.quote_line_remove(actor=rep, quote=quote, line=line),
                      lambda: quotes.quote_send(actor=rep, quote=quote)):
            with pytest.raises(quotes.ValidationError, match="manager's approval"):
                write()
        client.force_login(rep)
        response = client.post(reverse("opportunities:quote_line_remove", args=[quote.pk, line.pk]), follow=True)
        assert "Waiting for the manager&#x27;s approval." in response.content.decode()
        assert QuoteLine.objects.filter(pk=line.pk).exists() and len(mail.outbox) == 0
        Quote.objects.filter(pk=quote.pk).update(status=Quote.Status.NEEDS_APPROVAL)
        assert quotes.quote_withdraw(actor=rep, quote=quote).status == Quote.Status.DRAFT  # the recall still works
    finally:
        locks._checks.remove(check)
    quotes.quote_line_remove(actor=rep, quote=quote, line=line)  # unlocked: the change goes through
    assert not QuoteLine.objects.filter(pk=line.pk).exists()
