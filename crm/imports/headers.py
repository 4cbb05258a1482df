"""Recognising the column headers of the files people export from other CRMs, address books and mailing tools.

A header is reduced to a normalised spelling (`normalize`) and looked up among the spellings of neutral
concepts (`SYNONYMS`, with the ambiguous ones in `GENERIC`); `guess` then gives each header a field of the
record type being imported, best match first and each field once. Matching is exact on the normalised
spelling: a guess the user has to undo is worse than a column left for them to map."""
from __future__ import annotations

import unicodedata
from functools import cache

# The neutral concepts, in the order a mapping screen would list them.
CONCEPTS: tuple[str, ...] = (
    "salutation", "first_name", "middle_name", "last_name", "full_name", "title", "department", "company",
    "email", "secondary_email", "phone", "mobile", "home_phone", "fax", "website",
    "street", "city", "state", "postal_code", "country",
    "shipping_street", "shipping_city", "shipping_state", "shipping_postal_code", "shipping_country",
    "description", "birthdate", "owner", "lead_source", "lead_status", "lifecycle_stage",
    "industry", "employees", "annual_revenue", "rating", "email_opt_in", "email_opt_out", "do_not_call",
    "preferred_language",
    "currency", "account_type", "parent_account",
    "opportunity_name", "amount", "close_date", "stage", "probability", "next_step",
    "created_at", "record_id", "tags",
)

