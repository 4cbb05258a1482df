from django.apps import AppConfig


class Config(AppConfig):
    name = "crm.activities"
    label = "activities"
