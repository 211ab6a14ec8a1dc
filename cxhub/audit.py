"""Record who changed what in the admin's history (LogEntry), whatever the path.

The admin's change forms log themselves; admin actions, the API and the
support pages change rows without them, so they call `record`.
"""

from django.contrib.admin.models import CHANGE, LogEntry


def record(user, objects, message: str, *, flag: int = CHANGE) -> None:
    """Add one history entry per object, by `user` (a person; integrations are not logged)."""
    objects = [obj for obj in objects if obj is not None]
    if not objects or not getattr(user, "pk", None) or not hasattr(user, "get_username"):
        return
    LogEntry.objects.log_actions(
        user_id=user.pk,
        queryset=objects,
        action_flag=flag,
        change_message=message,
        single_object=len(objects) == 1,
    )
