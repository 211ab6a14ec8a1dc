import pytest

from statuspage.api import snapshots
from statuspage.openfinance import items_snapshots, page_snapshots
from statuspage.views import pages

CACHES = [snapshots, pages, items_snapshots, page_snapshots]


def snapshots_clear():
    for cache in CACHES:
        cache.clear()


@pytest.fixture(autouse=True)
def fresh_snapshots():
    """Start each test without the snapshots another test left in this process."""
    snapshots_clear()
    yield
    snapshots_clear()


@pytest.fixture
def visible(scenario):
    """Make login customer-facing and action 0001 shown on the status page."""
    scenario["login"].status_visible = True
    scenario["login"].save()
    scenario["action"].status_visible = True
    scenario["action"].save()
    return scenario


@pytest.fixture
def integration(db):
    from incidents.models import Integration

    return Integration.objects.create(name="m", token_hash="h")
