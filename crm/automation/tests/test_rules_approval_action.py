"""The workflow-rule action "Submit for approval": a rule sends a record into its approval process, which locks
it; a record already waiting is skipped, not submitted twice; no process that applies is a skip, not a failure."""
import pytest

from crm.automation.actions import ActionContext, ActionSkipped
from crm.automation.actions_approval import run_submit_approval
from crm.automation.models_approvals import ApprovalRequest
from crm.automation.models_rules import ActionRun
from crm.automation.tests.rule_helpers import hot, make_rule, settle
from crm.core.locks import lock_reason
from leads.models import Lead
from leads.services import lead_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def process(reps):
    from crm.automation.models_approvals import ApprovalProcess, ApprovalStep

    process = ApprovalProcess.objects.create(name="Hot leads need a look", record_type="leads.lead")
    ApprovalStep.objects.create(process=process, order=1, name="Manager", approver_kind=ApprovalStep.Approver.USER,
                                approver_user=reps[2])
    return process


@pytest.fixture
def reps():
    from crm.access.tests.factories import UserFactory

    return UserFactory(), UserFactory(), UserFactory()


def test_a_rule_submits_the_record_for_approval_and_it_is_locked(reps, process):
    rep = reps[0]
    make_rule(criteria=hot(), actions=[{"kind": "submit_approval", "process": str(process.pk), "comment": "auto"}])
    lead = lead_create(actor=rep, lead=Lead(last_name="Hot", owner=rep, rating="hot"))
    settle()
    request = ApprovalRequest.objects.get()
    assert request.object_id == lead.pk and request.status == "pending" and request.submitted_by == rep
    assert request.comment == "auto"
    assert lock_reason(lead, rep)  # the owner cannot edit it while it waits
    assert ActionRun.objects.get().status == "succeeded"


def test_a_record_already_waiting_is_skipped_not_submitted_twice(reps, process):
    from crm.automation.approvals import approval_submit

    rep = reps[0]
    lead = lead_create(actor=rep, lead=Lead(last_name="Hot", owner=rep, rating="cold"))
    approval_submit(actor=rep, record=lead, process=process)
    lead.refresh_from_db()
    ctx = ActionContext(record=lead, record_type="leads.lead", rule=None, version=None)
    with pytest.raises(ActionSkipped, match="already waiting"):
        run_submit_approval(ctx, {})
    assert ApprovalRequest.objects.count() == 1


def test_no_process_that_applies_is_a_skip(reps):
    rep = reps[0]
    make_rule(actions=[{"kind": "submit_approval"}])
    lead_create(actor=rep, lead=Lead(last_name="Nobody", owner=rep))
    settle()
    action = ActionRun.objects.get()
    assert action.status == "skipped" and "No approval process applies" in action.result["skipped"]
    assert not ApprovalRequest.objects.exists()
