"""A staff member's own settings for the support pages and the admin."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from notifications.validators import validate_time_zone


def language_choices():
    return settings.LANGUAGES


class Preference(models.Model):
    """What a person chose once and expects on every device: their language, their clock."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="cxhub_preference",
        verbose_name=_("user"),
    )
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=language_choices,
        blank=True,
        help_text=_("Empty: follow the browser."),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        db_default="",
        validators=[validate_time_zone],
        help_text=_("IANA name (America/Sao_Paulo) for every time shown; empty: the browser's."),
    )

    class Meta:
        verbose_name = _("preference")
        verbose_name_plural = _("preferences")

    def __str__(self):
        return f"{self.user}: {self.language or '-'}"