# Header spellings per concept, as the programs write them (English, Finnish and Persian). Within a concept,
# an earlier spelling wins over a later one when a file has both (Outlook's "Business Phone" over its
# "Primary Phone"). A spelling belongs to one concept only; spellings that mean different things in
# different programs are in GENERIC instead.
SYNONYMS: dict[str, list[str]] = {
    "salutation": [
        "Salutation", "Name Prefix", "Prefix", "Honorific", "Salutation Type",
        "Tervehdys", "Puhuttelu", "Puhuttelunimi",
        "پیشوند", "لقب",
    ],
    "first_name": [
        "First Name", "FirstName", "Given Name", "Forename", "First", "FNAME", "Person - First name",
        "Etunimi", "Etunimet",
        "نام کوچک",
    ],
    "middle_name": [
        "Middle Name", "MiddleName", "Additional Name", "Second Name",
        "Toinen nimi", "Muut etunimet",
        "نام میانی",
    ],
    "last_name": [
        "Last Name", "LastName", "Surname", "Family Name", "Last", "LNAME", "Person - Last name",
        "Sukunimi",
        "نام خانوادگی", "فامیل", "فامیلی",
    ],
    "full_name": [
        "Full Name", "Name", "Person - Name", "Contact Name", "Lead Name",
        "Nimi", "Koko nimi",
        "نام کامل", "نام و نام خانوادگی",
    ],
    "title": [
        "Job Title", "Designation", "Organization Title", "Organization 1 - Title", "Position", "Job Position",
        "Occupation",
        "Titteli", "Tehtävänimike", "Ammattinimike", "Asema",
        "سمت", "عنوان شغلی", "شغل",
    ],
    "department": [
        "Department", "Organization Department", "Organization 1 - Department", "Dept",
        "Osasto",
        "دپارتمان", "واحد سازمانی", "بخش", "واحد",
    ],
    "company": [
        "Company", "Company Name", "Account Name", "Account.Name", "Person - Organization",
        "Organization Name",  # also Pipedrive's "Organization - Name", which normalises the same
        "Organisation Name", "Organization 1 - Name", "Organization", "Organisation", "Business Name", "Employer",
        "Yritys", "Yrityksen nimi", "Organisaatio", "Työnantaja",
        "شرکت", "نام شرکت", "سازمان", "نام سازمان",
    ],
    "email": [
        "Email", "Email Address", "E-mail Address", "Primary Email", "Work Email", "Email 1", "E-mail 1 - Value",
        "Person - Email - Work", "Person - Email", "Mail",
        "Sähköposti", "Sähköpostiosoite",
        "ایمیل", "ایمیل اصلی", "آدرس ایمیل", "پست الکترونیک", "پست الکترونیکی", "رایانامه",
    ],
    # A contact's second address (Outlook's, Google's, Zoho's and Vtiger's second email).
    "secondary_email": [
        "Secondary Email", "E-mail 2 Address", "E-mail 2 - Value", "Email 2", "Other Email", "Alternate Email",
        "Additional Email",
        "Toissijainen sähköposti", "Toinen sähköposti", "Muu sähköposti",
        "ایمیل دوم", "ایمیل ثانویه",
    ],
    "phone": [
        "Phone", "Business Phone", "Office Phone", "Work Phone", "Phone Work", "Primary Phone", "Phone Number",
        "Telephone", "Tel", "Phone 1 - Value", "Person - Phone - Work", "Person - Phone",
        "Puhelin", "Puhelinnumero", "Työpuhelin", "Puhelin työ",
        "تلفن", "تلفن اصلی", "شماره تلفن", "تلفن محل کار", "تلفن ثابت",
    ],
    "mobile": [
        "Mobile", "Mobile Phone", "Mobile Phone Number", "Phone Mobile", "Mobile Number", "Cell", "Cell Phone",
        "Cellphone", "Person - Phone - Mobile",
        "Matkapuhelin", "Kännykkä", "GSM",
        "موبایل", "تلفن همراه", "شماره موبایل", "شماره همراه", "همراه",
    ],
    "home_phone": [
        "Home Phone", "Phone Home", "Person - Phone - Home",
        "Kotipuhelin",
        "تلفن منزل",
    ],
    "fax": [
        "Fax", "Business Fax", "Phone Fax", "Fax Number",
        "Faksi",
        "فکس", "نمابر",
    ],
    "website": [
        "Website", "Website URL", "Web Page", "Website 1 - Value", "Homepage", "URL", "Web",
        "Organization - Website",
        "Verkkosivu", "Verkkosivut", "Kotisivu", "Kotisivut", "WWW", "WWW-sivu",
        "وب سایت", "سایت",
    ],
    "street": [
        "Street", "Street Address", "Mailing Street", "Primary Address Street", "Business Street",
        "Address 1 - Street", "Address Line 1", "Address 1", "Billing Street",
        "Katuosoite", "Lähiosoite",
        "خیابان",
    ],
    "city": [
        "City", "Mailing City", "Primary Address City", "Business City", "Address 1 - City", "Billing City",
        "Town",
        "Kaupunki", "Postitoimipaikka", "Paikkakunta",
        "شهر",
    ],
    "state": [
        "State", "State/Province", "State/Region", "Province", "Mailing State/Province", "Mailing State",
        "Primary Address State", "Business State", "Address 1 - Region", "Billing State/Province",
        "Billing State",
        "Maakunta", "Lääni",
        "استان",
    ],
    "postal_code": [
        "Postal Code", "Zip/Postal Code", "Zip Code", "Zip", "Postcode", "Post Code", "Mailing Zip/Postal Code",
        "Mailing Postal Code", "Primary Address Postalcode", "Primary Address Postal Code",
        "Business Postal Code", "Address 1 - Postal Code", "Billing Zip/Postal Code", "Billing Postal Code",
        "Postinumero",
        "کد پستی",
    ],
    "country": [
        "Country", "Country/Region", "Mailing Country", "Primary Address Country", "Business Country/Region",
        "Address 1 - Country", "Billing Country", "Country Code",
        "Maa",
        "کشور",
    ],
    # An account's second address (Salesforce, Zoho, Vtiger and SuiteCRM accounts).
    "shipping_street": [
        "Shipping Street", "Shipping Address", "Shipping Address Street", "Ship To Street",
        "Toimitusosoite", "Toimituksen katuosoite",
        "آدرس ارسال", "خیابان ارسال",
    ],
    "shipping_city": [
        "Shipping City", "Shipping Address City", "Ship To City",
        "Toimituksen postitoimipaikka", "Toimituskaupunki",
        "شهر ارسال",
    ],
    "shipping_state": [
        "Shipping State/Province", "Shipping State", "Shipping Province", "Shipping Address State",
        "Toimituksen maakunta",
        "استان ارسال",
    ],
    "shipping_postal_code": [
        "Shipping Zip/Postal Code", "Shipping Postal Code", "Shipping Code", "Shipping Zip", "Shipping Zip Code",
        "Shipping Address Postalcode", "Shipping Address Postal Code",
        "Toimituksen postinumero",
        "کد پستی ارسال",
    ],
    "shipping_country": [
        "Shipping Country", "Shipping Country/Region", "Shipping Address Country",
        "Toimitusmaa",
        "کشور ارسال",
    ],
    "description": [
        "Description", "Notes", "Note", "Comments", "Comment",
        "Lisätiedot", "Kuvaus", "Muistiinpanot", "Huomautukset",
        "توضیحات", "یادداشت", "یادداشت ها",
    ],
    "birthdate": [
        "Birthdate", "Birthday", "Date of Birth", "Birth Date", "DOB",
        "Syntymäpäivä", "Syntymäaika",
        "تاریخ تولد", "زادروز",
    ],
    "owner": [
        "Owner", "Lead Owner", "Contact Owner", "Account Owner", "Opportunity Owner", "Deal Owner",
        "Record Owner", "HubSpot Owner", "Assigned To", "Assigned User Name", "Assigned User",
        "Person - Owner", "Organization - Owner", "Deal - Owner", "OwnerId", "Owner.Name", "Sales Rep",
        "Omistaja", "Vastuuhenkilö", "Myyjä",
        "ارجاع به", "واگذار شده به", "تخصیص به", "مسئول", "مالک",
    ],
    "lead_source": [
        "Lead Source", "Original Source",
        "Liidin lähde",
        "منبع سرنخ",
    ],
    "lead_status": [
        "Lead Status",
        "Liidin tila",
        "وضعیت سرنخ", "وضعیت سرنخ فروش",
    ],
    "lifecycle_stage": [
        "Lifecycle Stage",
        "Elinkaaren vaihe",
        "مرحله چرخه عمر",
    ],
    "industry": [
        "Industry",
        "Toimiala",
        "صنعت",
    ],
    "employees": [
        "No. of Employees", "Number of Employees", "Employees", "# Employees", "No Of Employees",
        "Henkilöstömäärä", "Työntekijät", "Työntekijöiden määrä", "Henkilöstö",
        "تعداد کارکنان", "تعداد کارمندان", "تعداد پرسنل",
    ],
    "annual_revenue": [
        "Annual Revenue", "Revenue",
        "Liikevaihto",
        "درآمد سالانه", "گردش مالی",
    ],
    "rating": [
        "Rating",
        "Luokitus",
        "رتبه",
    ],
    "email_opt_in": [
        "Email Opt In", "Email Opt-In", "Opted In", "Email Consent", "Marketing Email Consent",
        "Sähköpostilupa", "Markkinointilupa",
        "رضایت دریافت ایمیل", "اجازه ارسال ایمیل",
    ],
    "email_opt_out": [
        "Email Opt Out", "HasOptedOutOfEmail", "Unsubscribed", "Opted Out",
        "Sähköpostikielto", "Ei sähköpostia",
        "عدم ارسال ایمیل", "لغو اشتراک",
    ],
    "do_not_call": [
        "Do Not Call",
        "Älä soita", "Puhelukielto", "Ei puheluita",
        "تماس نگیرید", "عدم تماس",
    ],
    "preferred_language": [
        "Preferred Language", "Language",
        "Kieli", "Asiointikieli",
        "زبان", "زبان ترجیحی",
    ],
    "currency": [
        "Currency", "CurrencyIsoCode", "Deal - Currency",
        "Valuutta",
        "واحد پول", "ارز",
    ],
    "account_type": [
        "Account Type",
        "Asiakastyyppi",
        "نوع حساب", "نوع مشتری",
    ],
    "parent_account": [
        "Parent Account", "Parent Company", "Member Of",
        "Emoyhtiö",
        "سازمان مادر", "شرکت مادر",
    ],
    "opportunity_name": [
        "Opportunity Name", "Deal Name", "Deal - Title", "Potential Name",
        "Kaupan nimi", "Myyntimahdollisuus",
        "نام فرصت فروش", "نام معامله",
    ],
    "amount": [
        "Amount", "Opportunity Amount", "Deal - Value", "Deal Value", "Value",
        "Summa", "Arvo",
        "مبلغ", "ارزش",
    ],
    "close_date": [
        "Close Date", "Expected Close Date", "Deal - Expected close date", "Closing Date",
        "Arvioitu päättymispäivä", "Sulkemispäivä",
        "تاریخ مورد انتظار بسته شدن", "تاریخ بسته شدن",
    ],
    "stage": [
        "Stage", "StageName", "Sales Stage", "Deal Stage", "Deal - Stage",
        "Vaihe", "Myyntivaihe",
        "مرحله فروش",
    ],
    "probability": [
        "Probability", "Probability (%)", "Deal - Probability",
        "Todennäköisyys",
        "احتمال", "احتمال موفقیت",
    ],
    "next_step": [
        "Next Step",
        "Seuraava vaihe", "Seuraava askel",
        "قدم بعدی", "مرحله بعدی",
    ],
    "created_at": [
        "Created Date", "Create Date", "Created Time", "Date Created", "Created", "Created At", "Creation Date",
        "Person - Person created", "Organization - Organization created", "Deal - Deal created",
        "Luotu", "Luontipäivä",
        "زمان ایجاد", "تاریخ ایجاد",
    ],
    # The other system's own id of the row, never imported; recognised so that nothing else claims it.
    # A record type maps it only when it lists record_id among its targets (to update by external id).
    "record_id": [
        "ID", "Record ID", "Lead ID", "Contact ID", "Person - ID", "Organization - ID", "Deal - ID",
        "Lead Number", "Lead No", "LEID", "EUID",
        "Tunnus",
        "شناسه", "شماره سرنخ",
    ],
    "tags": [
        "Tags", "Tag", "Labels", "Label", "Categories", "Group Membership", "Person - Labels", "Person - Label",
        "Tunnisteet", "Avainsanat",
        "برچسب", "برچسب ها", "تگ", "تگ ها",
    ],
}

