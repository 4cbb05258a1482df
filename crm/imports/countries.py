"""One country lookup for every import: ISO 3166-1 alpha-2 codes from the codes, names and nicknames people
write in CSV files and address books.

Country names come from Babel's CLDR data in the languages our users' files are in (English, Finnish,
Persian, and the Swedish and German common in Nordic address books), plus the aliases CLDR lacks. The table
is built on first use and kept for the life of the process."""
from __future__ import annotations

import re
import unicodedata
from functools import cache

from babel import Locale
from babel.core import get_global

# Languages whose CLDR country names are recognised; on a clash between two languages the earlier one wins.
LANGUAGES = ("en", "fi", "fa", "sv", "de")

# CLDR territory codes that are not countries with an ISO 3166-1 code of their own: the exceptionally
# reserved ones (Ascension, Clipperton, Diego Garcia, Ceuta & Melilla, Canary Islands, Tristan da Cunha,
# Sark), the unions and groupings, and the pseudo and unknown regions. Kosovo's XK is kept: it is
# user-assigned, but it is the code the EU, CLDR and libphonenumber use.
_NOT_COUNTRIES = frozenset({"AC", "CP", "CQ", "DG", "EA", "IC", "TA", "EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"})

# What people write that CLDR does not list, by code. Compared after the same clean-up as the input.
ALIASES: dict[str, tuple[str, ...]] = {
    "US": ("USA", "U.S.A.", "U.S.", "United States of America", "America", "the States", "Amerikka",
           "Amerikan Yhdysvallat", "آمریکا", "امریکا", "ایالات متحده آمریکا", "ایالات متحده امریکا",
           "ایالات متحدهٔ آمریکا"),
    "GB": ("UK", "U.K.", "Great Britain", "Britain", "England", "Scotland", "Wales", "Northern Ireland",
           "United Kingdom of Great Britain and Northern Ireland", "Englanti", "Britannia", "Skotlanti",
           "Großbritannien", "انگلستان", "انگلیس", "بریتانیای کبیر"),
    "IR": ("Persia", "Islamic Republic of Iran", "Iran, Islamic Republic of", "Iran (Islamic Republic of)",
           "I.R. Iran", "IR Iran", "Persien", "جمهوری اسلامی ایران", "ج.ا.ایران", "ج. ا. ایران"),
    "NL": ("Holland", "Hollanti", "Nederland"),
    "RU": ("Russian Federation", "Россия", "Российская Федерация"),
    "KR": ("Korea", "Republic of Korea", "Korea, Republic of", "Korea (South)", "대한민국", "کره", "کره جنوبی"),
    "KP": ("Korea, Democratic People's Republic of", "DPRK", "Korea (North)", "کره شمالی"),
    "CZ": ("Czech Republic", "Česko", "Česká republika", "Tsekin tasavalta"),
    "TR": ("Turkey", "Türkiye Cumhuriyeti", "Turkiet", "Türkei"),
    "CI": ("Ivory Coast", "Cote d'Ivoire"),
    "VN": ("Viet Nam",),
    "MM": ("Burma",),
    "MK": ("Macedonia", "FYROM", "Macedonia, the Former Yugoslav Republic of"),
    "SZ": ("Swaziland",),
    "CV": ("Cabo Verde",),
    "TL": ("East Timor",),
    "VA": ("Vatican", "Holy See"),
    "PS": ("Palestine", "Palestine, State of", "State of Palestine", "فلسطین"),
    "AE": ("UAE", "U.A.E.", "Emirates", "امارات", "امارات متحده عربی"),
    "SA": ("KSA", "Saudi", "عربستان"),
    "HK": ("Hong Kong",),
    "MO": ("Macau", "Macao"),
    "CD": ("DR Congo", "DRC", "Congo, The Democratic Republic of the", "Democratic Republic of the Congo"),
    "CG": ("Republic of the Congo", "Congo-Brazzaville"),
    "BA": ("Bosnia",),
    "TW": ("Taiwan, Province of China", "Republic of China"),
    "TZ": ("Tanzania, United Republic of",),
    "VE": ("Venezuela, Bolivarian Republic of",),
    "BO": ("Bolivia, Plurinational State of",),
    "MD": ("Moldova, Republic of",),
    "LA": ("Lao People's Democratic Republic",),
    "SY": ("Syrian Arab Republic",),
    "FM": ("Micronesia, Federated States of",),
    "CN": ("People's Republic of China", "PRC", "中国"),
    "JP": ("日本",),
    "FI": ("Suomen tasavalta", "Republic of Finland"),
    "SE": ("Konungariket Sverige",),
    "NO": ("Norge", "Noreg"),
    "DK": ("Danmark",),
    "IS": ("Ísland",),
    "EE": ("Eesti",),
    "LV": ("Latvija",),
    "LT": ("Lietuva",),
    "PL": ("Polska",),
    "HU": ("Magyarország",),
    "ES": ("España",),
    "IT": ("Italia",),
    "BE": ("België", "Belgique"),
    "CH": ("Suisse", "Svizzera"),
    "IE": ("Éire",),
    "UA": ("Україна",),
    "GR": ("Ελλάδα", "Hellas"),
    "BR": ("Brasil",),
    "MX": ("México",),
    "DE": ("BRD", "Bundesrepublik Deutschland"),
    "AT": ("Republik Österreich",),
}

