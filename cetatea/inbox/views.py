"""Staff pages of e-mail in: the log of inbound messages and one message's details."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from cetatea.inbox import selectors
from cetatea.inbox.forms import MessageLogForm

PERMISSION = "inbox.view_inboundmessage"  # managers and administrators (core/roles.py)
PAGE_SIZE_CAP = 100


@require_GET
@login_required
@permission_required(PERMISSION, raise_exception=True)
def message_list(request):
    """Every inbound e-mail, newest first, by outcome; "older" pages by keyset cursor."""
    form = MessageLogForm(request.GET or None)
    outcome = cursor = ""
    status = 200
    if form.is_bound:
        if form.is_valid():
            outcome, cursor = form.cleaned_data["outcome"], form.cleaned_data["cursor"]
        else:
            status = 400
    page = selectors.inbound_message_list(
        outcome=outcome,
        cursor=cursor,
        page_size=min(settings.CETATEA_PAGE_SIZE, PAGE_SIZE_CAP),
    )
    query = {"outcome": outcome} if outcome else {}
    context = {
        "form": form,
        "page": page,
        "outcome": outcome,
        "first_query": urlencode(query),
        "next_query": urlencode({**query, "cursor": page.next_cursor}) if page.next_cursor else "",
        "is_first_page": not cursor,
    }
    return render(request, "inbox/message_list.html", context, status=status)


@require_GET
@login_required
@permission_required(PERMISSION, raise_exception=True)
def message_detail(request, message_id: int):
    """What the log knows of one message: headers, outcome, error, attachments' names."""
    message = selectors.inbound_message_get(message_id)
    if message is None:
        raise Http404(_("This message is not in the log."))
    return render(request, "inbox/message_detail.html", {"message": message})
