"""What one import run shares: the report it prints, the mapping it keeps, free names."""

from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.contenttypes.models import ContentType

from importers.models import ImportedObject


@dataclass
class Report:
    """What a run did (or, planned, would do): one line per change, counts for the summary."""

    lines: list[str] = field(default_factory=list)
    created: int = 0
    changed: int = 0
    skipped: int = 0

    def create(self, text: str) -> None:
        self.lines.append(f"create  {text}")
        self.created += 1

    def change(self, text: str) -> None:
        self.lines.append(f"change  {text}")
        self.changed += 1

    def skip(self, text: str) -> None:
        self.lines.append(f"skip    {text}")
        self.skipped += 1

    def note(self, text: str) -> None:
        self.lines.append(f"note    {text}")


@dataclass
class Run:
    """One import: its source, its report and its moment; it finds what each source id became."""

    source: str
    report: Report
    now: datetime

    def mapped(self, model, external_id: str):
        """Return the row an object of the source became, or None (never, or deleted since)."""
        row = ImportedObject.objects.filter(
            source=self.source,
            content_type=ContentType.objects.get_for_model(model),
            external_id=external_id,
        ).first()
        return model.objects.filter(pk=row.object_id).first() if row else None

    def remember(self, obj, external_id: str) -> None:
        ImportedObject.objects.update_or_create(
            source=self.source,
            content_type=ContentType.objects.get_for_model(type(obj)),
            external_id=external_id,
            defaults={"object_id": str(obj.pk)},
        )


def free(model, field_name: str, wanted: str, limit: int) -> str:
    """Return `wanted` (cut to `limit`), or it with -2, -3 ... if a row already has it."""
    wanted = wanted[:limit] or "x"
    candidate, number = wanted, 1
    while model.objects.filter(**{field_name: candidate}).exists():
        number += 1
        suffix = f"-{number}"
        candidate = wanted[: limit - len(suffix)] + suffix
    return candidate
