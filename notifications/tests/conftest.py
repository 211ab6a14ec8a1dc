import pytest

from incidents.models import Integration
from notifications.tests.fakes import FakeGateway


@pytest.fixture
def integration(db):
    return Integration.objects.create(name="m", token_hash="h")


@pytest.fixture
def gateway(settings):
    """The bank's push gateway on 127.0.0.1, as the push provider."""
    fake = FakeGateway("s3cret", unregistered=["tok-c2"])
    settings.CXHUB_PUSH_PROVIDER = "webhook"
    settings.CXHUB_PUSH_WEBHOOK_URL = fake.url
    settings.CXHUB_PUSH_WEBHOOK_SECRET = "s3cret"
    yield fake
    fake.close()
