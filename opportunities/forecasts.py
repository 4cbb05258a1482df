"""Forecasts by month and quarter rolled up through the role hierarchy, quotas and their attainment, weekly
forecast snapshots and "what moved" between two of them.

Every figure starts from `Opportunity.objects.visible_to(user)`: a rep sees their own deals, a manager the
deals of the roles below, the CEO (or an admin) the whole company. Amounts are the corporate-currency columns
the database keeps (`amount_corporate`, `expected_revenue`), so no conversion happens here. The number of
queries does not depend on how many reps or deals there are: every total is one GROUP BY.

Categories (the stage's forecast category, as Salesforce names them) are shown separately, not cumulatively:
"Commit" is only the open deals in commit stages, "Best case" only those in best-case stages, "Pipeline" only
those in pipeline stages; closed won is its own column and omitted deals count nowhere. Salesforce's
cumulative "best case" is closed won + commit + best case, and the page says so in its help text.

Beside those stage-based figures the forecast shows two calls, never replacing one with another:
- the rep's call: a rep may override the forecast category of an open deal (`Opportunity.forecast_override`)
  without moving its stage. The rep's commit call = closed won + the open deals whose category (the override if
  set, else the stage's) is commit; the rep's best-case call adds those in best case. The weighted pipeline
  stays amount × probability, whatever the override.
- the manager's call: a manager (or an admin) may adjust a subordinate's forecast for a period with a note
  (`ForecastAdjustment`, one row per adjustment, the newest is current). It replaces the rep's commit call in
  the manager's column only. It is shown to the people above the subject, not to the subject.
Roll-up: a role's subtotal (and the total) of the manager's call adds, per person, their newest adjustment where
the reader may see one, else their rep's commit call."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum, Window
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access.fls import hidden_fields
from crm.access.models import Role, User
from opportunities.models import (ForecastAdjustment, ForecastCategory, ForecastSnapshot, Opportunity, PeriodKind,
                                  Quota, Stage)

RT = "opportunities.opportunity"
CATEGORIES = ("won", "commit", "best_case", "pipeline")
# A snapshot keeps every open deal and the deals closed within this many days: enough for "what moved"
# to see a deal that was open in an older snapshot close in a newer one.
SNAPSHOT_CLOSED_DAYS = 400


# --- periods ------------------------------------------------------------------------------------------------

def period_start(day: dt.date, kind: str) -> dt.date:
    if kind == PeriodKind.QUARTER:
        return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
    return day.replace(day=1)


def shift(start: dt.date, kind: str, n: int) -> dt.date:
    """The start of the period `n` periods after (negative: before) the one starting at `start`."""
    months = n * (3 if kind == PeriodKind.QUARTER else 1)
    index = start.year * 12 + start.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def period_end(start: dt.date, kind: str) -> dt.date:
    """The first day after the period (exclusive end)."""
    return shift(start, kind, 1)


def period_label(start: dt.date, kind: str) -> str:
    if kind == PeriodKind.QUARTER:
        return _("Q%(quarter)s %(year)s") % {"quarter": (start.month - 1) // 3 + 1, "year": start.year}
    from django.utils.dateformat import format as date_format

    return date_format(start, "F Y")


def parse_period(kind: str | None, start: str | None, *, today: dt.date | None = None) -> tuple[str, dt.date]:
    """The period a request names (kind=month|quarter, start=YYYY-MM-DD); the current one when absent or bad."""
    kind = kind if kind in PeriodKind.values else PeriodKind.QUARTER
    today = today or timezone.localdate()
    try:
        day = dt.date.fromisoformat(start) if start else today
    except ValueError:
        day = today
    return kind, period_start(day, kind)


def local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def visible_sql(user, qs=None) -> tuple[str, tuple]:
    """The ids of the opportunities `user` may see, as SQL to put inside `IN (...)`."""
    from django.core.exceptions import EmptyResultSet

    qs = Opportunity.objects.visible_to(user) if qs is None else qs
    try:
        return qs.order_by().values("id").query.sql_with_params()
    except EmptyResultSet:
        return "SELECT NULL::bigint WHERE false", ()


def amounts_hidden(user) -> bool:
    return "amount" in hidden_fields(user, RT)


# --- who is in whose forecast -------------------------------------------------------------------------------

def scope_roles(user) -> list[Role]:
    """The roles whose people appear in `user`'s forecast: the user's role and all below it; every role for an
    admin without a role or the top of the hierarchy."""
    if user.role_id:
        return list(Role.objects.filter(path__startswith=user.role.path).order_by("path"))
    if user.is_crm_admin:
        return list(Role.objects.order_by("path"))
    return []


def managed_users(user):
    """The users whose quotas `user` may set: everyone for an admin, else the people in roles below theirs."""
    users = User.objects.filter(is_active=True)
    if user.is_crm_admin:
        return users.order_by("first_name", "last_name", "email")
    if not user.role_id:
        return users.none()
    return users.filter(role__path__startswith=user.role.path).exclude(role_id=user.role_id).order_by(
        "first_name", "last_name", "email")


# --- the forecast -------------------------------------------------------------------------------------------

@dataclass
class Figures:
    won: Decimal = Decimal(0)
    won_n: int = 0
    commit: Decimal = Decimal(0)
    commit_n: int = 0
    best_case: Decimal = Decimal(0)
    best_case_n: int = 0
    pipeline: Decimal = Decimal(0)
    pipeline_n: int = 0
    weighted: Decimal = Decimal(0)
    open_n: int = 0
    # The open deals by the rep's call (the override, else the stage's category).
    call_commit: Decimal = Decimal(0)
    call_commit_n: int = 0
    call_best_case: Decimal = Decimal(0)
    call_best_case_n: int = 0
    quota: Decimal | None = None
    # The manager's call: a person's newest adjustment, or a roll-up's sum (see `manager_call`); None: none.
    called: Decimal | None = None
    adjusted_n: int = 0  # how many people in the figure have a manager's call

    def add(self, other: "Figures") -> None:
        called = self.manager_call + other.manager_call
        for name in ("won", "won_n", "commit", "commit_n", "best_case", "best_case_n", "pipeline", "pipeline_n",
                     "weighted", "open_n", "call_commit", "call_commit_n", "call_best_case", "call_best_case_n",
                     "adjusted_n"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        if other.quota is not None:
            self.quota = (self.quota or Decimal(0)) + other.quota
        self.called = called

    @property
    def rep_commit(self) -> Decimal:
        """The rep's commit call: closed won + the open deals they call commit."""
        return self.won + self.call_commit

    @property
    def rep_commit_n(self) -> int:
        return self.won_n + self.call_commit_n

    @property
    def rep_best_case(self) -> Decimal:
        """The rep's best-case call: their commit call + the open deals they call best case."""
        return self.rep_commit + self.call_best_case

    @property
    def rep_best_case_n(self) -> int:
        return self.rep_commit_n + self.call_best_case_n

    @property
    def manager_call(self) -> Decimal:
        """The manager's call where there is one, else the rep's commit call (so roll-ups add like with like)."""
        return self.rep_commit if self.called is None else self.called

    @property
    def attainment(self) -> Decimal | None:
        """Closed won ÷ quota, in percent units; None without a quota (or a zero one)."""
        if not self.quota:
            return None
        return (self.won * 100 / self.quota).quantize(Decimal("0.1"))


