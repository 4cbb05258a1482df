"""The kanban's reads: one column per stage of a pipeline with the count and total (in the corporate currency) of
every visible opportunity that matches the filters, and the first cards of each column. The totals are one
grouped query; the cards one query for all the columns, a page per stage that the (pipeline, stage, close date)
index serves, so a pipeline of hundreds of thousands of deals stays fast and a column shows at most
CARDS_PER_COLUMN cards."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import EmptyResultSet
from django.db.models import Count, F, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.utils import timezone

from opportunities.models import Opportunity, Pipeline, Stage

CARDS_PER_COLUMN = 50
# A column loads more cards on demand up to this many; past it, the list (with the same filters) is the place.
MAX_LOADED = 500
# What a card shows (opportunities/rendering.py), and no more: a board reads hundreds of rows.
CARD_FIELDS = ("id", "name", "amount", "currency", "amount_corporate", "probability", "close_date",
               "stage_entered_at", "stage_id", "pipeline_id", "owner_id", "account_id", "account__name",
               "owner__first_name", "owner__last_name", "owner__email")


@dataclass(slots=True)
class Card:
    """One card's values, read as a plain row: a manager's board shows hundreds of cards, and building an
    opportunity, its account and its owner as model instances for each cost more than the query."""

    id: int
    name: str
    amount: Decimal | None
    currency: str
    amount_corporate: Decimal | None
    probability: int
    close_date: object
    stage_entered_at: object
    stage_id: int
    pipeline_id: int
    owner_id: int | None
    account_id: int | None
    account_name: str | None
    owner_first_name: str | None
    owner_last_name: str | None
    owner_email: str | None
    days_in_stage: int = 0

    @property
    def pk(self) -> int:
        return self.id

    @property
    def owner_name(self) -> str:
        """As the user's own str(): the full name, else the e-mail."""
        return f"{self.owner_first_name or ''} {self.owner_last_name or ''}".strip() or self.owner_email or ""

    def __str__(self) -> str:
        return self.name


@dataclass
class Column:
    stage: Stage
    count: int = 0
    total: Decimal = Decimal(0)
    cards: list = field(default_factory=list)
    offset: int = 0  # the cards before these (a column's next cards, loaded on demand)

    @property
    def shown(self) -> int:
        return self.offset + len(self.cards)

    @property
    def more(self) -> int:
        return max(self.count - self.shown, 0)

    @property
    def loadable(self) -> bool:
        return self.more > 0 and self.shown < MAX_LOADED


def board_pipeline(pipeline_id, pipelines: list[Pipeline] | None = None) -> Pipeline | None:
    """The pipeline asked for, else the default one, else the first, among `pipelines` (every pipeline, in
    their order; read here when not given)."""
    pipelines = list(Pipeline.objects.all()) if pipelines is None else pipelines
    chosen = None
    if pipeline_id and str(pipeline_id).isdigit() and len(str(pipeline_id)) < 12:
        chosen = next((p for p in pipelines if p.pk == int(pipeline_id)), None)
    return chosen or next((p for p in pipelines if p.is_default), None) or next(iter(pipelines), None)


def board_queryset(*, user, pipeline: Pipeline) -> QuerySet:
    return Opportunity.objects.visible_to(user).filter(pipeline=pipeline)


def board_columns(*, queryset: QuerySet, stages: list[Stage], cap: int | None = None) -> list[Column]:
    """The columns of `stages` with the count and total of `queryset` (already filtered) and the first `cap`
    cards of each, soonest close date first."""
    cap = cap or CARDS_PER_COLUMN
    columns = {stage.pk: Column(stage) for stage in stages}
    for row in queryset.order_by().values("stage_id").annotate(n=Count("id"), total=Sum("amount_corporate")):
        column = columns.get(row["stage_id"])
        if column is not None:
            column.count, column.total = row["n"], row["total"] or Decimal(0)
    cards = stage_cards(queryset=queryset, stage_ids=[c.stage.pk for c in columns.values() if c.count], cap=cap)
    for stage_id, column in columns.items():
        column.cards = cards.get(stage_id, [])
    return list(columns.values())


def column_cards(*, queryset: QuerySet, stage: Stage, offset: int = 0, cap: int | None = None) -> list:
    """The cards of one column, soonest close date first, from `offset`, with their days in stage."""
    return stage_cards(queryset=queryset, stage_ids=[stage.pk], offset=offset, cap=cap).get(stage.pk, [])


def stage_cards(*, queryset: QuerySet, stage_ids: list[int], offset: int = 0,
                cap: int | None = None) -> dict[int, list[Card]]:
    """Each stage's cards in `queryset`, soonest close date first, from `offset` (at most MAX_LOADED in all),
    with their days in stage; one query for every column. Each stage's page of ids comes from the (pipeline,
    stage, close date, id) index that includes the owner, so the visibility filter skips the deals of others
    without reading their rows (a LATERAL subquery per stage); then those rows with their account and owner."""
    cap = cap or CARDS_PER_COLUMN
    offset = max(0, min(offset, MAX_LOADED))
    limit = min(offset + cap, MAX_LOADED) - offset
    if not stage_ids or limit <= 0:
        return {}
    try:
        visible, params = queryset.order_by().values("id", "stage_id", "close_date").query.sql_with_params()
    except EmptyResultSet:
        return {}
    page = RawSQL(f"""SELECT p.id FROM unnest(%s::bigint[]) AS s(stage_id)
                      CROSS JOIN LATERAL (SELECT v.id FROM ({visible}) v WHERE v.stage_id = s.stage_id
                                           ORDER BY v.close_date ASC NULLS LAST, v.id LIMIT %s OFFSET %s) p""",
                  [list(stage_ids), *params, limit, offset])
    rows = (Opportunity.objects.filter(pk__in=page)
            .order_by("stage_id", F("close_date").asc(nulls_last=True), "id").values_list(*CARD_FIELDS))
    now = timezone.now()
    found: dict[int, list[Card]] = {}
    for row in rows:
        card = Card(*row)
        card.days_in_stage = max((now - card.stage_entered_at).days, 0)
        found.setdefault(card.stage_id, []).append(card)
    return found
