"""A version token for what the opportunity list's model-choice filters offer (pipelines, their stages, teams):
the shared list engine keeps the filter panel written once per process with this token in its key
(crm.lists.views._filters_html), and every save or delete of a pipeline, a stage or a team changes it, so the
next request of every process writes the panel again."""
from __future__ import annotations

from crm.core.config_cache import ConfigCache

choices_config = ConfigCache("opportunity-filter-choices", size=4)
# The list's filters whose choices the token covers.
COVERED = frozenset({"pipeline", "stage", "team"})


def changed(**kwargs) -> None:
    choices_config.changed()


def cached_choices() -> tuple[frozenset, tuple]:
    return COVERED, (choices_config.version(),)