@dataclass
class Row:
    kind: str  # "role" (a subtotal of a role and everything below it), "user", "others", "total"
    label: str
    depth: int
    figures: Figures
    user_id: int | None = None
    role_id: int | None = None
    adjustment: ForecastAdjustment | None = None  # a person's current manager's call, when the reader sees it
    adjustable: bool = False  # the reader may adjust this person's forecast

    @property
    def query(self) -> str:
        """Which deals the row's numbers stand for, as the drill-down's query parameters."""
        if self.kind == "user":
            return f"owner={self.user_id}"
        if self.kind == "role":
            return f"role={self.role_id}"
        return "others=1" if self.kind == "others" else ""


@dataclass
class Forecast:
    kind: str
    start: dt.date
    end: dt.date  # exclusive
    rows: list[Row] = field(default_factory=list)
    total: Figures = field(default_factory=Figures)
    adjusts: bool = False  # the reader manages someone here: the manager's call column is theirs to see

    @property
    def label(self) -> str:
        return period_label(self.start, self.kind)

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)


def _category_filters() -> dict:
    open_ = Q(stage__outcome=Stage.Outcome.OPEN)
    return {
        "won": Q(stage__outcome=Stage.Outcome.WON),
        "commit": open_ & Q(stage__forecast_category=ForecastCategory.COMMIT),
        "best_case": open_ & Q(stage__forecast_category=ForecastCategory.BEST_CASE),
        "pipeline": open_ & Q(stage__forecast_category=ForecastCategory.PIPELINE),
    }


