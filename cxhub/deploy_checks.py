"""Deployment checks of the security setup (`manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register

PER_PROCESS_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


@register(Tags.security, deploy=True)
def shared_limiter_check(app_configs, **kwargs):
    """Warn when failed-authentication counts would be kept per web process."""
    if settings.CACHES["default"]["BACKEND"] in PER_PROCESS_CACHES:
        return [
            Warning(
                "The failed-authentication limit is counted per process: the default "
                "cache is local memory.",
                hint="Set CACHE_URL to Redis (rediscache://host:6379/1) so every web "
                "process shares one count.",
                id="cxhub.W010",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def metrics_check(app_configs, **kwargs):
    """Warn when /metrics answers anyone without a credential."""
    if settings.CXHUB_METRICS_OPEN and not (
        settings.CXHUB_METRICS_TOKEN or settings.CXHUB_METRICS_BASIC_AUTH
    ):
        return [
            Warning(
                "/metrics is open to anyone.",
                hint="Set CXHUB_METRICS_TOKEN or CXHUB_METRICS_BASIC_AUTH, or "
                "CXHUB_METRICS_OPEN=false.",
                id="cxhub.W011",
            )
        ]
    return []
