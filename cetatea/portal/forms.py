from django import forms
from django.core import signing
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cetatea.catalog.models import Area, Category
from cetatea.portal.models import Feedback

SUBMIT_SALT = "cetatea.portal.report-form"
MIN_FILL_SECONDS = 3  # a person takes longer than this to fill the form; a bot does not


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultiplePhotoField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


def category_choices():
    """Categories offered on the map, grouped by the department (or outside operator)
    that handles them, as option groups."""
    groups: dict[str, list] = {}
    for cat in (
        Category.objects.filter(is_active=True, on_map=True)
        .select_related("department", "operator")
        .order_by("sort_order", "name_ro")
    ):
        owner = cat.department or cat.operator
        groups.setdefault(str(owner) if owner else str(_("Other")), []).append((cat.code, cat.name))
    return [("", _("— choose —"))] + sorted(groups.items())


class ReportForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"))
    latitude = forms.CharField(widget=forms.HiddenInput, required=False)
    longitude = forms.CharField(widget=forms.HiddenInput, required=False)
    address_text = forms.CharField(
        label=_("Street or place (if you do not use the map)"), max_length=300, required=False
    )
    title = forms.CharField(label=_("Title"), max_length=120)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 5}), required=False
    )
    photos = MultiplePhotoField(label=_("Photos (up to 5)"), required=False)
    name = forms.CharField(label=_("Your name"), max_length=200, required=False)
    show_name = forms.BooleanField(label=_("Show my name publicly"), required=False)
    email = forms.CharField(
        label=_("E-mail (to confirm and follow the report)"),
        max_length=254,
        required=False,
        widget=forms.TextInput(attrs={"type": "email", "autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    # Anti-spam: a field people never see and a signed time of rendering.
    website = forms.CharField(required=False, widget=forms.TextInput(attrs={"tabindex": "-1"}))
    stamp = forms.CharField(widget=forms.HiddenInput)
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices()
        self.fields["title"].max_length = 120
        self.fields["description"].max_length = None  # checked by the service, with a message
        if not self.is_bound:
            self.initial.setdefault(
                "stamp", signing.dumps(timezone.now().timestamp(), salt=SUBMIT_SALT)
            )

    def is_spam(self) -> bool:
        if self.data.get("website"):
            return True
        try:
            rendered = signing.loads(self.data.get("stamp", ""), salt=SUBMIT_SALT, max_age=86400)
        except signing.BadSignature:
            return True
        return timezone.now().timestamp() - float(rendered) < MIN_FILL_SECONDS


class SupportForm(forms.Form):
    email = forms.EmailField(label=_("Your e-mail"))


class AlertForm(forms.Form):
    email = forms.EmailField(label=_("Your e-mail"))
    area = forms.ModelChoiceField(
        label=_("Neighbourhood"), queryset=Area.objects.order_by("name_ro"), required=False
    )
    street = forms.CharField(
        label=_("Or around a street"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    latitude = forms.FloatField(required=False, widget=forms.HiddenInput)
    longitude = forms.FloatField(required=False, widget=forms.HiddenInput)
    radius_m = forms.IntegerField(
        label=_("Distance around the place (m)"), min_value=100, max_value=5000, required=False
    )


class FeedbackForm(forms.Form):
    fixed = forms.ChoiceField(
        label=_("Is the problem fixed?"), choices=Feedback.Fixed.choices, widget=forms.RadioSelect
    )
    satisfaction = forms.TypedChoiceField(
        label=_("How satisfied are you with how the city handled it?"),
        choices=[("", "—")] + [(str(i), str(i)) for i in range(1, 6)],
        coerce=int,
        empty_value=None,
        required=False,
    )
    comment = forms.CharField(
        label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )


class LoginForm(forms.Form):
    email = forms.EmailField(label=_("Your e-mail"))
    name = forms.CharField(label=_("Your name (first time only)"), max_length=100, required=False)


class ModerationForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)
    boxes = forms.CharField(
        label=_("Areas to black out (x, y, width, height in percent of the photo; one per line)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea, required=False)
