"""Writes of the staff console.

Each action re-reads the case under ``select_for_update`` and compares the version the
form was rendered with (``selectors.case_version``) before calling the cases service;
a case changed in between raises ``CaseConflict`` and nothing is written, so two staff
members working the same case never overwrite each other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import transaction
from django.utils.translation import gettext as _

from cetatea.cases import services as case_services
from cetatea.cases.choices import EventKind
from cetatea.cases.models import Case, CaseEvent
from cetatea.cases.selectors import case_get_by_reference
from cetatea.catalog.models import Department, Team
from cetatea.console.models import SavedView
from cetatea.console.selectors import case_version

MAX_BULK = 100


class CaseConflict(Exception):
    """The case changed since the form was shown; nothing was saved."""

    def __init__(self, *, case: Case, changed_at: dt.datetime, events: list[CaseEvent]):
        super().__init__("case changed")
        self.case = case
        self.changed_at = changed_at
        self.events = events


def _require(actor: AbstractBaseUser, perm: str) -> None:
    if not (actor.is_active and actor.has_perm(perm)):
        raise PermissionDenied(_("Your role does not allow this action."))


@contextmanager
def _checked(case_id: int, version: str | None) -> Iterator[Case]:
    """Lock the case and make sure it is still the version the form was made from.

    ``version=None`` skips the check (bulk actions act on the current state, and the
    transition table still refuses what no longer applies).
    """
    with transaction.atomic():
        try:
            case = Case.objects.select_for_update().get(pk=case_id)
        except Case.DoesNotExist as exc:
            raise ValidationError(_("This case does not exist.")) from exc
        if version is not None and version != case_version(case):
            try:
                seen_event = int(version.rsplit("|", 1)[1])
            except (IndexError, ValueError):
                seen_event = 0
            events = list(
                CaseEvent.objects.filter(case=case, id__gt=seen_event)
                .select_related("actor")
                .order_by("-id")[:10]
            )
            changed_at = max([case.updated_at] + [e.created_at for e in events])
            raise CaseConflict(case=case, changed_at=changed_at, events=events)
        yield case


def console_assign(
    *, case_id: int, version: str | None, actor: AbstractBaseUser, assignee: AbstractBaseUser | None
) -> Case:
    """Give the case to a staff member (``None``: nobody)."""
    _require(actor, "cases.change_case")
    if assignee is not None and not assignee.has_perm("cases.view_case"):
        raise ValidationError({"assignee": [_("This account cannot work on cases.")]})
    with _checked(case_id, version):
        return case_services.case_assign(case_id=case_id, assignee=assignee, actor=actor)


def console_assign_team(
    *, case_id: int, version: str | None, actor: AbstractBaseUser, team: Team
) -> Case:
    """Give the case to a team; the case follows the team into its department."""
    _require(actor, "cases.change_case")
    with _checked(case_id, version) as case:
        old_team, old_department = case.team_id, case.department_id
        case.team = team
        case.department_id = team.department_id
        case.save(update_fields=["team", "department", "updated_at"])
        CaseEvent.objects.create(
            case=case,
            kind=EventKind.ASSIGNMENT,
            actor=actor,
            data={
                "team_from": old_team,
                "team_to": team.pk,
                "team": team.name_ro,
                "department_from": old_department,
                "department_to": team.department_id,
            },
        )
        return case


def console_change_status(
    *,
    case_id: int,
    version: str | None,
    actor: AbstractBaseUser,
    status: str,
    text: str = "",
    public: bool = True,
) -> Case:
    """Move the case along the transition table (the cases service refuses the rest)."""
    _require(actor, "cases.change_case")
    with _checked(case_id, version):
        return case_services.case_change_status(
            case_id=case_id, status=status, actor=actor, text=text.strip(), public=public
        )


def console_add_note(
    *, case_id: int, version: str | None, actor: AbstractBaseUser, text: str, public: bool
) -> CaseEvent:
    """A public reply to the citizen or an internal note."""
    _require(actor, "cases.add_caseevent")
    with _checked(case_id, version):
        return case_services.case_add_note(case_id=case_id, text=text, actor=actor, public=public)


def console_add_attachment(
    *, case_id: int, version: str | None, actor: AbstractBaseUser, file: UploadedFile, public: bool
):
    """Attach a file; the case's history records who attached what."""
    _require(actor, "cases.add_attachment")
    with _checked(case_id, version) as case:
        attachment = case_services.case_add_attachment(
            case_id=case_id, file=file, actor=actor, public=public
        )
        CaseEvent.objects.create(
            case=case,
            kind=EventKind.INTERNAL_NOTE,
            actor=actor,
            data={"attachment": attachment.pk, "name": attachment.original_name},
        )
        return attachment


def console_merge(
    *,
    case_id: int,
    version: str | None,
    actor: AbstractBaseUser,
    into_reference: str,
    text: str = "",
) -> Case:
    """Close this case as a duplicate of the case with ``into_reference``."""
    _require(actor, "cases.merge_case")
    try:
        original = case_get_by_reference(into_reference)
    except ValidationError as exc:
        raise ValidationError({"reference": exc.messages}) from exc
    with _checked(case_id, version):
        return case_services.case_merge(
            duplicate_id=case_id, original_id=original.pk, actor=actor, text=text.strip()
        )


