"""Move DRF's plaintext `authtoken` keys into hashed API keys, then drop their table.

The keys keep working (`Authorization: Token <key>` as before); only their hash
is kept. `rest_framework.authtoken` is no longer installed, so its table is read
and dropped with plain SQL when it exists (an upgraded database), and nothing
happens on a fresh one.
"""

import hashlib
from datetime import UTC

from django.db import migrations
from django.utils import timezone
from django.utils.dateparse import parse_datetime

TABLE = "authtoken_token"


def hash_authtoken_keys(apps, schema_editor):
    connection = schema_editor.connection
    if TABLE not in connection.introspection.table_names():
        return
    ApiKey = apps.get_model("apikeys", "ApiKey")
    quoted = schema_editor.quote_name(TABLE)
    with connection.cursor() as cursor:
        column = schema_editor.quote_name("key")
        cursor.execute(f"SELECT {column}, user_id, created FROM {quoted}")  # noqa: S608
        rows = cursor.fetchall()
    for key, user_id, created in rows:
        if isinstance(created, str):
            created = parse_datetime(created)
        if created is not None and timezone.is_naive(created):
            created = timezone.make_aware(created, UTC)  # stored in UTC (USE_TZ)
        api_key = ApiKey.objects.create(
            user_id=user_id,
            name="DRF token (migrated)",
            prefix=key[:12],
            key_hash=hashlib.sha256(key.encode()).hexdigest(),
        )
        if created is not None:
            ApiKey.objects.filter(pk=api_key.pk).update(created_at=created)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {quoted}")
        cursor.execute("DELETE FROM django_migrations WHERE app = %s", ["authtoken"])
    ContentType = apps.get_model("contenttypes", "ContentType")
    # Their permissions (view_tokenproxy, granted to CX staff) go with them.
    ContentType.objects.filter(app_label="authtoken").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("apikeys", "0001_issue10_api_keys"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(hash_authtoken_keys, migrations.RunPython.noop)]
