from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "crm.access"
    label = "access"
    verbose_name = _("Access")

    def ready(self):
        from crm.core.demo import register_demo

        register_demo("access", "crm.access.demo.seed", after=())
        from crm.access import auth  # noqa: F401  (connects login-history receivers)
        from django.db.models.signals import post_delete, post_save

        from crm.access import directory
        from crm.access.models import User

        # Cache invalidation only: every process re-reads the user directory.
        post_save.connect(directory.user_saved, sender=User, dispatch_uid="user-directory-save")
        post_delete.connect(directory.user_deleted, sender=User, dispatch_uid="user-directory-delete")
        from crm.core.settings_sections import register_section

        for order, (key, label, icon, url_name, right) in enumerate([
            ("users", _("Users"), "people", "settings:users", "manage_users"),
            ("roles", _("Roles"), "diagram-3", "settings:roles", "manage_access"),
            ("profiles", _("Permission profiles"), "shield-lock", "settings:profiles", "manage_access"),
            ("teams", _("Teams"), "people-fill", "settings:teams", "manage_access"),
            ("org_defaults", _("Organisation-wide defaults"), "globe", "settings:org_defaults", "manage_access"),
            ("sharing", _("Sharing rules"), "share", "settings:sharing_rules", "manage_access"),
            ("explain", _("Why can this user see this?"), "question-circle", "settings:explain", "manage_access"),
        ]):
            register_section(key, label, icon, url_name, right=right, order=10 + order)
        register_section("login_history", _("Login history"), "box-arrow-in-right", "settings:login_history",
                         right="view_audit_log", order=900)
        register_section("audit_log", _("Audit log"), "journal-check", "settings:audit_log", right="view_audit_log",
                         order=910)