def console_forward(
    *, case_id: int, version: str | None, actor: AbstractBaseUser, note: str = ""
) -> Case:
    """Forward the case to its category's outside operator by e-mail.

    The e-mail goes after commit; the case records an internal event naming the address
    and a public reply telling the citizen who now handles the request.
    """
    _require(actor, "cases.change_case")
    with _checked(case_id, version) as case:
        case = Case.objects.select_related("category__operator", "operator").get(pk=case.pk)
        operator = case.operator or case.category.operator
        if operator is None:
            raise ValidationError(_("This category has no outside operator to forward to."))
        if not operator.email:
            raise ValidationError(
                _("The operator “%(name)s” has no e-mail address; add it in the catalogue.")
                % {"name": operator.name_ro}
            )
        if not case.is_open:
            raise ValidationError(_("A closed case cannot be forwarded."))
        if case.operator_id != operator.pk:
            case.operator = operator
            case.save(update_fields=["operator", "updated_at"])
        CaseEvent.objects.create(
            case=case,
            kind=EventKind.INTERNAL_NOTE,
            actor=actor,
            text=note.strip(),
            data={"forwarded_to": operator.email, "operator": operator.code},
        )
        # Through case_add_note, so the citizen is notified like for any public reply.
        case_services.case_add_note(
            case_id=case.pk,
            actor=actor,
            public=True,
            text=_(
                "Your request was forwarded to %(name)s, who is responsible for it. "
                "They will contact you; the reference stays %(ref)s."
            )
            % {"name": operator.name_ro, "ref": case.reference},
        )
        subject, body = _forward_message(case, note)
        transaction.on_commit(
            lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [operator.email])
        )
        return case


def console_forward_department(
    *,
    case_id: int,
    version: str | None,
    actor: AbstractBaseUser,
    department: Department,
    reason: str,
) -> Case:
    """Send the case to another city department; its team and assignee are cleared."""
    _require(actor, "cases.change_case")
    with _checked(case_id, version):
        return case_services.case_forward(
            case_id=case_id, department=department, actor=actor, reason=reason
        )


def _forward_message(case: Case, note: str) -> tuple[str, str]:
    lines = [
        f"{_('Reference')}: {case.reference}",
        f"{_('Category')}: {case.category.name_ro}",
        f"{_('Registered')}: {case.registered_at:%Y-%m-%d %H:%M} UTC",
        f"{_('Title')}: {case.title}",
    ]
    if case.address_text:
        lines.append(f"{_('Address')}: {case.address_text}")
    if case.latitude is not None:
        lines.append(f"{_('Location')}: {case.latitude:.6f}, {case.longitude:.6f}")
    lines += ["", case.description]
    if note.strip():
        lines += ["", note.strip()]
    subject = _("Request %(ref)s forwarded by the city hall") % {"ref": case.reference}
    return subject, "\n".join(lines)


# --- bulk actions -----------------------------------------------------------------------


@dataclass(frozen=True)
class BulkResult:
    reference: str
    ok: bool
    message: str


def console_bulk(
    *,
    case_ids: list[int],
    action: str,
    actor: AbstractBaseUser,
    assignee: AbstractBaseUser | None = None,
    team: Team | None = None,
    status: str = "",
    into_reference: str = "",
) -> list[BulkResult]:
    """Apply one action to each selected case, each in its own transaction.

    Returns what worked and what was refused (and why) per case; a refusal leaves that
    case untouched and does not stop the others.
    """
    ids = list(dict.fromkeys(case_ids))[:MAX_BULK]
    refs = dict(Case.objects.filter(pk__in=ids).values_list("pk", "reference"))
    results: list[BulkResult] = []
    target = None
    if action == "merge":
        try:
            target = case_get_by_reference(into_reference) if into_reference else None
        except ValidationError as exc:
            raise ValidationError({"into": exc.messages}) from exc
        if target is None:
            raise ValidationError({"into": [_("Give the reference of the case to merge into.")]})
    for case_id in ids:
        ref = refs.get(case_id)
        if ref is None:
            continue
        try:
            if action == "assign":
                console_assign(case_id=case_id, version=None, actor=actor, assignee=assignee)
                message = _("Assigned.")
            elif action == "team":
                console_assign_team(case_id=case_id, version=None, actor=actor, team=team)
                message = _("Given to the team.")
            elif action == "status":
                console_change_status(case_id=case_id, version=None, actor=actor, status=status)
                message = _("Status changed.")
            elif action == "merge":
                if case_id == target.pk:
                    results.append(BulkResult(ref, True, _("Kept: the others merge into it.")))
                    continue
                console_merge(
                    case_id=case_id, version=None, actor=actor, into_reference=target.reference
                )
                message = _("Merged into %(ref)s.") % {"ref": target.reference}
            else:
                raise ValidationError(_("Unknown action."))
        except PermissionDenied as exc:
            results.append(BulkResult(ref, False, str(exc) or _("Not allowed.")))
        except ValidationError as exc:
            results.append(BulkResult(ref, False, " ".join(exc.messages)))
        else:
            results.append(BulkResult(ref, True, message))
    return results


# --- saved views ------------------------------------------------------------------------


def saved_view_create(*, user: AbstractBaseUser, name: str, query: str) -> SavedView:
    """Save (or overwrite) a named queue view of ``user``."""
    name = (name or "").strip()
    query = (query or "").strip().lstrip("?")
    if not name:
        raise ValidationError({"name": [_("Give the view a name.")]})
    if len(name) > 80:
        raise ValidationError({"name": [_("The name is longer than 80 characters.")]})
    if len(query) > 1000:
        raise ValidationError({"query": [_("These filters are too long to save.")]})
    with transaction.atomic():
        view, _created = SavedView.objects.update_or_create(
            user=user, name=name, defaults={"query": query}
        )
    return view


def saved_view_delete(*, user: AbstractBaseUser, view_id: int) -> None:
    """Delete one of ``user``'s own saved views (another user's is not found)."""
    with transaction.atomic():
        deleted, _details = SavedView.objects.filter(user=user, pk=view_id).delete()
    if not deleted:
        raise ValidationError(_("This saved view does not exist."))
