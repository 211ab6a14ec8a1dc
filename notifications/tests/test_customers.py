from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import Customer, Device, Tag


def bulk_body(n, *, services=("login",), tags=("premium",)):
    return {
        "customers": [
            {
                "external_id": f"b{i}",
                "locale": "en" if i % 2 else "pt-BR",
                "services": list(services),
                "tags": list(tags),
                "devices": [{"platform": "android", "token": f"bt{i}"}],
            }
            for i in range(n)
        ]
    }


def test_bulk_upsert_writes_customers_with_a_constant_number_of_queries(scenario, registry_client):
    with CaptureQueriesContext(connection) as small:
        assert registry_client.post(
            "/api/v1/customers/bulk", bulk_body(3), format="json"
        ).json() == {
            "created": 3,
            "updated": 0,
            "devices": 3,
        }
    with CaptureQueriesContext(connection) as large:
        response = registry_client.post("/api/v1/customers/bulk", bulk_body(200), format="json")
    assert response.json() == {"created": 197, "updated": 3, "devices": 200}
    # Queries do not grow with the number of customers (N round trips would be 200+).
    assert len(large.captured_queries) <= len(small.captured_queries) + 2
    customer = Customer.objects.get(external_id="b7")
    assert customer.locale == "en"
    assert list(customer.services.values_list("slug", flat=True)) == ["login"]
    assert list(customer.tags.values_list("slug", flat=True)) == ["premium"]
    assert list(customer.devices.values_list("token", flat=True)) == ["bt7"]


def test_bulk_upsert_replaces_lists_and_moves_tokens(scenario, registry_client):
    registry_client.post("/api/v1/customers/bulk", bulk_body(2), format="json")
    body = {
        "customers": [
            {"external_id": "b0", "services": [], "tags": ["pj"], "devices": []},
            {
                "external_id": "b1",
                "services": ["pix"],
                "devices": [
                    {"platform": "ios", "token": "bt1-new"},
                    {"platform": "android", "token": "tok-c3"},
                ],
            },
        ]
    }
    response = registry_client.post("/api/v1/customers/bulk", body, format="json")
    assert response.status_code == 200
    b0, b1 = Customer.objects.get(external_id="b0"), Customer.objects.get(external_id="b1")
    assert list(b0.tags.values_list("slug", flat=True)) == ["pj"]
    assert not b0.services.exists() and not b0.devices.exists()
    assert sorted(b1.devices.values_list("token", flat=True)) == ["bt1-new", "tok-c3"]
    assert not Customer.objects.get(external_id="c3").devices.exists()


def test_bulk_upsert_names_index_and_field_and_writes_nothing(scenario, registry_client):
    body = bulk_body(4)
    body["customers"][1]["devices"][0]["platform"] = "nokia"
    body["customers"][3]["external_id"] = ""
    response = registry_client.post("/api/v1/customers/bulk", body, format="json")
    assert response.status_code == 400
    errors = response.json()["customers"]
    assert set(errors) == {"1", "3"}
    assert "platform" in errors["1"]["devices"]["0"]
    assert "external_id" in errors["3"]
    body = bulk_body(2, services=["login", "logn"])
    response = registry_client.post("/api/v1/customers/bulk", body, format="json")
    assert response.json() == {
        "customers": {
            "0": {"services": ["Unknown service(s): logn."]},
            "1": {"services": ["Unknown service(s): logn."]},
        }
    }
    assert not Customer.objects.filter(external_id__startswith="b").exists()


def test_bulk_upsert_is_bounded(scenario, registry_client, settings):
    settings.CXHUB_MAX_CUSTOMERS_PER_REQUEST = 5
    response = registry_client.post("/api/v1/customers/bulk", bulk_body(6), format="json")
    assert response.status_code == 400
    assert response.json() == {"customers": ["At most 5 customers per request."]}
    response = registry_client.post("/api/v1/customers/bulk", {"customers": []}, format="json")
    assert response.status_code == 400


def test_import_customers_streams_a_csv_in_batches(scenario, tmp_path, capsys):
    path = tmp_path / "customers.csv"
    lines = ["external_id,locale,services,tags,platform,token"]
    for i in range(25):
        lines.append(f"imp{i},en,login|pix,vip,android,imp-tok-{i}-a")
        lines.append(f"imp{i},en,login|pix,vip,ios,imp-tok-{i}-b")
    lines.append("bad,en,nosuch,,android,bad-tok")
    lines.append(",en,login,,android,x")
    path.write_text("\n".join(lines) + "\n")
    call_command("import_customers", str(path), "--batch-size", "4")
    out, err = capsys.readouterr()
    assert "52 row(s): 25 customer(s) created" in out
    assert "2 row(s) skipped" in out
    assert "line 52: services: unknown service(s): nosuch" in err
    assert "line 53: external_id" in err
    assert "import" in err  # the progress bar
    customer = Customer.objects.get(external_id="imp7")
    # Rows of one customer split across batches add up; nothing is removed.
    assert sorted(customer.devices.values_list("token", flat=True)) == [
        "imp-tok-7-a",
        "imp-tok-7-b",
    ]
    assert sorted(customer.services.values_list("slug", flat=True)) == ["login", "pix"]
    assert Tag.objects.get(slug="vip").customers.count() == 25
    assert Device.objects.filter(token__startswith="imp-tok").count() == 50
