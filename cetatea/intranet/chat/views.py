"""The intranet's messages: views (thin; logic in services.py and selectors.py)."""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import storages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cetatea.core.security import file_response
from cetatea.intranet.chat import selectors, services
from cetatea.intranet.chat.choices import ChannelKind
from cetatea.intranet.chat.forms import (
    ChannelForm,
    EditForm,
    MemberForm,
    PeopleForm,
    PostForm,
    SearchForm,
    SettingsForm,
)
from cetatea.intranet.chat.selectors import ChannelClosed
from cetatea.intranet.selectors import access_intranet


def _closed(request, exc: PermissionDenied) -> HttpResponse:
    return render(
        request,
        "chat/closed.html",
        {"section": "chat", "reason": str(exc) or _("This channel is closed to you.")},
        status=403,
    )


def _error_messages(exc: ValidationError) -> list[str]:
    return list(exc.messages)


def _channel_context(request, channel, membership, **extra) -> dict:
    return {
        "section": "chat",
        "channel": channel,
        "membership": membership,
        "edit_since": timezone.now() - selectors.edit_window(),
        "ChannelKind": ChannelKind,
        "max_mb": f"{services.max_file_bytes() / (1024 * 1024):g}",
        **extra,
    }


@require_GET
@login_required
def index(request):
    access_intranet(request.user)
    entries = selectors.my_channels(request.user)
    mine = {e.channel.pk for e in entries}
    context = {
        "section": "chat",
        "entries": [e for e in entries if e.channel.kind != ChannelKind.DIRECT],
        "directs": [e for e in entries if e.channel.kind == ChannelKind.DIRECT],
        "public": [c for c in selectors.public_channels(request.user) if c.pk not in mine],
        "channel_form": ChannelForm(),
        "people_form": PeopleForm(),
        "search_form": SearchForm(),
    }
    return render(request, "chat/index.html", context)


@require_POST
@login_required
def channel_create(request):
    access_intranet(request.user)
    form = ChannelForm(request.POST)
    if form.is_valid():
        try:
            channel = services.chat_channel_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            for key, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(key if key in form.fields else None, error)
        else:
            return redirect("chat:channel", channel.pk)
    entries = selectors.my_channels(request.user)
    context = {
        "section": "chat",
        "entries": [e for e in entries if e.channel.kind != ChannelKind.DIRECT],
        "directs": [e for e in entries if e.channel.kind == ChannelKind.DIRECT],
        "public": [],
        "channel_form": form,
        "people_form": PeopleForm(),
        "search_form": SearchForm(),
    }
    return render(request, "chat/index.html", context, status=400)


@require_POST
@login_required
def direct(request):
    access_intranet(request.user)
    form = PeopleForm(request.POST)
    error = ""
    if form.is_valid():
        names = form.cleaned_data["people"]
        users = list(get_user_model().objects.filter(username__in=names[:20]))
        unknown = set(names) - {u.username for u in users}
        if unknown:
            error = _("No colleague has the user name %(names)s.") % {
                "names": ", ".join(sorted(unknown))
            }
        else:
            try:
                channel = services.chat_direct_open(
                    actor=request.user, user_ids=[u.pk for u in users]
                )
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                return redirect("chat:channel", channel.pk)
        form.add_error("people", error)
    entries = selectors.my_channels(request.user)
    context = {
        "section": "chat",
        "entries": [e for e in entries if e.channel.kind != ChannelKind.DIRECT],
        "directs": [e for e in entries if e.channel.kind == ChannelKind.DIRECT],
        "public": [],
        "channel_form": ChannelForm(),
        "people_form": form,
        "search_form": SearchForm(),
    }
    return render(request, "chat/index.html", context, status=400)


def _int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


