from django.apps import AppConfig


class Config(AppConfig):
    name = "crm.access"
    label = "access"
