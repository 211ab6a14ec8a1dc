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
            wait_for(
                lambda: PushRecord.objects.filter(status="sent").count() == 3,
                timeout=60,
                message="three devices sent",
            )
    finally:
        fcm.close()
    sent_at = sorted(PushRecord.objects.values_list("sent_at", flat=True))
    gaps = [(b - a).total_seconds() for a, b in zip(sent_at, sent_at[1:], strict=False)]
    assert all(gap >= 0.9 for gap in gaps), gaps  # one a second, not all at once
    batches = Delivery.objects.filter(purpose="push")
    assert sorted(batches.values_list("status", "attempts")) == [("sent", 1)] * 3
    assert batches.filter(rate_slot_at__isnull=False).count() == 2  # two waited for a slot
    assert sorted(m["token"] for m in fcm.messages) == ["tok-c1-a", "tok-c1-b", "tok-c2"]
