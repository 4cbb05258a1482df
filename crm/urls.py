from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("crm.core.urls")),
    path("", include("crm.access.urls")),
    path("settings/events/", include("crm.core.settings_urls")),
    path("settings/", include("crm.access.settings_urls")),
    path("settings/customization/", include("crm.customization.urls")),
    path("activities/timeline/", include("crm.activities.timeline_urls")),
    path("activities/", include("crm.activities.urls")),
    path("mail/", include("crm.mail.urls")),
    path("", include("crm.automation.urls")),
    path("", include("crm.automation.urls_approvals")),
    path("notifications/", include("crm.notifications.urls")),
    path("lists/", include("crm.lists.urls")),
    path("records/", include("crm.core.record_urls")),
    path("import/", include("crm.imports.urls")),
    path("leads/", include("leads.urls")),
    path("accounts/", include("accounts.urls")),
    path("contacts/", include("accounts.contact_urls")),
    path("opportunities/", include("opportunities.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("django-admin/", admin.site.urls),
]
