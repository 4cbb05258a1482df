"""The pages bench/speed.py times and profiles, and how their URLs are found in the HTML a version serves
(older versions page with ?page=N, current ones with keyset cursors: both are found by following "Next").
No Django here: the same helpers read pages fetched over HTTP and through the test client."""
from __future__ import annotations

import html
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

REP = "bench-rep0-0@bench.local"
MANAGER = "bench-manager0@bench.local"
USERS = {"rep": REP, "manager": MANAGER}
PAGE_100 = 100


@dataclass(frozen=True)
class Page:
    key: str
    label: str
    who: str  # "rep" or "manager"
    path: str  # may hold {lead}, {account}, {account360}, {contacts}, {page100}, {opportunity} or {board_more}:
    # found per version by discover()
    htmx: bool = False  # requested as htmx does (HX-Request: true), as a part of a page


PAGES = [
    Page("rep-leads", "leads list (50 rows)", "rep", "/leads/"),
    Page("manager-leads", "leads list (50 rows)", "manager", "/leads/"),
    Page("rep-lead", "lead page", "rep", "{lead}"),
    Page("manager-lead", "lead page", "manager", "{lead}"),
    Page("rep-search", "leads search", "rep", "/leads/?q=virtanen"),
    Page("manager-search", "leads search", "manager", "/leads/?q=virtanen"),
    Page("rep-filtered", "leads filtered, best score first", "rep", "/leads/?country=FI&score_min=50&sort=-score"),
    Page("manager-filtered", "leads filtered, best score first", "manager",
         "/leads/?country=FI&score_min=50&sort=-score"),
    Page("manager-page100", "leads page 100 (followed Next 99 times)", "manager", "{page100}"),
    Page("rep-count", "leads list: its count", "rep", "/leads/?count=1"),
    Page("manager-count", "leads list: its count", "manager", "/leads/?count=1"),
    Page("rep-accounts", "account list", "rep", "/accounts/"),
    Page("rep-contacts", "contact list", "rep", "{contacts}"),
    Page("rep-opportunities", "opportunity list", "rep", "/opportunities/"),
    Page("rep-account", "account page", "rep", "{account}"),
    Page("rep-account-360", "account 360° timeline (its first page, loaded with the tab)", "rep", "{account}timeline/"),
    Page("rep-home", "home", "rep", "/"),
    Page("manager-home", "home", "manager", "/"),
]
# Issue 9's measurement (bench/speed.py --scale issue9: 200,000 accounts, 500,000 contacts, 5 million activities):
# the account and contact lists for both users, and the 360° page of the account seed_scale gives 2,000 timeline
# items (bench/scale_customers.py), as its page and as the timeline tab that page loads.
_EXISTING = {p.key: p for p in PAGES}
ISSUE9_PAGES = [
    _EXISTING["rep-accounts"],
    Page("manager-accounts", "account list", "manager", "/accounts/"),
    _EXISTING["rep-contacts"],
    Page("manager-contacts", "contact list", "manager", "{contacts}"),
    Page("rep-account-2000", "360° account page (2,000 timeline items)", "rep", "{account360}"),
    Page("rep-account-2000-timeline", "360° timeline tab (first page of 25, of 2,000 items)", "rep",
         "{account360}timeline/"),
    Page("manager-account-2000", "360° account page (2,000 timeline items)", "manager", "{account360}"),
    Page("manager-account-2000-timeline", "360° timeline tab (first page of 25, of 2,000 items)", "manager",
         "{account360}timeline/"),
]
# Issue 10's (bench/speed.py --scale issue10: 300,000 opportunities): the board and a column's "Show more", the list
# and an opportunity's page, the forecast, the analytics and, last, the manager's home page (the sales dashboard).
ISSUE10_PAGES = [
    Page("manager-board", "opportunity board (default pipeline)", "manager", "/opportunities/board/"),
    Page("manager-board-more", "board: a column's \"Show more\" (htmx)", "manager", "{board_more}", htmx=True),
    Page("manager-opportunities", "opportunity list", "manager", "/opportunities/"),
    _EXISTING["rep-opportunities"],
    Page("manager-opportunity", "opportunity page", "manager", "{opportunity}"),
    Page("rep-opportunity", "opportunity page", "rep", "{opportunity}"),
    Page("manager-forecast", "forecast (this month)", "manager", "/opportunities/forecasts/"),
    Page("manager-analytics", "stage analytics", "manager", "/opportunities/analytics/"),
    Page("manager-home", "home (the sales dashboard)", "manager", "/"),
]
PAGES_BY_KEY = {p.key: p for p in PAGES + ISSUE9_PAGES + ISSUE10_PAGES}
SCALE_PAGES = {"issue9": ISSUE9_PAGES, "issue10": ISSUE10_PAGES}
# A board column's "Show more" button (templates/opportunities/board.html).
_LOAD_MORE = re.compile(r'hx-get="([^"]*part=more[^"]*)"[^>]*data-load-more')
# The account bench/scale_customers.py gives 2,000 timeline items; found by searching the rep's accounts for it.
ACCOUNT_360_SEARCH = "Bench 360 Customer"

