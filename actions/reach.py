"""Why an action's push would reach nobody, told to CX staff when they save it."""

from django.utils.translation import gettext as _

from actions.audiences import audience_of
from notifications.models import Customer, Device


def audience_empty_reason(action) -> str | None:
    """Return why the action's audience has no enabled device, or None if it has some.

    Narrow step by step, in the order the audience applies them, and name the
    first step that leaves nobody: that is the one to change.
    """
    audience = audience_of(action)
    customers = Customer.objects.all()
    if audience["scope"] == "service":
        if not audience["service_ids"]:
            return _("it covers no service yet: add a trigger rule.")
        customers = customers.filter(services__in=audience["service_ids"]).distinct()
        if not customers.exists():
            names = ", ".join(sorted({rule.service.slug for rule in action.rules.all()}))
            return _("no customer uses %(services)s.") % {"services": names}
    elif not customers.exists():
        return _("there are no customers yet.")
    if audience["tags"]:
        customers = customers.filter(tags__slug__in=audience["tags"]).distinct()
        if not customers.exists():
            return _("the tag narrowing (%(tags)s) leaves no customer.") % {
                "tags": ", ".join(audience["tags"])
            }
    if audience["locales"]:
        customers = customers.filter(locale__in=audience["locales"])
        if not customers.exists():
            return _("no customer left has the locale(s) %(locales)s.") % {
                "locales": ", ".join(audience["locales"])
            }
    devices = Device.objects.filter(customer__in=customers)
    if not devices.filter(enabled=True).exists():
        return _("those customers have no enabled device.")
    if (
        audience["platforms"]
        and not devices.filter(enabled=True, platform__in=audience["platforms"]).exists()
    ):
        return _("none of their devices is on %(platforms)s.") % {
            "platforms": ", ".join(audience["platforms"])
        }
    return None
