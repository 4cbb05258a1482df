"""The Django admin is a superuser's tool: staff status alone is not enough.
Everyday administration happens under /settings/ in the CRM itself."""
from django.contrib import admin

from crm.access.models import AuditLog, LoginEvent, PermissionProfile, Role, SharingRule, Team, User


def _superusers_only(request) -> bool:
    return request.user.is_active and request.user.is_superuser


admin.site.has_permission = _superusers_only

for model in (User, Role, PermissionProfile, Team, SharingRule):
    admin.site.register(model)


@admin.register(LoginEvent, AuditLog)
class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
