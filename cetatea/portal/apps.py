from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "cetatea.portal"
    label = "portal"
