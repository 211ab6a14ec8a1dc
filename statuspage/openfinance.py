"""Open Finance Brasil's discovery feed: GET /open-banking/discovery/v1|v2/status and /outages.

Field names and formats follow the "API Comum (Discovery)" specification
(common 1.x and 2.0.1): times as 2020-07-21T08:30:00Z, durations in ISO 8601
(PT2H30M), `links` and `meta` with page/page-size pagination. The texts are in
Portuguese, as the specification's readers expect.

What cxhub knows becomes the feed: each service carries the endpoints CX staff
mapped to it (`OpenFinanceEndpoint`); an unresolved customer-visible incident
(`statuspage.visibility`) makes them fail; a maintenance window marked for the
status page is an outage ahead and SCHEDULED_OUTAGE while it runs.
"""

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone

from cxhub.hotcache import TtlCache
from statuspage.http import etag_of, iso_z, snapshot_response
from statuspage.selectors import (
    open_finance_endpoints,
    open_finance_incidents,
    open_finance_windows,
)

PAGE_SIZE_DEFAULT = 25
PAGE_SIZE_MAX = 1000
PAGE_MAX = 2_147_483_647
# The specification's order when several hold at once ("hierarquia de data/status/code").
PRECEDENCE = ["UNAVAILABLE", "PARTIAL_FAILURE", "SCHEDULED_OUTAGE"]
TEXTS = {
    "OK": "Todas as APIs estão funcionando normalmente.",
    "UNAVAILABLE": "APIs indisponíveis: {services}. Estamos trabalhando para normalizar.",
    "PARTIAL_FAILURE": "Endpoints indisponíveis: {services}. Estamos trabalhando para normalizar.",
    "SCHEDULED_OUTAGE": "Manutenção programada em andamento: {reasons}.",
}
PLACEHOLDER = "\x00requestDateTime\x00"

# Items per feed ("status", "outages"), rebuilt from the database once per TTL;
# pages per (feed, version, page, size) from those items.
items_snapshots = TtlCache(max_entries=4, ttl_setting="CXHUB_STATUS_CACHE_SECONDS")
page_snapshots = TtlCache(max_entries=256, ttl_setting="CXHUB_STATUS_CACHE_SECONDS")


def iso_duration(duration: timedelta) -> str:
    """Return a duration in ISO 8601: PT2H30M, P1DT2H, PT45S; PT0S for nothing."""
    seconds = max(0, round(duration.total_seconds()))
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    clock = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    text = "P" + (f"{days}D" if days else "") + (f"T{clock}" if clock else "")
    return text if text != "P" else "PT0S"


def api_of(path: str) -> str:
    """Return the API an endpoint belongs to: /open-banking/accounts/v2 for .../accounts/v2/x."""
    return "/".join(path.split("/")[:4])


@dataclass(frozen=True)
class Catalogue:
    """The endpoints each service carries, and every endpoint mapped at all."""

    by_service: dict
    every: frozenset

    @classmethod
    def load(cls) -> "Catalogue":
        by_service = open_finance_endpoints()
        return cls(
            by_service=by_service,
            every=frozenset(p for paths in by_service.values() for p in paths),
        )

    def of(self, service_ids) -> list[str]:
        return sorted({p for s in service_ids for p in self.by_service.get(s, [])})

    def whole_api_down(self, down) -> bool:
        """Return whether every mapped endpoint of some API is in `down` (UNAVAILABLE)."""
        apis = {api_of(p) for p in down}
        return any(all(p in down for p in self.every if api_of(p) == api) for api in apis)


def url_of(path: str) -> str:
    return f"{settings.CXHUB_OPEN_FINANCE_BASE_URL}{path}"


def status_items(*, now: datetime) -> list[dict]:
    """Return the `data.status` list: one entry, its code chosen by the specification's order."""
    catalogue = Catalogue.load()
    failing, detected = set(), []
    for incident in open_finance_incidents():
        paths = catalogue.of(incident["service_ids"])
        if paths:
            failing.update(paths)
            detected.append(incident["opened_at"])
    running = [
        w for w in open_finance_windows(start=now, end=now) if catalogue.of(w["service_ids"])
    ]
    held = {p for w in running for p in catalogue.of(w["service_ids"])}
    if failing:
        code = "UNAVAILABLE" if catalogue.whole_api_down(failing) else "PARTIAL_FAILURE"
        names = sorted({api_of(p).rsplit("/", 2)[1] for p in failing})
        entry = {
            "code": code,
            "explanation": TEXTS[code].format(services=", ".join(names)),
            "detectionTime": iso_z(min(detected)),
            "updateTime": iso_z(max(detected)),
            "unavailableEndpoints": [url_of(p) for p in sorted(failing | held)],
        }
        if running:
            # The end of a running window is a known time full service may return by.
            entry["expectedResolutionTime"] = iso_z(max(w["ends_at"] for w in running))
        return [entry]
    if running:
        reasons = "; ".join(dict.fromkeys(w["reason"] for w in running))
        return [
            {
                "code": "SCHEDULED_OUTAGE",
                "explanation": TEXTS["SCHEDULED_OUTAGE"].format(reasons=reasons),
                "expectedResolutionTime": iso_z(max(w["ends_at"] for w in running)),
                "updateTime": iso_z(max(w["starts_at"] for w in running)),
                "unavailableEndpoints": [url_of(p) for p in sorted(held)],
            }
        ]
    return [{"code": "OK", "explanation": TEXTS["OK"]}]


