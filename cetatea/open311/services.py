"""Writes of the Open311 interface: authenticate a client, file a request, post an update.

Every function raises ``Open311Error`` (carrying the HTTP status and the spec's error
code) for anything the client got wrong, before writing anything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cetatea.cases.choices import (
    CLOSED_STATUSES,
    TRANSITIONS,
    Channel,
    Direction,
    Handler,
    Publication,
    Status,
)
from cetatea.cases.models import Case, CaseEvent
from cetatea.cases.services import (
    Contact,
    case_add_note,
    case_change_status,
    case_create,
    interaction_log,
)
from cetatea.catalog.models import Category
from cetatea.catalog.selectors import street_search
from cetatea.open311.models import ApiClient, ApiSubmission, ApiUpdate, hash_key
from cetatea.portal.services import clean_answers

MAX_MEDIA_URLS = 5
MAX_FIELD = 200


class Open311Error(Exception):
    """A client error, answered in the spec's ``errors`` shape."""

    def __init__(self, status: int, errors: list[tuple[str, str]]):
        super().__init__(errors)
        self.status = status
        self.errors = errors  # [(code, description)]


def bad_request(description: str, code: str = "400") -> Open311Error:
    return Open311Error(400, [(code, description)])


def not_found(description: str) -> Open311Error:
    return Open311Error(404, [("404", description)])


def authenticate(api_key: str) -> ApiClient:
    """The active client with this key, or a 403."""
    key = (api_key or "").strip()
    if not key:
        raise Open311Error(403, [("403", _("An api_key is required to post."))])
    client = ApiClient.objects.filter(key_hash=hash_key(key), is_active=True).first()
    if client is None:
        raise Open311Error(403, [("403", _("Invalid api_key received: the request was refused."))])
    now = timezone.now()
    if client.last_used_at is None or now - client.last_used_at > dt.timedelta(minutes=5):
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
    return client


# --- POST requests ------------------------------------------------------------------------


@dataclass
class SubmitResult:
    case: Case
    submission: ApiSubmission
    repeated: bool


def _field(params, name: str, *, limit: int = MAX_FIELD) -> str:
    value = (params.get(name) or "").strip()
    if len(value) > limit:
        raise bad_request(
            _("The field %(name)s is longer than %(n)d characters.") % {"name": name, "n": limit}
        )
    return value


def parse_float(params, name: str) -> float | None:
    """An optional finite number, or a 400."""
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise bad_request(_("%(name)s is not a number.") % {"name": name}) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise bad_request(_("%(name)s is not a number.") % {"name": name})
    return value


def _media_urls(params) -> list[str]:
    urls = [u.strip() for u in params.getlist("media_url") if u and u.strip()]
    if len(urls) > MAX_MEDIA_URLS:
        raise bad_request(_("At most %(n)d media_url values.") % {"n": MAX_MEDIA_URLS})
    for url in urls:
        try:
            parts = urlsplit(url)
        except ValueError:  # "http://[" (a broken IPv6 address)
            parts = None
        if (
            parts is None
            or parts.scheme not in ("http", "https")
            or not parts.netloc
            or len(url) > 2000
            or any(c.isspace() or ord(c) < 32 for c in url)  # urlsplit drops tabs, CR, LF
        ):
            raise bad_request(_("media_url must be an http or https address."))
    return urls


def attributes_from(params) -> dict[str, list[str]]:
    """``attribute[CODE]=v`` and ``attribute[CODE][]=v`` (repeatable) as {code: [values]}."""
    found: dict[str, list[str]] = {}
    for name in params:
        if not name.startswith("attribute[") or "]" not in name:
            continue
        code = name[len("attribute[") : name.index("]")]
        rest = name[name.index("]") + 1 :]
        if not code or rest not in ("", "[]"):
            raise bad_request(_("The parameter %(name)s is not well formed.") % {"name": name})
        found.setdefault(code, []).extend(params.getlist(name))
    return found


def _content_hash(params) -> str:
    """The same POST sent again hashes the same (the key and the order do not count)."""
    items = sorted(
        (name, sorted(params.getlist(name)))
        for name in params
        if name not in ("api_key", "jurisdiction_id")
    )
    return hashlib.sha256(json.dumps(items, ensure_ascii=False).encode()).hexdigest()


def _locate(params) -> tuple[float | None, float | None, str]:
    lat, lon = parse_float(params, "lat"), parse_float(params, "long")
    address = _field(params, "address_string", limit=300)
    address_id = _field(params, "address_id")
    if (lat is None) != (lon is None):
        raise bad_request(_("lat and long must be given together."))
    if lat is None and address:
        # Our own street list, no outside geocoder: the street's point is the location.
        streets = street_search(address, limit=1)
        if streets:
            lat, lon = streets[0].latitude, streets[0].longitude
        else:
            raise bad_request(
                _("The address “%(a)s” is not a street of the city; send lat and long.")
                % {"a": address[:100]}
            )
    if lat is None and not address and not address_id:
        raise bad_request(_("A location is required: lat and long, or address_string."))
    if lat is None:
        raise bad_request(_("address_id is not known here; send lat and long."))
    return lat, lon, address


