from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "cetatea.console"
    label = "console"
