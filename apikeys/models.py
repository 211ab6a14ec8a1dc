"""Personal API keys, stored as a prefix and a hash: the key itself is shown once."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Marks a cxhub key in a config file or a secret scanner's rules.
KEY_PREFIX = "cxk_"


def hash_key(key: str) -> str:
    """Return the stored form of a key.

    Keys are 256 random bits, so a plain SHA-256 is enough: there is nothing to
    brute-force that a slow password hash would protect.
    """
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


class ApiKey(models.Model):
    """A person's key for the API (`Authorization: Token <key>`), acting with their roles."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_keys",
        verbose_name=_("user"),
    )
    name = models.CharField(
        max_length=100,
        help_text=_("What the key is for, e.g. 'on-call laptop' or 'status bot'."),
        verbose_name=_("name"),
    )
    prefix = models.CharField(max_length=12, editable=False, verbose_name=_("prefix"))
    key_hash = models.CharField(
        max_length=64, unique=True, editable=False, verbose_name=_("key hash")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    expires_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("After this moment the key is refused. Empty: it never expires."),
        verbose_name=_("expires at"),
    )
    last_used_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("last used at")
    )
    revoked_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("revoked at")
    )

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    def set_new_key(self, key: str | None = None) -> str:
        """Give the row a new key (random unless given) and return it; only its hash is kept."""
        key = key or new_key()
        self.key_hash = hash_key(key)
        self.prefix = key[:12]
        return key

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
