import factory

from leads.models import Lead


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    company = factory.Faker("company")
    email = factory.Sequence(lambda n: f"lead{n}@example.com")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from leads.services import _keys

        lead = model_class(*args, **kwargs)
        _keys(lead)  # the duplicate keys the services keep
        lead.save()
        return lead
