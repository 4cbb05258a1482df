"""Fields computed from others follow their source's field-level security: a hidden amount hides the corporate
amount and the expected revenue in the list and its export too; the stage's "fill in" message names custom
fields by their labels."""
from decimal import Decimal

import pytest
from django.urls import reverse

from crm.access.models import FieldAccess, FieldPermission
from crm.customization.models import CustomField
from opportunities import services
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db
RT = "opportunities.opportunity"


def test_a_hidden_amount_hides_what_is_computed_from_it_in_the_list_and_the_export(client, reps):
    rep, _, _ = reps
    FieldPermission.objects.create(profile=rep.profile, record_type=RT, field_name="amount",
                                   access=FieldAccess.HIDDEN)
    OpportunityFactory(owner=rep, amount=Decimal("98765.43"), probability=40)
    client.force_login(rep)

    page = client.get(reverse("opportunities:list"), {"cols": "name,amount,amount_corporate,expected_revenue"})
    assert page.status_code == 200
    body = page.content.decode()
    for shown in ("98,765", "98 765", "39,506", "39 506"):
        assert shown not in body
    export = client.get(reverse("opportunities:list"), {"export": "csv"})
    text = b"".join(export.streaming_content).decode() if export.streaming else export.content.decode()
    assert "98765" not in text and "39506" not in text


def test_a_hidden_probability_hides_the_expected_revenue_but_not_the_amount(client, reps):
    rep, _, _ = reps
    FieldPermission.objects.create(profile=rep.profile, record_type=RT, field_name="probability",
                                   access=FieldAccess.HIDDEN)
    OpportunityFactory(owner=rep, amount=Decimal("98765.43"), probability=40)
    client.force_login(rep)
    export = client.get(reverse("opportunities:list"), {"export": "csv"})
    text = b"".join(export.streaming_content).decode() if export.streaming else export.content.decode()
    assert "98765" in text and "39506" not in text


def test_the_fill_in_message_names_a_custom_field_by_its_label():
    CustomField.objects.create(record_type=RT, name="po_number", label="Purchase order number",
                               field_type="text")
    assert services.field_label("custom.po_number") == "Purchase order number"
    assert services.field_label("loss_reason") == "Loss reason"
