"""The service catalogue: services as monitoring names them and as customers know them."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Service(models.Model):
    slug = models.SlugField(
        max_length=100,
        unique=True,
        help_text=_("As monitoring names it: login"),
        verbose_name=_("slug"),
    )
    name = models.CharField(
        max_length=200, help_text=_("As customers know it: Login no app"), verbose_name=_("name")
    )
    status_visible = models.BooleanField(
        default=False,
        help_text=_(
            "Customer-facing: listed, by its name, on the status page and in the in-app status API."
        ),
        verbose_name=_("on the status page"),
    )

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["slug"]

    def __str__(self):
        return self.slug


class ServiceName(models.Model):
    """The name customers of one language know a service by ({service} in their push)."""

    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="names", verbose_name=_("service")
    )
    locale = models.CharField(
        max_length=10, help_text=_("en, es, pt-BR ..."), verbose_name=_("locale")
    )
    name = models.CharField(max_length=200, help_text=_("App login"), verbose_name=_("name"))

    class Meta:
        verbose_name = _("service name in a language")
        verbose_name_plural = _("service names in other languages")
        ordering = ["service", "locale"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "locale"], name="one_service_name_per_locale"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.locale})"
