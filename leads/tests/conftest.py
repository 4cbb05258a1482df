import pytest


@pytest.fixture
def sales(reps):
    """The root `reps` fixture (rep, other rep, their manager), under the name the leads tests use."""
    return reps


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def bant(**extra):
    """Field values that meet every BANT criterion."""
    return {"budget_confirmed": True, "budget_amount": 50000, "authority_role": "decision_maker",
            "need_pain_points": "Spreadsheets everywhere", "timeline_timeframe": "0_3_months", **extra}
