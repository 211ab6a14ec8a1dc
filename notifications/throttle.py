"""Send-rate throttling per push provider, shared by every worker.

Each provider with a limit (CXHUB_PUSH_RATE_LIMITS, messages per minute) has one
schedule: the moment it is next free. A batch of n messages reserves the next
n * 60 / limit seconds of it. If its slot starts within the burst tolerance it
sends now; otherwise it keeps the slot and is re-scheduled to it, so batches of
a large fan-out line up one after the other instead of failing or all waking at
once. The schedule lives in Redis (one atomic script) when
CXHUB_THROTTLE_REDIS_URL is set, else in the database (a compare-and-set UPDATE).
"""

import logging
import math
import threading
from datetime import UTC, datetime, timedelta

from django.conf import settings

from notifications.models import SendRateSchedule

logger = logging.getLogger("cxhub.throttle")

# KEYS[1]: the schedule; ARGV: now, cost (seconds), time to live. Returns the slot start.
_RESERVE = """
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(free, tonumber(ARGV[1]))
redis.call('SET', KEYS[1], string.format('%.6f', start + tonumber(ARGV[2])), 'EX', ARGV[3])
return string.format('%.6f', start)
"""
_clients: dict[str, object] = {}
_clients_lock = threading.Lock()


def rate_limit_of(provider: str) -> int:
    """Return the provider's limit in messages per minute (0: not limited)."""
    return settings.CXHUB_PUSH_RATE_LIMITS.get(provider, 0)


def slot_reserve(provider: str, messages: int, *, now: datetime) -> datetime | None:
    """Reserve send rate for `messages` messages; return when they may go, None for now."""
    limit = rate_limit_of(provider)
    if not limit or messages <= 0:
        return None
    cost = messages * 60.0 / limit
    start = None
    if settings.CXHUB_THROTTLE_REDIS_URL:
        try:
            start = _redis_reserve(provider, cost, now=now)
        except Exception as exc:  # Redis down: the database keeps the limit shared
            logger.warning("Throttle: Redis unavailable (%s); using the database", exc)
    if start is None:
        start = _db_reserve(provider, cost, now=now)
    if start <= now + timedelta(seconds=settings.CXHUB_PUSH_RATE_BURST_SECONDS):
        return None
    return start


def _redis_client():
    import redis

    url = settings.CXHUB_THROTTLE_REDIS_URL
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
            _clients[url] = client
    return client


def _redis_reserve(provider: str, cost: float, *, now: datetime) -> datetime:
    client = _redis_client()
    stamp = now.timestamp()
    ttl = math.ceil(cost) + 3600
    start = client.eval(_RESERVE, 1, f"cxhub:send-rate:{provider}", f"{stamp:.6f}", cost, ttl)
    return datetime.fromtimestamp(float(start), tz=UTC)


def _db_reserve(provider: str, cost: float, *, now: datetime) -> datetime:
    # Compare-and-set: a concurrent worker that moved the schedule first makes the
    # UPDATE match nothing, and this one reads again.
    rows = SendRateSchedule.objects.filter(provider=provider)
    while True:
        free_at = rows.values_list("free_at", flat=True).first()
        if free_at is None:
            SendRateSchedule.objects.bulk_create(
                [SendRateSchedule(provider=provider, free_at=now)], ignore_conflicts=True
            )
            continue
        start = max(free_at, now)
        if rows.filter(free_at=free_at).update(free_at=start + timedelta(seconds=cost)):
            return start
