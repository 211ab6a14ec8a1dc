from notifications.models import Customer, Device


def test_customer_upsert_creates_then_replaces(scenario, registry_client):
    body = {
        "external_id": "cust-42",
        "locale": "en",
        "services": ["login"],
        "devices": [{"platform": "ios", "token": "t1"}, {"platform": "android", "token": "t2"}],
    }
    response = registry_client.post("/api/v1/customers", body, format="json")
    assert response.status_code == 201
    assert response.json() == {
        "external_id": "cust-42",
        "created": True,
        "devices": 2,
        "services": ["login"],
        "tags": [],
        "time_zone": "America/Sao_Paulo",  # the locale's default (en)
        "phone_consent": False,
        "email_consent": False,
        "opt_out_outage": False,
        "opt_out_all_clear": False,
    }
    body["devices"] = [{"platform": "ios", "token": "t1"}]
    response = registry_client.post("/api/v1/customers", body, format="json")
    assert response.status_code == 200
    customer = Customer.objects.get(external_id="cust-42")
    assert list(customer.devices.values_list("token", flat=True)) == ["t1"]
    assert not Device.objects.filter(token="t2").exists()


def test_customer_upsert_names_bad_fields(scenario, registry_client):
    response = registry_client.post(
        "/api/v1/customers",
        {
            "external_id": "c",
            "services": ["logn"],
            "devices": [{"platform": "nokia", "token": "t"}],
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["services"] == ["Unknown service(s): logn."]
    assert "platform" in response.json()["devices"]["0"]


def test_customer_api_needs_a_token(scenario, client):
    response = client.post(
        "/api/v1/customers", {"external_id": "c"}, content_type="application/json"
    )
    assert response.status_code in (401, 403)


def test_numeric_device_token_and_empty_bulk_are_refused(scenario, registry_client):
    body = {"external_id": "c-n", "devices": [{"platform": "ios", "token": 12345}]}
    response = registry_client.post("/api/v1/customers", body, format="json")
    assert response.status_code == 400
    assert response.json()["devices"]["0"]["token"] == ["Give a string, not a number."]
    response = registry_client.post("/api/v1/customers", {"external_id": 7}, format="json")
    assert response.status_code == 400 and "external_id" in response.json()
    empty = registry_client.post("/api/v1/customers/bulk", {"customers": []}, format="json")
    assert empty.status_code == 400
