"""Header recognition: the header rows of real exports map to fields with no manual mapping."""
import csv
import io
from pathlib import Path

import pytest

from crm.imports.headers import CONCEPTS, GENERIC, IGNORED, SYNONYMS, concept_of, guess, is_ignored, normalize

FIXTURES = Path(__file__).parent / "fixtures"

# What a lead-like record type accepts (concept -> its field); full_name is a virtual field the engine splits.
LEAD_TARGETS = {
    "first_name": "first_name", "last_name": "last_name", "full_name": "full_name", "company": "company",
    "title": "title", "email": "email", "phone": "phone", "mobile": "mobile", "website": "website",
    "street": "street", "city": "city", "state": "state", "postal_code": "postal_code", "country": "country",
    "industry": "industry", "employees": "employees", "annual_revenue": "annual_revenue", "currency": "currency",
    "description": "description", "rating": "rating", "lead_source": "source", "lead_status": "status",
    "owner": "owner", "lifecycle_stage": "lifecycle_stage", "tags": "tags",
}
# ... and a contact-like one: a mailing address without a state, the company as the account, no notes.
CONTACT_TARGETS = {
    "salutation": "salutation", "first_name": "first_name", "last_name": "last_name", "full_name": "full_name",
    "title": "title", "department": "department", "company": "account", "email": "email", "phone": "phone",
    "mobile": "mobile", "street": "mailing_street", "city": "mailing_city", "postal_code": "mailing_postal_code",
    "country": "mailing_country", "birthdate": "birthdate", "preferred_language": "preferred_language",
    "email_opt_out": "email_opt_out", "do_not_call": "do_not_call", "owner": "owner",
}

