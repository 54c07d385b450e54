"""E-mail alerts for confirmed subscriptions (like FixMyStreet's send-alerts).

Run periodically (``manage.py send_alerts``; ``make run`` calls it every minute). Each
subscription remembers when it was last served, so a run sends only what is new and a
repeated or overlapping run sends nothing twice.
"""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from cetatea.cases.choices import CLOSED_STATUSES, EventKind, Publication
from cetatea.cases.models import CaseEvent
from cetatea.portal import mail, selectors, services
from cetatea.portal.models import Subscription

BATCH = 500


def _case_items(sub: Subscription, until) -> list[dict]:
    events = (
        CaseEvent.objects.filter(
            case_id=sub.case_id,
            is_public=True,
            created_at__gt=sub.last_sent_at,
            created_at__lte=until,
            case__publication=Publication.PUBLIC,
        )
        .exclude(kind__in=[EventKind.INTERNAL_NOTE, EventKind.CREATED])
        .exclude(moderation__hidden=True)
        .select_related("case")
        .order_by("created_at", "id")
    )
    items = []
    for event in events:
        case = event.case
        what = event.get_to_status_display() or event.get_kind_display()
        if event.text:
            what = f"{what}: {event.text}"
        item = {
            "reference": case.reference,
            "title": case.title,
            "what": what,
            "link": services._abs(reverse("portal:case", args=[case.reference])),
        }
        # The reporter is asked, once it is closed, whether it is really fixed.
        if event.to_status in CLOSED_STATUSES and sub.email == case.contact_email:
            item["what"] += " — " + services.feedback_link(case)
        items.append(item)
    return items


def _new_case_items(sub: Subscription, until) -> list[dict]:
    qs = selectors.public_cases().filter(
        registered_at__gt=sub.last_sent_at, registered_at__lte=until
    )
    if sub.kind == Subscription.Kind.AREA:
        qs = qs.filter(area_id=sub.area_id)
    else:
        qs = qs.filter(**selectors.around_filter(sub.latitude, sub.longitude, sub.radius_m))
    items = []
    for case in qs.order_by("registered_at", "id")[:50]:
        if sub.kind == Subscription.Kind.RADIUS and (
            selectors.distance_m(sub.latitude, sub.longitude, case.latitude, case.longitude)
            > sub.radius_m
        ):
            continue
        items.append(
            {
                "reference": case.reference,
                "title": case.title,
                "what": case.get_status_display(),
                "link": services._abs(reverse("portal:case", args=[case.reference])),
            }
        )
    return items


def send_alerts(now=None) -> int:
    """Send what is new to every confirmed subscription; returns the e-mails sent."""
    until = now or timezone.now()
    sent = 0
    last_id = 0
    while True:
        batch = list(
            Subscription.objects.filter(confirmed_at__isnull=False, pk__gt=last_id).order_by("pk")[
                :BATCH
            ]
        )
        if not batch:
            return sent
        for sub in batch:
            items = (
                _case_items(sub, until)
                if sub.kind == Subscription.Kind.CASE
                else _new_case_items(sub, until)
            )
            with transaction.atomic():
                updated = Subscription.objects.filter(
                    pk=sub.pk, last_sent_at=sub.last_sent_at
                ).update(last_sent_at=until)
                if updated and items:  # another run did not take it meanwhile
                    unsubscribe = services.unsubscribe_link(sub)
                    email = sub.email
                    transaction.on_commit(
                        lambda e=email, i=items, u=unsubscribe: mail.send_alert(
                            e, items=i, unsubscribe=u
                        )
                    )
                    sent += 1
        last_id = batch[-1].pk
