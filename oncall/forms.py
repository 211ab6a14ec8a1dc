"""Forms of the person pages: a contact method of one's own, a shift handed to a colleague."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from oncall.models import ContactMethod


class ContactMethodForm(forms.ModelForm):
    """Add or edit a contact method; the model checks the number, address or Apprise URL."""

    class Meta:
        model = ContactMethod
        fields = ["kind", "address", "delay_minutes", "position", "enabled"]


class ContactMethodStepForm(forms.ModelForm):
    """Change when and whether a method is tried; a new address is a new method."""

    class Meta:
        model = ContactMethod
        fields = ["position", "delay_minutes", "enabled"]


class HandOverForm(forms.Form):
    to = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(),
        label=_("Colleague"),
        help_text=_("They are on call instead of you for the rest of this shift."),
    )

    def __init__(self, *args, person, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = (
            get_user_model()
            .objects.filter(is_active=True, is_staff=True)
            .exclude(pk=person.pk)
            .order_by("username")
        )
