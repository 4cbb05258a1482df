from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "crm.mail"
    label = "mail"
    verbose_name = _("E-mail")

    def ready(self):
        from crm.core.settings_sections import register_section

        register_section("email_templates", _("E-mail templates"), "envelope-paper", "mail:template_list",
                         right="manage_customization", order=150)
