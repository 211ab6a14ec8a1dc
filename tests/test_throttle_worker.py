"""Send-rate throttling on a real worker: batches over the rate are spread, none fails."""

import json

import pytest

from conftest import make_scenario, post_original
from notifications.models import Delivery, PushRecord
from notifications.tests.fakes import FakeFcm
from tests.worker import running_worker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_worker_spreads_push_batches_over_the_provider_rate(tmp_path, settings):
    fcm = FakeFcm()
    account = tmp_path / "service-account.json"
    account.write_text(json.dumps(fcm.service_account()))
    make_scenario()
    env = {
        "CXHUB_PUSH_PROVIDER": "fcm",
        "CXHUB_FCM_CREDENTIALS_FILE": str(account),
        "CXHUB_FCM_BASE_URL": fcm.url,
        "CXHUB_PUSH_BATCH_SIZE": "1",
        "CXHUB_PUSH_RATE_LIMITS": "fcm=60",  # one device a second
        "CXHUB_PUSH_RATE_BURST_SECONDS": "0",
    }
    settings.CXHUB_PUSH_PROVIDER = "fcm"
    settings.CXHUB_PUSH_BATCH_SIZE = 1
    try:
        with running_worker(tmp_path, env):
            post_original(5)  # the push falls due: three batches of one device
            # The ledger rows are written before each batch is marked sent: wait for both.
            wait_for(
                lambda: (
                    PushRecord.objects.filter(status="sent").count() == 3
                    and Delivery.objects.filter(purpose="push", status="sent").count() == 3
                ),
                timeout=60,
                message="three devices and their batches sent",
            )
    finally:
        fcm.close()
    batches = Delivery.objects.filter(purpose="push")
    assert sorted(batches.values_list("status", "attempts")) == [("sent", 1)] * 3
    waited = list(batches.filter(rate_slot_at__isnull=False).order_by("rate_slot_at"))
    assert len(waited) == 2  # two batches waited for a slot, one second apart
    assert (waited[1].rate_slot_at - waited[0].rate_slot_at).total_seconds() == 1
    assert all(d.sent_at >= d.rate_slot_at for d in waited)
    # Spread, not all at once: the last device goes at least a second after the first
    # waiting slot. (Measured from the slots the limiter gave, not from the first send:
    # a slow first batch, e.g. FCM's first OAuth exchange, may leave late and bunch the
    # wall-clock gap under load, while every send still keeps its slot, asserted above.)
    sent_at = sorted(PushRecord.objects.values_list("sent_at", flat=True))
    assert (sent_at[-1] - waited[0].rate_slot_at).total_seconds() >= 1
    assert sorted(m["token"] for m in fcm.messages) == ["tok-c1-a", "tok-c1-b", "tok-c2"]
