import pytest

from crm.access.models import Access
from crm.access.tests.factories import ProfileFactory, RoleFactory, UserFactory, set_org_default


@pytest.fixture
def sales(db):
    """Private leads; two reps under a manager, all with full rights on every record type."""
    set_org_default("leads.lead", Access.PRIVATE)
    set_org_default("accounts.account", Access.PRIVATE)
    set_org_default("accounts.contact", Access.PRIVATE)
    set_org_default("opportunities.opportunity", Access.PRIVATE)
    manager_role = RoleFactory(name="Sales manager")
    rep_role = RoleFactory(name="Sales rep", parent=manager_role)
    profile = ProfileFactory()
    rep = UserFactory(role=rep_role, profile=profile, email="rep@example.com")
    other = UserFactory(role=rep_role, profile=profile, email="other@example.com")
    manager = UserFactory(role=manager_role, profile=profile, email="manager@example.com")
    return rep, other, manager


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def bant(**extra):
    """Field values that meet every BANT criterion."""
    return {"budget_confirmed": True, "budget_amount": 50000, "authority_role": "decision_maker",
            "need_pain_points": "Spreadsheets everywhere", "timeline_timeframe": "0_3_months", **extra}
