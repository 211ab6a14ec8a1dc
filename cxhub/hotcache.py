"""A small per-process cache with a time limit, for lookups on the ingest hot path.

Integrations and trigger rules change a few times a day but are read on every
request; a few seconds of staleness across processes saves a query per request.
Saves in this process clear the caches at once (signals below).
"""

import threading
import time

from django.conf import settings
from django.db.models.signals import post_delete, post_save


class TtlCache:
    def __init__(self, max_entries: int = 10_000, ttl_setting: str = "CXHUB_HOT_CACHE_SECONDS"):
        self.max_entries = max_entries
        self.ttl_setting = ttl_setting
        self.entries: dict = {}
        self.lock = threading.Lock()

    def get(self, key, load):
        """Return the cached value of `key`, calling `load()` when missing or expired."""
        ttl = getattr(settings, self.ttl_setting)
        now = time.monotonic()
        hit = self.entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = load()
        if ttl > 0:
            with self.lock:
                if len(self.entries) >= self.max_entries:
                    self.entries.clear()
                self.entries[key] = (now + ttl, value)
        return value

    def clear(self, **kwargs):
        with self.lock:
            self.entries.clear()


integrations = TtlCache()
rule_matches = TtlCache()

for model in ("incidents.Integration",):
    post_save.connect(integrations.clear, sender=model, weak=False)
    post_delete.connect(integrations.clear, sender=model, weak=False)
for model in ("actions.Action", "actions.TriggerRule", "actions.Service"):
    post_save.connect(rule_matches.clear, sender=model, weak=False)
    post_delete.connect(rule_matches.clear, sender=model, weak=False)