@require_GET
@login_required
def channel(request, channel_id: int):
    try:
        channel, membership = selectors.access_channel(request.user, channel_id)
    except ChannelClosed as exc:
        return _closed(request, exc)
    before = _int(request.GET.get("before"))
    page = selectors.channel_page(channel, before=before)
    last_id = page.messages[-1].pk if page.messages else 0
    if before is None:
        last_id = max(last_id, 0)
        services.chat_mark_read(
            user=request.user, channel=channel, membership=membership, up_to=last_id
        )
    form = PostForm(initial={"key": PostForm.fresh_key(), "after": last_id})
    context = _channel_context(
        request,
        channel,
        membership,
        page=page,
        last_id=last_id,
        latest=before is None,
        form=form,
        members=selectors.channel_members(channel)
        if channel.kind in (ChannelKind.PRIVATE, ChannelKind.DEPARTMENT, ChannelKind.DIRECT)
        else [],
        member_form=MemberForm(),
    )
    return render(request, "chat/channel.html", context)


def _new_messages(request, channel, membership, after: int, **extra) -> HttpResponse:
    """The poll's and the htmx post's answer: the messages after ``after`` (appended to
    the list) and, out of band, the poller and the form's pointer moved past them."""
    rows = selectors.messages_after(channel, after)
    last_id = rows[-1].pk if rows else after
    services.chat_mark_read(
        user=request.user, channel=channel, membership=membership, up_to=last_id
    )
    context = _channel_context(
        request, channel, membership, messages=rows, last_id=last_id, **extra
    )
    return render(request, "chat/_new_messages.html", context)


@require_GET
@login_required
def poll(request, channel_id: int):
    try:
        channel, membership = selectors.access_channel(request.user, channel_id)
    except ChannelClosed:
        return HttpResponse(status=403)
    after = _int(request.GET.get("after"))
    if after is None:
        return HttpResponse(status=400)
    if channel.last_message_id <= after:
        return HttpResponse(status=204)  # nothing new: no rows read beyond the channel
    return _new_messages(request, channel, membership, after)


@require_POST
@login_required
def post(request, channel_id: int):
    form = PostForm(request.POST, request.FILES)
    htmx = bool(getattr(request, "htmx", False))
    errors: list[str] = []
    try:
        channel, membership = selectors.access_channel(request.user, channel_id)
    except ChannelClosed as exc:
        if not htmx:
            return _closed(request, exc)
        return render(
            request, "chat/_post_errors.html", {"errors": [str(exc)], "keep": True}, status=200
        )
    if form.is_valid():
        try:
            services.chat_post(
                actor=request.user,
                channel_id=channel.pk,
                body=form.cleaned_data["body"],
                files=form.cleaned_data["files"],
                client_key=form.cleaned_data["key"],
            )
        except ChannelClosed as exc:
            errors = [str(exc)]
        except ValidationError as exc:
            errors = _error_messages(exc)
        else:
            if not htmx:
                return redirect("chat:channel", channel.pk)
            after = form.cleaned_data["after"] or 0
            return _new_messages(
                request,
                channel,
                membership,
                after,
                posted=True,
                form=PostForm(initial={"key": PostForm.fresh_key()}),
            )
    else:
        errors = [e for field_errors in form.errors.values() for e in field_errors]
    if htmx:
        return render(request, "chat/_post_errors.html", {"errors": errors}, status=200)
    page = selectors.channel_page(channel)
    last_id = page.messages[-1].pk if page.messages else 0
    context = _channel_context(
        request,
        channel,
        membership,
        page=page,
        last_id=last_id,
        latest=True,
        form=form,
        post_errors=errors,
        members=selectors.channel_members(channel),
        member_form=MemberForm(),
    )
    return render(request, "chat/channel.html", context, status=400)