# For each fixture, the concept each header ends up with; every other header maps to "".
EXPECTED = {
    "salesforce_leads.csv": {
        "Lead ID": "record_id", "First Name": "first_name", "Last Name": "last_name", "Title": "title",
        "Company": "company", "Street": "street", "City": "city", "State/Province": "state",
        "Zip/Postal Code": "postal_code", "Country": "country", "Phone": "phone", "Mobile": "mobile",
        "Email": "email", "Website": "website", "Lead Source": "lead_source", "Lead Status": "lead_status",
        "Industry": "industry", "Rating": "rating", "Annual Revenue": "annual_revenue",
        "No. of Employees": "employees", "Lead Owner": "owner", "Description": "description",
        "Created Date": "created_at",
    },
    "salesforce_contacts.csv": {
        "Contact Owner": "owner", "Salutation": "salutation", "First Name": "first_name", "Last Name": "last_name",
        "Title": "title", "Account Name": "company", "Mailing Street": "street", "Mailing City": "city",
        "Mailing State/Province": "state", "Mailing Zip/Postal Code": "postal_code", "Mailing Country": "country",
        "Phone": "phone", "Mobile": "mobile", "Email": "email", "Birthdate": "birthdate",
        "Lead Source": "lead_source", "Email Opt Out": "email_opt_out", "Do Not Call": "do_not_call",
    },
    "salesforce_dataloader_leads.csv": {
        "ID": "record_id", "FIRSTNAME": "first_name", "LASTNAME": "last_name", "COMPANY": "company",
        "TITLE": "title", "EMAIL": "email", "PHONE": "phone", "MOBILEPHONE": "mobile", "STREET": "street",
        "CITY": "city", "STATE": "state", "POSTALCODE": "postal_code", "COUNTRY": "country",
        "LEADSOURCE": "lead_source", "STATUS": "lead_status", "INDUSTRY": "industry",
        "NUMBEROFEMPLOYEES": "employees", "ANNUALREVENUE": "annual_revenue", "OWNERID": "owner",
    },
    "hubspot_contacts.csv": {
        "Record ID": "record_id", "First Name": "first_name", "Last Name": "last_name", "Email": "email",
        "Phone Number": "phone", "Mobile Phone Number": "mobile", "Company Name": "company", "Job Title": "title",
        "Street Address": "street", "City": "city", "State/Region": "state", "Postal Code": "postal_code",
        "Country/Region": "country", "Website URL": "website", "Contact owner": "owner",
        "Lifecycle Stage": "lifecycle_stage", "Lead Status": "lead_status", "Create Date": "created_at",
        "Number of Employees": "employees", "Industry": "industry",
    },
    "zoho_leads.csv": {
        "Record Id": "record_id", "Lead Owner": "owner", "Company": "company", "First Name": "first_name",
        "Last Name": "last_name", "Title": "title", "Email": "email", "Phone": "phone", "Fax": "fax",
        "Mobile": "mobile", "Website": "website", "Lead Source": "lead_source", "Lead Status": "lead_status",
        "Industry": "industry", "No. of Employees": "employees", "Annual Revenue": "annual_revenue",
        "Rating": "rating", "Email Opt Out": "email_opt_out", "Salutation": "salutation",
        "Created Time": "created_at", "Street": "street", "City": "city", "State": "state",
        "Zip Code": "postal_code", "Country": "country", "Description": "description", "Tag": "tags",
    },
    "pipedrive_people.csv": {
        "Person - ID": "record_id", "Person - Name": "full_name", "Person - First name": "first_name",
        "Person - Last name": "last_name", "Person - Label": "tags", "Person - Organization": "company",
        "Person - Email - Work": "email", "Person - Phone - Work": "phone", "Person - Phone - Home": "home_phone",
        "Person - Phone - Mobile": "mobile", "Person - Owner": "owner", "Person - Person created": "created_at",
        "Organization - Address": "street",  # "Organization - Name" loses the company to "Person - Organization"
    },
    "mailchimp_audience.csv": {
        "Email Address": "email", "First Name": "first_name", "Last Name": "last_name", "Address": "street",
        "Phone Number": "phone", "Birthday": "birthdate", "Company": "company", "CC": "country",
        "REGION": "state", "NOTES": "description", "TAGS": "tags", "LEID": "record_id",
    },
    "google_contacts.csv": {
        "First Name": "first_name", "Middle Name": "middle_name", "Last Name": "last_name",
        "Name Prefix": "salutation", "Organization Name": "company", "Organization Title": "title",
        "Organization Department": "department", "Birthday": "birthdate", "Notes": "description",
        "Labels": "tags", "E-mail 1 - Value": "email", "Phone 1 - Value": "phone",
        "Address 1 - Street": "street", "Address 1 - City": "city", "Address 1 - Region": "state",
        "Address 1 - Postal Code": "postal_code", "Address 1 - Country": "country",
        "Website 1 - Value": "website",
    },
    "outlook_contacts.csv": {
        "Title": "salutation", "First Name": "first_name", "Middle Name": "middle_name", "Last Name": "last_name",
        "Company": "company", "Department": "department", "Job Title": "title", "Business Street": "street",
        "Business City": "city", "Business State": "state", "Business Postal Code": "postal_code",
        "Business Country/Region": "country", "Business Fax": "fax", "Business Phone": "phone",
        "Home Phone": "home_phone", "Mobile Phone": "mobile", "Birthday": "birthdate", "Categories": "tags",
        "E-mail Address": "email", "Language": "preferred_language", "Notes": "description",
        "Web Page": "website",
    },
    "vtiger_leads.csv": {
        "Salutation": "salutation", "First Name": "first_name", "Last Name": "last_name", "Company": "company",
        "Designation": "title", "Lead Source": "lead_source", "Industry": "industry",
        "Annual Revenue": "annual_revenue", "Number of Employees": "employees", "Primary Email": "email",
        "Primary Phone": "phone", "Mobile Phone": "mobile", "Fax": "fax", "Website": "website",
        "Lead Status": "lead_status", "Rating": "rating", "Assigned To": "owner", "Street": "street",
        "Postal Code": "postal_code", "City": "city", "Country": "country", "State": "state",
        "Description": "description", "Created Time": "created_at", "Lead Number": "record_id",
    },
    "vtiger_leads_fa.csv": {
        "پیشوند": "salutation", "نام": "first_name", "نام خانوادگی": "last_name", "شرکت": "company",
        "سمت": "title", "منبع سرنخ": "lead_source", "صنعت": "industry", "درآمد سالانه": "annual_revenue",
        "تعداد پرسنل": "employees", "ایمیل": "email", "تلفن": "phone", "شماره موبایل": "mobile", "فکس": "fax",
        "وب سایت": "website", "وضعیت سرنخ فروش": "lead_status", "مرحله": "rating", "ارجاع به": "owner",
        "خیابان": "street", "کد پستی": "postal_code", "شهر": "city", "کشور": "country", "استان": "state",
        "توضیحات": "description", "زمان ایجاد": "created_at", "شماره سرنخ": "record_id",
    },
    "suitecrm_leads.csv": {
        "First Name": "first_name", "Last Name": "last_name", "ID": "record_id", "Salutation": "salutation",
        "Title": "title", "Department": "department", "Account Name": "company", "Website": "website",
        "Email Address": "email", "Mobile": "mobile", "Office Phone": "phone", "Home Phone": "home_phone",
        "Fax": "fax", "Primary Address Street": "street", "Primary Address City": "city",
        "Primary Address State": "state", "Primary Address Postalcode": "postal_code",
        "Primary Address Country": "country", "Status": "lead_status", "Lead Source": "lead_source",
        "Description": "description", "Opportunity Name": "opportunity_name", "Opportunity Amount": "amount",
        "Do Not Call": "do_not_call", "Birthdate": "birthdate", "Assigned to": "owner",
        "Date Created": "created_at",
    },
}


