"""The merged (360°) timeline of a record and its related records."""
app_name = "timeline"
urlpatterns = []
