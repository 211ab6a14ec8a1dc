import pytest
from django.core.exceptions import ValidationError

from actions.models import Tier, validate_tier_order
from actions.rule_codes import code_keys
from actions.selectors import actions_matching


def test_code_keys_cover_exact_class_and_any():
    assert code_keys("503") == ["503", "5xx", "*"]
    assert code_keys("timeout") == ["timeout", "*"]
    assert code_keys("0503") == ["0503", "*"]


def test_tiers_going_down_are_rejected_with_a_message_naming_them():
    tiers = [
        Tier(level=1, name="Analista N1", after_occurrences=10, after_minutes=5),
        Tier(level=2, name="Analista N2", after_occurrences=5, after_minutes=20),
    ]
    with pytest.raises(ValidationError) as exc:
        validate_tier_order(tiers)
    assert "Tier 2 (Analista N2) fires at 5 occurrences, before tier 1 (Analista N1)" in str(
        exc.value
    )


def test_tiers_with_missing_thresholds_compare_only_what_both_have():
    validate_tier_order(
        [
            Tier(level=1, name="a", after_occurrences=10, after_minutes=5),
            Tier(level=2, name="b", after_occurrences=20, after_minutes=20),
            Tier(level=3, name="c", after_minutes=60),
        ]
    )


def test_matching_uses_exact_class_and_any_rules(scenario):
    from actions.models import Action, TriggerRule

    login = scenario["login"]
    broad = Action.objects.create(code="0002", name="Login 5xx")
    TriggerRule.objects.create(action=broad, service=login, code="5xx")
    anything = Action.objects.create(code="0003", name="Login anything")
    TriggerRule.objects.create(action=anything, service=login, code="*")
    disabled = Action.objects.create(code="0004", name="off", enabled=False)
    TriggerRule.objects.create(action=disabled, service=login, code="503")

    matches = actions_matching([("login", "503"), ("login", "404"), ("login", "502"), ("pix", "1")])

    action = scenario["action"]
    assert matches["login", "503"] == {action.pk, broad.pk, anything.pk}
    assert matches["login", "404"] == {action.pk, anything.pk}
    assert matches["login", "502"] == {broad.pk, anything.pk}
    assert matches["pix", "1"] == set()


def test_matching_costs_one_query_whatever_the_batch(scenario, django_assert_num_queries):
    pairs = [("login", str(code)) for code in range(400, 600)]
    with django_assert_num_queries(1):
        actions_matching(pairs)
