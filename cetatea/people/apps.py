from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "cetatea.people"
    label = "people"
