"""What the Open Finance Brasil discovery feed says a service carries."""

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

OPEN_FINANCE_PATH = RegexValidator(
    r"^/open-banking/[a-z0-9-]+/v\d+(/[A-Za-z0-9{}._~-]+)*$",
    _("A path under /open-banking/, such as /open-banking/accounts/v2/accounts."),
)


class OpenFinanceEndpoint(models.Model):
    """An Open Finance Brasil endpoint a service carries: failing while the service is down.

    Stored as its path; the feed answers it as a full URL under the bank's
    CXHUB_OPEN_FINANCE_BASE_URL (the registered API host).
    """

    service = models.ForeignKey(
        "actions.Service",
        on_delete=models.CASCADE,
        related_name="open_finance_endpoints",
        verbose_name=_("service"),
    )
    path = models.CharField(
        max_length=300,
        validators=[OPEN_FINANCE_PATH],
        help_text=_("/open-banking/accounts/v2/accounts"),
        verbose_name=_("path"),
    )

    class Meta:
        verbose_name = _("Open Finance endpoint")
        verbose_name_plural = _("Open Finance endpoints")
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "path"], name="one_open_finance_endpoint_per_service"
            ),
        ]

    def __str__(self):
        return self.path
