"""Who an action's push reaches and in which words, as plain data for the policy."""

from actions import approval_rules


def audience_of(action) -> dict:
    """Return the action's audience as plain data (service ids, tag slugs, filters)."""
    return {
        "scope": action.audience_scope,
        "service_ids": sorted({rule.service_id for rule in action.rules.all()}),
        "tags": sorted(tag.slug for tag in action.audience_tags.all()) if action.pk else [],
        "platforms": sorted(action.audience_platforms or []),
        "locales": sorted(action.audience_locales or []),
    }


def texts_of(action) -> dict:
    """Return {purpose: {"default": text, locale: text, ...}} of the action's push texts."""
    texts = {
        "outage": {"default": action.push_message},
        "all_clear": {"default": action.all_clear_message},
    }
    if action.pk:
        for template in action.push_templates.all():
            texts[template.purpose][template.locale] = template.text
    return texts


def push_policy_of(action) -> dict:
    """Return the push part of an incident's policy: provider, audience, texts, safeguards.

    `critical` sends in the customers' quiet hours; `fallback` is "", "sms" or "email".
    """
    return {
        "provider": action.push_provider,
        "audience": audience_of(action),
        "texts": texts_of(action),
        # Four-eyes, frozen as the bank allows it: who may not approve alone is
        # whoever changed the action since a push of it was last approved.
        "approval": {
            "threshold": approval_rules.approval_threshold(action.approval_threshold),
            "timeout_minutes": action.approval_timeout_minutes,
            "timeout_sends": approval_rules.timeout_sends(action.approval_timeout_sends),
            "set_up_by": approval_rules.authors(action),
        },
        "critical": action.push_critical,
        "fallback": action.push_fallback,
    }
