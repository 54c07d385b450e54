"""Writes of the citizen's map: report, confirm, "me too", subscribe, feedback, account,
moderation. Every report goes through ``cetatea.cases.services.case_create``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cetatea.cases import maprollup
from cetatea.cases.choices import CLOSED_STATUSES, EventKind, Handler, Publication, Status
from cetatea.cases.models import Case, CaseEvent, Interaction, Photo
from cetatea.cases.services import Contact, case_change_status, case_create
from cetatea.catalog.geo import area_for_point
from cetatea.catalog.models import Area, Category, CategoryQuestion
from cetatea.core.identifiers import normalize_email_address
from cetatea.core.models import AuditLog
from cetatea.portal import mail
from cetatea.portal.models import (
    CitizenAccount,
    EventModeration,
    Feedback,
    Subscription,
    Supporter,
)

CONFIRM_SALT = "cetatea.portal.confirm-report"
SUBSCRIBE_SALT = "cetatea.portal.subscribe"
LOGIN_SALT = "cetatea.portal.login"
FEEDBACK_SALT = "cetatea.portal.feedback"
MAX_DESCRIPTION = 5000


def _abs(path: str) -> str:
    return settings.CETATEA_SITE_URL.rstrip("/") + path


# --- answers to extra questions -----------------------------------------------------------


def clean_answers(category: Category, raw: dict[str, list[str]]) -> dict[str, object]:
    """Check the answers to a category's extra questions (the Open311 attributes).

    ``raw`` maps a question code to the submitted values. Returns the cleaned answers or
    raises ValidationError keyed ``attribute[code]``.
    """
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, object] = {}
    questions = list(CategoryQuestion.objects.filter(category=category))
    for q in questions:
        values = [v.strip() for v in raw.get(q.code, []) if v and v.strip()]
        key = f"attribute[{q.code}]"
        if not values:
            if q.required:
                errors[key] = [_("Please answer: %(q)s") % {"q": q.label}]
            continue
        if q.datatype == CategoryQuestion.Datatype.NUMBER:
            try:
                number = float(values[0].replace(",", "."))
            except ValueError:
                errors[key] = [_("“%(v)s” is not a number.") % {"v": values[0]}]
                continue
            cleaned[q.code] = int(number) if number.is_integer() else number
        elif q.datatype in (CategoryQuestion.Datatype.SINGLE, CategoryQuestion.Datatype.MULTI):
            allowed = {c.get("key") for c in q.choices}
            wrong = [v for v in values if v not in allowed]
            if wrong or (q.datatype == CategoryQuestion.Datatype.SINGLE and len(values) > 1):
                errors[key] = [_("Choose one of the answers offered.")]
                continue
            cleaned[q.code] = (
                values[0] if q.datatype == CategoryQuestion.Datatype.SINGLE else values
            )
        else:
            limit = 200 if q.datatype == CategoryQuestion.Datatype.STRING else 2000
            if len(values[0]) > limit:
                errors[key] = [_("The answer is too long.")]
                continue
            cleaned[q.code] = values[0]
    if errors:
        raise ValidationError(errors)
    return cleaned


# --- report ---------------------------------------------------------------------------------


@dataclass
class ReportResult:
    case: Case
    needs_confirmation: bool
    duplicate_submit: bool = False
    photo_errors: list[str] = field(default_factory=list)


def report_submit(
    *,
    category: str,
    latitude: float | str | None,
    longitude: float | str | None,
    title: str,
    description: str,
    photos: list[UploadedFile] = (),
    answers: dict[str, list[str]] | None = None,
    name: str = "",
    email: str = "",
    phone: str = "",
    show_name: bool = False,
    address_text: str = "",
    account: CitizenAccount | None = None,
    submission_key: str = "",
) -> ReportResult:
    """File a map report.

    Everything the citizen typed or attached is checked first; a bad field, a file that
    is not a photo or a place outside the city raises ValidationError and nothing is
    written. Then the case is filed (one case even on a double submit: the form's
    ``submission_key``), the photos are stored and processed in the background, and the
    citizen gets an e-mail: a confirmation link when the category asks anonymous
    reports to be confirmed, else an acknowledgement with the case's link.
    """
    from cetatea.cases import photos as photo_service

    errors: dict[str, list[str]] = {}
    cat = Category.objects.filter(code=category, is_active=True, on_map=True).first()
    if cat is None:
        errors["category"] = [_("Choose a category.")]
    if latitude in (None, "") or longitude in (None, ""):
        errors["location"] = [_("Choose the place on the map or type a street.")]
    else:
        try:
            area_for_point(latitude, longitude)
        except ValidationError as exc:
            errors["location"] = exc.messages
    title = (title or "").strip()
    description = (description or "").strip()
    if not title:
        errors["title"] = [_("Give the problem a short title.")]
    elif len(title) > 120:
        errors["title"] = [_("The title is longer than %(n)d characters.") % {"n": 120}]
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = [
            _("The description is longer than %(n)d characters.") % {"n": MAX_DESCRIPTION}
        ]
    contact_email = ""
    if email and email.strip():
        try:
            contact_email = normalize_email_address(email)
        except ValidationError as exc:
            errors["email"] = exc.messages
    cleaned_answers: dict[str, object] = {}
    if cat is not None:
        try:
            cleaned_answers = clean_answers(cat, answers or {})
        except ValidationError as exc:
            errors.update(exc.message_dict)
    photos = [p for p in photos if p]
    if len(photos) > settings.CETATEA_PHOTOS_PER_CASE:
        errors["photos"] = [
            _("At most %(n)d photos per report.") % {"n": settings.CETATEA_PHOTOS_PER_CASE}
        ]
    elif cat is not None and cat.requires_photo and not photos:
        errors["photos"] = [_("This category needs a photo of the problem.")]
    else:
        photo_errors = []
        for upload in photos:
            try:
                photo_service.photo_check(upload)
            except ValidationError as exc:
                photo_errors.extend(exc.messages)
        if photo_errors:
            errors["photos"] = photo_errors
    if errors:
        raise ValidationError(errors)

    external_id = f"portal:{submission_key}"[:200] if submission_key else ""
    if external_id:  # a double click, or the browser sending the form again
        earlier = (
            Interaction.objects.filter(channel="map", external_id=external_id)
            .select_related("case")
            .first()
        )
        if earlier is not None:
            return ReportResult(
                case=earlier.case,
                needs_confirmation=earlier.case.publication == Publication.PENDING,
                duplicate_submit=True,
            )
    person = account.person if account else None
    needs_confirmation = bool(account is None and contact_email and cat.confirm_by_email)
    accepted: list[Photo] = []  # stored originals, removed if the report is not filed
    written = False
    try:
        with transaction.atomic():
            case = case_create(
                channel="map",
                category=cat,
                title=title,
                description=description,
                requester=person,
                contact=Contact(
                    name=name,
                    email=contact_email or (account.email if account else ""),
                    phone=phone,
                ),
                latitude=float(latitude),
                longitude=float(longitude),
                address_text=address_text,
                handler=Handler.SELF_SERVICE,
                external_id=external_id,
                publication=Publication.PENDING if needs_confirmation else Publication.PUBLIC,
                show_name=bool(show_name and name),
                answers=cleaned_answers,
            )
            result = ReportResult(case=case, needs_confirmation=needs_confirmation)
            for index, upload in enumerate(photos):
                try:
                    with transaction.atomic():
                        accepted.append(
                            photo_service.photo_accept(case=case, upload=upload, sort_order=index)
                        )
                except ValidationError as exc:  # never lose the report for a bad photo
                    result.photo_errors.extend(exc.messages)
            written = True
    except BaseException:
        # Refused as a whole (the disk full, the database gone): the case is rolled back,
        # and the originals already stored would belong to nothing. An error at COMMIT
        # leaves the outcome unknown: the files are kept (never a case without its photo).
        if not written:
            photo_service.photo_files_delete(accepted)
        raise
    recipient = contact_email or (account.email if account else "")
    if recipient:
        # The reporter follows the case: told of every public update and of the fix.
        now = timezone.now()
        Subscription.objects.create(
            email=recipient,
            kind=Subscription.Kind.CASE,
            case=case,
            confirmed_at=None if needs_confirmation else now,
            last_sent_at=now,
        )
        if needs_confirmation:
            token = signing.dumps(case.pk, salt=CONFIRM_SALT)
            link = _abs(reverse("portal:confirm", args=[token]))
            transaction.on_commit(lambda: mail.send_report_confirmation(case.pk, recipient, link))
        else:
            link = _abs(reverse("portal:case", args=[case.reference]))
            transaction.on_commit(
                lambda: mail.send_report_acknowledgement(case.pk, recipient, link)
            )
    return result


def report_confirm(token: str) -> Case:
    """Publish a report whose reporter clicked the e-mailed link (valid for 7 days)."""
    try:
        case_id = signing.loads(token, salt=CONFIRM_SALT, max_age=settings.CETATEA_CONFIRM_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise ValidationError(
            _("This confirmation link has expired; please report the problem again."),
            code="expired",
        ) from exc
    except signing.BadSignature as exc:
        raise ValidationError(_("This confirmation link is not valid."), code="bad") from exc
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(pk=case_id).first()
        if case is None:
            raise ValidationError(_("This confirmation link is not valid."), code="bad")
        if case.publication == Publication.PENDING:
            with maprollup.track(case):
                case.publication = Publication.PUBLIC
                case.save(update_fields=["publication", "updated_at"])
            now = timezone.now()
            Subscription.objects.filter(
                case=case, email=case.contact_email, confirmed_at__isnull=True
            ).update(confirmed_at=now, last_sent_at=now)
            link = _abs(reverse("portal:case", args=[case.reference]))
            email = case.contact_email
            transaction.on_commit(lambda: mail.send_report_acknowledgement(case.pk, email, link))
    return case


# --- me too and subscriptions ---------------------------------------------------------------


def case_support(*, case: Case, email: str) -> bool:
    """Count a "me too" once per e-mail and subscribe it to the case's updates.

    Returns True when this e-mail had not supported the case yet.
    """
    email = normalize_email_address(email)
    if case.publication != Publication.PUBLIC or not case.is_open:
        raise ValidationError(_("This case is not open; you can report the problem again."))
    try:
        with transaction.atomic():
            Supporter.objects.create(case=case, email=email)
            Case.objects.filter(pk=case.pk).update(supporters_count=F("supporters_count") + 1)
    except IntegrityError:
        return False
    subscription_request(kind=Subscription.Kind.CASE, email=email, case=case)
    return True


def subscription_request(
    *,
    kind: str,
    email: str,
    case: Case | None = None,
    area: Area | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    radius_m: int | None = None,
) -> Subscription:
    """Record an alert and e-mail a confirmation link; nothing is sent before it is clicked."""
    email = normalize_email_address(email)
    if kind == Subscription.Kind.CASE and case is None:
        raise ValidationError(_("Choose a case to follow."))
    if kind == Subscription.Kind.AREA and area is None:
        raise ValidationError(_("Choose a neighbourhood."))
    if kind == Subscription.Kind.RADIUS:
        if latitude is None or longitude is None:
            raise ValidationError(_("Choose a place on the map."))
        area_for_point(latitude, longitude)
        if not radius_m or not 100 <= radius_m <= 5000:
            raise ValidationError(_("The distance must be between 100 m and 5 km."))
    existing = Subscription.objects.filter(
        email=email, kind=kind, case=case, area=area, latitude=latitude, longitude=longitude
    ).first()
    if existing and existing.confirmed_at:
        return existing
    sub = existing or Subscription.objects.create(
        email=email,
        kind=kind,
        case=case,
        area=area,
        latitude=latitude,
        longitude=longitude,
        radius_m=radius_m,
    )
    token = signing.dumps(sub.pk, salt=SUBSCRIBE_SALT)
    link = _abs(reverse("portal:subscription_confirm", args=[token]))
    transaction.on_commit(lambda: mail.send_subscription_confirmation(sub.pk, link))
    return sub


def subscription_confirm(token: str) -> Subscription:
    sub = _subscription_from_token(token, max_age=settings.CETATEA_CONFIRM_MAX_AGE)
    if sub.confirmed_at is None:
        sub.confirmed_at = timezone.now()
        sub.last_sent_at = sub.confirmed_at
        sub.save(update_fields=["confirmed_at", "last_sent_at"])
    return sub


def subscription_cancel(token: str) -> None:
    """Unsubscribe links never expire."""
    _subscription_from_token(token, max_age=None).delete()


def _subscription_from_token(token: str, *, max_age) -> Subscription:
    try:
        sub_id = signing.loads(token, salt=SUBSCRIBE_SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise ValidationError(_("This link has expired; please subscribe again.")) from exc
    except signing.BadSignature as exc:
        raise ValidationError(_("This link is not valid.")) from exc
    sub = Subscription.objects.filter(pk=sub_id).first()
    if sub is None:
        raise ValidationError(_("This subscription no longer exists."))
    return sub


def unsubscribe_link(sub: Subscription) -> str:
    return _abs(reverse("portal:unsubscribe", args=[signing.dumps(sub.pk, salt=SUBSCRIBE_SALT)]))


# --- after closure: confirm the fix or reopen, and a short questionnaire --------------------


def feedback_link(case: Case) -> str:
    token = signing.dumps(case.pk, salt=FEEDBACK_SALT)
    return _abs(reverse("portal:feedback", args=[token]))


def feedback_case(token: str) -> Case:
    try:
        case_id = signing.loads(
            token, salt=FEEDBACK_SALT, max_age=settings.CETATEA_REOPEN_DAYS * 86400 + 86400 * 90
        )
    except signing.BadSignature as exc:
        raise ValidationError(_("This link is not valid or has expired.")) from exc
    case = Case.objects.filter(pk=case_id).first()
    if case is None:
        raise ValidationError(_("This link is not valid or has expired."))
    return case


def feedback_submit(
    *, case: Case, fixed: str, satisfaction: int | None = None, comment: str = ""
) -> Feedback:
    """Record the reporter's answer; "not fixed" reopens the case within the allowed time."""
    if fixed not in Feedback.Fixed.values:
        raise ValidationError(_("Say whether the problem is fixed."))
    if satisfaction is not None and not 1 <= satisfaction <= 5:
        raise ValidationError(_("Satisfaction is a mark from 1 to 5."))
    if case.status not in CLOSED_STATUSES:
        raise ValidationError(_("This case is still open; its questionnaire comes after closure."))
    with transaction.atomic():
        try:
            feedback = Feedback.objects.create(
                case=case, fixed=fixed, satisfaction=satisfaction, comment=comment[:2000]
            )
        except IntegrityError as exc:
            raise ValidationError(_("You have already answered for this case. Thank you!")) from exc
        if fixed == Feedback.Fixed.NO and case.status != Status.DUPLICATE:
            window = dt.timedelta(days=settings.CETATEA_REOPEN_DAYS)
            if case.closed_at and timezone.now() - case.closed_at <= window:
                case_change_status(
                    case_id=case.pk,
                    status=Status.REOPENED,
                    actor=None,
                    handler=Handler.SELF_SERVICE,
                    text=_("The reporter says the problem is not fixed.")
                    + (f" {comment.strip()}" if comment.strip() else ""),
                )
    return feedback


