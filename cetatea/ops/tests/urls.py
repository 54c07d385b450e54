"""A page that logs personal data, for the log tests (only these tests route to it)."""

import logging

from django.http import HttpResponse
from django.urls import path

logger = logging.getLogger("cetatea.test")


def chatty(request, anything: str):
    logger.warning(
        "Citizen %s wrote from %s, phone %s, IBAN %s",
        "1850312011234",
        "ion.popescu@example.ro",
        "+40 722 123 456",
        "RO49AAAA1B31007593840000",
    )
    return HttpResponse("ok")


urlpatterns = [path("chatty/<str:anything>/", chatty, name="chatty")]
