import factory
from django.contrib.contenttypes.models import ContentType

from crm.access.tests.factories import UserFactory
from crm.activities.models import Activity


class ActivityFactory(factory.django.DjangoModelFactory):
    """An activity on `target` (pass target=<record>)."""

    class Meta:
        model = Activity
        exclude = ["target"]

    kind = Activity.Kind.CALL
    subject = factory.Sequence(lambda n: f"Activity {n}")
    actor = factory.SubFactory(UserFactory)
    content_type = factory.LazyAttribute(lambda o: ContentType.objects.get_for_model(o.target))
    object_id = factory.LazyAttribute(lambda o: o.target.pk)


class TaskFactory(ActivityFactory):
    kind = Activity.Kind.TASK
    status = Activity.Status.OPEN
    assigned_to = factory.SelfAttribute("actor")
