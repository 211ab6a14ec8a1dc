from django.db import migrations


def fill_time_zones(apps, schema_editor):
    """Give customers stored before time zones existed the default of their locale."""
    from notifications.validators import time_zone_for

    Customer = apps.get_model("notifications", "Customer")
    empty = Customer.objects.filter(time_zone="")
    for locale in empty.values_list("locale", flat=True).distinct():
        empty.filter(locale=locale).update(time_zone=time_zone_for(locale))


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0003_issue13_contacts_preferences_quiet_hours_fallback"),
    ]

    operations = [
        migrations.RunPython(fill_time_zones, migrations.RunPython.noop),
    ]
