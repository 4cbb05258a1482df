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


@pytest.fixture(autouse=True)
def fresh_content_types():
    """Tests that commit start from a flushed database whose content types may have new ids."""
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()


def _synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


def _last_commit_was_relaxed(check) -> bool:
    """Run `check` (a touch) and report whether synchronous_commit was off inside its transaction."""
    seen = []
    def spy(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.startswith("INSERT INTO \"core_recentview\""):
            with context["connection"].cursor() as cursor:
                cursor.execute("SHOW synchronous_commit")
                seen.append(cursor.fetchone()[0])
        return result
    with connection.execute_wrapper(spy):
        check()
    return seen == ["off"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_touch_on_its_own_commits_and_moves_the_time():
    user, lead = UserFactory(), LeadFactory()
    setting = _synchronous_commit()
    assert _last_commit_was_relaxed(lambda: recent_view_touch(user=user, record=lead))
    first = _touch_and_read(user, lead)
    second = _touch_and_read(user, lead)
    assert RecentView.objects.filter(user=user).count() == 1
    assert second.viewed_at > first.viewed_at
    # The relaxed commit was the touch's own: the connection is back to its setting.
    assert _synchronous_commit() == setting


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_touch_inside_a_callers_transaction_leaves_its_commit_alone():
    user, lead = UserFactory(), LeadFactory()
    setting = _synchronous_commit()
    with transaction.atomic():
        assert not _last_commit_was_relaxed(lambda: recent_view_touch(user=user, record=lead))
        assert _synchronous_commit() == setting
    assert RecentView.objects.filter(user=user, object_id=lead.pk).exists()
