from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "cetatea.catalog"
    label = "catalog"