def _called(category: str) -> Q:
    """The open deals the rep calls `category`: their override, or without one their stage's category."""
    return Q(stage__outcome=Stage.Outcome.OPEN) & (
        Q(forecast_override=category) | Q(forecast_override__isnull=True, stage__forecast_category=category))


def _call_aggregates() -> dict:
    """The open deals by the rep's call, beside the stage-based categories (Figures.call_*)."""
    aggregates = {}
    for name, category in (("call_commit", ForecastCategory.COMMIT), ("call_best_case", ForecastCategory.BEST_CASE)):
        aggregates[name] = Sum("amount_corporate", filter=_called(category), default=Decimal(0))
        aggregates[f"{name}_n"] = Count("id", filter=_called(category))
    return aggregates


def _figure_aggregates() -> dict:
    """Every summed field of Figures, as aggregates over opportunities."""
    aggregates = {}
    for name, condition in _category_filters().items():
        aggregates[name] = Sum("amount_corporate", filter=condition, default=Decimal(0))
        aggregates[f"{name}_n"] = Count("id", filter=condition)
    aggregates["weighted"] = Sum("expected_revenue", filter=Q(stage__outcome=Stage.Outcome.OPEN), default=Decimal(0))
    aggregates["open_n"] = Count("id", filter=Q(stage__outcome=Stage.Outcome.OPEN))
    aggregates.update(_call_aggregates())
    return aggregates


def _drill_filters() -> dict:
    """What each figure of the forecast counts, for its drill-down: the stage's categories, and the rep's calls
    (cumulative: closed won + commit, + best case)."""
    filters = _category_filters()
    rep_commit = filters["won"] | _called(ForecastCategory.COMMIT)
    return {**filters, "rep_commit": rep_commit, "rep_best_case": rep_commit | _called(ForecastCategory.BEST_CASE)}


def deals_in_period(user, kind: str, start: dt.date):
    """The visible opportunities whose close date falls in the period."""
    return Opportunity.objects.visible_to(user).filter(close_date__gte=start, close_date__lt=period_end(start, kind))