# --- citizen account ---------------------------------------------------------------------------


def login_link_request(*, email: str, name: str = "") -> None:
    """E-mail a one-time login link (valid 1 hour); the same answer whether or not an
    account exists, so the form reveals nothing."""
    email = normalize_email_address(email)
    token = signing.dumps({"e": email, "n": name.strip()[:100]}, salt=LOGIN_SALT)
    link = _abs(reverse("portal:login_verify", args=[token]))
    transaction.on_commit(lambda: mail.send_login_link(email, link))


def login_verify(token: str) -> CitizenAccount:
    """The account for a clicked login link, created (with its Person) on first use."""
    from cetatea.people.models import ContactPoint
    from cetatea.people.services import person_create

    try:
        data = signing.loads(token, salt=LOGIN_SALT, max_age=3600)
    except signing.SignatureExpired as exc:
        raise ValidationError(_("This login link has expired; ask for a new one.")) from exc
    except signing.BadSignature as exc:
        raise ValidationError(_("This login link is not valid.")) from exc
    email = data["e"]
    with transaction.atomic():
        account = (
            CitizenAccount.objects.select_related("user", "person").filter(email=email).first()
        )
        if account:
            return account
        contact = (
            ContactPoint.objects.filter(kind="email", value=email, person__merged_into__isnull=True)
            .select_related("person")
            .first()
        )
        if contact:
            person = contact.person
        else:
            name = data.get("n") or email.split("@")[0]
            parts = name.split()
            person = person_create(
                last_name=parts[-1] if len(parts) > 1 else name,
                first_name=" ".join(parts[:-1]) if len(parts) > 1 else "",
                emails=[email],
            )
        user_model = get_user_model()
        user, _created = user_model.objects.get_or_create(
            username=f"citizen:{email}"[:150], defaults={"email": email}
        )
        if _created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        return CitizenAccount.objects.create(user=user, person=person, email=email)


