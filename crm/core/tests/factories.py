import factory
from django.contrib.contenttypes.models import ContentType

from crm.access.tests.factories import UserFactory
from crm.core.models import Event, RecentView


class EventFactory(factory.django.DjangoModelFactory):
    """An event about `target` (pass target=<record>)."""

    class Meta:
        model = Event
        exclude = ["target"]

    name = "test.happened"
    content_type = factory.LazyAttribute(lambda o: ContentType.objects.get_for_model(o.target))
    object_id = factory.LazyAttribute(lambda o: o.target.pk)


class RecentViewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RecentView
        exclude = ["target"]

    user = factory.SubFactory(UserFactory)
    content_type = factory.LazyAttribute(lambda o: ContentType.objects.get_for_model(o.target))
    object_id = factory.LazyAttribute(lambda o: o.target.pk)
