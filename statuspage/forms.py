"""Forms of the status page (subscribe) and of the support incident page (written update)."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from actions.models import Service
from statuspage.models import Language, Stage, UpdateTemplate
from statuspage.notice_texts import zone_valid
from statuspage.updates import MAX_LENGTH

# The zones offered first: Brazil's. The browser may suggest its own (statuspage/zone.js).
BRAZIL_ZONES = [
    "America/Sao_Paulo",
    "America/Bahia",
    "America/Fortaleza",
    "America/Recife",
    "America/Belem",
    "America/Manaus",
    "America/Cuiaba",
    "America/Campo_Grande",
    "America/Porto_Velho",
    "America/Boa_Vista",
    "America/Rio_Branco",
    "America/Noronha",
    "UTC",
]


def zone_choices(*also: str) -> list[str]:
    """Return the zones a form lists: the bank's, Brazil's, and any given (a saved one)."""
    return list(dict.fromkeys([settings.TIME_ZONE, *BRAZIL_ZONES, *(z for z in also if z)]))


def zone_field():
    return forms.CharField(
        label=_("Time zone"),
        required=False,
        max_length=64,
        help_text=_("Times in the e-mails are written in it. Empty: the bank's."),
    )


def clean_zone(value: str) -> str:
    value = (value or "").strip()
    if value and not zone_valid(value):
        raise forms.ValidationError(_("Choose a time zone such as America/Sao_Paulo."))
    return value


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
    time_zone = zone_field()

    def clean_time_zone(self):
        return clean_zone(self.cleaned_data.get("time_zone"))


class ManageForm(SubscribeForm):
    """What a subscriber may change from the link in each e-mail: all but the address."""

    email = None


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
