"""vCard reading for the lead import: versions, encodings, folding and broken cards. No database needed."""
import time

import pytest

from crm.imports.vcard import Card, parse_vcards


def crlf(text: str) -> bytes:
    return text.strip("\n").replace("\n", "\r\n").encode("utf-8") + b"\r\n"


def only(data: bytes) -> Card:
    cards = parse_vcards(data)
    assert len(cards) == 1, cards
    return cards[0]


def test_v21_quoted_printable_persian_with_bare_params():
    # given an Android-style 2.1 card, names and address in UTF-8 quoted-printable with a soft line break
    data = crlf("""
BEGIN:VCARD
VERSION:2.1
N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=D8=B1=D8=B6=D8=A7=DB=8C=DB=8C;=D8=B9=D9=84=DB=8C;;;
FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=D8=B9=D9=84=DB=8C =D8=B1=D8=B6=D8=A7=DB=8C=DB=8C
ORG;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=D8=B4=D8=B1=DA=A9=D8=AA =D9=86=D9=85=D9=88=D9=86=D9=87;=D9=81=D8=B1=D9=88=D8=B4
TEL;CELL;VOICE:+98 912 123 4567
TEL;WORK;FAX:+98 21 8888 0000
TEL;HOME:+98 21 7777 0000
TEL;WORK;VOICE:+98 21 8888 1111
EMAIL;INTERNET:ali@example.ir
ADR;WORK;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:;;=D8=AE=DB=8C=D8=A7=D8=A8=D8=A7=D9=86 =D9=88=D9=84=DB=8C=D8=B9=D8=B5=D8=B1=
 =D9=BE=D9=84=D8=A7=DA=A9 12;=D8=AA=D9=87=D8=B1=D8=A7=D9=86;;1234567890;=D8=A7=DB=8C=D8=B1=D8=A7=D9=86
NOTE;ENCODING=QUOTED-PRINTABLE:first line=0D=0Asecond=
line
END:VCARD
""")
    # when it is read
    card = only(data)
    # then every value is decoded, soft breaks joined and bare 2.1 parameters understood
    assert card.errors == []
    assert card.index == 1
    assert card.fields["last_name"] == "رضایی"
    assert card.fields["first_name"] == "علی"
    assert card.fields["company"] == "شرکت نمونه"
    assert card.fields["mobile"] == "+98 912 123 4567"
    assert card.fields["phone"] == "+98 21 8888 1111"  # work voice beats home; the fax is never the phone
    assert card.fields["email"] == "ali@example.ir"
    assert card.fields["street"] == "خیابان ولیعصر پلاک 12"
    assert card.fields["city"] == "تهران"
    assert card.fields["postal_code"] == "1234567890"
    assert card.fields["country"] == "IR"
    assert card.fields["description"] == "first line\nsecondline"


def test_v30_type_params_and_folding():
    data = crlf("""
BEGIN:VCARD
VERSION:3.0
N:Virtanen;Matti;Juhani;Dr.;
FN:Dr. Matti Virtanen
ORG:Example Oy;Sales
TITLE:Head of
  Sales
EMAIL;TYPE=INTERNET,HOME:matti@home.example
EMAIL;TYPE=INTERNET;TYPE=WORK;TYPE=pref:matti.virtanen@examp
 le.fi
TEL;TYPE=HOME,VOICE:+358 9 111
TEL;TYPE=CELL:+358 40 123 4567
TEL;TYPE=WORK,VOICE:+358 9 222
ADR;TYPE=HOME:;;Kotikatu 1;Espoo;;02100;Finland
ADR;TYPE=WORK:;Floor 3;Mannerheimintie 1;Helsinki;Uusimaa;00100;Suomi
URL:https://example.fi
END:VCARD
""")
    card = only(data)
    assert card.errors == []
    assert card.fields == {
        "salutation": "Dr.",
        "department": "Sales",
        "first_name": "Matti",
        "last_name": "Virtanen",
        "company": "Example Oy",
        "title": "Head of Sales",  # the fold removes exactly one space
        "email": "matti.virtanen@example.fi",
        "secondary_email": "matti@home.example",  # the address not marked preferred
        "phone": "+358 9 222",
        "mobile": "+358 40 123 4567",
        "website": "https://example.fi",
        "street": "Mannerheimintie 1, Floor 3",
        "city": "Helsinki",
        "state": "Uusimaa",
        "postal_code": "00100",
        "country": "FI",
    }


def test_folding_with_tab_and_lf_only_line_endings():
    data = b"begin:vcard\nversion:3.0\nn:Smith;Jane\nnote:alpha\n\tbeta\nend:vcard\n"
    card = only(data)
    assert card.fields["last_name"] == "Smith"
    assert card.fields["description"] == "alphabeta"