def forecast(user, kind: str, start: dt.date) -> Forecast:
    """One row per person in the reader's part of the role hierarchy (with a subtotal per role, covering the
    roles below it), a row for owners outside it whose deals the reader may still see (sharing), and the total
    of everything visible. Constant number of queries."""
    end = period_end(start, kind)
    result = Forecast(kind, start, end)
    aggregates = _figure_aggregates()
    per_owner: dict[int | None, Figures] = {}
    for values in deals_in_period(user, kind, start).values("owner_id").annotate(**aggregates).order_by():
        owner = values.pop("owner_id")
        per_owner[owner] = Figures(**values)

    roles = scope_roles(user)
    role_paths = {role.pk: role.path for role in roles}
    people = forecast_people(user, roles, owners=[o for o in per_owner if o])
    quotas = dict(Quota.objects.filter(period_kind=kind, period_start=start, user_id__in=[p.pk for p in people])
                  .values_list("user_id", "amount"))
    adjustable = {p.pk for p in people if may_adjust(user, p, role_paths=role_paths)}
    result.adjusts = bool(adjustable)
    adjustments = current_adjustments(kind, start, adjustable) if adjustable else {}

    def person_figures(person) -> Figures:
        figures = Figures(**vars(per_owner.get(person.pk, Figures())))
        figures.quota = quotas.get(person.pk)
        if person.pk in adjustments:
            figures.called, figures.adjusted_n = adjustments[person.pk].amount, 1
        return figures

    def person_row(person, depth: int) -> Row:
        return Row("user", str(person), depth, person_figures(person), user_id=person.pk,
                   adjustment=adjustments.get(person.pk), adjustable=person.pk in adjustable)

    placed: set[int] = set()
    if roles:
        by_role: dict[int, list] = {}
        for person in people:
            by_role.setdefault(person.role_id, []).append(person)
        base_depth = roles[0].depth
        for role in roles:
            subtotal = Figures()
            for person in people:
                if person.role_id in role_paths and role_paths[person.role_id].startswith(role.path):
                    subtotal.add(person_figures(person))
            result.rows.append(Row("role", role.name, role.depth - base_depth, subtotal, role_id=role.pk))
            for person in by_role.get(role.pk, []):
                placed.add(person.pk)
                result.rows.append(person_row(person, role.depth - base_depth + 1))
    for person in people:
        if person.pk not in placed:  # a reader without a role
            placed.add(person.pk)
            result.rows.append(person_row(person, 0))
    others = Figures()
    for owner, figures in per_owner.items():
        if owner not in placed:
            others.add(figures)
    if others.won_n or others.open_n:
        result.rows.append(Row("others", _("Other owners whose deals you can see"), 0, others))
    for person in people:
        result.total.add(person_figures(person))
    result.total.add(others)
    return result


def forecast_people(user, roles: list[Role], owners=()) -> list:
    """Who has a row in `user`'s forecast: the reader and the people below them (active, or owning one of
    `owners`' deals); not peers in the reader's own role (a rep never sees a fellow rep's row, not even its
    quota). For an admin without a role: everyone."""
    active = Q(is_active=True) | Q(pk__in=list(owners))
    order = ("first_name", "last_name", "email")
    if user.is_crm_admin and not user.role_id:
        return [user] + list(User.objects.filter(active).exclude(pk=user.pk).order_by(*order))
    if not roles:
        return [user]
    return [user] + list(User.objects.filter(active, role_id__in=[r.pk for r in roles])
                         .exclude(role_id=user.role_id).exclude(pk=user.pk).order_by(*order))


def drilldown(user, kind: str, start: dt.date, *, category: str | None, owner_id: int | None = None,
              role_id: int | None = None, others: bool = False):
    """The deals behind one number of the forecast."""
    qs = deals_in_period(user, kind, start).select_related("owner", "stage", "account")
    if category in _drill_filters():
        qs = qs.filter(_drill_filters()[category])
    elif category == "open":
        qs = qs.filter(stage__outcome=Stage.Outcome.OPEN)
    if owner_id:
        qs = qs.filter(owner_id=owner_id)
    elif role_id:  # a role's subtotal: the people with a row under it (so not the reader's peers)
        role = Role.objects.filter(pk=role_id).first()
        roles = scope_roles(user)
        if role is None or role.pk not in {r.pk for r in roles}:
            return qs.none()
        paths = {r.pk: r.path for r in roles}
        owners = qs.order_by().values_list("owner_id", flat=True).distinct()
        people = forecast_people(user, roles, owners=[o for o in owners if o])
        qs = qs.filter(owner_id__in=[p.pk for p in people if p.role_id in paths
                                     and paths[p.role_id].startswith(role.path)])
    elif others:  # the forecast's "other owners" row: deals of owners who have no row of their own
        owners = qs.order_by().values_list("owner_id", flat=True).distinct()
        people = forecast_people(user, scope_roles(user), owners=[o for o in owners if o])
        qs = qs.exclude(owner_id__in=[p.pk for p in people])
    return qs.order_by("close_date", "id")


# --- the manager's call ------------------------------------------------------------------------------------

