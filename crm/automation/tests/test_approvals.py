"""Approval processes: entry criteria, ordered and skipped steps, manager / user / team approvers with first
response or unanimity, the lock (services, bulk actions, the board) for everyone but admins and the current
approver, reject with a comment, recall, delegation, reminders and escalation, the e-mailed single-use links,
quotes through their own events (and on a real worker), the pages and their permissions."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from crm.access.tests.factories import AdminFactory, UserFactory
from crm.activities.models import Activity
from crm.automation import approvals
from crm.automation.models_approvals import (ApprovalDelegation, ApprovalProcess, ApprovalRequest, ApprovalStep,
                                             ApprovalTask)
from crm.core.events import deliver
from crm.core.models import Event
from crm.notifications.models import Notification
from opportunities import quotes, services
from opportunities.models import LineItem, Opportunity, Quote, SalesSettings
from opportunities.tests.factories import OpportunityFactory, stage

pytestmark = pytest.mark.django_db
BIG = {"all": [{"field": "amount", "op": "gt", "value": "100000"}]}


@pytest.fixture(autouse=True)
def _locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def big_deals(db):
    process = ApprovalProcess.objects.create(name="Big deals", record_type="opportunities.opportunity",
                                             entry_criteria=BIG)
    ApprovalStep.objects.create(process=process, order=1, name="Manager")
    return process


def submit(record, actor, **kwargs):
    return approvals.approval_submit(actor=actor, record=record, **kwargs)


def test_a_big_deal_goes_to_the_submitters_manager_and_is_locked_until_approved(reps, big_deals):
    rep, other, manager = reps
    deal = OpportunityFactory(owner=rep, amount=250000)

    request = submit(deal, rep)

    task = ApprovalTask.objects.get(request=request)
    assert (request.status, request.step.name, task.approver) == ("pending", "Manager", manager)
    assert Notification.objects.filter(recipient=manager, url=reverse("approvals:inbox")).exists()
    assert len(mail.outbox) == 0  # the e-mail goes after commit (test transactions do not commit)
    with pytest.raises(ValidationError, match="waiting for approval"):
        services.check_unlocked(deal, rep)
    services.check_unlocked(deal, manager)  # the current approver may change it
    services.check_unlocked(deal, AdminFactory())  # and so may an admin

    approvals.approval_decide(actor=manager, task=task, approved=True, comment="Fine")

    request.refresh_from_db()
    assert request.status == "approved" and request.decided_at is not None
    services.check_unlocked(deal, rep)  # unlocked
    verbs = list(Activity.objects.filter(object_id=deal.pk).values_list("verb", flat=True))
    assert {"approval.submitted", "approval.step", "approval.answer", "approval.decided"} <= set(verbs)
    assert Notification.objects.filter(recipient=rep, message__contains="Approved").exists()


def test_a_record_outside_the_entry_criteria_or_already_pending_is_refused(reps, big_deals):
    rep, _, _ = reps
    small = OpportunityFactory(owner=rep, amount=500)
    with pytest.raises(ValidationError, match="No approval process applies"):
        submit(small, rep)
    big = OpportunityFactory(owner=rep, amount=200000)
    submit(big, rep)
    with pytest.raises(ValidationError, match="already waiting"):
        submit(big, rep)


def test_steps_run_in_order_and_a_step_whose_criteria_fail_is_skipped(reps, big_deals):
    rep, other, manager = reps
    director = UserFactory()
    ApprovalStep.objects.create(process=big_deals, order=2, name="Director over a million",
                                criteria={"all": [{"field": "amount", "op": "gt", "value": "1000000"}]},
                                approver_kind="user", approver_user=director)
    ApprovalStep.objects.create(process=big_deals, order=3, name="Finance", approver_kind="user", approver_user=other)
    deal = OpportunityFactory(owner=rep, amount=300000)
    request = submit(deal, rep)

    approvals.approval_decide(actor=manager, task=request.tasks.get(approver=manager), approved=True)
    request.refresh_from_db()
    assert request.step.name == "Finance" and request.status == "pending"  # the director's step was skipped
    assert Activity.objects.filter(object_id=deal.pk, verb="approval.skipped").exists()
    approvals.approval_decide(actor=other, task=request.tasks.get(approver=other), approved=True)
    request.refresh_from_db()
    assert request.status == "approved"
    assert not ApprovalTask.objects.filter(approver=director).exists()


def test_a_team_step_needs_everyone_when_unanimous_and_one_rejection_rejects(reps, big_deals):
    from crm.access.models import Team

    rep, other, manager = reps
    first, second = UserFactory(), UserFactory()
    team = Team.objects.create(name="Deal desk")
    team.members.add(first, second)
    step = big_deals.steps.get()
    step.approver_kind, step.approver_team, step.mode = "team", team, "unanimous"
    step.save()
    deal = OpportunityFactory(owner=rep, amount=300000)
    request = submit(deal, rep)
    assert set(request.tasks.values_list("approver", flat=True)) == {first.pk, second.pk}

    approvals.approval_decide(actor=first, task=request.tasks.get(approver=first), approved=True)
    request.refresh_from_db()
    assert request.status == "pending"  # the second approver still has to answer
    with pytest.raises(ValidationError, match="Say why"):
        approvals.approval_decide(actor=second, task=request.tasks.get(approver=second), approved=False)
    approvals.approval_decide(actor=second, task=request.tasks.get(approver=second), approved=False,
                              comment="Margin too thin")
    request.refresh_from_db()
    assert request.status == "rejected"
    services.check_unlocked(deal, rep)
    assert Notification.objects.filter(recipient=rep, message__contains="Rejected").exists()


def test_first_response_decides_and_closes_the_other_approvers_tasks(reps, big_deals):
    from crm.access.models import Team

    rep, _, _ = reps
    first, second = UserFactory(), UserFactory()
    team = Team.objects.create(name="Deal desk")
    team.members.add(first, second)
    ApprovalStep.objects.filter(process=big_deals).update(approver_kind="team", approver_team=team, mode="first")
    request = submit(OpportunityFactory(owner=rep, amount=300000), rep)

    approvals.approval_decide(actor=second, task=request.tasks.get(approver=second), approved=True)

    request.refresh_from_db()
    assert request.status == "approved"
    assert request.tasks.get(approver=first).status == "closed"
    with pytest.raises(ValidationError, match="already been answered"):
        approvals.approval_decide(actor=first, task=request.tasks.get(approver=first), approved=True)


def test_only_the_approver_answers_and_only_the_submitter_recalls(reps, big_deals):
    rep, other, manager = reps
    deal = OpportunityFactory(owner=rep, amount=300000)
    request = submit(deal, rep)
    with pytest.raises(ValidationError, match="not yours"):
        approvals.approval_decide(actor=other, task=request.tasks.get(), approved=True)
    with pytest.raises(ValidationError, match="Only the submitter"):
        approvals.approval_recall(actor=other, request=request)

    approvals.approval_recall(actor=rep, request=request)

    request.refresh_from_db()
    assert request.status == "recalled" and request.tasks.get().status == "closed"
    services.check_unlocked(deal, rep)
    assert approvals.inbox(manager) == []


def test_the_lock_holds_in_the_board_move_and_bulk_actions(client, reps, big_deals):
    rep, _, manager = reps
    locked = OpportunityFactory(owner=rep, amount=300000, name="Locked deal")
    free = OpportunityFactory(owner=rep, amount=300, name="Free deal")
    submit(locked, rep)
    with pytest.raises(ValidationError, match="waiting for approval"):
        services.opportunity_move(actor=rep, opportunity=locked, stage=stage("Qualification"))

    client.force_login(rep)
    response = client.post(reverse("lists:bulk", args=["opportunities"]),
                           {"action": "assign", "ids": [locked.pk, free.pk], "value_assign": manager.pk}, follow=True)
    assert response.status_code == 200
    assert Opportunity.objects.get(pk=locked.pk).owner == rep and Opportunity.objects.get(pk=free.pk).owner == manager
    assert "left unchanged" in response.content.decode()


def test_a_delegate_gets_the_task_while_the_approver_is_away(reps, big_deals):
    rep, other, manager = reps
    today = timezone.localdate()
    approvals.delegation_save(user=manager, delegate=other, starts=today - timedelta(days=1), ends=today + timedelta(days=3))
    with pytest.raises(ValidationError):
        approvals.delegation_save(user=manager, delegate=manager, starts=today, ends=today)

    request = submit(OpportunityFactory(owner=rep, amount=300000), rep)

    task = request.tasks.get()
    assert (task.approver, task.delegated_from) == (other, manager)
    assert ApprovalDelegation.objects.filter(user=manager).count() == 1


def test_a_waiting_task_is_reminded_once_then_escalated_to_the_approvers_manager(reps, big_deals):
    from crm.access.tests.factories import RoleFactory

    rep, _, manager = reps
    director = UserFactory(role=RoleFactory(name="Director"))
    manager.role.parent = director.role
    manager.role.save()
    ApprovalStep.objects.filter(process=big_deals).update(remind_after_hours=4, escalate_after_hours=24)
    request = submit(OpportunityFactory(owner=rep, amount=300000), rep)
    created = request.tasks.get().created_at

    assert approvals.approvals_remind_and_escalate(now=created + timedelta(hours=1)) == (0, 0)
    assert approvals.approvals_remind_and_escalate(now=created + timedelta(hours=5)) == (1, 0)
    assert approvals.approvals_remind_and_escalate(now=created + timedelta(hours=6)) == (0, 0)  # once
    assert approvals.approvals_remind_and_escalate(now=created + timedelta(hours=25)) == (0, 1)
    assert request.tasks.filter(approver=director, status="pending").exists()
    assert Notification.objects.filter(recipient=manager, message__startswith="Reminder").count() == 1
    assert Notification.objects.filter(recipient=director, message__startswith="Escalated").count() == 1
    approvals.approval_decide(actor=director, task=request.tasks.get(approver=director), approved=True)
    request.refresh_from_db()
    assert request.status == "approved"


def test_the_emailed_link_asks_to_confirm_answers_once_and_refuses_forgeries(client, reps, big_deals):
    rep, _, manager = reps
    request = submit(OpportunityFactory(owner=rep, amount=300000), rep)
    task = request.tasks.get()
    link = approvals.link_url(task, "approve")

    page = client.get(link)  # not signed in: the link itself names the approver
    assert page.status_code == 200 and "Confirm: approve" in page.content.decode()
    assert ApprovalRequest.objects.get(pk=request.pk).status == "pending"  # a GET (a mail scanner) decides nothing
    assert client.post(link, {"comment": ""}).status_code == 200
    assert ApprovalRequest.objects.get(pk=request.pk).status == "approved"
    assert ApprovalTask.objects.get(pk=task.pk).decided_by == manager

    assert client.get(link).status_code == 400  # single use
    assert client.get(link[:-3] + "xyz/").status_code == 400  # forged


def test_a_quote_over_the_threshold_enters_the_quote_process_through_its_event_and_unlocks_when_approved(reps):
    rep, _, manager = reps
    process = ApprovalProcess.objects.create(name="Quote discounts", record_type="opportunities.quote")
    ApprovalStep.objects.create(process=process, order=1, name="Sales manager")
    SalesSettings.objects.update_or_create(pk=1, defaults={"discount_approval_threshold": Decimal(20)})
    deal = OpportunityFactory(owner=rep, amount=1000)
    LineItem.objects.create(opportunity=deal, name="Licence", quantity=Decimal(1), list_price=Decimal(1000), order=1)
    quote = quotes.quote_create(actor=rep, opportunity=deal, discount_percent=Decimal(35))

    quotes.quote_submit(actor=rep, quote=quote)
    deliver(list(Event.objects.filter(name="quote.approval_requested").values_list("pk", flat=True)))

    request = ApprovalRequest.objects.get(record_type="opportunities.quote", object_id=quote.pk)
    assert request.tasks.get().approver == manager
    with pytest.raises(ValidationError, match="waiting for approval"):
        quotes.quote_send(actor=rep, quote=quote)
    approvals.approval_decide(actor=manager, task=request.tasks.get(), approved=True)
    assert Quote.objects.get(pk=quote.pk).status == Quote.Status.APPROVED

    # a withdrawal on the quote's page recalls a pending request
    quotes.quote_withdraw(actor=rep, quote=quote)
    quotes.quote_submit(actor=rep, quote=quote)
    deliver(list(Event.objects.filter(name="quote.approval_requested").values_list("pk", flat=True)))
    second = ApprovalRequest.objects.get(object_id=quote.pk, status="pending")
    quotes.quote_withdraw(actor=rep, quote=quote)
    deliver(list(Event.objects.filter(name="quote.withdrawn").values_list("pk", flat=True)))
    second.refresh_from_db()
    assert second.status == "recalled" and Quote.objects.get(pk=quote.pk).status == Quote.Status.DRAFT


@pytest.mark.worker
def test_on_a_real_worker_the_submitted_quote_reaches_its_approver(reps, celery_worker):
    import time

    rep, _, manager = reps
    process = ApprovalProcess.objects.create(name="Quote discounts", record_type="opportunities.quote")
    ApprovalStep.objects.create(process=process, order=1, name="Sales manager")
    deal = OpportunityFactory(owner=rep, amount=1000)
    LineItem.objects.create(opportunity=deal, name="Licence", quantity=Decimal(1), list_price=Decimal(1000), order=1)
    quote = quotes.quote_create(actor=rep, opportunity=deal, discount_percent=Decimal(35))
    quotes.quote_submit(actor=rep, quote=quote)
    for _ in range(100):
        if ApprovalTask.objects.filter(approver=manager).exists():
            break
        time.sleep(0.1)
    assert ApprovalTask.objects.filter(approver=manager, request__object_id=quote.pk).exists()


def test_the_inbox_answers_and_the_pages_keep_to_their_readers(client, reps, big_deals):
    rep, other, manager = reps
    deal = OpportunityFactory(owner=rep, amount=300000, name="Harbour deal")
    request = submit(deal, rep)
    client.force_login(manager)
    page = client.get(reverse("approvals:inbox")).content.decode()
    assert "Harbour deal" in page
    task = request.tasks.get()
    response = client.post(reverse("approvals:decide", args=[task.pk]), {"decision": "reject", "comment": ""},
                           follow=True)
    assert "Say why you reject it" in response.content.decode()
    client.post(reverse("approvals:decide", args=[task.pk]), {"decision": "approve"})
    assert ApprovalRequest.objects.get(pk=request.pk).status == "approved"

    client.force_login(other)  # a peer who cannot see the deal
    assert client.get(reverse("approvals:request", args=[request.pk])).status_code == 404
    assert client.post(reverse("approvals:decide", args=[task.pk]), {"decision": "approve"}).status_code == 404
    assert client.get(reverse("approvals:process_list")).status_code == 404  # settings: admins only
    client.force_login(rep)
    assert client.get(reverse("approvals:request", args=[request.pk])).status_code == 200


def test_the_record_page_panel_submits_and_shows_the_wait(client, reps, big_deals):
    rep, _, manager = reps
    deal = OpportunityFactory(owner=rep, amount=300000)
    client.force_login(rep)
    page = client.get(reverse("opportunities:detail", args=[deal.pk])).content.decode()
    assert 'data-testid="approval-panel"' in page and "Submit for approval" in page
    client.post(reverse("approvals:submit", args=["opportunities.opportunity", deal.pk]))
    page = client.get(reverse("opportunities:detail", args=[deal.pk])).content.decode()
    assert "Waiting for approval" in page and "Submit for approval" not in page
    assert ApprovalRequest.objects.filter(object_id=deal.pk, status="pending").exists()


def test_admins_configure_processes_and_steps_and_bad_criteria_are_refused(client, reps):
    admin = AdminFactory()
    client.force_login(admin)
    assert client.get(reverse("approvals:process_list")).status_code == 200
    url = reverse("approvals:process_create") + "?record_type=opportunities.quote"
    assert "Quote" in client.get(url).content.decode()
    bad = client.post(url, {"record_type": "opportunities.quote", "name": "Discounts", "order": 10, "is_active": "on",
                            "entry_criteria": '{"all": [{"field": "nope", "op": "equals", "value": "1"}]}'})
    assert bad.status_code == 200 and "Discounts" in bad.content.decode()  # kept what was typed
    assert not ApprovalProcess.objects.exists()
    client.post(url, {"record_type": "opportunities.quote", "name": "Discounts", "order": 10, "is_active": "on",
                      "entry_criteria": '{"all": [{"field": "discount_percent", "op": "gt", "value": "20"}]}',
                      "on_approve": "name = Approved quote"})
    process = ApprovalProcess.objects.get()
    assert process.on_approve == [{"field": "name", "value": "Approved quote"}]
    response = client.post(reverse("approvals:step_create", args=[process.pk]),
                           {"name": "Named user", "order": 1, "approver_kind": "user", "mode": "first"})
    assert "Choose the user who approves." in response.content.decode()
    client.post(reverse("approvals:step_create", args=[process.pk]),
                {"name": "Manager", "order": 1, "approver_kind": "manager", "mode": "first"})
    assert process.steps.get().name == "Manager"


def test_the_demo_has_the_quote_discount_rule_and_requests_waiting_for_the_manager():
    from django.core.management import call_command

    from crm.access.models import User

    call_command("seed_demo", verbosity=0)
    manager = User.objects.get(email="manager@demo.local")
    process = ApprovalProcess.objects.get(record_type="opportunities.quote")
    assert process.name == "Quote discount over 20 %"
    quote_request = ApprovalRequest.objects.get(record_type="opportunities.quote", status="pending")
    assert {t.approver for t in quote_request.tasks.filter(status="pending")} == set(
        approvals.managers_of(quote_request.submitted_by))  # with the submitter's manager
    assert "opportunities.opportunity" in {t.request.record_type for t in approvals.inbox(manager)}  # rep1's deal
    call_command("seed_demo", verbosity=0)  # idempotent
    assert ApprovalRequest.objects.count() == 2
