"""Issue, use and revoke API keys."""

from datetime import timedelta

from django.utils import timezone

from apikeys.models import ApiKey

# "Last used" is written at most this often per key: not one UPDATE per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def api_key_create(*, user, name: str, expires_at=None) -> tuple[ApiKey, str]:
    """Create a key for `user` and return it with the key itself, which is never stored."""
    api_key = ApiKey(user=user, name=name, expires_at=expires_at)
    key = api_key.set_new_key()
    api_key.save()
    return api_key, key


def api_key_touch(api_key: ApiKey) -> None:
    """Record that the key was used now, unless it was recorded within the resolution."""
    now = timezone.now()
    if api_key.last_used_at and now - api_key.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)


def api_keys_revoke(queryset) -> int:
    """Revoke the keys of `queryset` not revoked yet; return how many."""
    return queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