def may_adjust(actor, subject, *, role_paths: dict | None = None) -> bool:
    """Whether `actor` may adjust (and see the adjustments of) `subject`'s forecast: an admin anyone's but their
    own, a manager the people in the roles below theirs (never a peer in their own role, nor themselves).
    `role_paths` (role id → path) saves reading the subject's role."""
    if subject.pk == actor.pk:
        return False
    if actor.is_crm_admin:
        return True
    if not actor.role_id or not subject.role_id or subject.role_id == actor.role_id:
        return False
    path = role_paths.get(subject.role_id) if role_paths is not None else subject.role.path
    return bool(path) and path.startswith(actor.role.path)


def current_adjustments(kind: str, start: dt.date, subject_ids) -> dict[int, ForecastAdjustment]:
    """Each subject's newest adjustment for the period, with `history_n` (how many they have): one query."""
    qs = (ForecastAdjustment.objects.filter(period_kind=kind, period_start=start, subject_id__in=list(subject_ids))
          .annotate(history_n=Window(Count("id"), partition_by=[F("subject_id")]))
          .select_related("adjusted_by").order_by("subject_id", "-created_at", "-id").distinct("subject_id"))
    return {adjustment.subject_id: adjustment for adjustment in qs}


def person_figures(user, subject, kind: str, start: dt.date) -> Figures:
    """One person's figures for the period as `user` sees them (their row of `forecast`), with their quota and
    the current manager's call when `user` may see it."""
    figures = Figures(**deals_in_period(user, kind, start).filter(owner=subject).aggregate(**_figure_aggregates()))
    figures.quota = Quota.objects.filter(user=subject, period_kind=kind, period_start=start).values_list(
        "amount", flat=True).first()
    if may_adjust(user, subject):
        current = current_adjustments(kind, start, [subject.pk]).get(subject.pk)
        if current is not None:
            figures.called, figures.adjusted_n = current.amount, 1
    return figures


def adjustment_history(kind: str, start: dt.date, subject) -> list[ForecastAdjustment]:
    """Every adjustment of `subject`'s forecast for the period, newest first, each with `before`: the figure it
    replaced (the previous adjustment, or for the first one the rep's call at that moment)."""
    history = list(ForecastAdjustment.objects.filter(subject=subject, period_kind=kind, period_start=start)
                   .select_related("adjusted_by").order_by("-created_at", "-id"))
    for adjustment, older in zip(history, history[1:] + [None]):
        adjustment.before = older.amount if older is not None else adjustment.rep_call
    return history


@transaction.atomic
def forecast_adjust(*, actor, subject, period_kind: str, period_start: dt.date, amount: Decimal,
                    note: str) -> ForecastAdjustment:
    """Record `actor`'s call on `subject`'s forecast for one period (`period_start` as `parse_period` gives it;
    closed won + commit, in the corporate currency) with the reason, keeping every earlier one. PermissionDenied unless `may_adjust`; a missing note or
    a negative amount is a ValidationError."""
    from django.core.exceptions import PermissionDenied, ValidationError

    if not may_adjust(actor, subject):
        raise PermissionDenied
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Say why you adjust the forecast.")})
    if amount is None or amount < 0:
        raise ValidationError({"amount": _("Enter an amount of zero or more.")})
    rep_call = person_figures(actor, subject, period_kind, period_start).rep_commit
    return ForecastAdjustment.objects.create(subject=subject, period_kind=period_kind,
                                             period_start=period_start, amount=amount, rep_call=rep_call, note=note, adjusted_by=actor)


# --- quotas -------------------------------------------------------------------------------------------------

