"""System checks for a production deployment (``manage.py check --deploy``)."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def secrets_from_environment(app_configs, **kwargs):
    return [
        checks.Error(
            f"{name} is not set: a development value generated into var/ is in use.",
            hint="Set it in the environment (docs/configuration.md).",
            id="cetatea.E001",
        )
        for name in settings.DEV_SECRETS_FROM_FILES
    ]
