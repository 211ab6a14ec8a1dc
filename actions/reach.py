"""Why an action's push would reach nobody, told to CX staff when they save it."""

from django.utils.translation import gettext as _

from actions.audiences import audience_of
from notifications.models import Device
from notifications.selectors import audience_customers


def audience_empty_reason(action) -> str | None:
    """Return why the action's audience has no enabled device, or None if it has some.

    Narrow step by step, in the order the audience applies them, and name the
    first step that leaves nobody: that is the one to change. Opt-outs are the
    customers' choice, not a setting to change, so they are not a step.
    """
    audience = audience_of(action)
    scope = {"scope": audience["scope"], "service_ids": audience["service_ids"]}
    if audience["scope"] == "service":
        if not audience["service_ids"]:
            return _("it covers no service yet: add a trigger rule.")
        if not audience_customers(scope).exists():
            names = ", ".join(sorted({rule.service.slug for rule in action.rules.all()}))
            return _("no customer uses %(services)s.") % {"services": names}
    elif not audience_customers(scope).exists():
        return _("there are no customers yet.")
    if audience["tags"] and not audience_customers({**scope, "tags": audience["tags"]}).exists():
        return _("the tag narrowing (%(tags)s) leaves no customer.") % {
            "tags": ", ".join(audience["tags"])
        }
    customers = audience_customers(audience)
    if audience["locales"] and not customers.exists():
        return _("no customer left has the locale(s) %(locales)s.") % {
            "locales": ", ".join(audience["locales"])
        }
    devices = Device.objects.filter(customer__in=customers, enabled=True)
    if not devices.exists():
        return _("those customers have no enabled device.")
    if audience["platforms"] and not devices.filter(platform__in=audience["platforms"]).exists():
        return _("none of their devices is on %(platforms)s.") % {
            "platforms": ", ".join(audience["platforms"])
        }
    return None
