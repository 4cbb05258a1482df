"""The sections of /settings/, contributed by each app in its AppConfig.ready():
`register_section("lead_scoring", _("Lead scoring"), "speedometer2", "leads:setup_scoring",
right="manage_customization", order=110)`. Each section needs one profile right."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    key: str
    label: str
    icon: str
    url_name: str
    right: str
    order: int = 100


_sections: dict[str, Section] = {}


def register_section(key: str, label, icon: str, url_name: str, *, right: str, order: int = 100) -> None:
    _sections[key] = Section(key, label, icon, url_name, right, order)


def sections() -> list[Section]:
    return sorted(_sections.values(), key=lambda s: (s.order, s.key))
