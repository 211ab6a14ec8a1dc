import pytest

from incidents.models import Integration


@pytest.fixture
def integration(db):
    return Integration.objects.create(name="m", token_hash="h")