# The rep's open leads (about 5,500 at a million leads), and about a sixth of them for the memory check.
EXPORT_FULL = "/leads/?mine=1&open=1&export={fmt}"
EXPORT_SMALL = "/leads/?mine=1&open=1&country=FI&export={fmt}"

_NEXT = [re.compile(r'<a\b[^>]*\b(?:rel="next"|data-page="next")[^>]*>', re.DOTALL),
         re.compile(r'<a\b[^>]*>\s*Next\s*</a>', re.DOTALL)]
_HREF = re.compile(r'href="([^"]*)"')


def record_links(body: str, prefix: str) -> list[str]:
    """Distinct links to records under `prefix` ("/leads/"), in page order."""
    return list(dict.fromkeys(re.findall(rf'href="({re.escape(prefix)}\d+/)"', body)))


def next_link(body: str, current: str) -> str | None:
    for pattern in _NEXT:
        tag = pattern.search(body)
        if tag:
            href = _HREF.search(tag.group(0))
            if href:
                return urllib.parse.urljoin(current, html.unescape(href.group(1)))
    return None


def page_number(body: str) -> int | None:
    found = re.search(r'data-page-number="(\d+)"', body) or re.search(r"Page (\d+)", body)
    return int(found.group(1)) if found else None


def discover(get: Callable[[str, str], tuple[int, str]]) -> dict[str, str]:
    """{lead, account, account360, contacts, page100, opportunity, board_more} for one version;
    get(who, path) -> (status, body)."""
    found = {}
    status, body = get("rep", "/leads/")
    leads = record_links(body, "/leads/")
    if status != 200 or not leads:
        raise SystemExit(f"the rep's lead list answered {status} with {len(leads)} leads")
    found["lead"] = leads[0]
    status, body = get("rep", "/accounts/")
    accounts = record_links(body, "/accounts/")
    found["account"] = accounts[0] if accounts else "/accounts/"
    # The 360° account with 2,000 timeline items, where seed_scale wrote one; else the first account again.
    status, body = get("rep", "/accounts/?q=" + urllib.parse.quote(ACCOUNT_360_SEARCH))
    big = record_links(body, "/accounts/") if status == 200 else []
    found["account360"] = big[0] if big else found["account"]
    # Contacts moved from /accounts/contacts/ to /contacts/ (the old address redirects): each version's own.
    status, _ = get("rep", "/contacts/")
    found["contacts"] = "/contacts/" if status == 200 else "/accounts/contacts/"
    # The first opportunity of the rep's list (the manager sees it too), and the first "Show more" of the
    # manager's board (the first column with more cards than it shows).
    status, body = get("rep", "/opportunities/")
    opportunities = record_links(body, "/opportunities/") if status == 200 else []
    found["opportunity"] = opportunities[0] if opportunities else "/opportunities/"
    status, body = get("manager", "/opportunities/board/")
    more = _LOAD_MORE.search(body) if status == 200 else None
    found["board_more"] = html.unescape(more.group(1)) if more else "/opportunities/board/?part=more"
    path = "/leads/"
    for _ in range(PAGE_100 - 1):
        status, body = get("manager", path)
        following = next_link(body, path) if status == 200 else None
        if following is None:
            break
        path = following
    found["page100"] = path
    status, body = get("manager", path)
    if page_number(body) != PAGE_100:
        # Older lists paged by number, and their "Next" (href="?{% querystring %}", which since Django 5.1
        # starts with "?" itself) led to "??page=2", which shows page 1 again.
        status, body = get("manager", f"/leads/?page={PAGE_100}")
        if status == 200 and page_number(body) == PAGE_100:
            found["page100"] = f"/leads/?page={PAGE_100}"
            found["page100_note"] = f"following Next did not reach page {PAGE_100}; ?page={PAGE_100} does"
    return found
