"""Time zone, fallback contacts and preferences: through the API, the CSV import and audiences."""

from django.core.management import call_command

from incidents import services as incidents
from notifications.models import Customer
from notifications.selectors import audience_estimate
from notifications.tests.helpers import ledger, outbox_tokens, post, send_pending


def test_upsert_stores_contacts_preferences_and_a_time_zone(scenario, registry_client):
    body = {
        "external_id": "cust-7",
        "locale": "en-GB",
        "phone": "+5511999990000",
        "phone_consent": True,
        "email": "a@example.com",
        "opt_out_all_clear": True,
    }
    response = registry_client.post("/api/v1/customers", body, format="json")
    assert response.status_code == 201
    assert response.json()["time_zone"] == "Europe/London"  # the locale's default
    assert "phone" not in response.json()  # contacts are written, never echoed
    customer = Customer.objects.get(external_id="cust-7")
    assert (customer.phone, customer.phone_consent) == ("+5511999990000", True)
    assert (customer.email, customer.email_consent) == ("a@example.com", False)
    assert (customer.opt_out_outage, customer.opt_out_all_clear) == (False, True)
    # The API replaces: what is not given goes back to its default.
    body = {"external_id": "cust-7", "locale": "pt-BR", "time_zone": "Asia/Tokyo"}
    registry_client.post("/api/v1/customers", body, format="json")
    customer.refresh_from_db()
    assert customer.time_zone == "Asia/Tokyo"
    assert (customer.phone, customer.phone_consent, customer.opt_out_all_clear) == (
        "",
        False,
        False,
    )


def test_upsert_names_a_bad_time_zone_phone_or_consent(scenario, registry_client):
    response = registry_client.post(
        "/api/v1/customers",
        {"external_id": "c", "time_zone": "Mars/Olympus", "phone": "11 9999-0000"},
        format="json",
    )
    assert response.status_code == 400
    assert "Unknown time zone Mars/Olympus" in response.json()["time_zone"][0]
    assert "E.164" in response.json()["phone"][0]
    response = registry_client.post(
        "/api/v1/customers", {"external_id": "c", "email_consent": True}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["email_consent"]
    assert not Customer.objects.filter(external_id="c").exists()


def test_bulk_upsert_takes_the_new_fields(scenario, registry_client):
    body = {
        "customers": [
            {"external_id": "b1", "locale": "en-US", "opt_out_outage": True},
            {"external_id": "b2", "time_zone": "bad"},
        ]
    }
    response = registry_client.post("/api/v1/customers/bulk", body, format="json")
    assert response.status_code == 400
    assert list(response.json()["customers"]) == ["1"]
    del body["customers"][1]["time_zone"]
    assert registry_client.post("/api/v1/customers/bulk", body, format="json").status_code == 200
    b1, b2 = Customer.objects.get(external_id="b1"), Customer.objects.get(external_id="b2")
    assert (b1.time_zone, b1.opt_out_outage) == ("America/New_York", True)
    assert b2.time_zone == "America/Sao_Paulo"


def test_import_reads_optional_columns_and_an_empty_cell_keeps_what_is_stored(
    scenario, tmp_path, capsys
):
    path = tmp_path / "c.csv"
    path.write_text(
        "external_id,locale,services,tags,platform,token,time_zone,phone,phone_consent,"
        "email,email_consent,opt_out_outage,opt_out_all_clear\n"
        "i1,pt-BR,login,,android,i1-tok,America/Manaus,+5592999990000,true,,,,yes\n"
        "i2,en,login,,android,i2-tok,,,,x@example.com,1,false,\n"
        "i3,en,login,,android,i3-tok,Nowhere/City,,,,,,\n"
        "i4,en,login,,android,i4-tok,,,maybe,,,,\n"
    )
    call_command("import_customers", str(path), "--no-progress")
    out, err = capsys.readouterr()
    assert "2 row(s) skipped" in out
    assert "line 4: time_zone: Unknown time zone Nowhere/City" in err
    assert "line 5: phone_consent: give true or false" in err
    i1 = Customer.objects.get(external_id="i1")
    assert (i1.time_zone, i1.phone, i1.phone_consent, i1.opt_out_all_clear) == (
        "America/Manaus",
        "+5592999990000",
        True,
        True,
    )
    i2 = Customer.objects.get(external_id="i2")
    assert (i2.time_zone, i2.email, i2.email_consent) == (
        "America/Sao_Paulo",
        "x@example.com",
        True,
    )
    # A second file with empty cells changes only what it gives.
    path.write_text("external_id,locale,phone,opt_out_outage\ni1,pt-BR,,true\n")
    call_command("import_customers", str(path), "--no-progress")
    i1.refresh_from_db()
    assert (i1.time_zone, i1.phone, i1.phone_consent) == ("America/Manaus", "+5592999990000", True)
    assert (i1.opt_out_outage, i1.opt_out_all_clear) == (True, True)


def test_audience_leaves_out_and_counts_customers_who_opted_out(scenario, integration):
    Customer.objects.filter(external_id="c2").update(opt_out_outage=True)
    audience = {"scope": "service", "service_ids": [scenario["login"].pk]}
    assert audience_estimate(audience) == {"devices": 2, "customers": 1, "opted_out": 1}
    post(integration)
    send_pending("push")
    assert outbox_tokens() == ["tok-c1-a", "tok-c1-b"]
    assert ledger("outage") == [("tok-c1-a", "sent"), ("tok-c1-b", "sent")]


def test_all_clear_skips_customers_who_opted_out_of_it(scenario, integration):
    incident = post(integration)
    send_pending("push")
    assert len(ledger("outage")) == 3
    Customer.objects.filter(external_id="c1").update(opt_out_all_clear=True)
    incidents.incident_resolve(incident_id=incident.pk, by="test")
    send_pending("all_clear")
    assert ledger("all_clear") == [("tok-c2", "sent")]


def test_action_preview_counts_the_customers_left_out(scenario, admin_client):
    Customer.objects.filter(external_id="c2").update(opt_out_outage=True)
    action = scenario["action"]
    page = admin_client.get(f"/admin/actions/action/{action.pk}/change/").content.decode()
    assert "1 customer(s), 2 device(s); 1 customer(s) left out: opted out of outage pushes" in page


def test_customer_admin_refuses_consent_without_a_contact(scenario, admin_client):
    customer = Customer.objects.get(external_id="c1")
    response = admin_client.post(
        f"/admin/notifications/customer/{customer.pk}/change/",
        {
            "external_id": "c1",
            "locale": "pt-BR",
            "time_zone": "America/Sao_Paulo",
            "phone_consent": "on",
            "devices-TOTAL_FORMS": "0",
            "devices-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "Consent without a phone number" in response.content.decode()
