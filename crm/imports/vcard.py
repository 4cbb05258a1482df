"""Reading vCard files (2.1, 3.0 and 4.0) into neutral person fields (first_name, last_name, company,
title, department, email, secondary_email, phone, mobile, website, street, city, state, postal_code, country,
description, birthdate, salutation, preferred_language): the concepts of crm.imports.headers, which every person-like
record type (leads, contacts) maps to its own fields.

A hand parser rather than vobject: real exports mix versions, 2.1 quoted-printable with soft
line breaks, odd charsets and broken cards, and one bad card must not lose the others. Bad input
never raises; problems are reported per card, in the user's language. A bad optional value (a web
address that is not one) is dropped with a warning instead of losing the card; contact groups and
organisation cards are recognised and not taken for people."""
from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

# Properties whose values are binary blobs; their (often huge) continuation lines are dropped unread.
_BINARY = frozenset({"PHOTO", "LOGO", "SOUND", "KEY"})
# vCard 2.1 allows parameter values without a name ("TEL;CELL;VOICE:"); these are ENCODING values.
_BARE_ENCODINGS = frozenset({"QUOTED-PRINTABLE", "BASE64", "B", "8BIT", "7BIT"})
_UNESCAPES = {"n": "\n", "N": "\n", "\\": "\\", ",": ",", ";": ";", ":": ":"}
_ESCAPE_RE = re.compile(r"\\(.)", re.S)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_NEWLINE_RE = re.compile(r"\r\n|\r|\n")
_NO_PREF = 1000

INDIVIDUAL, GROUP, ORGANIZATION = "individual", "group", "org"


@dataclass
class Card:
    index: int  # 1-based position of the card in the file
    fields: dict[str, str] = field(default_factory=dict)  # neutral field name -> value; only non-empty values
    errors: list[str] = field(default_factory=list)  # the card cannot be imported
    warnings: list[str] = field(default_factory=list)  # read, with something dropped or filled in
    kind: str = INDIVIDUAL


@dataclass
class _Prop:
    name: str
    params: dict[str, list[str]]
    value: str  # still encoded and escaped as in the file
    order: int


def parse_vcards(data: bytes) -> list[Card]:
    """Every card in the file, in file order. A file with no BEGIN:VCARD gives []."""
    text, raw_is_utf8 = _decode_file(data)
    cards: list[Card] = []
    props: list[_Prop] | None = None
    skip_depth = 0  # inside a vCard embedded in a 2.1 AGENT property
    agent_pending = False
    for order, line in enumerate(_logical_lines(text)):
        upper = line.strip().upper()
        if skip_depth:
            if upper == "BEGIN:VCARD":
                skip_depth += 1
            elif upper == "END:VCARD":
                skip_depth -= 1
            continue
        if upper == "BEGIN:VCARD":
            if props is not None and agent_pending:
                skip_depth, agent_pending = 1, False
                continue
            if props is not None:
                cards[-1] = _build(cards[-1].index, props, raw_is_utf8, complete=False)
            cards.append(Card(index=len(cards) + 1))
            props = []
            continue
        if props is None:
            continue  # outside any card: stray text or an END without a BEGIN
        if upper == "END:VCARD":
            cards[-1] = _build(cards[-1].index, props, raw_is_utf8, complete=True)
            props, agent_pending = None, False
            continue
        prop = _parse_line(line, order)
        if prop is not None:
            props.append(prop)
            agent_pending = prop.name == "AGENT" and not prop.value.strip()
    if props is not None:
        cards[-1] = _build(cards[-1].index, props, raw_is_utf8, complete=False)
    return cards


# --- reading lines ------------------------------------------------------------------------------------------

