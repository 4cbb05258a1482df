"""Writing vCard files (3.0, RFC 2426, and 4.0, RFC 6350) from the neutral person fields the reader
(crm.imports.vcard) gives: first_name, last_name, salutation, company, department, title, email,
secondary_email, phone, mobile, website, street, city, state, postal_code, country (an ISO code),
birthdate, preferred_language, description, plus uid and revision.

What the reader reads back is what was written, so an export imported again matches every card to its
contact by the duplicate rules (email, phone, then name) and creates nothing. Text is escaped as the RFCs say
(backslash, comma, semicolon, newline), lines are folded at 75 octets without splitting a character, and lines
end in CRLF; phone numbers stay free text (both versions allow it), so "+358 40 123 4567" comes back as
written."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timezone as dt_timezone

VERSIONS = ("3.0", "4.0")
PRODID = "-//CRM//vCard export//EN"
_FOLD_AT = 75  # octets per line, the CRLF not counted


def _escape(value) -> str:
    text = str(value or "").replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\n", "\\n")


def _structured(*parts) -> str:
    return ";".join(_escape(part) for part in parts)


def _fold(line: str) -> str:
    """The line folded at 75 octets of UTF-8 (a continuation starts with a space), never inside a character."""
    data = line.encode("utf-8")
    if len(data) <= _FOLD_AT:
        return line + "\r\n"
    pieces, current, size, limit = [], [], 0, _FOLD_AT
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > limit:
            pieces.append("".join(current))
            current, size, limit = [], 0, _FOLD_AT - 1  # a continuation line's leading space counts
        current.append(ch)
        size += width
    pieces.append("".join(current))
    return "\r\n ".join(pieces) + "\r\n"


def _country_name(code: str) -> str:
    """The country's English name (address books show the written country), or what was stored."""
    code = (code or "").strip()
    if len(code) != 2:
        return code
    from babel import Locale

    return Locale.parse("en").territories.get(code.upper(), code)


def _stamp(value: datetime, version: str) -> str:
    value = value.astimezone(dt_timezone.utc) if value.tzinfo else value
    return value.strftime("%Y%m%dT%H%M%SZ" if version == "4.0" else "%Y-%m-%dT%H:%M:%SZ")


def write_vcard(person: dict, *, version: str = "4.0") -> str:
    """One card for a person (neutral field names; missing or empty fields are left out)."""
    if version not in VERSIONS:
        raise ValueError(f"vCard version {version!r}")
    four = version == "4.0"
    get = lambda name: (person.get(name) or "")  # noqa: E731 - a short accessor
    first, last, prefix = get("first_name"), get("last_name"), get("salutation")
    lines = ["BEGIN:VCARD", f"VERSION:{version}", f"PRODID:{PRODID}"]
    if four:
        lines.append("KIND:individual")
    full = " ".join(p for p in (first, last) if p) or get("company") or get("email")
    lines.append(f"FN:{_escape(full)}")
    lines.append(f"N:{_structured(last, first, '', prefix, '')}")
    if get("company") or get("department"):
        lines.append(f"ORG:{_structured(get('company'), get('department'))}" if get("department")
                     else f"ORG:{_escape(get('company'))}")
    if get("title"):
        lines.append(f"TITLE:{_escape(get('title'))}")
    if get("email"):
        lines.append(f"EMAIL;TYPE=work;PREF=1:{_escape(get('email'))}" if four
                     else f"EMAIL;TYPE=INTERNET,WORK,PREF:{_escape(get('email'))}")
        # The second address only beside a first one: a reader takes a lone address for the primary one.
        if get("secondary_email"):
            lines.append(f"EMAIL;TYPE=home;PREF=2:{_escape(get('secondary_email'))}" if four
                         else f"EMAIL;TYPE=INTERNET,HOME:{_escape(get('secondary_email'))}")
    if get("phone"):
        lines.append(f"TEL;TYPE=work,voice:{_escape(get('phone'))}" if four
                     else f"TEL;TYPE=WORK,VOICE:{_escape(get('phone'))}")
    if get("mobile"):
        lines.append(f"TEL;TYPE=cell,voice:{_escape(get('mobile'))}" if four
                     else f"TEL;TYPE=CELL,VOICE:{_escape(get('mobile'))}")
    address = (get("street"), get("city"), get("state"), get("postal_code"), _country_name(get("country")))
    if any(address):
        lines.append(f"ADR;TYPE={'work' if four else 'WORK'}:{_structured('', '', *address)}")
    if get("website"):
        lines.append(f"URL:{_escape(get('website'))}")
    birthdate = person.get("birthdate")
    if isinstance(birthdate, date):
        lines.append(f"BDAY:{birthdate.strftime('%Y%m%d') if four else birthdate.isoformat()}")
    if get("preferred_language"):  # a 4.0 property; 3.0 readers ignore what they do not know
        lines.append(f"LANG:{_escape(get('preferred_language'))}")
    if get("description"):
        lines.append(f"NOTE:{_escape(get('description'))}")
    if get("uid"):
        lines.append(f"UID:{_escape(get('uid'))}")
    revision = person.get("revision")
    if isinstance(revision, datetime):
        lines.append(f"REV:{_stamp(revision, version)}")
    lines.append("END:VCARD")
    return "".join(_fold(line) for line in lines)


def write_vcards(people: Iterable[dict], *, version: str = "4.0") -> str:
    """A .vcf file of one card per person, in the given order."""
    return "".join(write_vcard(person, version=version) for person in people)
