"""Recently viewed records: one row per user and record, its time moved on every view, whether the page's touch
commits on its own (without waiting for the disk) or inside a caller's transaction."""
import pytest
from django.db import connection, transaction

from crm.access.tests.factories import UserFactory
from crm.core.models import RecentView
from crm.core.services import recent_view_touch
from leads.tests.factories import LeadFactory


def _touch_and_read(user, lead) -> RecentView:
    recent_view_touch(user=user, record=lead)
    return RecentView.objects.get(user=user, object_id=lead.pk)


@pytest.mark.django_db(transaction=True)
def test_a_touch_on_its_own_commits_and_moves_the_time():
    user, lead = UserFactory(), LeadFactory()
    first = _touch_and_read(user, lead)
    second = _touch_and_read(user, lead)
    assert RecentView.objects.filter(user=user).count() == 1
    assert second.viewed_at > first.viewed_at
    # The relaxed commit was the touch's own: the connection is back to the server's setting.
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"


@pytest.mark.django_db(transaction=True)
def test_a_touch_inside_a_callers_transaction_leaves_its_commit_alone():
    user, lead = UserFactory(), LeadFactory()
    with transaction.atomic():
        recent_view_touch(user=user, record=lead)
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"
    assert RecentView.objects.filter(user=user, object_id=lead.pk).exists()
