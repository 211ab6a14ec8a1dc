"""The channel form: its target is never sent back to the browser, and checked before saving."""

from django import forms
from django.utils.translation import gettext_lazy as _

from cxhub import outbound
from notifications.models import Channel


def apprise_problem(target: str) -> str | None:
    """Say what is wrong with an Apprise URL, parsed by Apprise itself (nothing is sent)."""
    from apprise.manager_plugins import NotificationManager

    scheme, sep, rest = target.partition("://")
    if not sep or not scheme:
        return _("Give an Apprise URL such as slack://…, mailto://… or json://host/path.")
    if scheme.lower() not in NotificationManager():
        return _("Apprise knows no service '%(scheme)s://'; see the Apprise wiki for the URLs.") % {
            "scheme": scheme
        }
    try:
        outbound.check_apprise(target)
    except ValueError:
        return _(
            "Apprise understands '%(scheme)s://' but not this URL: check its tokens, host "
            "and path against the service's documented form."
        ) % {"scheme": scheme}
    except outbound.OutboundRefused as refused:
        return str(refused)
    return None


class ChannelForm(forms.ModelForm):
    """Edit a channel without ever sending its stored target (an Apprise URL holds secrets).

    The field shows empty with the masked value as a hint; left empty, the stored
    target is kept. A new target is parsed by Apprise and its host checked
    against internal addresses before it is saved; nothing is sent.
    """

    class Meta:
        model = Channel
        fields = ["kind", "target", "enabled"]
        widgets = {"target": forms.PasswordInput(render_value=False, attrs={"size": 60})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "target" in self.fields:
            # What the person just typed comes back after an error elsewhere on the page
            # (it is theirs, in this very request); the stored target never does.
            self.fields["target"].widget.render_value = self.is_bound
        if self.instance.pk and self.instance.target and "target" in self.fields:
            self.fields["target"].widget.attrs["placeholder"] = _(
                "%(target)s (unchanged if left empty)"
            ) % {"target": self.instance.masked_target}

    def clean_target(self):
        value = self.cleaned_data["target"].strip()
        if not value and self.instance.pk:
            return self.instance.target
        return value

    def clean(self):
        cleaned = super().clean()
        target = cleaned.get("target", "")
        if cleaned.get("kind") == "apprise":
            if not target:
                self.add_error("target", _("An Apprise channel needs its URL."))
            elif target != self.instance.target or "kind" in self.changed_data:
                if problem := apprise_problem(target):
                    self.add_error("target", problem)
        return cleaned