def outage_items(*, now: datetime) -> list[dict]:
    """Return the `data` list of outages: windows marked for the page, running or ahead."""
    catalogue = Catalogue.load()
    horizon = now + timedelta(days=settings.CXHUB_MAINTENANCE_HORIZON_DAYS)
    items = []
    for window in open_finance_windows(start=now, end=horizon):
        paths = catalogue.of(window["service_ids"])
        if not paths:
            continue
        items.append(
            {
                "outageTime": iso_z(window["starts_at"]),
                "duration": iso_duration(window["ends_at"] - window["starts_at"]),
                "isPartial": set(paths) != catalogue.every,
                "explanation": window["reason"],
                "unavailableEndpoints": [url_of(p) for p in paths],
            }
        )
    return items


BUILDERS = {"status": status_items, "outages": outage_items}


def error_body(status: int, code: str, detail: str, now: datetime) -> HttpResponse:
    """Return the specification's ResponseError for a refused request."""
    body = {
        "errors": [{"code": code, "title": code.replace("_", " ").title(), "detail": detail}],
        "meta": {"totalRecords": 0, "totalPages": 0, "requestDateTime": iso_z(now)},
    }
    return HttpResponse(
        json.dumps(body, ensure_ascii=False),
        status=status,
        content_type="application/json; charset=utf-8",
    )


def page_params(query) -> tuple[int, int] | str:
    """Return (page, page-size) from the query, or the reason they are refused."""
    try:
        page = int(query.get("page", "1"))
        size = int(query.get("page-size", str(PAGE_SIZE_DEFAULT)))
    except ValueError:
        return "page e page-size devem ser números inteiros."
    if not 1 <= page <= PAGE_MAX:
        return "page deve ser um inteiro a partir de 1."
    if not 1 <= size <= PAGE_SIZE_MAX:
        return f"page-size deve estar entre 1 e {PAGE_SIZE_MAX}."
    return page, size


def page_body(feed: str, version: int, page: int, size: int) -> tuple[bytes, bytes, str]:
    """Return one page of a feed as (bytes before requestDateTime, bytes after, ETag).

    The ETag covers everything but requestDateTime (the time of each answer), so
    it is weak: two answers with one ETag differ only in that field.
    """
    items = items_snapshots.get(feed, lambda: BUILDERS[feed](now=timezone.now()))
    total = len(items)
    pages = max(1, math.ceil(total / size))
    chunk = items[(page - 1) * size : page * size]
    base = f"{settings.CXHUB_OPEN_FINANCE_BASE_URL}/open-banking/discovery/v{version}/{feed}"

    def link(number):
        return f"{base}?page={number}&page-size={size}"

    links = {"self": link(page)}
    if page > 1:
        links["first"], links["prev"] = link(1), link(min(page - 1, pages))
    if page < pages:
        links["next"], links["last"] = link(page + 1), link(pages)
    body = {
        "data": {"status": chunk} if feed == "status" else chunk,
        "links": links,
        "meta": {"totalRecords": total, "totalPages": pages, "requestDateTime": PLACEHOLDER},
    }
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    head, tail = raw.split(json.dumps(PLACEHOLDER).encode())
    return head, tail, f"W/{etag_of(head + tail)}"


def discovery_answer(request, version: int, feed: str) -> HttpResponse:
    """Answer one page of a discovery feed from the snapshot, with a weak ETag."""
    now = timezone.now()
    params = page_params(request.GET)
    if isinstance(params, str):
        return error_body(400, "PARAMETRO_INVALIDO", params, now)
    page, size = params
    head, tail, etag = page_snapshots.get(
        (feed, version, page, size), lambda: page_body(feed, version, page, size)
    )
    raw = head + json.dumps(iso_z(now)).encode() + tail
    return snapshot_response(
        request, raw, etag, content_type="application/json; charset=utf-8", public=True
    )
