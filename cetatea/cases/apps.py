from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cetatea.cases"
    label = "cases"
