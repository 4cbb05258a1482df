from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "crm.mail"
    label = "mail"
    verbose_name = _("E-mail")
