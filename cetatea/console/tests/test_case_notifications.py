"""The case page shows the messages sent to the citizen, and a failed one as an alert."""

from django.urls import reverse

from cetatea.notify.models import Notification
from conftest import make_case


def test_case_page_shows_messages_to_the_citizen_and_failures(client, catalog, personas):
    case = make_case(channel="phone")
    Notification.objects.create(
        case=case,
        kind="status",
        channel="sms",
        recipient="+40722123456",
        body="Solicitarea a fost rezolvată",
        status="failed",
        attempts=3,
        last_error="HTTP 500 from the SMS provider",
    )
    client.force_login(personas["manager"])
    page = client.get(reverse("console:case", args=[case.pk])).content.decode()
    assert "HTTP 500 from the SMS provider" in page
    assert 'role="alert"' in page and "+40722123456" in page