@transaction.atomic
def quotas_set(*, actor, period_kind: str, period_start: dt.date, amounts: dict[int, Decimal | None]) -> int:
    """Set (or, with None, remove) the quotas of the given users for one period; only for users the actor
    manages. Returns how many rows changed."""
    allowed = set(managed_users(actor).filter(pk__in=list(amounts)).values_list("pk", flat=True))
    changed = 0
    existing = {q.user_id: q for q in Quota.objects.select_for_update().filter(
        period_kind=period_kind, period_start=period_start, user_id__in=allowed)}
    for user_id, amount in amounts.items():
        if user_id not in allowed:
            continue
        quota = existing.get(user_id)
        if amount is None:
            if quota:
                quota.delete()
                changed += 1
        elif quota is None:
            Quota.objects.create(user_id=user_id, period_kind=period_kind, period_start=period_start, amount=amount)
            changed += 1
        elif quota.amount != amount:
            quota.amount = amount
            quota.save(update_fields=["amount"])
            changed += 1
    return changed


# --- snapshots ----------------------------------------------------------------------------------------------

def week_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


_LINES_SELECT = """
    SELECT {snapshot}, o.id, o.name, o.owner_id, o.stage_id, s.outcome,
           CASE WHEN s.outcome = 'open' THEN COALESCE(o.forecast_override, s.forecast_category)
                ELSE s.forecast_category END,
           o.amount_corporate, o.probability, o.close_date
      FROM opportunities_opportunity o JOIN opportunities_stage s ON s.id = o.stage_id
     WHERE s.outcome = 'open' OR o.closed_at IS NULL OR o.closed_at >= %s
"""
_LINE_COLUMNS = ("snapshot_id, opportunity_id, name, owner_id, stage_id, outcome, forecast_category, "
                 "amount_corporate, probability, close_date")


def snapshot_take(*, week: dt.date | None = None, replace: bool = False) -> ForecastSnapshot | None:
    """The forecast snapshot of the ISO week of `week` (default: this week), with one line per open deal and
    per deal closed in the last SNAPSHOT_CLOSED_DAYS days, copied set-wise (INSERT ... SELECT).

    Idempotent: the week is unique, and the snapshot row is claimed with INSERT ... ON CONFLICT DO NOTHING, so
    a second run (or a second worker running at the same moment, which waits on the unique index until the
    first commits) takes nothing and returns None. With `replace` (an admin's "take snapshot now"), this week's
    snapshot is retaken: its lines are replaced in the same transaction."""
    now = timezone.now()
    week = week_of(week or timezone.localdate())
    cutoff = now - dt.timedelta(days=SNAPSHOT_CLOSED_DAYS)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO opportunities_forecastsnapshot (week, taken_at) VALUES (%s, %s) "
                       "ON CONFLICT (week) DO NOTHING RETURNING id", [week, now])
        row = cursor.fetchone()
        if row is None:
            if not replace:
                return None
            cursor.execute("SELECT id FROM opportunities_forecastsnapshot WHERE week = %s FOR UPDATE", [week])
            row = cursor.fetchone()
            cursor.execute("DELETE FROM opportunities_snapshotline WHERE snapshot_id = %s", [row[0]])
            cursor.execute("UPDATE opportunities_forecastsnapshot SET taken_at = %s WHERE id = %s", [now, row[0]])
        cursor.execute(f"INSERT INTO opportunities_snapshotline ({_LINE_COLUMNS}) "
                       + _LINES_SELECT.format(snapshot="%s"), [row[0], cutoff])
    return ForecastSnapshot.objects.get(pk=row[0])


# --- what moved ---------------------------------------------------------------------------------------------

MOVES = ("new", "won", "lost", "pushed_out", "pulled_in", "amount_up", "amount_down")


def move_labels() -> dict[str, str]:
    return {"new": _("New"), "won": _("Won"), "lost": _("Lost"), "pushed_out": _("Pushed out"),
            "pulled_in": _("Pulled in"), "amount_up": _("Amount up"), "amount_down": _("Amount down")}


@dataclass
class Move:
    opportunity_id: int
    name: str
    owner_id: int | None
    before: dict | None
    after: dict | None
    amount: Decimal  # what the move adds to its category's total (a change for amount up/down)
    owner: str = ""
    before_stage: str = ""
    after_stage: str = ""


