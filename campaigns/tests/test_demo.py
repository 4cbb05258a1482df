"""The demo's segments: seeded once however often the demo is loaded, shared by the marketer, and counting
what Marketing may read (a sharing rule), so a new user sees segments with members."""
import pytest
from django.core.management import call_command

from campaigns import selectors
from campaigns.models import Segment
from crm.access.models import User

pytestmark = pytest.mark.django_db


def test_the_demo_seeds_the_marketers_shared_segments_once_and_they_count_members():
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)
    marketer = User.objects.get(email="marketer@demo.local")
    segments = {s.name: s for s in Segment.objects.all()}
    assert {"Customers in Finland", "CTOs and CIOs", "Hot leads in the Nordics"} <= set(segments)
    assert len(segments) == Segment.objects.values("name", "record_type").distinct().count()
    assert all(s.owner == marketer and s.shared for s in segments.values())
    for segment in segments.values():
        assert selectors.segment_problem(segment=segment, user=marketer) == "", segment.name
    # Marketing reads the sales records: the marketer counts the Finnish customers the reps own
    finns = selectors.segment_count(segment=segments["Customers in Finland"], user=marketer)
    assert finns.count >= 1
    rep = User.objects.get(email="rep1@demo.local")
    assert selectors.segment_count(segment=segments["Customers in Finland"], user=rep).count < finns.count
