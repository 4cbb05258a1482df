import factory

from crm.customization.models import CustomField, FieldType, PicklistValue


class CustomFieldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomField

    record_type = "leads.lead"
    name = factory.Sequence(lambda n: f"field_{n}")
    label = factory.Sequence(lambda n: f"Field {n}")
    field_type = FieldType.TEXT


class PicklistValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PicklistValue
        django_get_or_create = ("picklist", "value")

    picklist = "leads.status"
    value = factory.Sequence(lambda n: f"value-{n}")
    label = factory.Sequence(lambda n: f"Value {n}")
