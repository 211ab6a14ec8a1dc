"""Writes to the customer registry: customers with their services, tags, devices, contacts."""

from notifications.models import Customer, Device, Tag
from notifications.validators import time_zone_for

# Registry fields besides the lists, with the value a new customer gets when not given.
FIELDS = {
    "locale": "pt-BR",
    "time_zone": "",
    "phone": "",
    "phone_consent": False,
    "email": "",
    "email_consent": False,
    "opt_out_outage": False,
    "opt_out_all_clear": False,
}


def service_model():
    """Return the model of the services customers use (the playbooks' Service).

    Taken from the relation, so the registry does not import the app that owns it.
    """
    return Customer._meta.get_field("services").related_model


def customers_upsert(items: list[dict], *, replace: bool = True) -> dict:
    """Create or update customers with their services, tags and devices, in bulk.

    Each item has external_id and, optionally, the FIELDS and lists services
    (slugs), tags (slugs) and devices ({platform, token}). A constant number of
    queries per call, whatever the number of items. `replace` makes what is given
    replace what is stored, a field not given taking its default (the API);
    without it lists are added and a field not given keeps its stored value (a CSV
    import, whose rows for one customer may fall in different batches). A missing
    time zone is the locale's. A token moves to the customer that lists it; a
    device the provider disabled stays disabled (a new token is a new device).
    """
    Service = service_model()
    by_external = {item["external_id"]: item for item in items}  # the last one wins
    stored = {
        row["external_id"]: row
        for row in Customer.objects.filter(external_id__in=by_external).values(
            "external_id", *FIELDS
        )
    }
    customers = []
    for ext, item in by_external.items():
        base = FIELDS if replace or ext not in stored else stored[ext]
        values = {field: item.get(field, base[field]) for field in FIELDS}
        if not values["time_zone"]:
            values["time_zone"] = time_zone_for(values["locale"])
        customers.append(Customer(external_id=ext, **values))
    Customer.objects.bulk_create(
        customers,
        update_conflicts=True,
        unique_fields=["external_id"],
        update_fields=[*FIELDS, "updated_at"],
        batch_size=500,
    )
    ids = dict(
        Customer.objects.filter(external_id__in=by_external).values_list("external_id", "id")
    )
    slugs = {slug for item in by_external.values() for slug in item.get("tags", [])}
    Tag.objects.bulk_create([Tag(slug=slug) for slug in slugs], ignore_conflicts=True)
    tag_ids = dict(Tag.objects.filter(slug__in=slugs).values_list("slug", "id"))
    service_ids = dict(
        Service.objects.filter(
            slug__in={slug for item in by_external.values() for slug in item.get("services", [])}
        ).values_list("slug", "id")
    )
    links = (
        (Customer.services.through, "service_id", "services", service_ids),
        (Customer.tags.through, "tag_id", "tags", tag_ids),
    )
    for through, column, field, known in links:
        if replace:
            through.objects.filter(customer_id__in=ids.values()).delete()
        through.objects.bulk_create(
            [
                through(customer_id=ids[ext], **{column: known[slug]})
                for ext, item in by_external.items()
                for slug in set(item.get(field, []))
                if slug in known
            ],
            ignore_conflicts=True,
            batch_size=1000,
        )
    devices = {
        device["token"]: Device(
            customer_id=ids[ext], platform=device["platform"], token=device["token"]
        )
        for ext, item in by_external.items()
        for device in item.get("devices", [])
    }
    if replace:
        Device.objects.filter(customer_id__in=ids.values()).exclude(token__in=devices).delete()
    Device.objects.bulk_create(
        list(devices.values()),
        update_conflicts=True,
        unique_fields=["token"],
        update_fields=["customer", "platform"],
        batch_size=500,
    )
    return {
        "created": len(set(by_external) - set(stored)),
        "updated": len(set(by_external) & set(stored)),
        "devices": len(devices),
    }


def customer_upsert(*, external_id, **fields):
    """Create or update one customer, replacing its fields, services, tags and devices."""
    result = customers_upsert([{"external_id": external_id, **fields}])
    return Customer.objects.get(external_id=external_id), bool(result["created"])
