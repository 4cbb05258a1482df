"""Demo data for `make run`, contributed by each app (`<app>/demo.py`) and run in dependency order by
`seed_demo`: `register_demo("leads", "leads.demo.seed", after=("access", "campaigns"))` in AppConfig.ready().

Each seed is idempotent: rows are found by a natural key first, so a second start adds only what is missing
and keeps whatever users changed. Seeds share a context dict (the demo users, the campaigns...).
The names and companies below are shared by the apps' seeds: English, Persian and Finnish ones."""
from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

from django.db import transaction


@dataclass(frozen=True)
class DemoSeed:
    name: str
    path: str  # "leads.demo.seed": a function(context: dict) -> None
    after: tuple[str, ...] = ()


_seeds: dict[str, DemoSeed] = {}


def register_demo(name: str, path: str, *, after: tuple[str, ...] = ()) -> None:
    _seeds[name] = DemoSeed(name, path, after)


def ordered() -> list[DemoSeed]:
    """The seeds, each after the ones it names (those that are registered)."""
    done: list[DemoSeed] = []
    seen: set[str] = set()

    def visit(seed: DemoSeed, path: tuple[str, ...] = ()):
        if seed.name in seen:
            return
        if seed.name in path:
            raise ValueError(f"demo seeds depend on each other in a circle: {' → '.join(path + (seed.name,))}")
        for name in seed.after:
            if name in _seeds:
                visit(_seeds[name], path + (seed.name,))
        seen.add(seed.name)
        done.append(seed)

    for seed in sorted(_seeds.values(), key=lambda s: s.name):
        visit(seed)
    return done


def seed_all(*, leads: int = 60, stdout=None) -> dict:
    context: dict = {"leads": leads}
    with transaction.atomic():
        for seed in ordered():
            module, function = seed.path.rsplit(".", 1)
            getattr(import_module(module), function)(context)
    if stdout:
        stdout.write("Demo data ready.\n")
    return context


COMPANIES = [
    ("Nordic Timber Oy", "FI", "Helsinki", "manufacturing", "fi"),
    ("Aalto Robotics", "FI", "Espoo", "technology", "fi"),
    ("Kuopio Health Services", "FI", "Kuopio", "healthcare", "fi"),
    ("Lapland Logistics", "FI", "Rovaniemi", "transport", "fi"),
    ("Tampere Energy", "FI", "Tampere", "energy", "fi"),
    ("Oulu Software House", "FI", "Oulu", "technology", "fi"),
    ("پارس داده", "IR", "تهران", "technology", "fa"),
    ("صنایع غذایی البرز", "IR", "کرج", "manufacturing", "fa"),
    ("گروه بازرگانی آریا", "IR", "اصفهان", "retail", "fa"),
    ("بیمه سپهر", "IR", "مشهد", "finance", "fa"),
    ("ساختمان‌سازی شیراز", "IR", "شیراز", "construction", "fa"),
    ("Brightside Retail Ltd", "GB", "London", "retail", "en"),
    ("Harbor Finance", "US", "Boston", "finance", "en"),
    ("Greenfield Farms", "US", "Des Moines", "agriculture", "en"),
    ("Summit Consulting Group", "GB", "Manchester", "consulting", "en"),
    ("Bluewave Telecom", "IE", "Dublin", "telecom", "en"),
]
NAMES = {
    "fi": [("Juha", "Korhonen"), ("Anna", "Laine"), ("Timo", "Heikkinen"), ("Sanna", "Koskinen"),
           ("Petri", "Järvinen"), ("Liisa", "Lehtonen"), ("Matti", "Salminen"), ("Kaisa", "Rantanen")],
    "fa": [("مریم", "رضایی"), ("علی", "محمدی"), ("زهرا", "کریمی"), ("حسین", "موسوی"),
           ("نرگس", "جعفری"), ("امیر", "صادقی"), ("فاطمه", "نوری"), ("رضا", "قاسمی")],
    "en": [("James", "Smith"), ("Olivia", "Williams"), ("Noah", "Brown"), ("Emma", "Jones"),
           ("Liam", "Miller"), ("Ava", "Davis"), ("Lucas", "Wilson"), ("Mia", "Taylor")],
}
TITLES = ["CEO", "CTO", "Head of Purchasing", "IT Manager", "Operations Director", "CFO", "Project Manager", "Buyer"]