def test_v40_pref_and_uri_values():
    data = crlf("""
BEGIN:VCARD
VERSION:4.0
FN:Jane Q. Public
N:Public;Jane;Q.;;
EMAIL;TYPE=work:jane@work.example
EMAIL;PREF=2:jane@second.example
EMAIL;PREF=1:jane@first.example
TEL;VALUE=uri;TYPE="voice,cell";PREF=1:tel:+1-555-555-0100
TEL;VALUE=uri;TYPE="work,voice":tel:+1-555-555-0199
ADR;TYPE=work;LABEL="100 Main St.\\nSpringfield: IL":;;100 Main St.;Springfield;IL;62701;United States of America
END:VCARD
""")
    card = only(data)
    assert card.errors == []
    assert card.fields["email"] == "jane@first.example"
    assert card.fields["mobile"] == "+1-555-555-0100"
    assert card.fields["phone"] == "+1-555-555-0199"
    assert card.fields["street"] == "100 Main St."
    assert card.fields["state"] == "IL"
    assert card.fields["country"] == "US"


def test_multi_card_file_with_broken_cards():
    data = crlf("""
BEGIN:VCARD
VERSION:3.0
N:One;Anna
END:VCARD
BEGIN:VCARD
VERSION:3.0
N:Two;Bert
EMAIL:bert@example.com
BEGIN:VCARD
VERSION:3.0
ORG:Nameless Ltd
END:VCARD
END:VCARD
garbage between cards
BEGIN:VCARD
VERSION:2.1
N:Four;Dana
END:VCARD
BEGIN:VCARD
VERSION:3.0
N:Five;Eve
""")
    cards = parse_vcards(data)
    assert [c.index for c in cards] == [1, 2, 3, 4, 5]
    assert [c.fields.get("last_name") for c in cards] == ["One", "Two", "Nameless Ltd", "Four", "Five"]
    assert cards[0].errors == [] and cards[3].errors == []
    assert cards[1].errors == ["Card 2: END:VCARD is missing."]
    assert cards[1].fields["email"] == "bert@example.com"  # what was read is still shown
    # A card with only an organisation is still somebody there: the company stands in for the name.
    assert cards[2].errors == [] and cards[2].warnings == ['Card 3 has no name: “Nameless Ltd” was used as the last name.']
    assert cards[2].fields == {"company": "Nameless Ltd", "last_name": "Nameless Ltd"}
    assert cards[4].errors == ["Card 5: END:VCARD is missing."]


def test_utf8_bom():
    card = only(b"\xef\xbb\xbf" + crlf("BEGIN:VCARD\nVERSION:3.0\nN:Mäkinen;Äijä\nEND:VCARD"))
    assert card.fields["last_name"] == "Mäkinen"
    assert card.fields["first_name"] == "Äijä"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-16-le"])
def test_utf16(encoding):
    text = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:کریمی;مریم\r\nORG:Ääkkönen Oy\r\nEND:VCARD\r\n"
    raw = text.encode(encoding)
    if encoding == "utf-16-be":
        raw = b"\xfe\xff" + raw
    # "utf-16" adds a little-endian BOM; "utf-16-le" here has none at all
    card = only(raw)
    assert card.fields["last_name"] == "کریمی"
    assert card.fields["first_name"] == "مریم"
    assert card.fields["company"] == "Ääkkönen Oy"


def test_latin1_and_windows_1252():
    data = (b"BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=ISO-8859-1:M\xe4kinen;J\xf6rg\r\n"
            b"ORG;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:K=E4ytt=E4j=E4 Oy\r\n"
            b"TITLE:Caf\xe9 \x80 manager\r\nEND:VCARD\r\n")
    card = only(data)
    assert card.fields["last_name"] == "Mäkinen"
    assert card.fields["first_name"] == "Jörg"
    assert card.fields["company"] == "Käyttäjä Oy"
    assert card.fields["title"] == "Café € manager"  # no charset, not UTF-8: read as Windows-1252


def test_escapes():
    data = crlf(r"""
BEGIN:VCARD
VERSION:3.0
N:O\;Brien\, Jr.;Pat
ORG:Smith\; Sons\, Ltd;Dept
NOTE:line one\nline two\Nline three\\back\,slash\;semi
URL:http\://example.com/a\,b
END:VCARD
""")
    card = only(data)
    assert card.fields["last_name"] == "O;Brien, Jr."
    assert card.fields["company"] == "Smith; Sons, Ltd"
    assert card.fields["description"] == "line one\nline two\nline three\\back,slash;semi"
    assert card.fields["website"] == "http://example.com/a,b"


def test_group_prefixes():
    data = crlf("""
BEGIN:VCARD
VERSION:3.0
N:Appleseed;John;;;
item1.EMAIL;type=INTERNET;type=pref:john@example.com
item1.X-ABLabel:_$!<Other>!$_
item2.TEL;type=CELL:+1 408 555 0101
item3.ADR;type=WORK:;;1 Infinite Loop;Cupertino;CA;95014;USA
item3.X-ABADR:us
END:VCARD
""")
    card = only(data)
    assert card.fields["email"] == "john@example.com"
    assert card.fields["mobile"] == "+1 408 555 0101"
    assert card.fields["city"] == "Cupertino"
    assert card.fields["country"] == "US"


