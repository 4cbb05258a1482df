"""Vocabularies more than one record type uses: industries, ratings, the buying roles contacts play. Values
are stored, so they never change; labels are translated."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class Rating(models.TextChoices):
    HOT = "hot", _("Hot")
    WARM = "warm", _("Warm")
    COLD = "cold", _("Cold")


class BuyingRole(models.TextChoices):
    """A person's part in a purchase: a lead's, and a contact's on an account (later on an opportunity)."""

    DECISION_MAKER = "decision_maker", _("Decision maker")
    ECONOMIC_BUYER = "economic_buyer", _("Economic buyer")
    TECHNICAL_BUYER = "technical_buyer", _("Technical buyer")
    INFLUENCER = "influencer", _("Influencer")
    CHAMPION = "champion", _("Champion")
    USER = "user", _("User")
    OTHER = "other", _("Other")


class Industry(models.TextChoices):
    AGRICULTURE = "agriculture", _("Agriculture")
    CONSTRUCTION = "construction", _("Construction")
    CONSULTING = "consulting", _("Consulting")
    EDUCATION = "education", _("Education")
    ENERGY = "energy", _("Energy")
    FINANCE = "finance", _("Finance")
    GOVERNMENT = "government", _("Government")
    HEALTHCARE = "healthcare", _("Healthcare")
    HOSPITALITY = "hospitality", _("Hospitality")
    MANUFACTURING = "manufacturing", _("Manufacturing")
    MEDIA = "media", _("Media")
    RETAIL = "retail", _("Retail")
    TECHNOLOGY = "technology", _("Technology")
    TELECOM = "telecom", _("Telecommunications")
    TRANSPORT = "transport", _("Transport and logistics")
    OTHER = "other", _("Other")


# How other CRMs (Salesforce's standard picklist, HubSpot, Zoho, Vtiger) name industries, for imports.
INDUSTRY_ALIASES = {
    "apparel": "retail", "banking": "finance", "biotechnology": "healthcare", "chemicals": "manufacturing",
    "communications": "telecom", "telecommunications": "telecom", "electronics": "technology",
    "engineering": "construction", "entertainment": "media", "environmental": "other",
    "food & beverage": "hospitality", "food and beverage": "hospitality", "insurance": "finance",
    "machinery": "manufacturing", "not for profit": "other", "non-profit": "other", "nonprofit": "other",
    "recreation": "hospitality", "shipping": "transport", "transportation": "transport", "logistics": "transport",
    "utilities": "energy", "software": "technology", "information technology": "technology", "it": "technology",
    "computer software": "technology", "internet": "technology", "financial services": "finance",
    "hospital & health care": "healthcare", "real estate": "construction", "automotive": "manufacturing",
    "publishing": "media", "marketing and advertising": "media", "higher education": "education",
    "government administration": "government", "oil & energy": "energy", "management consulting": "consulting",
}
