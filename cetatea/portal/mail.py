"""E-mails of the citizen's map, sent by the background worker (Django Tasks).

Each function enqueues one task; the task renders the message in Romanian (the city's
language) followed by English, so a citizen who reads either understands it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation
from django_tasks import task


def _bilingual(template: str, context: dict) -> tuple[str, str]:
    parts, subjects = [], []
    for language in ("ro", "en"):
        with translation.override(language):
            text = render_to_string(template, context).strip()
            subject, _sep, body = text.partition("\n")
            subjects.append(subject.strip())
            parts.append(body.strip())
    return " / ".join(dict.fromkeys(subjects)), "\n\n-----\n\n".join(parts)


@task()
def send_templated_mail(template: str, recipient: str, context: dict) -> None:
    subject, body = _bilingual(template, context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient])


def _send(template: str, recipient: str, **context) -> None:
    send_templated_mail.enqueue(template, recipient, context)


def _case_context(case_id: int) -> dict:
    from cetatea.cases.models import Case

    case = Case.objects.select_related("category").get(pk=case_id)
    return {
        "reference": case.reference,
        "title": case.title,
        "category_ro": case.category.name_ro,
        "category_en": case.category.name_en or case.category.name_ro,
    }


def send_report_confirmation(case_id: int, recipient: str, link: str) -> None:
    _send("portal/email/confirm_report.txt", recipient, link=link, **_case_context(case_id))


def send_report_acknowledgement(case_id: int, recipient: str, link: str) -> None:
    _send("portal/email/acknowledgement.txt", recipient, link=link, **_case_context(case_id))


def send_subscription_confirmation(subscription_id: int, link: str) -> None:
    from cetatea.portal.models import Subscription

    sub = Subscription.objects.get(pk=subscription_id)
    _send("portal/email/confirm_subscription.txt", sub.email, link=link, kind=sub.kind)


def send_login_link(email: str, link: str) -> None:
    _send("portal/email/login.txt", email, link=link)


def send_alert(recipient: str, *, items: list[dict], unsubscribe: str) -> None:
    _send("portal/email/alert.txt", recipient, items=items, unsubscribe=unsubscribe)
