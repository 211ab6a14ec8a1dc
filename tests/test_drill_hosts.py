"""The drill across hosts, short form: a 20 s cut (`python -m tests.drill_hosts` runs 30 s).

Three network namespaces, a throwaway PostgreSQL and Redis on one, the Procfile's
web, worker, pages and beat on each of the other two (see tests/drill_hosts.py).
It uses none of the suite's database or broker. It runs only when asked
(`CXHUB_DRILL_HOSTS=1 ./run test tests/test_drill_hosts.py` in a PostgreSQL + Redis
environment): in 1 of about 11 runs on a loaded machine, host a's pages worker stopped
consuming after a Redis read timeout in the cut (Celery's known hang after a broker
reconnection), its pages never resumed and the drill failed on "every row settled".
Until that is fixed the drill stays out of the default run, so CI is not a coin toss.
"""

import os

import pytest
from django.conf import settings
from django.db import connection

from tests.drill_hosts import missing_requirements, run

pytestmark = [
    pytest.mark.drill,
    pytest.mark.skipif(
        os.environ.get("CXHUB_DRILL_HOSTS") != "1",
        reason="the hosts drill runs when asked: CXHUB_DRILL_HOSTS=1",
    ),
    pytest.mark.skipif(
        "not postgresql_and_redis()", reason="the hosts drill runs in the PostgreSQL + Redis pass"
    ),
]


def postgresql_and_redis() -> bool:
    return connection.vendor == "postgresql" and settings.CELERY_BROKER_URL.startswith("redis")


def test_cut_host_and_killed_host_lose_no_trigger_and_page_once(tmp_path):
    """Cut host a from PostgreSQL and Redis for 20 s, then SIGKILL host b, under a storm."""
    if reason := missing_requirements():
        pytest.skip(reason)
    result = run(tmp_path, cut=20, alone=8)
    figures = result.figures
    print(figures)
    assert figures["accepted_a"] and figures["accepted_b"], "the storm did not reach both hosts"
    assert figures["b_during_cut"] >= 10, "too few posts to host b during the cut to judge it"
    assert result.problems() == []
    # Loose bounds for a loaded 2-core machine; the measured figures go in benchmarks.md.
    assert (figures["a_202_again"] or 99) < 15, "the cut host answered 202 late after the heal"
    assert (figures["a_pages_again"] or 99) < 20, "the cut host paged late after the heal"
