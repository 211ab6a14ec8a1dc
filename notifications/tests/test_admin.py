import csv
import io

from actions.models import PushTemplate
from notifications.models import Delivery, PushRecord, PushSwitch
from notifications.tests.helpers import post, send_pending


def test_action_page_shows_audience_size_and_a_preview_per_language(scenario, admin_client):
    action = scenario["action"]
    PushTemplate.objects.create(
        action=action, purpose="outage", locale="en", text="{service} is down since {started_at}"
    )
    page = admin_client.get(f"/admin/actions/action/{action.pk}/change/").content.decode()
    assert "2 customer(s), 3 device(s)" in page
    assert "Login no app is down since " in page
    assert "Infelizmente nosso app está indisponível" in page


def test_admin_rejects_an_unknown_variable(scenario, admin_client):
    from actions.tests.test_admin import action_form

    data = action_form([(1, "Analista N1", 10, 5)])
    data["push_message"] = "App down: {servico}"
    response = admin_client.post("/admin/actions/action/add/", data)
    assert response.status_code == 200
    assert "Unknown variable(s): {servico}" in response.content.decode()


def test_pausing_an_action_in_the_admin_cancels_its_queued_pushes(
    scenario, admin_client, integration
):
    from actions.tests.test_admin import action_form

    incident = post(integration)
    action = scenario["action"]
    data = action_form([])
    data.update(
        code=action.code,
        name=action.name,
        push_threshold="5",
        push_paused="on",
        **{"rules-TOTAL_FORMS": "0", "rules-INITIAL_FORMS": "0"},
    )
    response = admin_client.post(f"/admin/actions/action/{action.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Delivery.objects.get(incident=incident, purpose="push").status == "cancelled"
    assert send_pending("push") == []


def test_global_kill_switch_in_the_admin_cancels_queued_pushes(scenario, admin_client, integration):
    post(integration)
    response = admin_client.post("/admin/notifications/pushswitch/add/", {"paused": "on"})
    assert response.status_code == 302
    assert PushSwitch.objects.get().paused
    assert Delivery.objects.get(purpose="push").status == "cancelled"


def test_ledger_exports_as_streamed_csv(scenario, admin_client, integration):
    incident = post(integration)
    send_pending("push")
    response = admin_client.post(
        "/admin/notifications/pushrecord/",
        {"action": "export_csv", "select_across": "1", "_selected_action": ["0"], "index": "0"},
    )
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    content = b"".join(response.streaming_content)
    assert content.startswith("\ufeff".encode())  # a BOM: spreadsheets read the accents
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert sorted((r["customer"], r["token_tail"], r["status"]) for r in rows) == [
        ("c1", "tok-c1-a", "sent"),
        ("c1", "tok-c1-b", "sent"),
        ("c2", "tok-c2", "sent"),
    ]
    assert {r["incident"] for r in rows} == {str(incident.pk)}
    assert {r["purpose"] for r in rows} == {"outage"}
    assert rows[0]["message"].startswith("Infelizmente")
    assert rows[0]["provider"] == "locmem" and rows[0]["sent_at"]
    assert len(rows) == PushRecord.objects.count()


def test_incident_shows_push_progress_in_admin_and_api(scenario, admin_client, integration):
    incident = post(integration)
    page = admin_client.get(f"/admin/incidents/incident/{incident.pk}/change/").content.decode()
    assert "queued 3, batches pending 1, sent 0" in page
    send_pending("push")
    body = admin_client.get(f"/api/v1/incidents/{incident.pk}/").json()
    assert body["push_progress"]["queued"] == 3
    assert body["push_progress"]["sent"] == 3
    assert body["push_progress"]["batches_pending"] == 0


def test_admin_saves_an_audience_narrowed_by_tag_platform_and_locale(scenario, admin_client):
    from actions.models import Action
    from actions.tests.test_admin import action_form
    from notifications.models import Tag

    vip = Tag.objects.create(slug="vip")
    data = action_form([(1, "Analista N1", 10, 5)])
    data.update(
        audience_scope="all",
        audience_tags=[vip.pk],
        audience_platforms=["ios", "android"],
        audience_locales="en, pt-BR,",
        push_provider="fcm",
    )
    response = admin_client.post("/admin/actions/action/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    action = Action.objects.get(code="0009")
    assert action.audience_platforms == ["android", "ios"]
    assert action.audience_locales == ["en", "pt-BR"]
    assert list(action.audience_tags.all()) == [vip]
    assert action.push_provider == "fcm"
    page = admin_client.get(f"/admin/actions/action/{action.pk}/change/").content.decode()
    assert 'value="en, pt-BR"' in page
    assert "0 customer(s), 0 device(s)" in page  # nobody is tagged vip yet


def test_customer_pages_of_the_admin_open(scenario, admin_client, integration):
    incident = post(integration)
    send_pending("push")
    record = PushRecord.objects.first()
    for url in [
        "/admin/notifications/customer/",
        "/admin/notifications/customer/?tags__id__exact=1",
        f"/admin/notifications/customer/{record.customer_id}/change/",
        "/admin/notifications/tag/",
        "/admin/notifications/pushrecord/",
        f"/admin/notifications/pushrecord/?incident__id__exact={incident.pk}",
        f"/admin/notifications/pushrecord/{record.pk}/change/",
        "/admin/notifications/pushswitch/",
        "/admin/notifications/pushswitch/add/",
        "/admin/actions/action/add/",
    ]:
        assert admin_client.get(url).status_code == 200, url


def test_the_ledger_says_what_is_held_and_when_it_goes(admin_client, db):
    from datetime import timedelta

    from django.utils import timezone

    due = timezone.now() + timedelta(hours=3)
    Delivery.objects.create(
        key="push:x:m1:0",
        purpose="push",
        message="m",
        recipients=[1, 2],
        size=2,
        due_at=due,
        quiet_hours="held",
    )
    page = admin_client.get("/admin/notifications/pushrecord/").content.decode()
    assert 'id="held-batches"' in page
    assert "quiet hours: waits for the customers" in page
    assert timezone.localtime(due).strftime("%Y-%m-%d %H:%M") in page
