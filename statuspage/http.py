"""Answer a snapshot's bytes with an ETag, Cache-Control and 304s: shared by the status reads."""

import hashlib
from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpResponse


def iso_z(at: datetime) -> str:
    """Return an aware datetime in UTC to the second: 2020-07-21T08:30:00Z (the feeds' format)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def etag_of(raw: bytes) -> str:
    """Return a strong ETag for the bytes `raw`."""
    return f'"{hashlib.sha256(raw).hexdigest()[:32]}"'


def etag_matches(header: str, etag: str) -> bool:
    """Return whether an If-None-Match header names `etag` (weak comparison, or *)."""
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or etag.removeprefix("W/") in tags


def snapshot_response(
    request,
    raw: bytes,
    etag: str,
    *,
    content_type: str = "application/json",
    public: bool = True,
) -> HttpResponse:
    """Answer `raw` (or 304 when If-None-Match names `etag`) with caching headers.

    `public`: shared caches may keep it (anonymous reads); otherwise private,
    varying by Authorization.
    """
    matched = etag_matches(request.headers.get("If-None-Match", ""), etag)
    response = HttpResponse(
        b"" if matched else raw, status=304 if matched else 200, content_type=content_type
    )
    if matched:
        del response["Content-Type"]
    elif request.method == "HEAD":
        # The headers GET would send, without the body (not every server strips it).
        response.content = b""
        response["Content-Length"] = str(len(raw))
    response["ETag"] = etag
    scope = "public" if public else "private"
    response["Cache-Control"] = f"{scope}, max-age={int(settings.CXHUB_STATUS_CACHE_SECONDS)}"
    if not public:
        response["Vary"] = "Authorization"
    return response
