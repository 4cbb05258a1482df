from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "crm.access"
    label = "access"
    verbose_name = _("Access")

    def ready(self):
        from crm.access import auth  # noqa: F401  (connects login-history receivers)
