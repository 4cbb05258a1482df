from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "crm.lists"
    label = "lists"
    verbose_name = _("Lists")
