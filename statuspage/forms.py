"""Forms of the status page (subscribe) and of the support incident page (written update)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from actions.models import Service
from statuspage.models import Language, Stage, UpdateTemplate
from statuspage.updates import MAX_LENGTH


class SubscribeForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"), max_length=254)
    language = forms.ChoiceField(
        label=_("Language"), choices=Language.choices, initial=Language.PT_BR
    )
    services = forms.ModelMultipleChoiceField(
        label=_("Services"),
        required=False,
        queryset=Service.objects.filter(status_visible=True).order_by("name"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None chosen: every service on the page."),
    )


class StatusUpdateForm(forms.Form):
    template = forms.ModelChoiceField(
        label=_("From a template"),
        required=False,
        queryset=UpdateTemplate.objects.all(),
        help_text=_("Fills the texts left empty."),
    )
    stage = forms.ChoiceField(label=_("Stage"), choices=Stage.choices)
    text_pt = forms.CharField(
        label=_("Text (pt-BR)"), required=False, max_length=MAX_LENGTH, widget=forms.Textarea
    )
    text_en = forms.CharField(
        label=_("Text (en)"), required=False, max_length=MAX_LENGTH, widget=forms.Textarea
    )

    def clean(self):
        data = super().clean()
        template = data.get("template")
        if template:
            data["text_pt"] = data.get("text_pt") or template.text_pt
            data["text_en"] = data.get("text_en") or template.text_en
        if not data.get("text_pt") or not data.get("text_en"):
            raise forms.ValidationError(
                _("Write the update in both languages, or choose a template.")
            )
        return data
