"""Demo business-hours calendars: the default "Office hours (Helsinki)", Monday to Friday 08:00–16:00 with
Finland's public holidays of 2026 and 2027 (the fixed-date ones as yearly holidays, Easter and the other
movable ones as dates), and a "Tehran office" open Saturday to Wednesday 08:00–16:00."""
from __future__ import annotations

import datetime

D = datetime.date
HELSINKI = "Office hours (Helsinki)"
TEHRAN = "Tehran office"
OFFICE_DAY = (datetime.time(8), datetime.time(16))

FINNISH_YEARLY = [  # (month, day, name): fall on the same date every year
    (1, 1, "New Year's Day"), (1, 6, "Epiphany"), (5, 1, "May Day"), (12, 6, "Independence Day"),
    (12, 24, "Christmas Eve"), (12, 25, "Christmas Day"), (12, 26, "St Stephen's Day"),
]
FINNISH_MOVABLE = [  # Easter and what follows from it, midsummer and All Saints' Day, which move every year
    (D(2026, 4, 3), "Good Friday"), (D(2026, 4, 5), "Easter Sunday"), (D(2026, 4, 6), "Easter Monday"),
    (D(2026, 5, 14), "Ascension Day"), (D(2026, 5, 24), "Whit Sunday"), (D(2026, 6, 19), "Midsummer Eve"),
    (D(2026, 6, 20), "Midsummer Day"), (D(2026, 10, 31), "All Saints' Day"),
    (D(2027, 3, 26), "Good Friday"), (D(2027, 3, 28), "Easter Sunday"), (D(2027, 3, 29), "Easter Monday"),
    (D(2027, 5, 6), "Ascension Day"), (D(2027, 5, 16), "Whit Sunday"), (D(2027, 6, 25), "Midsummer Eve"),
    (D(2027, 6, 26), "Midsummer Day"), (D(2027, 11, 6), "All Saints' Day"),
]


def seed(context: dict) -> None:
    """Idempotent: a calendar found by name is left as its admin made it."""
    from crm.automation import services
    from crm.automation.models import BusinessCalendar

    actor = (context.get("users") or {}).get("admin")
    if not BusinessCalendar.objects.filter(name=HELSINKI).exists():
        helsinki = services.calendar_save(
            actor=actor, name=HELSINKI, time_zone="Europe/Helsinki", is_default=True,
            hours=[(day, *OFFICE_DAY) for day in range(5)])
        for month, day, name in FINNISH_YEARLY:
            services.holiday_add(actor=actor, calendar=helsinki, date=D(2026, month, day), name=name,
                                 recurs_yearly=True)
        for date, name in FINNISH_MOVABLE:
            services.holiday_add(actor=actor, calendar=helsinki, date=date, name=name)
    if not BusinessCalendar.objects.filter(name=TEHRAN).exists():
        # The Iranian week: Saturday to Wednesday (Thursday and Friday are the weekend).
        services.calendar_save(actor=actor, name=TEHRAN, time_zone="Asia/Tehran",
                               hours=[(day, *OFFICE_DAY) for day in (5, 6, 0, 1, 2)])
    context["business_calendars"] = {c.name: c for c in BusinessCalendar.objects.filter(name__in=[HELSINKI, TEHRAN])}
