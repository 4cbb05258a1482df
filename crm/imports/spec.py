"""What a record type tells the import engine: which fields a file may fill and which neutral column
concepts (crm.imports.headers) stand for them, how new records get their defaults, and what follows an
import. Everything else (reading files, mapping, cleaning per field type, duplicates, COPY writes, history,
events, the pages) the engine derives from the model and the type's other registrations."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ImportSpec:
    fields: tuple[str, ...]  # model fields a file may fill, in the order the mapping lists them
    concepts: dict[str, str]  # neutral concept (headers.CONCEPTS) → field: {"company": "account", ...}
    # Fields a file must map (one of them is enough when `required_any`), besides what the model requires.
    required_any: tuple[str, ...] = ()
    # Related records matched by name ({"account": "name"}): a cell names the account; `create_related` lists
    # the relations whose missing names create a record (a contacts file brings its accounts).
    related_by_name: dict[str, str] = field(default_factory=dict)
    create_related: tuple[str, ...] = ()
    # Values for new records the file does not give: callable() → {attname: value}.
    defaults: Callable[[], dict] | None = None
    # Known spellings of our values from other systems: {field: {"open - not contacted": "not-contacted"}}.
    value_aliases: dict[str, dict[str, str]] = field(default_factory=dict)
    # (record values by attname, the file's columns) → None: fills what follows from the row (a stage's pipeline);
    # `row_fields` are the attnames it may fill.
    complete: Callable | None = None
    row_fields: tuple[str, ...] = ()
    # (job, record values by attname) → owner id from the type's assignment rules, when the job asks for them.
    assign: Callable | None = None
    # (job, actor, created ids, updated ids, assigned {owner id: count}) after the writes, in their transaction.
    after_import: Callable | None = None
    supports_campaign: bool = False  # the job can add a campaign touch to every imported record
    # vCard cards give neutral person fields; a card with no name takes its company or email as one.
    vcard: bool = False
    title: str = ""  # "Import leads"
    records_label: str = ""  # "leads": "Back to leads"