@dataclass
class Moved:
    before: ForecastSnapshot
    after: ForecastSnapshot | None  # None: the deals as they are now
    kind: str
    groups: dict[str, list[Move]]

    def totals(self) -> list[tuple[str, str, int, Decimal]]:
        labels = move_labels()
        return [(key, labels[key], len(self.groups[key]), sum((m.amount for m in self.groups[key]), Decimal(0)))
                for key in MOVES if key in self.groups]


_SIDE_COLUMNS = ("stage_id", "outcome", "amount_corporate", "close_date", "probability")


def _classify(before: dict | None, after: dict | None, kind: str) -> list[tuple[str, Decimal]]:
    def money(side):
        return (side or {}).get("amount_corporate") or Decimal(0)

    moves = []
    if before is None:
        moves.append(("new", money(after)))
    was_open = before is None or before["outcome"] == Stage.Outcome.OPEN
    if after["outcome"] == Stage.Outcome.WON and was_open:
        moves.append(("won", money(after)))
    if after["outcome"] == Stage.Outcome.LOST and was_open:
        moves.append(("lost", money(before) if before else money(after)))
    if before is not None:
        if after["outcome"] == Stage.Outcome.OPEN and before["close_date"] and after["close_date"]:
            was, now = period_start(before["close_date"], kind), period_start(after["close_date"], kind)
            if now > was:
                moves.append(("pushed_out", money(after)))
            elif now < was:
                moves.append(("pulled_in", money(after)))
        delta = money(after) - money(before)
        if delta > 0:
            moves.append(("amount_up", delta))
        elif delta < 0:
            moves.append(("amount_down", delta))
    return moves


def what_moved(user, before: ForecastSnapshot, after: ForecastSnapshot | None, *, kind: str = PeriodKind.MONTH,
               with_amounts: bool = True) -> Moved:
    """The deals that changed between two snapshots (`after` None: now), deal by deal, among the deals the
    reader may see today. A deal can move in several ways at once (won and amount up) and is listed under
    each; pushed out / pulled in compare the close date's month or quarter (`kind`)."""
    visible, visible_params = visible_sql(user)
    side = "opportunity_id, name, owner_id, stage_id, outcome, amount_corporate, close_date, probability"
    a_sql = (f"SELECT {side} FROM opportunities_snapshotline WHERE snapshot_id = %s "
             f"AND opportunity_id IN ({visible})")
    params: list = [before.pk, *visible_params]
    if after is not None:
        b_sql = a_sql
        params += [after.pk, *visible_params]
    else:
        b_sql = ("SELECT o.id AS opportunity_id, o.name, o.owner_id, o.stage_id, s.outcome, o.amount_corporate, "
                 "o.close_date, o.probability FROM opportunities_opportunity o "
                 "JOIN opportunities_stage s ON s.id = o.stage_id "
                 f"WHERE (s.outcome = 'open' OR o.closed_at IS NULL OR o.closed_at >= %s) AND o.id IN ({visible})")
        params += [timezone.now() - dt.timedelta(days=SNAPSHOT_CLOSED_DAYS), *visible_params]
    cols = ", ".join(f"a.{c}" for c in _SIDE_COLUMNS) + ", " + ", ".join(f"b.{c}" for c in _SIDE_COLUMNS)
    sql = f"""
        WITH a AS ({a_sql}), b AS ({b_sql})
        SELECT COALESCE(b.opportunity_id, a.opportunity_id), COALESCE(b.name, a.name),
               COALESCE(b.owner_id, a.owner_id), a.opportunity_id IS NOT NULL, b.opportunity_id IS NOT NULL, {cols}
          FROM a FULL OUTER JOIN b ON a.opportunity_id = b.opportunity_id
         WHERE b.opportunity_id IS NOT NULL AND (a.opportunity_id IS NULL
               OR a.outcome IS DISTINCT FROM b.outcome
               OR COALESCE(a.amount_corporate, 0) <> COALESCE(b.amount_corporate, 0)
               OR a.close_date IS DISTINCT FROM b.close_date)
         ORDER BY 2, 1"""
    keys = MOVES if with_amounts else tuple(k for k in MOVES if k not in ("amount_up", "amount_down"))
    groups: dict[str, list[Move]] = {key: [] for key in keys}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    n = len(_SIDE_COLUMNS)
    owner_ids, stage_ids = set(), set()
    for row in rows:
        opp_id, name, owner_id, has_a, has_b = row[:5]
        a = dict(zip(_SIDE_COLUMNS, row[5:5 + n])) if has_a else None
        b = dict(zip(_SIDE_COLUMNS, row[5 + n:5 + 2 * n]))
        owner_ids.add(owner_id)
        stage_ids.update({(a or {}).get("stage_id"), b["stage_id"]})
        for key, amount in _classify(a, b, kind):
            if key in groups:
                groups[key].append(Move(opp_id, name, owner_id, a, b, amount))
    names = {u.pk: str(u) for u in User.objects.filter(pk__in=[i for i in owner_ids if i])}
    stages = {s.pk: str(s) for s in Stage.objects.filter(pk__in=[i for i in stage_ids if i])}
    for moves in groups.values():
        for move in moves:
            move.owner = names.get(move.owner_id, "")
            move.before_stage = stages.get((move.before or {}).get("stage_id"), "")
            move.after_stage = stages.get(move.after["stage_id"], "")
    return Moved(before, after, kind, groups)


