"""Who an action's push reaches and in which words, as plain data for the policy."""


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