def submit_request(params, *, client: ApiClient, idempotency_key: str = "") -> SubmitResult:
    """File a request (POST requests) for ``client``.

    The same POST again returns the case already filed: with the same idempotency key
    (the ``Idempotency-Key`` header), or the same content within
    ``CETATEA_OPEN311_REPEAT_SECONDS``.
    """
    code = _field(params, "service_code")
    if not code:
        raise bad_request(_("service_code is required."))
    category = Category.objects.filter(code=code, is_active=True).first()
    if category is None:
        raise not_found(_("There is no service with the code %(code)s.") % {"code": code[:50]})
    description = _field(params, "description", limit=4000)
    email = _field(params, "email")
    phone = _field(params, "phone", limit=50)
    first, last = _field(params, "first_name"), _field(params, "last_name")
    if len(" ".join(p for p in (first, last) if p)) > MAX_FIELD:  # one name, at most 200
        raise bad_request(
            _("first_name and last_name together are longer than %(n)d characters.")
            % {"n": MAX_FIELD}
        )
    device_id, account_id = _field(params, "device_id"), _field(params, "account_id")
    title = _field(params, "title", limit=120)
    media_urls = _media_urls(params)
    latitude, longitude, address = _locate(params)
    raw_attributes = attributes_from(params)
    errors = []
    questions = {q.code for q in category.questions.all()}
    try:
        answers = clean_answers(category, raw_attributes)
    except ValidationError as exc:
        errors += [("400", f"{key}: {' '.join(msgs)}") for key, msgs in exc.message_dict.items()]
        answers = {}
    extra = {
        k: (v[0] if len(v) == 1 else v)
        for k, v in raw_attributes.items()
        if k not in questions and len(k) <= 50
    }
    if len(json.dumps(extra)) > 4000:
        errors.append(("400", _("Too many attributes.")))
    if errors:
        raise Open311Error(400, errors)

    idempotency_key = (idempotency_key or "").strip()[:150]
    content = _content_hash(params)
    now = timezone.now()
    window = dt.timedelta(seconds=settings.CETATEA_OPEN311_REPEAT_SECONDS)
    earlier = ApiSubmission.objects.select_related("case")
    if idempotency_key:
        earlier = earlier.filter(client=client, idempotency_key=idempotency_key)
        external_id = f"o311:{client.pk}:k:{idempotency_key}"
    else:
        earlier = earlier.filter(client=client, content_hash=content, created_at__gte=now - window)
        bucket = int(now.timestamp() // max(settings.CETATEA_OPEN311_REPEAT_SECONDS, 1))
        external_id = f"o311:{client.pk}:h:{content[:40]}:{bucket}"
    found = earlier.order_by("-created_at").first()
    if found is not None:
        return SubmitResult(case=found.case, submission=found, repeated=True)

    name = " ".join(p for p in (first, last) if p)
    public = category.on_map
    try:
        with transaction.atomic():
            case = case_create(
                channel=Channel.OPEN311,
                category=category,
                title=title,
                description=description,
                contact=Contact(name=name, email=email, phone=phone),
                latitude=latitude,
                longitude=longitude,
                address_text=address,
                handler=Handler.SELF_SERVICE,
                external_id=external_id,
                publication=Publication.PUBLIC if public else Publication.PRIVATE,
                answers=answers,
                interaction_summary=_("Filed through %(client)s") % {"client": client.name},
            )
            submission, created = ApiSubmission.objects.get_or_create(
                case=case,
                defaults={
                    "client": client,
                    "idempotency_key": idempotency_key,
                    "content_hash": content,
                    "device_id": device_id,
                    "account_id": account_id,
                    "media_urls": media_urls,
                    "extra_attributes": extra,
                    "created_at": now,
                },
            )
    except ValidationError as exc:
        raise Open311Error(
            400,
            [
                ("400", f"{_open311_name(key)}: {' '.join(msgs)}")
                for key, msgs in exc.message_dict.items()
            ],
        ) from None
    except IntegrityError as exc:  # pragma: no cover - a race lost twice
        raise bad_request(_("The request could not be saved; send it again.")) from exc
    return SubmitResult(case=case, submission=submission, repeated=not created)


def _open311_name(field: str) -> str:
    return {
        "location": "lat/long",
        "contact_email": "email",
        "contact_phone": "phone",
        "category": "service_code",
    }.get(field, field)


# --- POST servicerequestupdates ---------------------------------------------------------------

# FixMyStreet's upper-case statuses → Cetatea's honest states. None: the update is a
# comment, the state does not change. "OPEN"/"REOPEN" reopen a closed case only.
FMS_TO_STATUS: dict[str, str | None] = {
    "UNCHANGED": None,
    "OPEN": Status.REOPENED,
    "REOPEN": Status.REOPENED,
    "INVESTIGATING": Status.ACKNOWLEDGED,
    "IN_PROGRESS": Status.IN_PROGRESS,
    "ACTION_SCHEDULED": Status.PLANNED,
    "PLANNED": Status.PLANNED,
    "FIXED": Status.FIXED,
    "CLOSED": None,  # closed is not fixed: staff decide which closed state it is
    "DUPLICATE": Status.DUPLICATE,
    "NOT_COUNCILS_RESPONSIBILITY": Status.NOT_RESPONSIBLE,
    "NO_FURTHER_ACTION": Status.UNABLE_TO_FIX,
    "UNABLE_TO_FIX": Status.UNABLE_TO_FIX,
    "CANCELLED": Status.WITHDRAWN,
    "INTERNAL_REFERRAL": None,
    "FOR_TRIAGE": None,
}


def parse_datetime(raw: str, name: str) -> dt.datetime:
    """A W3C datetime with a time zone, or a 400."""
    value = (raw or "").strip()
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or "T" not in value.upper():
        raise bad_request(
            _("%(name)s must be a W3C date and time, such as 2026-11-30T10:00:00+02:00.")
            % {"name": name}
        )
    if parsed.tzinfo is None:
        raise bad_request(
            _("%(name)s needs a time zone (Z or +02:00).") % {"name": name}, code="400"
        )
    return parsed


def _already_exists(update_id: str) -> Open311Error:
    # Not translated: FixMyStreet reads "already exists" to know its update arrived before.
    return bad_request(f"Update {update_id} already exists.")


def post_update(params, *, client: ApiClient, case: Case) -> CaseEvent | ApiUpdate:
    """Record an update a client sends for a request (POST servicerequestupdates).

    A status the case can move to changes it (in public, with the description); any
    other update is kept as an internal note for staff. The same ``update_id`` twice is
    refused with 400 "already exists" and changes nothing.
    """
    # 150: the id is kept in the interaction's external id (200) after a short prefix.
    update_id = _field(params, "update_id", limit=150)
    status = _field(params, "status", limit=40)
    description = _field(params, "description", limit=4000)
    missing = [
        name
        for name, value in (
            ("update_id", update_id),
            ("status", status),
            ("description", description),
            ("updated_datetime", _field(params, "updated_datetime", limit=40)),
        )
        if not value
    ]
    if missing:
        raise Open311Error(
            400, [("400", _("%(name)s is required.") % {"name": name}) for name in missing]
        )
    if status not in FMS_TO_STATUS:
        raise bad_request(
            _("Unknown status %(status)s: use one of %(known)s.")
            % {"status": status[:40], "known": ", ".join(FMS_TO_STATUS)}
        )
    when = parse_datetime(params.get("updated_datetime"), "updated_datetime")
    if when > timezone.now() + dt.timedelta(minutes=5):
        raise bad_request(_("updated_datetime is in the future."))
    if ApiUpdate.objects.filter(client=client, update_id=update_id).exists():
        raise _already_exists(update_id)
    wanted = FMS_TO_STATUS[status]
    if wanted == Status.REOPENED and case.status not in CLOSED_STATUSES:
        wanted = None
    if wanted is not None and wanted not in TRANSITIONS[case.status]:
        wanted = None
    try:
        with transaction.atomic():
            record = ApiUpdate.objects.create(
                client=client, update_id=update_id, case=case, status=status
            )
            if wanted is not None:
                case_change_status(
                    case_id=case.pk,
                    status=wanted,
                    actor=None,
                    text=description,
                    public=True,
                    handler=Handler.SELF_SERVICE,
                )
                event = CaseEvent.objects.filter(case=case).order_by("-id").first()
            else:
                event = case_add_note(
                    case_id=case.pk,
                    text=_("Update from %(client)s (%(status)s): %(text)s")
                    % {"client": client.name, "status": status, "text": description},
                    actor=None,
                    public=False,
                )
            record.event = event
            record.save(update_fields=["event"])
            interaction_log(
                channel=Channel.OPEN311,
                case=case,
                direction=Direction.INBOUND,
                handler=Handler.SELF_SERVICE,
                summary=description,
                external_id=f"o311u:{client.pk}:{update_id}",
            )
    except IntegrityError:
        raise _already_exists(update_id) from None
    except ValidationError as exc:
        raise bad_request(" ".join(exc.messages)) from None
    return record
