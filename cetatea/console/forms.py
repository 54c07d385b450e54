"""Forms of the staff console."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from cetatea.cases.choices import Channel, Status
from cetatea.catalog.models import Area, Category, Department, Team
from cetatea.console.choices import AssignedFilter, BulkAction, DueFilter, Sort

User = get_user_model()


def _staff_users():
    return User.objects.filter(is_active=True, groups__isnull=False).distinct().order_by("username")


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class QueueForm(forms.Form):
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.filter(is_active=True).order_by("name_ro"),
        required=False,
        empty_label=_("All departments"),
    )
    team = forms.ChoiceField(label=_("Team"), required=False)
    status = forms.MultipleChoiceField(
        label=_("Status"),
        choices=Status.choices,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
        help_text=_("None selected: every open status."),
    )
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.only("pk", "name_ro", "name_en").order_by(
            "sort_order", "name_ro"
        ),
        required=False,
        empty_label=_("All categories"),
    )
    area = forms.ModelChoiceField(
        label=_("Area"),
        queryset=Area.objects.only("pk", "name_ro", "name_en").order_by("name_ro"),
        required=False,
        empty_label=_("All areas"),
    )
    channel = forms.ChoiceField(
        label=_("Channel"), choices=[("", _("All channels"))] + Channel.choices, required=False
    )
    due = forms.ChoiceField(
        label=_("Due"), choices=[("", _("Any due time"))] + DueFilter.choices, required=False
    )
    assigned = forms.ChoiceField(
        label=_("Assignee"), choices=[("", _("Anyone"))] + AssignedFilter.choices, required=False
    )
    sort = forms.ChoiceField(label=_("Sort by"), choices=Sort.choices, required=False)
    cursor = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)

    def __init__(self, *args, teams=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [("", _("Whole department")), ("mine", _("My teams"))] + [
            (str(t.pk), t.name) for t in teams
        ]


class VersionedForm(forms.Form):
    version = forms.CharField(widget=forms.HiddenInput, max_length=100)


class AssignForm(VersionedForm):
    prefix = "assign"

    assignee = StaffChoiceField(
        label=_("Assign to"),
        queryset=_staff_users(),
        required=False,
        empty_label=_("Nobody (unassign)"),
    )


class TeamForm(VersionedForm):
    prefix = "team"

    team = forms.ModelChoiceField(
        label=_("Give to team"), queryset=Team.objects.select_related("department")
    )


class StatusForm(VersionedForm):
    prefix = "status"

    status = forms.ChoiceField(label=_("New status"), choices=Status.choices)
    text = forms.CharField(
        label=_("Explanation (optional)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    public = forms.BooleanField(label=_("Show to the citizen"), required=False, initial=True)

    def __init__(self, *args, allowed=None, **kwargs):
        super().__init__(*args, **kwargs)
        if allowed is not None:
            self.fields["status"].choices = allowed


class NoteForm(VersionedForm):
    prefix = "note"

    text = forms.CharField(
        label=_("Text"), max_length=10_000, widget=forms.Textarea(attrs={"rows": 5})
    )
    public = forms.BooleanField(
        label=_("Public reply (sent to the citizen); unticked: internal note"), required=False
    )


class AttachmentForm(VersionedForm):
    prefix = "attach"

    file = forms.FileField(label=_("File"))
    public = forms.BooleanField(label=_("Visible to the public"), required=False)


class MergeForm(VersionedForm):
    prefix = "merge"

    reference = forms.CharField(label=_("Reference of the case to keep"), max_length=40)
    text = forms.CharField(label=_("Note (optional)"), required=False, max_length=2000)


class ForwardForm(VersionedForm):
    prefix = "forward"

    note = forms.CharField(
        label=_("Message to the operator (optional)"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ForwardDepartmentForm(VersionedForm):
    """Send the case to another city department.

    Shown with ``current`` (the case's own department) left out of the choices; bound to
    a POST without it, so that the service refuses the same department with its message.
    """

    prefix = "forward_department"

    department = forms.ModelChoiceField(
        label=_("New department"),
        queryset=Department.objects.none(),
        error_messages={
            "invalid_choice": _("Choose one of the active departments."),
            "required": _("Choose the department the case goes to."),
        },
    )
    reason = forms.CharField(
        label=_("Reason (for the new department; the citizen does not see it)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say why the case goes to another department.")},
    )

    def __init__(self, *args, current: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        departments = Department.objects.filter(is_active=True).order_by("name_ro")
        if current is not None:
            departments = departments.exclude(pk=current)
        self.fields["department"].queryset = departments


class BulkForm(forms.Form):
    cases = forms.TypedMultipleChoiceField(coerce=int, label=_("Cases"))
    action = forms.ChoiceField(label=_("Action"), choices=BulkAction.choices)
    assignee = StaffChoiceField(
        label=_("Person"), queryset=_staff_users(), required=False, empty_label=_("Nobody")
    )
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.all(), required=False)
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", "—")] + Status.choices, required=False
    )
    into = forms.CharField(label=_("Merge into (reference)"), required=False, max_length=40)
    next = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        raw = self.data.getlist("cases") if hasattr(self.data, "getlist") else []
        self.fields["cases"].choices = [(v, v) for v in raw if str(v).isdigit()][:100]

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action == BulkAction.TEAM and not data.get("team"):
            self.add_error("team", _("Choose a team."))
        if action == BulkAction.STATUS and not data.get("status"):
            self.add_error("status", _("Choose a status."))
        if action == BulkAction.MERGE and not data.get("into"):
            self.add_error("into", _("Give the reference of the case to merge into."))
        return data


class SavedViewForm(forms.Form):
    name = forms.CharField(label=_("Name of this view"), max_length=80)
    query = forms.CharField(required=False, max_length=1000, widget=forms.HiddenInput)
