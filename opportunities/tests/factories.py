import factory

from opportunities.models import Opportunity, Pipeline, Stage


def default_pipeline() -> Pipeline:
    """The "New business" pipeline seeded by migration 0002."""
    return Pipeline.objects.get(is_default=True)


def stage(name: str = "Prospecting", pipeline: Pipeline | None = None) -> Stage:
    return Stage.objects.get(pipeline=pipeline or default_pipeline(), name=name)


class OpportunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Opportunity

    name = factory.Sequence(lambda n: f"Deal {n}")
    pipeline = factory.LazyFunction(default_pipeline)
    stage = factory.LazyAttribute(lambda o: o.pipeline.stages.order_by("order", "id").first())
    probability = factory.LazyAttribute(lambda o: o.stage.probability)
    amount = 10000