def header_row(name: str) -> list[str]:
    """The first row of a fixture as a CSV reader with default settings gives it (BOM dropped)."""
    raw = (FIXTURES / name).read_bytes()
    text = raw.decode("cp1252") if name.startswith("outlook") else raw.decode("utf-8-sig")
    return next(csv.reader(io.StringIO(text, newline="")))


def expected_fields(headers: list[str], concepts: dict[str, str], targets: dict[str, str]) -> dict[str, str]:
    """The mapping `concepts` implies for a record type with `targets`."""
    by_key = {normalize(header): concept for header, concept in concepts.items()}
    return {header: targets.get(by_key.get(normalize(header), ""), "") for header in headers}


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("targets", [LEAD_TARGETS, CONTACT_TARGETS], ids=["lead", "contact"])
def test_fixture_headers_map_without_manual_mapping(name, targets):
    # given the header row of a real export
    headers = header_row(name)
    assert len(headers) >= len(EXPECTED[name])
    # when the mapping is guessed
    mapping = guess(headers, targets)
    # then every recognised column lands on its field and nothing else is mapped
    assert mapping == expected_fields(headers, EXPECTED[name], targets)
    assert len([f for f in mapping.values() if f]) == len({f for f in mapping.values() if f})


def test_vtiger_header_quirks_survive_a_plain_csv_reader():
    # Vtiger 7.0/7.1 writes the header joined by '", "', so a plain reader keeps the space and the quotes
    headers = header_row("vtiger_leads.csv")
    assert headers[1] == ' "First Name"'
    assert guess(headers, LEAD_TARGETS)[' "First Name"'] == "first_name"
    # and the Persian export starts with a BOM, which must not hide the first header
    raw_first = (FIXTURES / "vtiger_leads_fa.csv").read_bytes().decode("utf-8").split(",")[0]
    assert raw_first.startswith("\ufeff")
    assert concept_of(raw_first) == "salutation"


def test_outlook_title_is_the_salutation_when_job_title_is_there():
    headers = ["Title", "First Name", "Last Name", "Job Title"]
    assert guess(headers, CONTACT_TARGETS) == {
        "Title": "salutation", "First Name": "first_name", "Last Name": "last_name", "Job Title": "title"}
    # a record type without salutations leaves Outlook's "Title" alone rather than making it a job title
    assert guess(headers, LEAD_TARGETS)["Title"] == ""


def test_a_lone_title_is_the_job_title():
    assert guess(["Salutation", "Title"], CONTACT_TARGETS) == {"Salutation": "salutation", "Title": "title"}
    assert guess(["Title"], CONTACT_TARGETS) == {"Title": "title"}


