import factory

from campaigns.models import Campaign, Segment, Touch


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    campaign_type = Campaign.Type.EMAIL
    status = Campaign.Status.ACTIVE


class TouchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Touch

    campaign = factory.SubFactory(CampaignFactory)
    channel = Touch.Channel.WEB_FORM
    # record=<a lead or contact> (a generic relation: content type and id)


class SegmentFactory(factory.django.DjangoModelFactory):
    """A segment as stored (its conditions a tree); services check what users build."""

    class Meta:
        model = Segment

    name = factory.Sequence(lambda n: f"Segment {n}")
    record_type = "accounts.contact"
    conditions = factory.LazyFunction(lambda: {"all": []})
    shared = False
