"""Import customers and their devices from a CSV file, streamed, written in batches."""

import csv
import io
import os
import re
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction
from tqdm import tqdm

from notifications.customers import FIELDS, customers_upsert, service_model
from notifications.models import Device
from notifications.validators import validate_phone, validate_time_zone

SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")
PLATFORMS = set(Device.Platform.values)
BOOLEANS = ("phone_consent", "email_consent", "opt_out_outage", "opt_out_all_clear")
TRUE, FALSE = {"true", "1", "yes"}, {"false", "0", "no"}


def parse_row(row: dict, known_services: set) -> tuple[dict | None, str]:
    """Return (item for customers_upsert, "") or (None, "field: why") for one CSV row."""
    external_id = (row.get("external_id") or "").strip()
    if not external_id or len(external_id) > 100:
        return None, "external_id: required, at most 100 characters"
    locale = (row.get("locale") or "").strip() or "pt-BR"
    if len(locale) > 10:
        return None, "locale: at most 10 characters"
    lists = {}
    for field in ("services", "tags"):
        values = [v.strip().lower() for v in (row.get(field) or "").split("|") if v.strip()]
        bad = [v for v in values if not SLUG.match(v)]
        if bad:
            return None, f"{field}: not a slug: {', '.join(bad)}"
        lists[field] = values
    unknown = [slug for slug in lists["services"] if slug not in known_services]
    if unknown:
        return None, f"services: unknown service(s): {', '.join(unknown)}"
    token = (row.get("token") or "").strip()
    platform = (row.get("platform") or "").strip().lower()
    devices = []
    if token:
        if platform not in PLATFORMS:
            return None, f"platform: one of {', '.join(sorted(PLATFORMS))}"
        if len(token) > 4096:
            return None, "token: at most 4096 characters"
        devices.append({"platform": platform, "token": token})
    extra, error = parse_extra(row)
    if error:
        return None, error
    item = {"external_id": external_id, "locale": locale, "devices": devices, **lists, **extra}
    return item, ""


def parse_extra(row: dict) -> tuple[dict, str]:
    """Return (fields, "") or ({}, "field: why") for the optional contact and preference columns.

    An empty or absent cell is left out, so the stored value stays.
    """
    extra = {}
    for field, check in (
        ("time_zone", validate_time_zone),
        ("phone", validate_phone),
        ("email", validate_email),
    ):
        value = (row.get(field) or "").strip()
        if value:
            try:
                check(value)
            except ValidationError as exc:
                return {}, f"{field}: {' '.join(exc.messages)}"
            extra[field] = value
    for field in BOOLEANS:
        value = (row.get(field) or "").strip().lower()
        if value:
            if value not in TRUE | FALSE:
                return {}, f"{field}: give true or false"
            extra[field] = value in TRUE
    return extra, ""


class Command(BaseCommand):
    help = (
        "Import customers from a CSV with columns external_id, locale, services, tags, "
        "platform, token (one row per device; services and tags separated by |) and, "
        "optionally, time_zone, phone, phone_consent, email, email_consent, "
        "opt_out_outage, opt_out_all_clear (true/false). Adds to what is stored: nothing "
        "is removed, an empty cell keeps the stored value."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, path, batch_size, no_progress, **options):
        if not os.path.exists(path):
            raise CommandError(f"No such file: {path}")
        known = set(service_model().objects.values_list("slug", flat=True))
        totals = {"rows": 0, "skipped": 0, "created": 0, "updated": 0, "devices": 0}
        batch: dict[str, dict] = {}

        def flush():
            with transaction.atomic():
                result = customers_upsert(list(batch.values()), replace=False)
            for key in ("created", "updated", "devices"):
                totals[key] += result[key]
            batch.clear()

        with (
            open(path, "rb") as raw,
            tqdm(
                total=os.path.getsize(path),
                unit="B",
                unit_scale=True,
                desc="import",
                file=sys.stderr,
                disable=no_progress,
                mininterval=0.5,
            ) as bar,
        ):
            reader = csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
            missing = {"external_id"} - set(reader.fieldnames or [])
            if missing:
                raise CommandError("The CSV needs a header row with at least external_id.")
            done = 0
            for line, row in enumerate(reader, start=2):
                totals["rows"] += 1
                item, error = parse_row(row, known)
                if item is None:
                    totals["skipped"] += 1
                    self.stderr.write(f"line {line}: {error}")
                    continue
                merged = batch.setdefault(item["external_id"], item)
                if merged is not item:
                    merged["locale"] = item["locale"]
                    merged.update((key, item[key]) for key in item if key in FIELDS)
                    for field in ("services", "tags", "devices"):
                        merged[field] = merged[field] + item[field]
                if len(batch) >= batch_size:
                    flush()
                    bar.update(raw.tell() - done)
                    done = raw.tell()
            if batch:
                flush()
            bar.update(os.path.getsize(path) - done)
        self.stdout.write(
            "{rows} row(s): {created} customer(s) created, {updated} updated, "
            "{devices} device(s) stored, {skipped} row(s) skipped".format(**totals)
        )
