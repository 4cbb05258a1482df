"""The demo fills every rep's week: My day and the calendar have something on a new sign-in, once."""
import pytest
from django.core.management import call_command
from django.urls import reverse

from crm.access.models import User
from crm.activities.models import Activity

pytestmark = pytest.mark.django_db


def test_every_rep_has_a_week_of_activities_and_a_second_seed_adds_none(client):
    call_command("seed_demo", verbosity=0)
    count = Activity.objects.filter(data__demo="week").count()
    call_command("seed_demo", verbosity=0)
    assert Activity.objects.filter(data__demo="week").count() == count > 0

    for email in ("rep1@demo.local", "rep2@demo.local", "rep3@demo.local", "manager@demo.local"):
        user = User.objects.get(email=email)
        mine = Activity.objects.filter(assigned_to=user, data__demo="week")
        assert mine.filter(kind="meeting").exists() and mine.filter(kind="task", status="open").exists(), email
        client.force_login(user)
        assert client.get(reverse("home")).status_code == 200
        calendar = client.get(reverse("activities:calendar"), {"view": "month"})
        assert calendar.status_code == 200 and "data-activity=" in calendar.content.decode(), email
