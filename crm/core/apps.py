from django.apps import AppConfig


class Config(AppConfig):
    name = "crm.core"
    label = "core"