@login_required
def message_edit(request, message_id: int):
    try:
        message = selectors.access_message_change(request.user, message_id)
    except ChannelClosed as exc:
        return _closed(request, exc)
    except PermissionDenied as exc:
        return render(
            request,
            "chat/closed.html",
            {"section": "chat", "reason": str(exc), "back": message_id},
            status=403,
        )
    form = EditForm(request.POST or None, initial={"body": message.body})
    if request.method == "POST" and form.is_valid():
        try:
            services.chat_message_edit(
                actor=request.user, message_id=message.pk, body=form.cleaned_data["body"]
            )
        except PermissionDenied as exc:
            form.add_error("body", str(exc))
        except ValidationError as exc:
            for error in exc.messages:
                form.add_error("body", error)
        else:
            return redirect(reverse("chat:channel", args=[message.channel_id]) + f"#m-{message.pk}")
    return render(
        request,
        "chat/edit.html",
        {"section": "chat", "message": message, "form": form},
        status=400 if form.errors else 200,
    )


@require_POST
@login_required
def message_delete(request, message_id: int):
    try:
        message = services.chat_message_delete(actor=request.user, message_id=message_id)
    except PermissionDenied as exc:
        return _closed(request, exc)
    flash.success(request, _("The message was deleted."))
    return redirect("chat:channel", message.channel_id)


@require_POST
@login_required
def join(request, channel_id: int):
    try:
        services.chat_join(actor=request.user, channel_id=channel_id)
    except ChannelClosed as exc:
        return _closed(request, exc)
    return redirect("chat:channel", channel_id)


@require_POST
@login_required
def leave(request, channel_id: int):
    try:
        services.chat_leave(actor=request.user, channel_id=channel_id)
    except ChannelClosed as exc:
        return _closed(request, exc)
    except ValidationError as exc:
        flash.error(request, " ".join(exc.messages))
        return redirect("chat:channel", channel_id)
    flash.success(request, _("You left the channel."))
    return redirect("chat:index")


@require_POST
@login_required
def member_add(request, channel_id: int):
    form = MemberForm(request.POST)
    try:
        # Refuse a channel closed to the user before reading the form (an empty form
        # must not tell an outsider more than a full one).
        selectors.access_channel(request.user, channel_id)
        if form.is_valid():
            services.chat_member_add(
                actor=request.user, channel_id=channel_id, username=form.cleaned_data["username"]
            )
            flash.success(
                request,
                _("%(name)s can now read this channel.") % {"name": form.cleaned_data["username"]},
            )
        else:
            flash.error(request, _("Give a user name."))
    except ChannelClosed as exc:
        return _closed(request, exc)
    except ValidationError as exc:
        flash.error(request, " ".join(exc.messages))
    return redirect("chat:channel", channel_id)


@require_GET
@login_required
def search(request):
    access_intranet(request.user)
    form = SearchForm(request.GET or None)
    result = None
    query = ""
    if form.is_valid() and form.cleaned_data["q"]:
        query = form.cleaned_data["q"]
        result = selectors.message_search(
            request.user, query, before=form.cleaned_data.get("before")
        )
    return render(
        request,
        "chat/search.html",
        {"section": "chat", "form": form, "result": result, "query": query},
    )


@login_required
def settings_view(request):
    access_intranet(request.user)
    current = services.chat_settings_of(request.user)
    form = SettingsForm(
        request.POST or None,
        initial={"email_mode": current.email_mode, "delay_minutes": current.delay_minutes},
    )
    if request.method == "POST" and form.is_valid():
        services.chat_settings_update(user=request.user, **form.cleaned_data)
        flash.success(request, _("Your message settings were saved."))
        return redirect("chat:settings")
    return render(
        request,
        "chat/settings.html",
        {"section": "chat", "form": form},
        status=400 if form.errors else 200,
    )


@require_GET
@login_required
def attachment(request, attachment_id: int):
    try:
        row = selectors.access_attachment(request.user, attachment_id)
    except ChannelClosed as exc:
        return _closed(request, exc)
    try:
        handle = storages["private"].open(row.file.name, "rb")
    except OSError:
        raise Http404 from None
    return file_response(handle, filename=row.original_name, content_type=row.content_type)
