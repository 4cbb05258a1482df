"""The filter panel is written once and reused while what it shows stays the same: a renamed picklist value or
user, a new custom field, other hidden fields or another language must show at once."""
import pytest
from django.urls import reverse
from django.utils import translation

from crm.access.models import FieldAccess
from crm.access.services import profile_field_access_set, user_update
from crm.access.tests.factories import ProfileFactory, UserFactory
from crm.customization.models import PicklistValue
from crm.customization.services import picklist_values_update
from crm.customization.tests.factories import CustomFieldFactory
from leads.models import STATUS_PICKLIST

pytestmark = pytest.mark.django_db


def _panel(client, **params) -> str:
    page = client.get(reverse("leads:list"), params).content.decode()
    return page[page.index("data-list-filters"):page.index('id="results"')]


def test_what_the_panel_shows_changes_at_once(client, reps):
    rep, other, manager = reps
    client.force_login(rep)
    status = PicklistValue.objects.filter(picklist=STATUS_PICKLIST).first()
    assert status.label in _panel(client) and _panel(client) == _panel(client)  # written, then reused

    picklist_values_update(actor=manager, picklist=STATUS_PICKLIST,
                           rows=[{"id": status.pk, "label": "Renamed status"}])
    assert "Renamed status" in _panel(client)

    user_update(actor=manager, user=other, first_name="Zebediah")
    assert "Zebediah" in _panel(client)

    CustomFieldFactory(record_type="leads.lead", name="tier", label="Tier level", field_type="text")
    assert "Tier level" in _panel(client)


def test_each_query_language_and_set_of_hidden_fields_gets_its_own_panel(client, reps):
    rep, _, manager = reps
    client.force_login(rep)
    assert 'value="SE"' in _panel(client, country="SE") and 'value="SE"' not in _panel(client)
    assert 'value="FI"' in _panel(client, country="FI")

    restricted = UserFactory(profile=ProfileFactory(), role=rep.role)
    profile_field_access_set(actor=manager, profile=restricted.profile, record_type="leads.lead",
                             access={"country": FieldAccess.HIDDEN})
    client.force_login(restricted)
    assert 'name="country"' not in _panel(client)
    client.force_login(rep)
    assert 'name="country"' in _panel(client)

    rep.language = "fi"
    rep.save()
    client.force_login(rep)
    with translation.override("fi"):
        created = str(translation.gettext("Created"))
    assert created in _panel(client)


def test_invalid_input_is_shown_with_its_message_not_kept(client, reps):
    rep, _, _ = reps
    client.force_login(rep)
    assert "invalid-feedback" in _panel(client, score_min="many")
    assert "invalid-feedback" not in _panel(client)
