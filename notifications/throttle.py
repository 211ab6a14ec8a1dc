"""Send-rate limits per provider, shared by every worker process and machine.

A limit is messages per minute (CXHUB_SEND_RATE_PER_MINUTE, e.g. fcm=600000,
sms=60). The schedule is GCRA (a token bucket kept as one timestamp, the
"theoretical arrival time"): a batch of n may start while the provider's backlog
is at most CXHUB_SEND_RATE_BURST_SECONDS, and moves the schedule n / rate
forward. So, over any stretch of time, no more than the rate goes out, however
many workers send, and a refused batch learns how long to wait instead of
failing. The schedule lives in Redis when CXHUB_SEND_RATE_REDIS_URL is set
(one atomic script, Redis's own clock), else in the database (a conditional
UPDATE on the provider's row, retried when another worker moved it first).
"""

import time
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction

from notifications.safeguard_models import SendRate

# KEYS[1] the provider's schedule; ARGV: n, seconds per message, burst seconds.
# Returns {granted 0/1, wait in microseconds}.
GCRA = """
local now_s, now_us = unpack(redis.call('TIME'))
local now = now_s * 1000000 + now_us
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local burst = tonumber(ARGV[3]) * 1000000
if tat - now > burst then
  return {0, tat - now - burst}
end
local new = tat + tonumber(ARGV[1]) * tonumber(ARGV[2]) * 1000000
redis.call('SET', KEYS[1], string.format('%d', new), 'PX', math.floor((new - now) / 1000) + 60000)
return {1, 0}
"""

_redis = {}


def rate_of(provider: str) -> int | None:
    """Return the provider's limit in messages per minute, or None when it has none."""
    return settings.CXHUB_SEND_RATE_PER_MINUTE.get(provider) or None


def take(provider: str, n: int) -> float:
    """Reserve n messages of the provider's rate; return 0.0, or the seconds to wait first.

    A provider without a limit always gets 0.0.
    """
    rate = rate_of(provider)
    if not rate or n <= 0:
        return 0.0
    per_message = 60.0 / rate
    burst = settings.CXHUB_SEND_RATE_BURST_SECONDS
    if settings.CXHUB_SEND_RATE_REDIS_URL:
        return _take_redis(provider, n, per_message, burst)
    return _take_database(provider, n, per_message, burst)


def _take_redis(provider, n, per_message, burst) -> float:
    import redis

    url = settings.CXHUB_SEND_RATE_REDIS_URL
    if url not in _redis:
        client = redis.Redis.from_url(url)
        _redis[url] = client.register_script(GCRA)
    granted, wait_us = _redis[url](keys=[f"cxhub:rate:{provider}"], args=[n, per_message, burst])
    return 0.0 if granted else max(wait_us / 1_000_000, 0.001)


def _take_database(provider, n, per_message, burst, *, attempts=20) -> float:
    for _ in range(attempts):
        now = datetime.now(UTC)
        row = SendRate.objects.filter(provider=provider).values_list("tat", flat=True).first()
        if row is None:
            try:
                with transaction.atomic():
                    SendRate.objects.create(
                        provider=provider, tat=now + timedelta(seconds=n * per_message)
                    )
                return 0.0
            except IntegrityError:
                continue  # another worker created it first: read it again
        tat = max(row, now)
        backlog = (tat - now).total_seconds()
        if backlog > burst:
            return max(backlog - burst, 0.001)
        new = tat + timedelta(seconds=n * per_message)
        # The claim: only if nobody moved the schedule since it was read.
        if SendRate.objects.filter(provider=provider, tat=row).update(tat=new):
            return 0.0
        time.sleep(0.001)
    return burst or 0.01  # heavy contention: wait a little and try again later
