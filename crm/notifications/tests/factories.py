import factory

from crm.access.tests.factories import UserFactory
from crm.notifications.models import Notification


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    recipient = factory.SubFactory(UserFactory)
    message = factory.Sequence(lambda n: f"Something happened {n}")
    url = "/"