def _decode_file(data: bytes) -> tuple[str, bool]:
    """The file as text, and whether that text still carries its raw bytes.

    UTF-8 is decoded with surrogateescape so a property with CHARSET=ISO-8859-1 (or a stray
    Windows-1252 byte) can get its original bytes back and be decoded properly."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return data.decode("utf-32", errors="replace"), False
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace"), False
    head = data[:4]  # UTF-16 without a BOM: every other byte of the ASCII "BEGIN" is zero
    if len(head) == 4 and head[1] == 0 and head[3] == 0 and head[0] != 0:
        return data.decode("utf-16-le", errors="replace"), False
    if len(head) == 4 and head[0] == 0 and head[2] == 0 and head[1] != 0:
        return data.decode("utf-16-be", errors="replace"), False
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    return data.decode("utf-8", errors="surrogateescape"), True


def _logical_lines(text: str):
    """Unfolded content lines: RFC 6350 folding (a line starting with a space or tab continues
    the previous one) and 2.1 quoted-printable soft breaks (a QP value line ending in "=")."""
    parts: list[str] = []
    binary = qp = False
    for line in _NEWLINE_RE.split(text):
        if parts:
            if qp and parts[-1].endswith("=") and line.strip().upper() not in ("END:VCARD", "BEGIN:VCARD"):
                parts[-1] = parts[-1][:-1]
                parts.append(line)
                continue
            if line[:1] in (" ", "\t"):
                if not binary:
                    parts.append(line[1:])
                continue
            yield "".join(parts)
            parts = []
        if not line.strip():
            continue
        if binary:
            # Some 2.1 writers do not indent base64 lines; they have no colon, so they are not properties.
            if _value_start(line) < 0:
                continue
        parts = [line]
        head = line[: max(_value_start(line), 0)].upper()
        name = head.split(";", 1)[0].rsplit(".", 1)[-1].strip()
        binary = name in _BINARY
        qp = "QUOTED-PRINTABLE" in head
        if binary:
            parts = [line[: _value_start(line) + 1]]  # keep the name, drop the blob
    if parts:
        yield "".join(parts)


def _value_start(line: str) -> int:
    """Index of the colon between name/parameters and value (colons in quoted parameter values do not count)."""
    if '"' not in line:
        return line.find(":")
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            return i
    return -1


def _split_unquoted(text: str, sep: str) -> list[str]:
    out, start, quoted = [], 0, False
    for i, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted
        elif ch == sep and not quoted:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return out


def _parse_line(line: str, order: int) -> _Prop | None:
    colon = _value_start(line)
    if colon <= 0:
        return None
    head, value = line[:colon], line[colon + 1:]
    name, *raw_params = _split_unquoted(head, ";")
    name = name.rsplit(".", 1)[-1].strip().upper()  # drop a group prefix such as "item1."
    if not name:
        return None
    params: dict[str, list[str]] = {}
    for raw in raw_params:
        raw = raw.strip()
        if not raw:
            continue
        key, sep, val = raw.partition("=")
        if sep:
            key = key.strip().upper()
            # 4.0 quotes lists (TYPE="work,voice"); no parameter read here has a comma of its own.
            values = [v.strip() for v in val.replace('"', "").split(",")]
        elif raw.upper() in _BARE_ENCODINGS:
            key, values = "ENCODING", [raw]
        else:
            key, values = "TYPE", [raw]
        params.setdefault(key, []).extend(v for v in values if v)
    return _Prop(name=name, params=params, value=value, order=order)


# --- decoding values ----------------------------------------------------------------------------------------

def _charset_decode(raw: bytes, charset: str | None) -> str:
    charset = (charset or "utf-8").strip().lower()
    if charset in ("iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii", "ascii"):
        charset = "cp1252"  # as browsers do: the real files are Windows-1252 more often than not
    try:
        return raw.decode(charset)
    except (LookupError, UnicodeDecodeError):
        pass
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _text(prop: _Prop, raw_is_utf8: bool) -> str:
    """The property value as text, with transfer encoding and charset undone (escapes not yet)."""
    encoding = (prop.params.get("ENCODING") or [""])[0].upper()
    charset = (prop.params.get("CHARSET") or [None])[0]
    value = prop.value
    if encoding == "QUOTED-PRINTABLE":
        raw = binascii.a2b_qp(value.encode("utf-8", errors="surrogateescape"))
        return _charset_decode(raw, charset)
    if encoding in ("B", "BASE64"):
        try:
            raw = base64.b64decode("".join(value.split()), validate=False)
        except (binascii.Error, ValueError):
            return ""
        return _charset_decode(raw, charset)
    if raw_is_utf8 and (charset or any("\udc80" <= ch <= "\udcff" for ch in value)):
        return _charset_decode(value.encode("utf-8", errors="surrogateescape"), charset)
    return value


def _unescape(text: str) -> str:
    return _ESCAPE_RE.sub(lambda m: _UNESCAPES.get(m.group(1), m.group(0)), text)


def _split_escaped(text: str, sep: str) -> list[str]:
    """Split on `sep` not preceded by a backslash escape; each part still escaped."""
    if "\\" not in text:
        return text.split(sep)
    out, buf, i = [], [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            buf.append(text[i: i + 2])
            i += 2
            continue
        if ch == sep:
            out.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
        i += 1
    out.append("".join(buf))
    return out


def _clean(text: str, multiline: bool = False) -> str:
    text = unicodedata.normalize("NFC", text)
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        return _CONTROL_RE.sub("", text).strip()
    text = " ".join(text.replace("\n", " ").split())
    return _CONTROL_RE.sub("", text)


def _component(parts: list[str], i: int, joiner: str = " ", lines_joiner: str | None = None) -> str:
    """Component i of a structured value; its comma-separated values joined by `joiner`, the lines of each by
    `lines_joiner` (default: `joiner` too)."""
    if i >= len(parts):
        return ""
    lines_joiner = joiner if lines_joiner is None else lines_joiner
    values = (_unescape(v) for v in _split_escaped(parts[i], ","))
    cleaned = (lines_joiner.join(c for c in (_clean(line) for line in _NEWLINE_RE.split(v)) if c) for v in values)
    return joiner.join(c for c in cleaned if c)


# --- from properties to lead fields -------------------------------------------------------------------------

def _types(prop: _Prop) -> set[str]:
    return {t.lower() for t in prop.params.get("TYPE", [])}


def _pref(prop: _Prop) -> int:
    """Lower is more preferred: 4.0 PREF=1..100; 2.1/3.0 "pref" type counts as 1."""
    for value in prop.params.get("PREF", []):
        try:
            return max(1, min(int(value), 100))
        except ValueError:
            return 1
    return 1 if "pref" in _types(prop) else _NO_PREF


def _country(value: str) -> str:
    from crm.imports.countries import country_code

    return country_code(value)


def _web_address(value: str) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(value if "://" in value else f"https://{value}")
    return parts.scheme in ("http", "https") and "." in parts.netloc


def _kind(by_name: dict, text) -> str:
    for prop in by_name.get("KIND", []) + by_name.get("X-ADDRESSBOOKSERVER-KIND", []):
        value = text(prop).strip().lower()
        if value == "group":
            return GROUP
        if value in ("org", "organization"):
            return ORGANIZATION
    if any(text(p).strip().upper() == "COMPANY" for p in by_name.get("X-ABSHOWAS", [])):
        return ORGANIZATION  # Apple Contacts' company cards
    return INDIVIDUAL


def _build(index: int, props: list[_Prop], raw_is_utf8: bool, *, complete: bool) -> Card:
    card = Card(index=index)
    fields = card.fields
    by_name: dict[str, list[_Prop]] = {}
    for prop in props:
        by_name.setdefault(prop.name, []).append(prop)

    def text(prop: _Prop) -> str:
        return _text(prop, raw_is_utf8)

    def first(name: str) -> str:
        for prop in sorted(by_name.get(name, []), key=lambda p: (_pref(p), p.order)):
            value = _clean(_unescape(text(prop)))
            if value:
                return value
        return ""

    # Name: N (family;given;additional;prefix;suffix), else FN split at its last word.
    for prop in by_name.get("N", []):
        parts = _split_escaped(text(prop), ";")
        last, given = _component(parts, 0), _component(parts, 1)
        if last or given:
            fields["last_name"], fields["first_name"] = last, given
            break
    organization = next((c for c in (_component(_split_escaped(text(p), ";"), 0) for p in by_name.get("ORG", [])) if c), "")
    if not fields.get("last_name"):
        full = first("FN")
        if full and full == organization:  # the card of a company, named after it: not a person's name to split
            fields["last_name"] = full
            card.warnings.append(_("Card %(index)s has no name: “%(name)s” was used as the last name.")
                                 % {"index": index, "name": full})
        elif full:
            given, _sep, last = full.rpartition(" ")
            fields["first_name"], fields["last_name"] = given.strip(), last
        elif fields.get("first_name"):
            fields["last_name"], fields["first_name"] = fields["first_name"], ""

    for prop in by_name.get("ORG", []):
        company = _component(_split_escaped(text(prop), ";"), 0)
        if company:
            fields["company"] = company
            break
    fields["title"] = first("TITLE") or first("ROLE")
    for prop in by_name.get("ORG", []):
        department = _component(_split_escaped(text(prop), ";"), 1)
        if department:
            fields["department"] = department
            break
    for prop in by_name.get("N", []):
        prefix = _component(_split_escaped(text(prop), ";"), 3)
        if prefix:
            fields["salutation"] = prefix
            break

    emails = []
    for prop in sorted(by_name.get("EMAIL", []), key=lambda p: (_pref(p), p.order)):
        address = _clean(_unescape(text(prop)))
        address = address[7:] if address.lower().startswith("mailto:") else address
        if address and address.lower() not in {e.lower() for e in emails}:
            emails.append(address)
    fields["email"] = emails[0] if emails else ""
    fields["secondary_email"] = emails[1] if len(emails) > 1 else ""
    for prop in sorted(by_name.get("URL", []), key=lambda p: (_pref(p), p.order)):
        website = _clean(_unescape(text(prop)))
        if not website:
            continue
        if _web_address(website):
            fields["website"] = website
            break
        card.warnings.append(_("Card %(index)s: “%(value)s” is not a web address and was left out.")
                             % {"index": index, "value": website[:80]})

    phones, mobiles = [], []
    for prop in by_name.get("TEL", []):
        number = _clean(_unescape(text(prop)))
        if number.lower().startswith("tel:"):
            number = number[4:]
        if not number:
            continue
        types = _types(prop)
        if types & {"cell", "mobile", "iphone"}:
            mobiles.append(((_pref(prop), prop.order), number))
        elif types & {"fax", "pager", "modem", "bbs", "textphone"} and "voice" not in types:
            continue
        else:
            voice = "voice" in types or not types & {"video", "text", "msg"}
            phones.append((("work" not in types, _pref(prop), not voice, prop.order), number))
    fields["mobile"] = min(mobiles)[1] if mobiles else ""
    fields["phone"] = min(phones)[1] if phones else ""

    addresses = sorted(by_name.get("ADR", []), key=lambda p: ("work" not in _types(p), _pref(p), p.order))
    for prop in addresses:
        parts = _split_escaped(text(prop), ";")
        # A street of two lines keeps its line break (as the CRM's own address fields and our export do).
        street = ", ".join(p for p in (_component(parts, 2, ", ", "\n"), _component(parts, 1, ", ")) if p)
        street = street or _component(parts, 0, ", ")
        written_country = _component(parts, 6)
        address = {"street": street, "city": _component(parts, 3), "state": _component(parts, 4),
                   "postal_code": _component(parts, 5), "country": _country(written_country)}
        if written_country and not address["country"]:
            card.warnings.append(_("Card %(index)s: the country “%(value)s” is not known and was left out.")
                                 % {"index": index, "value": written_country[:80]})
        if any(address.values()):
            fields.update(address)
            break

    birthday = first("BDAY")
    if birthday:
        from crm.imports.cleaning import parse_date

        day = parse_date(birthday.replace("--", "1900-", 1) if birthday.startswith("--") else birthday)
        if day is not None:
            fields["birthdate"] = day.isoformat()

    # LANG (4.0): the language to write to the person in, a language tag ("fi", "en-GB").
    language = first("LANG")
    if language and len(language) <= 10:
        fields["preferred_language"] = language

    notes = [_clean(_unescape(text(p)), multiline=True) for p in by_name.get("NOTE", [])]
    fields["description"] = "\n\n".join(n for n in notes if n)

    for name in [k for k, v in fields.items() if not v]:
        del fields[name]
    card.kind = _kind(by_name, text)
    if not complete:
        card.errors.append(_("Card %(index)s: END:VCARD is missing.") % {"index": index})
    if not fields.get("last_name") and card.kind == INDIVIDUAL:
        # A card with only a company or an email is still somebody: the name is what the card has.
        stand_in = fields.get("company") or fields.get("email", "")
        if stand_in:
            fields["last_name"] = stand_in
            card.warnings.append(_("Card %(index)s has no name: “%(name)s” was used as the last name.")
                                 % {"index": index, "name": stand_in})
        else:
            card.errors.append(_("Card %(index)s: no name, company or email.") % {"index": index})
    return card