def test_header_order_does_not_change_the_outcome():
    headers = ["Job Title", "Title", "Primary Phone", "Business Phone"]
    forward = guess(headers, CONTACT_TARGETS)
    backward = guess(list(reversed(headers)), CONTACT_TARGETS)
    assert forward == backward == {"Job Title": "title", "Title": "salutation", "Primary Phone": "",
                                   "Business Phone": "phone"}


def test_persian_headers():
    headers = ["نام", "نام\u200cخانوادگی", "شركت", "سمت", "تلفن همراه", "ایمیل", "کدپستی", "شهر", "کشور",
               "استان", "آدرس", "واگذار شده به", "منبع سرنخ", "وضعیت سرنخ"]
    assert guess(headers, LEAD_TARGETS) == {
        "نام": "first_name", "نام\u200cخانوادگی": "last_name", "شركت": "company", "سمت": "title",
        "تلفن همراه": "mobile", "ایمیل": "email", "کدپستی": "postal_code", "شهر": "city", "کشور": "country",
        "استان": "state", "آدرس": "street", "واگذار شده به": "owner", "منبع سرنخ": "source",
        "وضعیت سرنخ": "status",
    }


def test_persian_name_alone_is_the_full_name_where_first_names_are_not_kept():
    assert guess(["نام"], {"full_name": "full_name"}) == {"نام": "full_name"}
    assert guess(["عنوان", "نام خانوادگی"], CONTACT_TARGETS)["عنوان"] == "title"


def test_finnish_headers():
    headers = ["Etunimi", "Sukunimi", "Yritys", "Titteli", "Sähköposti", "Puhelin", "Matkapuhelin", "Katuosoite",
               "Postinumero", "Postitoimipaikka", "Maa", "Lisätiedot", "Omistaja", "Toimiala", "Liikevaihto"]
    assert guess(headers, LEAD_TARGETS) == {
        "Etunimi": "first_name", "Sukunimi": "last_name", "Yritys": "company", "Titteli": "title",
        "Sähköposti": "email", "Puhelin": "phone", "Matkapuhelin": "mobile", "Katuosoite": "street",
        "Postinumero": "postal_code", "Postitoimipaikka": "city", "Maa": "country", "Lisätiedot": "description",
        "Omistaja": "owner", "Toimiala": "industry", "Liikevaihto": "annual_revenue",
    }


def test_unknown_headers_stay_unmapped():
    headers = ["Favourite colour", "Shoe size", "Manager's Name", "Secondary Email", "E-mail 2 Address", ""]
    assert guess(headers, CONTACT_TARGETS) == dict.fromkeys(headers, "")
    assert concept_of("Favourite colour") == ""
    assert not is_ignored("Favourite colour")


def test_metadata_is_recognised_and_never_imported():
    for header in ["LEID", "EUID", "MEMBER_RATING", "OPTIN_TIME", "LATITUDE", "Lead ID", "Record ID",
                   "Last Modified Date", "Geocode Status"]:
        assert is_ignored(header), header
    everything = {concept: concept for concept in CONCEPTS if concept != "record_id"}
    headers = ["MEMBER_RATING", "OPTIN_TIME", "LATITUDE", "LONGITUDE", "LEID", "Lead ID", "Modified Time"]
    assert guess(headers, everything) == dict.fromkeys(headers, "")


def test_record_id_maps_only_when_the_record_type_asks_for_it():
    assert guess(["Lead ID", "Email"], {"email": "email", "record_id": "external_id"}) == {
        "Lead ID": "external_id", "Email": "email"}


def test_a_concept_the_record_type_does_not_accept_maps_to_nothing():
    assert guess(["Department", "Birthday"], LEAD_TARGETS) == {"Department": "", "Birthday": ""}


def test_extra_spellings_beat_synonyms():
    # a custom field keyed "region" takes the column instead of the state
    assert guess(["Region", "State"], LEAD_TARGETS, extra={"region": "cf_region"}) == {
        "Region": "cf_region", "State": "state"}
    # the record type's own field names and labels
    assert guess(["mailing_street", "Mailing city"], CONTACT_TARGETS,
                 extra={"mailing_street": "mailing_street", "mailingcity": "mailing_city"}) == {
        "mailing_street": "mailing_street", "Mailing city": "mailing_city"}
    # a custom field whose label is "Industry" beats the concept
    assert guess(["Industry"], LEAD_TARGETS, extra={"Industry": "cf_sector"}) == {"Industry": "cf_sector"}