# --- moderation -----------------------------------------------------------------------------


def _audit(actor, action_detail: str, case: Case, reason: str, details: dict) -> None:
    AuditLog.objects.create(
        actor=actor,
        action=AuditLog.Action.MODERATION,
        person_id=case.requester_id,
        object_repr=f"{case.reference} {action_detail}"[:200],
        reason=reason[:300],
        details=details,
    )


def audit_moderation(*, actor, case: Case, what: str, reason: str) -> None:
    """Record a moderation done through another service (e.g. a photo redaction)."""
    _require_moderator(actor)
    _audit(actor, what, case, reason, {})


def _require_moderator(actor: AbstractBaseUser) -> None:
    if not actor.has_perm("cases.moderate_case"):
        raise PermissionError(_("You are not allowed to moderate public content."))


def moderate_case(
    *,
    case_id: int,
    actor: AbstractBaseUser,
    reason: str,
    hide: bool | None = None,
    title: str | None = None,
    description: str | None = None,
) -> Case:
    """Hide/show a case or edit its public text; the original is kept in the audit log."""
    _require_moderator(actor)
    if not reason.strip():
        raise ValidationError(_("A moderation needs a reason."))
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        original = {
            "title": case.title,
            "description": case.description,
            "publication": case.publication,
        }
        fields = ["updated_at"]
        with maprollup.track(case):  # hiding takes the case off the map's counts
            if hide is not None:
                case.publication = Publication.HIDDEN if hide else Publication.PUBLIC
                fields.append("publication")
            if title is not None and title.strip():
                case.title = title.strip()[:200]
                fields.append("title")
            if description is not None:
                case.description = description.strip()
                fields.append("description")
            case.save(update_fields=fields)
        _audit(actor, "case", case, reason, {"original": original, "changed": fields[1:]})
    return case