# --- demo ---------------------------------------------------------------------------------------------------

def seed_demo(context: dict | None = None) -> None:
    """Quotas for the demo reps (this quarter and the next, and their months) and two snapshots: last week's,
    with a few deals set back as they stood then (so "what moved" has something to show), and this week's."""
    if ForecastSnapshot.objects.exists():
        return
    today = timezone.localdate()
    this_quarter = period_start(today, PeriodKind.QUARTER)
    owners = list(User.objects.filter(is_active=True, pk__in=Opportunity.objects.values("owner_id"))
                  .order_by("pk"))
    for i, owner in enumerate(owners):
        base = Decimal(60000 + 15000 * (i % 3))
        for q in (0, 1):
            quarter = shift(this_quarter, PeriodKind.QUARTER, q)
            Quota.objects.get_or_create(user=owner, period_kind=PeriodKind.QUARTER, period_start=quarter,
                                        defaults={"amount": base})
            for m in range(3):
                Quota.objects.get_or_create(user=owner, period_kind=PeriodKind.MONTH,
                                            period_start=shift(quarter, PeriodKind.MONTH, m),
                                            defaults={"amount": (base / 3).quantize(Decimal("1"))})
    last_week = snapshot_take(week=today - dt.timedelta(days=7))
    if last_week is None:
        return
    ForecastSnapshot.objects.filter(pk=last_week.pk).update(taken_at=timezone.now() - dt.timedelta(days=7))
    lines = list(last_week.lines.filter(outcome=Stage.Outcome.OPEN).order_by("opportunity_id")[:8])
    open_stage = Stage.objects.filter(outcome=Stage.Outcome.OPEN, pipeline__is_default=True).order_by("order").first()
    for i, line in enumerate(lines):
        if i % 4 == 0 and line.close_date:  # pushed out since: it was due a month earlier
            line.close_date = shift(period_start(line.close_date, PeriodKind.MONTH), PeriodKind.MONTH, -1)
        elif i % 4 == 1 and line.amount_corporate:  # amount went up since
            line.amount_corporate = (line.amount_corporate * Decimal("0.8")).quantize(Decimal("0.01"))
        elif i % 4 == 2 and line.amount_corporate:  # amount went down since
            line.amount_corporate = (line.amount_corporate * Decimal("1.25")).quantize(Decimal("0.01"))
        elif i % 4 == 3:  # it is new this week
            line.delete()
            continue
        line.save()
    closed = last_week.lines.exclude(outcome=Stage.Outcome.OPEN).order_by("opportunity_id")[:2]
    for line in closed:  # won or lost this week: it was still open last week
        line.outcome, line.forecast_category = Stage.Outcome.OPEN, ForecastCategory.COMMIT
        if open_stage:
            line.stage = open_stage
        line.save()
    snapshot_take()