@pytest.mark.parametrize(("fn", "first", "last"), [
    ("Anna Maria Virtanen", "Anna Maria", "Virtanen"),
    ("Madonna", "", "Madonna"),
    ("  Sara   Ahmadi ", "Sara", "Ahmadi"),
])
def test_fn_only(fn, first, last):
    card = only(crlf(f"BEGIN:VCARD\nVERSION:3.0\nFN:{fn}\nEND:VCARD"))
    assert card.errors == []
    assert card.fields["last_name"] == last
    assert card.fields.get("first_name", "") == first


def test_empty_n_falls_back_to_fn_and_given_only_becomes_last_name():
    cards = parse_vcards(crlf("""
BEGIN:VCARD
VERSION:3.0
N:;;;;
FN:Liisa Laine
END:VCARD
BEGIN:VCARD
VERSION:3.0
N:;Prince;;;
END:VCARD
"""))
    assert (cards[0].fields["first_name"], cards[0].fields["last_name"]) == ("Liisa", "Laine")
    assert cards[1].fields == {"last_name": "Prince"}
    assert cards[1].errors == []


@pytest.mark.parametrize(("raw", "code"), [
    ("Finland", "FI"), ("Suomi", "FI"), ("ایران", "IR"), ("Iran", "IR"), ("United States", "US"),
    ("U.S.A.", "US"), ("fi", "FI"), ("UK", "GB"), ("Atlantis", None),
])
def test_country(raw, code):
    card = only(crlf(f"BEGIN:VCARD\nVERSION:3.0\nN:X;Y\nADR:;;Street 1;City;;;{raw}\nEND:VCARD"))
    assert card.fields.get("country") == code
    assert card.fields["city"] == "City"


def test_binary_photo_is_skipped_and_following_properties_read():
    blob = "/9j/4AAQSkZJRgABAQAAAQABAAD" * 3  # 81 characters per line
    indented = "\r\n".join(" " + blob for _ in range(40_000))  # about 3 MB of base64
    bare = "\r\n".join(blob for _ in range(1_000))  # 2.1 writers that do not indent
    data = (
        "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Photo;Phil\r\nPHOTO;ENCODING=BASE64;TYPE=JPEG:\r\n" + indented + "\r\n\r\n"
        "LOGO;ENCODING=BASE64;TYPE=PNG:\r\n" + bare + "\r\n\r\n"
        "EMAIL:phil@example.com\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Data Uri\r\nPHOTO:data:image/png;base64,iVBORw0KGgo=\r\nEND:VCARD\r\n"
    ).encode()
    started = time.monotonic()
    cards = parse_vcards(data)
    assert time.monotonic() - started < 5
    assert cards[0].errors == []
    assert cards[0].fields == {"first_name": "Phil", "last_name": "Photo", "email": "phil@example.com"}
    assert cards[1].fields == {"first_name": "Data", "last_name": "Uri"}


def test_agent_card_inside_a_21_card_is_not_a_lead():
    cards = parse_vcards(crlf("""
BEGIN:VCARD
VERSION:2.1
N:Boss;Big
AGENT:
BEGIN:VCARD
VERSION:2.1
N:Assistant;Ann
END:VCARD
EMAIL:boss@example.com
END:VCARD
"""))
    assert len(cards) == 1
    assert cards[0].fields["last_name"] == "Boss"
    assert cards[0].fields["email"] == "boss@example.com"


def test_control_characters_are_removed():
    card = only(b"BEGIN:VCARD\r\nN:Nul\x00l;Ta\x07b\r\nNOTE:a\\nb\x00\r\nEND:VCARD\r\n")
    assert card.fields["last_name"] == "Null"
    assert card.fields["first_name"] == "Tab"
    assert card.fields["description"] == "a\nb"


@pytest.mark.parametrize("data", [
    b"",
    b"first_name,last_name\r\nAnna,One\r\n",
    b"\xff\xfe",
    b"\x00\x01\x02\xff" * 100,
    b"END:VCARD\r\nN:Lonely;Line\r\n",
])
def test_files_without_cards_give_nothing(data):
    assert parse_vcards(data) == []


@pytest.mark.parametrize("data", [
    b"BEGIN:VCARD\r\n\xff\xfe:::;;;\r\n;:\r\n:\r\nN\r\nEMAIL;ENCODING=BASE64:@@@\r\nEND:VCARD\r\n",
    b"BEGIN:VCARD\r\nN;ENCODING=QUOTED-PRINTABLE;CHARSET=NO-SUCH-CHARSET:=FF=FE=ZZ=\r\nEND:VCARD\r\n",
    b'BEGIN:VCARD\r\nTEL;TYPE="unterminated:123\r\nPREF;PREF=x:1\r\nEMAIL;PREF=abc:a@b.c\r\nEND:VCARD',
    b"BEGIN:VCARD\r\nNOTE;ENCODING=QUOTED-PRINTABLE:soft at the end=\r\nEND:VCARD\r\n",
])
def test_bad_input_never_raises(data):
    cards = parse_vcards(data)
    assert len(cards) == 1
    assert cards[0].index == 1
    assert all(isinstance(v, str) for v in cards[0].fields.values())