# Spellings that mean different things in different programs, with their meanings in order of preference.
# They are tried after every spelling in SYNONYMS, so Outlook's "Job Title" takes the job title and its
# "Title" (which Outlook uses for "Mr."/"Dr.") falls through to the salutation, while Salesforce's lone
# "Title" is the job title.
GENERIC: dict[str, tuple[str, ...]] = {
    "Title": ("title", "salutation"),
    "عنوان": ("title", "salutation"),
    "نام": ("first_name", "full_name"),  # Vtiger's Persian "First Name", but also just "name"
    "Address": ("street",),  # MailChimp's one-line address; SuiteCRM's geocoded address
    "Address 1 - Formatted": ("street",),
    "Organization - Address": ("street",),
    "Osoite": ("street",),
    "آدرس": ("street",),
    "نشانی": ("street",),
    "Region": ("state",),  # MailChimp REGION
    "CC": ("country",),  # MailChimp's two-letter country code
    "Account": ("company",),
    "Status": ("lead_status",),
    "Tila": ("lead_status",),
    "وضعیت": ("lead_status",),
    "Source": ("lead_source",),
    "Lähde": ("lead_source",),
    "منبع": ("lead_source",),
    "Type": ("account_type",),
    "Tyyppi": ("account_type",),
    "نوع": ("account_type",),
    "مرحله": ("stage", "rating"),  # the Persian Vtiger pack translates a lead's "Rating" as "stage"
}

