"""Duplicate detection for every record type, from the rules it registers:

    DuplicateSpec(email="email", phones=("phone", "mobile"), country="country", similar=("company", "last_name"))

Records keep their email and phone normalised (`email_normalized`, `phone_normalized`, E.164 through
`phonenumbers`) so equal ones are found by index; similar names are found with PostgreSQL's pg_trgm,
served by trigram indexes on UPPER(field) and bounded by DUPLICATE_SEARCH_TIMEOUT_MS. Imports match set-wise
on the same keys, and on the exact name when a row has neither email nor phone."""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.contrib.postgres.search import TrigramSimilarity
from django.db import OperationalError, connection, transaction
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)
SIMILARITY = 0.5
LIMIT = 10
EMAIL_KEY, PHONE_KEY = "email_normalized", "phone_normalized"


def normalize_email(value: str) -> str:
    return (value or "").strip().lower()


def normalize_phone(value: str, country: str = "") -> str:
    if not value or not value.strip():
        return ""
    return _e164(value.strip(), (country or "").strip().upper() or "FI")


@functools.lru_cache(maxsize=65536)  # parsing costs ~0.1 ms; imports and duplicate checks repeat numbers
def _e164(value: str, country: str) -> str:
    try:
        number = phonenumbers.parse(value, country)
    except phonenumbers.NumberParseException:
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) if phonenumbers.is_possible_number(number) else ""


def name_key(*parts) -> str:
    """A name as imports compare it: case, accents' composition and spacing do not matter."""
    import unicodedata

    return "|".join(" ".join(unicodedata.normalize("NFC", str(p or "")).upper().split()) for p in parts)


@dataclass(frozen=True)
class DuplicateSpec:
    email: str = ""  # the field holding the email (kept normalised in email_normalized)
    phones: tuple[str, ...] = ()  # phone fields: the first filled one is kept normalised in phone_normalized
    country: str = ""  # the field whose country reads phone numbers written without +
    similar: tuple[str, ...] = ()  # fields that must all be similar for "similar name" (trigram indexes)

    @property
    def keyed(self) -> tuple[str, ...]:
        return tuple(k for k, on in ((EMAIL_KEY, self.email), (PHONE_KEY, self.phones)) if on)

    @property
    def similar_reason(self) -> str:
        # A lead's similar company and name; an account's name, a contact's first and last name: a name.
        return _("similar company and name") if "company" in self.similar else _("similar name")

    def keys(self, values: dict) -> dict[str, str]:
        """The normalised keys a record with these field values stores."""
        result = {}
        if self.email:
            result[EMAIL_KEY] = normalize_email(values.get(self.email) or "")
        if self.phones:
            country = values.get(self.country) or "" if self.country else ""
            phone = next((values.get(p) for p in self.phones if (values.get(p) or "").strip()), "")
            result[PHONE_KEY] = normalize_phone(phone or "", country)
        return result

    def phone_keys(self, values: dict) -> set[str]:
        """Every phone of the record, normalised: any of them matching another record's key is a match."""
        country = values.get(self.country) or "" if self.country else ""
        return {k for k in (normalize_phone(values.get(p) or "", country) for p in self.phones) if k}

    def set_keys(self, record) -> None:
        for name, value in self.keys({f: getattr(record, f) for f in (self.email, *self.phones, self.country) if f}).items():
            setattr(record, name, value)


@dataclass
class Match:
    record: object
    reasons: list[str]

    @property
    def lead(self):  # the leads pages' templates name it so
        return self.record


def spec_for(model) -> DuplicateSpec | None:
    from crm.core import records

    try:
        return records.for_model(model).duplicates
    except KeyError:
        return None


def find(model, values: dict, *, exclude_pk=None, queryset=None) -> list:
    """Records of `model` that may be the same as one with these field values, strongest evidence first."""
    spec = spec_for(model)
    if spec is None:
        return []
    qs = queryset if queryset is not None else model._default_manager.all()
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    found: dict[int, Match] = {}

    def add(record, reason):
        found.setdefault(record.pk, Match(record, [])).reasons.append(reason)

    keys = spec.keys(values)
    if keys.get(EMAIL_KEY):
        for record in qs.filter(**{EMAIL_KEY: keys[EMAIL_KEY]})[:LIMIT]:
            add(record, _("same email"))
    phones = spec.phone_keys(values)
    if phones:
        for record in qs.filter(**{f"{PHONE_KEY}__in": phones})[:LIMIT]:
            add(record, _("same phone"))
    similar = [str(values.get(f) or "").strip() for f in spec.similar]
    if spec.similar and all(similar):
        for record in _similar(qs, spec.similar, similar):
            add(record, spec.similar_reason)
    return sorted(found.values(), key=lambda m: -len(m.reasons))[:LIMIT]


def find_for(record, queryset=None) -> list:
    spec = spec_for(type(record))
    if spec is None:
        return []
    names = {f for f in (spec.email, *spec.phones, spec.country, *spec.similar) if f}
    return find(type(record), {n: getattr(record, n) for n in names}, exclude_pk=record.pk, queryset=queryset)


def visible_split(user, model, matches: list) -> tuple[list, int]:
    """The matches `user` may see, and how many more exist that they may not (counted, never shown)."""
    ids = {m.record.pk for m in matches}
    visible = set(model.objects.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()
    return [m for m in matches if m.record.pk in visible], len(ids) - len(visible)


def _similar(qs, fields: tuple[str, ...], values: list[str]) -> list:
    """Records whose `fields` are all similar to `values`, most similar first.

    Each `%` condition is served by its field's trigram index, which PostgreSQL combines (BitmapAnd); the
    `%` threshold is raised to SIMILARITY for this query so the indexes prune as much as they can. Very
    common words ("Oy", "Group") in a very large table can still make the search slow, so it is bounded
    by DUPLICATE_SEARCH_TIMEOUT_MS: past that no similar-name matches are offered (email and phone
    matches still are) rather than holding the page up."""
    query = qs
    for i, (field, value) in enumerate(zip(fields, values)):
        query = query.annotate(**{f"_u{i}": Upper(field)}).filter(**{f"_u{i}__trigram_similar": value.upper()})
    similarities = {f"_s{i}": TrigramSimilarity(Upper(field), value.upper()) for i, (field, value) in
                    enumerate(zip(fields, values))}
    query = query.annotate(**similarities).filter(**{f"{name}__gte": SIMILARITY for name in similarities})
    query = query.order_by(*[f"-{name}" for name in similarities])[:LIMIT]
    rows: list = []
    # The settings are set LOCAL in a block that is always rolled back (the search writes nothing): the
    # connection's own come back by themselves, whether the search finished or was cancelled.
    with transaction.atomic(), connection.cursor() as cursor:
        try:
            cursor.execute("SELECT set_config('pg_trgm.similarity_threshold', %s, true), "
                           "set_config('statement_timeout', %s, true)",
                           [str(SIMILARITY), f"{settings.DUPLICATE_SEARCH_TIMEOUT_MS}ms"])
            rows = list(query)
        except OperationalError:
            logger.warning("Similar-record search for %r cancelled after %s ms", values,
                           settings.DUPLICATE_SEARCH_TIMEOUT_MS)
        finally:
            transaction.set_rollback(True)
    return rows
