"""One way to show a moment everywhere: the current time zone, followed by its UTC offset."""

from datetime import datetime

from django.utils import timezone


def offset_label(at: datetime) -> str:
    """Return the UTC offset of an aware time, as UTC-0300 (as the admin's formats show it)."""
    minutes = int(at.utcoffset().total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def local_label(at: datetime, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """Return `at` in the current time zone with its offset: 2026-12-01 05:30:00 UTC-0300."""
    local = timezone.localtime(at)
    return f"{local.strftime(fmt)} {offset_label(local)}"
