from collections import defaultdict

from actions.models import ServiceName, TriggerRule
from actions.rule_codes import code_keys
from notifications.messages import PerLocale


def actions_matching(pairs) -> dict[tuple[str, str], set]:
    """Map each (service, code) pair to the ids of the enabled actions covering it.

    One indexed query for the whole batch, whatever the number of actions.
    """
    pairs = set(pairs)
    if not pairs:
        return {}
    services = {service for service, _ in pairs}
    codes = {key for _, code in pairs for key in code_keys(code)}
    rules = TriggerRule.objects.filter(
        service__slug__in=services, code__in=codes, action__enabled=True
    ).values_list("service__slug", "code", "action_id")
    by_rule = defaultdict(set)
    for service, code, action_id in rules:
        by_rule[service, code].add(action_id)
    return {
        (service, code): set().union(
            *(by_rule.get((service, key), set()) for key in code_keys(code))
        )
        for service, code in pairs
    }


def service_names(services, *, default: str) -> PerLocale:
    """Return the services' customer-facing names, joined, per language ({service})."""
    services = sorted(set(services), key=lambda s: s.slug)
    names = ServiceName.objects.filter(service__in=services)
    locales = sorted({n.locale for n in names})
    by_service = {(n.service_id, n.locale): n.name for n in names}
    return PerLocale(
        ", ".join(sorted(s.name for s in services)) or default,
        {
            locale: ", ".join(sorted(by_service.get((s.pk, locale), s.name) for s in services))
            for locale in locales
        },
    )
