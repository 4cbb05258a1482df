"""Contacts live at /contacts/ (the old /accounts/contacts/ URLs redirect here)."""
app_name = "contacts"
urlpatterns = []
