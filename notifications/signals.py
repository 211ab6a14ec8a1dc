"""What the delivery engine tells whoever queued a delivery, without importing them.

Receivers are connected in their app's `AppConfig.ready()`. The engine knows
deliveries, devices and the ledger; what a sent page means for an incident (a
timeline line, an all-clear after a late push) is the receiver's business.
"""

from django.dispatch import Signal

# The outcome of one send attempt was recorded: delivery, outcome ("sent",
# "failed", "retry"), error (its message, or ""), at. Sent inside the transaction
# that records it; what it means for a history is the receiver's to word.
delivery_recorded = Signal()

# A push batch's send finished (sent or failed, not cancelled): delivery, at.
# Sent inside the recording transaction.
push_batch_finished = Signal()

# Asked before a push batch goes out: delivery. A receiver returns a reason to
# stop it (a kill switch it owns), or "".
push_blocked = Signal()
