"""Monitoring senders: each integration has its own token, kind (payload language) and mapping."""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from incidents.models.mappings import mapping_errors
from incidents.models.tokens import hash_token


def ingest_kinds() -> list[str]:
    """Return the kinds whose tokens send triggers (every kind but the app backend)."""
    return [kind for kind in Integration.Kind.values if kind != Integration.Kind.APP_BACKEND]


def endpoint_of(kind: str) -> str:
    """Return the API path a token of `kind` is for."""
    if kind == Integration.Kind.CXHUB:
        return "/api/v1/triggers"
    if kind == Integration.Kind.APP_BACKEND:
        return "/api/v1/customers"
    if kind == Integration.Kind.OPSGENIE:
        return "/v2/alerts"
    return f"/api/v1/integrations/{kind}/"


class Integration(models.Model):
    """A monitoring sender with its own token, kind (payload language) and field mapping."""

    class Kind(models.TextChoices):
        CXHUB = "cxhub", _("cxhub JSON (gatilhos / triggers)")
        ALERTMANAGER = "alertmanager", _("Prometheus Alertmanager webhook")
        GRAFANA = "grafana", _("Grafana Alerting webhook")
        PAGERDUTY = "pagerduty", _("PagerDuty Events API v2")
        GENERIC = "generic", _("Generic JSON (mapped by dotted paths)")
        OPSGENIE = "opsgenie", _("Opsgenie Alert API")
        # Not a monitoring sender: the bank's app backend, which keeps the customer
        # registry current. Its token writes customers and sends no trigger.
        APP_BACKEND = "app_backend", _("App backend (customer registry)")

    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))
    kind = models.CharField(
        max_length=20, choices=Kind.choices, default=Kind.CXHUB, verbose_name=_("kind")
    )
    token_hash = models.CharField(
        max_length=64, unique=True, editable=False, verbose_name=_("token hash")
    )
    token_prefix = models.CharField(max_length=8, editable=False, verbose_name=_("token prefix"))
    enabled = models.BooleanField(default=True, verbose_name=_("enabled"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    last_received_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("last received at")
    )
    trigger_count = models.PositiveBigIntegerField(
        default=0, editable=False, verbose_name=_("trigger count")
    )
    last_error = models.TextField(blank=True, editable=False, verbose_name=_("last error"))
    mapping = models.JSONField(
        default=dict,
        blank=True,
        help_text=_(
            "Overrides of the kind's default field paths, e.g. "
            '{"service": "labels.job", "code": "labels.code"}. Empty uses the defaults.'
        ),
        verbose_name=_("mapping"),
    )
    rate_limit = models.PositiveIntegerField(
        # Off by default: monitoring senders drop a notification answered 4xx (Alertmanager
        # does not retry a 429), so storms are absorbed in processing, not refused.
        default=0,
        help_text=_(
            "Requests accepted per minute; 0 means no limit (the default: monitoring "
            "senders drop what is refused)."
        ),
        verbose_name=_("rate limit"),
    )
    rate_window = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("rate window")
    )
    rate_count = models.PositiveIntegerField(
        default=0, editable=False, verbose_name=_("rate count")
    )

    class Meta:
        verbose_name = _("integration")
        verbose_name_plural = _("integrations")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        if errors := mapping_errors(self.kind, self.mapping):
            raise ValidationError({"mapping": errors})

    @property
    def endpoint(self) -> str:
        """Return the API path this integration's token is for (its only scope)."""
        return endpoint_of(self.kind)

    @property
    def scope(self) -> str:
        """Say, in words, what this integration's token may do."""
        if self.kind == self.Kind.APP_BACKEND:
            return gettext(
                "Create and update customers and their devices (POST /api/v1/customers and "
                "/api/v1/customers/bulk). Sends no trigger."
            )
        paths = [self.endpoint]
        if self.kind == self.Kind.CXHUB:
            paths.append("/api/v1/integrations/cxhub/")
        elif self.kind == self.Kind.PAGERDUTY:
            paths += ["/v2/enqueue", "/v2/change/enqueue"]
        paths.append("/api/v1/changes")  # deploys and config changes of its services
        return gettext(
            "Send %(kind)s triggers to %(paths)s. Nothing else: no customer, no incident."
        ) % {"kind": self.get_kind_display(), "paths": ", ".join(paths)}

    def set_new_token(self, token: str | None = None) -> str:
        """Give the integration a new token (random unless given) and return it."""
        token = token or secrets.token_urlsafe(32)
        self.token_hash = hash_token(token)
        self.token_prefix = token[:6]
        return token


def integration_url(integration) -> str:
    """Return the absolute URL an integration's token is for (token not included).

    Opsgenie senders are given the root (their `api_url`; they append v2/alerts).
    """
    if integration.kind == Integration.Kind.OPSGENIE:
        return f"{settings.CXHUB_BASE_URL}/"
    if integration.kind == Integration.Kind.APP_BACKEND:
        return f"{settings.CXHUB_BASE_URL}{integration.endpoint}"
    return f"{settings.CXHUB_BASE_URL}/api/v1/integrations/{integration.kind}/"
