import pytest


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def rep(client, reps):
    """The first rep of the root `reps` fixture, signed in."""
    client.force_login(reps[0])
    return reps[0]


@pytest.fixture
def owners(db):
    """Users named as the owners in the fixture files are (Salesforce, Zoho, Vtiger and HubSpot write the owner's
    full name; the Persian Vtiger export a Persian one)."""
    from crm.access.tests.factories import UserFactory

    return {
        "laura": UserFactory(first_name="Laura", last_name="Niemi", email="laura.niemi@example.com"),
        "david": UserFactory(first_name="David", last_name="Chen", email="david.chen@example.com"),
        "mehdi": UserFactory(first_name="مهدی", last_name="کریمی", email="mehdi.karimi@example.com"),
    }
