"""Forms of the tasks: they parse and validate; the services write."""

from __future__ import annotations

import datetime as dt
import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cetatea.catalog.models import Department, Team
from cetatea.intranet.tasks.choices import ListSort, Priority, Status


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        full = obj.get_full_name()
        return f"{full} (@{obj.get_username()})" if full else f"@{obj.get_username()}"


class BoardForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    department = forms.ModelChoiceField(
        label=_("Department (all its staff are members)"),
        queryset=Department.objects.filter(is_active=True),
        required=False,
    )
    team = forms.ModelChoiceField(
        label=_("Team (all its members are members)"),
        queryset=Team.objects.select_related("department"),
        required=False,
    )


class BoardEditForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class MemberAddForm(forms.Form):
    username = forms.CharField(label=_("User name of the person to add"), max_length=150)


class TaskForm(forms.Form):
    """The fields of a task (create and edit)."""

    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    assignee = MemberChoiceField(label=_("Assignee"), queryset=None, required=False)
    due_at = forms.DateTimeField(
        label=_("Due"),
        required=False,
        widget=DateTimeLocalInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M"],
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"), choices=Priority.choices, coerce=int, initial=Priority.NORMAL
    )

    def __init__(self, *args, members=None, **kwargs):
        super().__init__(*args, **kwargs)
        from django.contrib.auth import get_user_model

        self.fields["assignee"].queryset = (
            members if members is not None else get_user_model().objects.none()
        )


class TaskCreateForm(TaskForm):
    # A fresh key per form: two submits of the same form make one task.
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)
    case = forms.IntegerField(widget=forms.HiddenInput, required=False)


class TaskEditForm(TaskForm):
    version = forms.IntegerField(widget=forms.HiddenInput)


class BoardChoiceForm(forms.Form):
    """Where a task made from a case goes."""

    board = forms.ModelChoiceField(label=_("Board"), queryset=None)

    def __init__(self, *args, boards=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["board"].queryset = boards


class MoveForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(label=_("Column"), choices=Status.choices, required=False)
    direction = forms.ChoiceField(
        choices=[("", ""), ("up", "up"), ("down", "down"), ("top", "top"), ("bottom", "bottom")],
        required=False,
    )


class ChecklistAddForm(forms.Form):
    text = forms.CharField(label=_("New item"), max_length=300)


class ChecklistSetForm(forms.Form):
    done = forms.TypedChoiceField(choices=[("1", "1"), ("0", "0")], coerce=lambda v: v == "1")


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Comment (write @user name to notify a member)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=10000,
    )


class AttachmentForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("PDF, images, office documents, ZIP or plain text."),
    )


class TaskFilterForm(forms.Form):
    """The list view's filters (GET)."""

    assignee = forms.CharField(required=False, label=_("Assignee"))
    status = forms.MultipleChoiceField(
        label=_("Status"),
        choices=Status.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    priority = forms.TypedMultipleChoiceField(
        label=_("Priority"),
        choices=Priority.choices,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    due_before = forms.DateField(
        label=_("Due before"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    sort = forms.ChoiceField(
        label=_("Sort"), choices=ListSort.choices, required=False, initial=ListSort.DUE
    )

    def __init__(self, *args, members=None, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("Anyone")), ("me", _("Me")), ("none", _("Nobody"))]
        for user in members or []:
            full = user.get_full_name()
            choices.append((str(user.pk), f"{full} (@{user.username})" if full else user.username))
        self.fields["assignee"].widget = forms.Select(choices=choices)
        self.member_ids = {str(u.pk) for u in members or []}

    def clean_assignee(self) -> str:
        value = self.cleaned_data.get("assignee") or ""
        if value and value not in ("me", "none") and value not in self.member_ids:
            raise forms.ValidationError(_("Choose a member of the board."))
        return value

    def due_before_at(self) -> dt.datetime | None:
        day = self.cleaned_data.get("due_before")
        if day is None:
            return None
        # "Due before 5 May" means before that day starts, local time.
        return timezone.make_aware(dt.datetime.combine(day, dt.time.min))
