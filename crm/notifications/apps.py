from django.apps import AppConfig


class Config(AppConfig):
    name = "crm.notifications"
    label = "notifications"
