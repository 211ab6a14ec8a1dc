"""Timeline details stored as a key with parameters, read in the reader's language."""

from datetime import UTC, datetime

import pytest
from django.utils import translation

from incidents.history import texts
from incidents.models import TimelineEvent


def test_a_detail_renders_in_english_and_in_portuguese():
    d = texts.detail("push_queued", occurrences=5, batches=2)
    assert d.english() == "Outage push queued at 5 occurrences in 2 batch(es)"
    with translation.override("pt-br"):
        assert texts.render_params(d.as_json()) == (
            "Push de indisponibilidade enfileirado em 5 ocorrências em 2 lote(s)"
        )


def test_times_choices_and_nested_details_render_for_the_reader():
    until = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    silenced = texts.detail("silenced", minutes=30, until=until)
    assert silenced.english() == (
        "No pages for 30 minute(s), until 2026-12-01 06:00 UTC-0300; occurrences still count."
    )
    batch = texts.detail("push_batch", purpose=texts.choice("delivery_purpose", "push"), devices=3)
    failed = texts.detail("delivery_error", what=batch, error="HTTP 503", attempt=2)
    assert failed.english() == "Customer push batch of 3 device(s): HTTP 503 (attempt 2)"
    with translation.override("pt-br"):
        assert "Push aos clientes: lote de 3" in texts.render_params(failed.as_json())


def test_an_unknown_message_key_is_refused_when_written():
    with pytest.raises(KeyError):
        texts.detail("no_such_message")


def test_older_rows_and_notes_keep_their_text():
    event = TimelineEvent(kind="acknowledged", detail="looking at it", params={})
    assert texts.event_text(event) == "looking at it"
    stored = TimelineEvent(
        kind="opened", detail="Opened by action 0001 X", params={"m": "opened", "action": "0001 X"}
    )
    with translation.override("pt-br"):
        assert texts.event_text(stored) == "Aberto pela ação 0001 X"


@pytest.mark.django_db
def test_the_pipeline_stores_keys_and_the_support_page_reads_them_in_portuguese(
    scenario, client, django_user_model
):
    from django.contrib.auth.models import Group

    from conftest import post_original
    from support.roles import SUPPORT

    post_original(10)
    push = TimelineEvent.objects.get(kind="push_queued")
    assert push.params == {"m": "push_queued", "occurrences": 5, "batches": 1}
    assert push.detail == "Outage push queued at 5 occurrences in 1 batch(es)"
    tier = TimelineEvent.objects.get(kind="tier_paged")
    assert tier.params["m"] == "tier_paged" and tier.params["name"] == "Analista N1"
    user = django_user_model.objects.create_user("ana", password="pw-long-enough", is_staff=True)
    user.groups.add(Group.objects.get(name=SUPPORT))
    client.force_login(user)
    page = client.get(
        f"/support/incidents/{push.incident_id}/", HTTP_ACCEPT_LANGUAGE="pt-BR"
    ).content.decode()
    assert "Push de indisponibilidade enfileirado em 5 ocorrências em 1 lote(s)" in page
    assert "Nível 1 (Analista N1) acionado por 1 canal(is) em 10 ocorrências" in page
    assert "Outage push queued" not in page