def test_extra_does_not_override_the_outlook_title_rule():
    # the contact's own field "title" is passed in extra, yet Outlook's "Job Title" still wins it
    extra = {"title": "title", "salutation": "salutation"}
    assert guess(["Title", "Job Title"], CONTACT_TARGETS, extra=extra) == {"Title": "salutation",
                                                                           "Job Title": "title"}
    assert guess(["Title"], CONTACT_TARGETS, extra=extra) == {"Title": "title"}


def test_each_field_is_used_once_and_repeated_headers_keep_the_first():
    mapping = guess(["Email", "E-mail", "Email"], LEAD_TARGETS)
    assert mapping == {"Email": "email", "E-mail": ""}


def test_normalize():
    assert normalize("  Zip/Postal Code ") == "zippostalcode"
    assert normalize("No. of Employees") == "noofemployees"
    assert normalize("Manager\u2019s Name") == normalize("Manager's Name") == "managersname"
    assert normalize("E-mail_Address") == "emailaddress"
    assert normalize("Person \u2013 Email \u2013 Work") == "personemailwork"
    assert normalize(' "Last Name"') == "lastname"
    assert normalize("\ufeffFirst Name") == "firstname"
    assert normalize("ＦＩＲＳＴ　ＮＡＭＥ") == "firstname"  # full-width, NFKC
    # Arabic yeh and kaf become Persian; ZWNJ and bidi marks disappear
    assert normalize("شركت") == normalize("شرکت")
    assert normalize("نام\u200cخانوادگي") == normalize("نام خانوادگی") == "نامخانوادگی"
    assert normalize("\u200fایمیل\u200e") == "ایمیل"


def test_vocabulary_is_consistent():
    assert set(SYNONYMS) == set(CONCEPTS)
    spellings = [normalize(s) for words in SYNONYMS.values() for s in words]
    claimed = {}
    for concept, words in SYNONYMS.items():
        for word in words:
            assert claimed.setdefault(normalize(word), concept) == concept, word
    assert not set(claimed) & {normalize(s) for s in GENERIC}
    assert not set(claimed) & IGNORED
    assert all(concept in CONCEPTS for concepts in GENERIC.values() for concept in concepts)
    assert all(spellings)


OPPORTUNITY_TARGETS = {
    "opportunity_name": "name", "amount": "amount", "currency": "currency", "close_date": "close_date",
    "stage": "stage", "probability": "probability", "next_step": "next_step", "owner": "owner",
    "company": "account", "account_type": "type", "lead_source": "source",
}


def test_opportunity_exports():
    salesforce = ["Opportunity Name", "Account Name", "Amount", "Close Date", "Stage", "Probability (%)",
                  "Next Step", "Type", "Lead Source", "Opportunity Owner", "Created Date"]
    assert guess(salesforce, OPPORTUNITY_TARGETS) == {
        "Opportunity Name": "name", "Account Name": "account", "Amount": "amount", "Close Date": "close_date",
        "Stage": "stage", "Probability (%)": "probability", "Next Step": "next_step", "Type": "type",
        "Lead Source": "source", "Opportunity Owner": "owner", "Created Date": ""}
    pipedrive = ["Deal - Title", "Deal - Value", "Deal - Currency", "Deal - Stage", "Deal - Expected close date",
                 "Deal - Owner", "Person - Name", "Organization - Name"]
    assert guess(pipedrive, OPPORTUNITY_TARGETS) == {
        "Deal - Title": "name", "Deal - Value": "amount", "Deal - Currency": "currency", "Deal - Stage": "stage",
        "Deal - Expected close date": "close_date", "Deal - Owner": "owner", "Person - Name": "",
        "Organization - Name": "account"}
    # the Persian Vtiger pack's "مرحله" is the stage of a deal, and a lead's rating elsewhere
    assert guess(["مرحله"], OPPORTUNITY_TARGETS) == {"مرحله": "stage"}
    assert guess(["مرحله"], LEAD_TARGETS) == {"مرحله": "rating"}