# Metadata columns recognised and never imported: audit users and times, marketing scores, geodata,
# the label columns of multi-value exports. Ids of the row itself are the record_id concept instead.
_IGNORED_SPELLINGS = (
    # MailChimp
    "MEMBER_RATING", "OPTIN_TIME", "OPTIN_IP", "CONFIRM_TIME", "CONFIRM_IP", "LATITUDE", "LONGITUDE", "GMTOFF",
    "DSTOFF", "TIMEZONE", "LAST_CHANGED",
    # audit columns of the CRMs
    "Last Modified Date", "LastModifiedDate", "Modified Date", "Date Modified", "Modified Time", "Update Time",
    "Person - Update time", "Last Activity Date", "Last Activity Time", "Last Activity", "Created By",
    "Created By ID", "Created By Id", "CreatedById", "Modified By", "Modified By ID", "Last Modified By",
    "LastModifiedById", "SystemModstamp", "Deleted", "IsDeleted", "Assigned User ID", "Account ID",
    "AccountId", "Visible to", "Person - Visible to", "Marketing contact status",
    "Muokattu", "Muokkaaja", "Luoja",
    "زمان ویرایش", "آخرین ویرایش", "ایجاد شده توسط", "ویرایش شده توسط",
    # SuiteCRM's Google Maps fields
    "Geocode Status",
    # Outlook's and Google's per-value labels and display names
    "E-mail Type", "E-mail Display Name", "E-mail 2 Type", "E-mail 2 Display Name", "E-mail 3 Type",
    "E-mail 3 Display Name", "E-mail 1 - Label", "E-mail 1 - Type", "Phone 1 - Label", "Phone 1 - Type",
    "Address 1 - Label", "Address 1 - Type", "Website 1 - Label", "Website 1 - Type", "Organization 1 - Type",
)

# Characters a header may carry that say nothing about its meaning: apostrophes, quotes, dots, slashes and
# colons; invisible marks that Persian text and BOM-prefixed files bring (ZWNJ, ZWJ, bidi marks, tatweel).
_DROPPED = frozenset(
    "'\u2018\u2019\u02bc`\u00b4\"./\\:"
    "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff\u0640"
)
# Arabic letters that Persian keyboards and old exports use in place of the Persian ones.
_PERSIAN_LETTERS = str.maketrans({"\u064a": "\u06cc", "\u0649": "\u06cc", "\u0643": "\u06a9"})

