from django import forms
from django.utils.translation import gettext_lazy as _


class CallLogForm(forms.Form):
    mine = forms.BooleanField(label=_("Only calls I answered"), required=False)
    cursor = forms.CharField(max_length=100, required=False, widget=forms.HiddenInput)
