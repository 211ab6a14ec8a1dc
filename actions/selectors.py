from collections import defaultdict

from actions.models import TriggerRule, code_keys


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