def moderate_event(
    *, event_id: int, actor: AbstractBaseUser, reason: str, hide: bool, text: str = ""
) -> EventModeration:
    """Hide a public update or show another text instead; the event itself is unchanged."""
    _require_moderator(actor)
    if not reason.strip():
        raise ValidationError(_("A moderation needs a reason."))
    event = CaseEvent.objects.select_related("case").get(pk=event_id)
    with transaction.atomic():
        moderation, _created = EventModeration.objects.update_or_create(
            event=event,
            defaults={"hidden": hide, "text": text.strip(), "moderator": actor, "reason": reason},
        )
        _audit(
            actor,
            f"update {event.pk}",
            event.case,
            reason,
            {"hidden": hide, "original": event.text},
        )
    return moderation


def moderate_photo(*, photo_id: int, actor: AbstractBaseUser, reason: str, hide: bool) -> Photo:
    """Hide or show a photo; the original file is kept."""
    _require_moderator(actor)
    if not reason.strip():
        raise ValidationError(_("A moderation needs a reason."))
    with transaction.atomic():
        photo = Photo.objects.select_related("case").select_for_update().get(pk=photo_id)
        photo.is_public = not hide
        photo.save(update_fields=["is_public"])
        _audit(actor, f"photo {photo.pk}", photo.case, reason, {"hidden": hide})
    return photo


def public_events_since(since: dt.datetime):
    """Public events (status changes, replies) after ``since``, for alerts."""
    return (
        CaseEvent.objects.filter(created_at__gt=since, is_public=True)
        .exclude(kind__in=[EventKind.INTERNAL_NOTE])
        .select_related("case")
    )
