"""The failed-authentication limit never turns a cache outage into a refused request."""

import pytest

from conftest import ORIGINAL_PAYLOAD
from tests.processes import free_port


@pytest.fixture
def unreachable_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/1",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


@pytest.mark.django_db
def test_ingest_answers_202_while_the_shared_cache_is_unreachable(ingest_client, unreachable_cache):
    response = ingest_client.post("/api/v1/triggers", ORIGINAL_PAYLOAD, format="json")
    assert response.status_code == 202, response.content


@pytest.mark.django_db
def test_bad_token_answers_401_while_the_shared_cache_is_unreachable(client, unreachable_cache):
    response = client.post(
        "/api/v1/triggers",
        ORIGINAL_PAYLOAD,
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer not-a-token",
    )
    assert response.status_code == 401, response.content
