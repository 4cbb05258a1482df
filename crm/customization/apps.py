from django.apps import AppConfig


class Config(AppConfig):
    name = "crm.customization"
    label = "customization"
