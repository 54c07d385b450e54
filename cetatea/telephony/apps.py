from django.apps import AppConfig


class TelephonyConfig(AppConfig):
    name = "cetatea.telephony"
    label = "telephony"
