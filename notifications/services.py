"""The delivery engine's public writes, for the API, the admin, commands and tests.

The modules behind it import one another one way (deliveries -> ledger ->
providers/channels -> models) and never this one; nothing here knows incidents
or actions.
"""

from notifications.customers import customer_upsert, customers_upsert
from notifications.deliveries import (
    backoff,
    deliveries_queue,
    deliveries_requeue,
    delivery_send,
    device_send_test_push,
    team_send_test_page,
)
from notifications.ledger import (
    devices_disable,
    push_batch_send,
    push_switch_set,
    pushes_cancel_queued,
    pushes_stopped,
)

__all__ = [
    "backoff",
    "customer_upsert",
    "customers_upsert",
    "deliveries_queue",
    "deliveries_requeue",
    "delivery_send",
    "device_send_test_push",
    "devices_disable",
    "push_batch_send",
    "push_switch_set",
    "pushes_cancel_queued",
    "pushes_stopped",
    "team_send_test_page",
]