# Ranks of a match, lower is better: (tier, rank within the tier).
_EXTRA_TIER = 0
_SYNONYM_TIER = 1
_GENERIC_TIER = 2


def normalize(header: str) -> str:
    """The spelling headers are compared by: NFKC, case-folded, Persian letters for Arabic ones, and without
    spaces, dashes, underscores, dots, slashes, apostrophes, quotes, colons or invisible marks."""
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", str(header)).casefold())
    text = text.translate(_PERSIAN_LETTERS)
    return "".join(ch for ch in text
                   if not ch.isspace() and ch not in _DROPPED and unicodedata.category(ch) not in ("Pd", "Pc"))


IGNORED: frozenset[str] = frozenset(normalize(spelling) for spelling in _IGNORED_SPELLINGS)


@cache
def _index() -> dict[str, tuple[tuple[int, int, str], ...]]:
    """Normalised spelling -> its (tier, rank, concept) meanings, best first. Refuses a spelling claimed by
    two concepts, since the answer would then depend on dictionary order."""
    index: dict[str, list[tuple[int, int, str]]] = {}
    owner: dict[str, str] = {}

    def claim(key: str, where: str) -> None:
        if owner.setdefault(key, where) != where:
            raise ValueError(f"header spelling {key!r} is claimed by both {owner[key]} and {where}")

    for concept in CONCEPTS:
        for rank, spelling in enumerate(SYNONYMS[concept]):
            key = normalize(spelling)
            claim(key, concept)
            index.setdefault(key, [(_SYNONYM_TIER, rank, concept)])
    for spelling, concepts in GENERIC.items():
        key = normalize(spelling)
        claim(key, "GENERIC")
        index[key] = [(_GENERIC_TIER, rank, concept) for rank, concept in enumerate(concepts)]
    for key in IGNORED:
        claim(key, "IGNORED")
    for concept in CONCEPTS:  # the concept's own key ("lead_source") as a last resort, where still free
        key = normalize(concept)
        if key not in owner:
            owner[key] = concept
            index[key] = [(_SYNONYM_TIER, len(SYNONYMS[concept]), concept)]
    return {key: tuple(meanings) for key, meanings in index.items()}


def concept_of(header: str) -> str:
    """The concept a header most likely stands for, whatever the record type ("record_id" for the other
    system's row ids); "" when unknown or in IGNORED."""
    meanings = _index().get(normalize(header))
    return meanings[0][2] if meanings else ""


def is_ignored(header: str) -> bool:
    """Whether the header is recognised metadata that is never imported (audit columns, the other system's
    own record id, marketing scores...), as opposed to a header nobody recognises."""
    key = normalize(header)
    return key in IGNORED or concept_of(header) == "record_id"


def guess(headers: list[str], targets: dict[str, str], extra: dict[str, str] | None = None) -> dict[str, str]:
    """{header: field name or ""} for the record type whose accepted concepts map to fields in `targets`.

    `extra` maps further spellings (the record type's own field names and labels, custom-field keys) to
    field names; they beat the synonyms, except on spellings known to be ambiguous ("Title"), where a more
    specific header in the same file ("Job Title") still wins. Fields are handed out best match first across
    the whole header list, each field once. A header repeated in the list keeps its first occurrence's field.
    """
    index = _index()
    extra_fields = {normalize(spelling): field for spelling, field in (extra or {}).items() if field}
    generic_keys = {normalize(spelling) for spelling in GENERIC}
    candidates: list[tuple[int, int, int, str]] = []  # (tier, rank, position, field)
    for position, header in enumerate(headers):
        key = normalize(header)
        if not key:
            continue
        if key in extra_fields:
            tier, rank = (_GENERIC_TIER, -1) if key in generic_keys else (_EXTRA_TIER, 0)
            candidates.append((tier, rank, position, extra_fields[key]))
        for tier, rank, concept in index.get(key, ()):
            field = targets.get(concept)
            if field:
                candidates.append((tier, rank, position, field))
    candidates.sort()
    mapping = dict.fromkeys(headers, "")
    used: set[str] = set()
    for _tier, _rank, position, field in candidates:
        header = headers[position]
        if mapping[header] or field in used:
            continue
        mapping[header] = field
        used.add(field)
    return mapping