# Two-letter values that are not ISO codes but are written as if they were.
_TWO_LETTER_ALIASES = {"UK": "GB"}

_PERSIAN_LETTERS = str.maketrans({"\u064a": "\u06cc", "\u0649": "\u06cc", "\u0643": "\u06a9"})
# Invisible marks in Persian and copied text: ZWJ, bidi marks, BOM, tatweel. ZWNJ separates words, so it is
# read as a space ("ایالات‌متحده" = "ایالات متحده").
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                                    "\u2066\u2067\u2068\u2069\ufeff\u0640"), None)
_SEPARATORS = re.compile(r"[\s,;()\[\]\u200c]+")
_APOSTROPHES = re.compile(r"['\u2018\u2019\u02bc`\u00b4.]")


def _key(value: str) -> str:
    """The comparison form: NFKC, case-folded, Persian letters, no dots or apostrophes, "&" read as "and",
    dashes, commas and brackets read as spaces, and no leading "the " or trailing " the" ("Gambia, The")."""
    text = unicodedata.normalize("NFKC", str(value)).casefold().translate(_PERSIAN_LETTERS).translate(_INVISIBLE)
    text = _APOSTROPHES.sub("", text).replace("&", " and ")
    text = "".join(" " if unicodedata.category(ch) == "Pd" else ch for ch in text)
    words = _SEPARATORS.split(text)
    words = [word for word in words if word]
    if words[:1] == ["the"]:
        words = words[1:]
    if words[-1:] == ["the"]:
        words = words[:-1]
    return " ".join(words)


def _plain(key: str) -> str:
    """`key` without its diacritics ("österreich" -> "osterreich")."""
    decomposed = unicodedata.normalize("NFKD", key)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


def _variants(name: str) -> set[str]:
    """A CLDR name's comparison keys with its other usual spellings: "St. Lucia" also as "Saint Lucia",
    "Myanmar (Burma)" also as "Myanmar" and "Burma", "Hong Kong SAR China" also as "Hong Kong"."""
    found = {_key(name)}
    if "(" in name:
        before, _, inside = name.partition("(")
        found |= {_key(before), _key(inside)}
    for key in list(found):
        if key.startswith("st "):
            found.add("saint " + key[3:])
        for suffix in (" sar china", " sar"):
            if key.endswith(suffix):
                found.add(key[: -len(suffix)])
    return found


@cache
def _tables() -> tuple[frozenset[str], dict[str, str], dict[str, str]]:
    """(the alpha-2 codes, exact name -> code, name without diacritics -> code). A name without diacritics
    is kept only where it stands for one country alone."""
    english = Locale.parse("en").territories
    codes = frozenset(code for code in english
                      if len(code) == 2 and code.isalpha() and code.isupper() and code not in _NOT_COUNTRIES)
    exact: dict[str, str] = {}

    def add(name: str, code: str) -> None:
        key = _key(name)
        if key and len(key) != 2:  # two letters are always read as a code
            exact.setdefault(key, code)

    for code, names in ALIASES.items():
        for name in names:
            add(name, code)
    for language in LANGUAGES:
        for code, name in Locale.parse(language).territories.items():
            if code in codes:
                for variant in _variants(name):
                    add(variant, code)
    # CLDR's aliases hold the alpha-3 codes ("FIN" -> FI) among numeric and retired codes.
    for alias, replacement in get_global("territory_aliases").items():
        if len(alias) == 3 and alias.isalpha() and len(replacement) == 1 and replacement[0] in codes:
            exact.setdefault(alias.casefold(), replacement[0])
    plain: dict[str, set[str]] = {}
    for key, code in exact.items():
        plain.setdefault(_plain(key), set()).add(code)
    unambiguous = {key: next(iter(found)) for key, found in plain.items() if len(found) == 1}
    return codes, exact, unambiguous


def country_code(value: str) -> str:
    """The ISO 3166-1 alpha-2 code (upper case) for a country code or name, "" when it is not one we know.

    Two-letter values are read as codes ("fi", and the retired "UK" as GB); three-letter ones as alpha-3
    codes; anything else as a name in one of LANGUAGES or an alias, ignoring case, dots and a "the "."""
    key = _key(value or "")
    if not key:
        return ""
    codes, exact, plain = _tables()
    if len(key) == 2 and key.isascii() and key.isalpha():
        code = key.upper()
        if code in codes:
            return code
        return _TWO_LETTER_ALIASES.get(code, "")
    return exact.get(key) or plain.get(_plain(key), "")
