"""PagerDuty's REST API v2 read into a `Snapshot`: users, teams, schedules, escalation policies.

`read` does the HTTP (classic pagination: `offset`/`limit` until `more` is false);
`translate` is a pure function of the JSON. Field names are PagerDuty's
(developer.pagerduty.com, PagerDuty/api-schema).
"""

from datetime import datetime, time, timedelta

from importers import specs
from importers.client import Client

API_URL = "https://api.pagerduty.com"
PAGE = 100
# Overrides read from now to this far ahead.
OVERRIDES_AHEAD = timedelta(days=365)


def error_text(body: dict) -> str:
    """Return PagerDuty's `{"error": {"message", "code", "errors"}}` as one line."""
    error = body.get("error") if isinstance(body.get("error"), dict) else body
    text = str(error.get("message") or "")
    if error.get("errors"):
        details = error["errors"] if isinstance(error["errors"], list) else [error["errors"]]
        text += " (" + "; ".join(map(str, details)) + ")"
    if error.get("code"):
        text += f" [code {error['code']}]"
    return text.strip()


def client(api_url: str, api_key: str) -> Client:
    return Client(
        api_url,
        {
            "Authorization": f"Token token={api_key}",
            "Accept": "application/vnd.pagerduty+json;version=2",
        },
        error_text,
    )


def _all(api: Client, path: str, key: str, params: dict | None = None) -> list:
    """Return every item of a list, page by page, until the answer says `more: false`."""
    items, offset = [], 0
    while True:
        body = api.get(path, {**(params or {}), "offset": offset, "limit": PAGE})
        page = body.get(key) or []
        items.extend(page)
        if not body.get("more") or not page:
            return items
        offset += len(page)


def read(api: Client, *, now: datetime) -> dict:
    """Fetch everything the importer needs; raise SourceError when the API says no."""
    users = _all(api, "users", "users", {"include[]": ["contact_methods", "notification_rules"]})
    teams = _all(api, "teams", "teams")
    schedules = []
    for listed in _all(api, "schedules", "schedules"):
        schedule = api.get(f"schedules/{listed['id']}").get("schedule") or listed
        window = {"since": now.isoformat(), "until": (now + OVERRIDES_AHEAD).isoformat()}
        schedule["overrides"] = (
            api.get(f"schedules/{listed['id']}/overrides", window).get("overrides") or []
        )
        schedules.append(schedule)
    policies = _all(api, "escalation_policies", "escalation_policies")
    return {"users": users, "teams": teams, "schedules": schedules, "policies": policies}


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _contact_delays(user: dict) -> dict[str, int] | None:
    """Return {contact method id: minutes} from the high-urgency notification rules, or None."""
    rules = user.get("notification_rules")
    if not rules or not all(isinstance(r, dict) and "contact_method" in r for r in rules):
        return None
    delays: dict[str, int] = {}
    for rule in rules:
        if rule.get("urgency", "high") != "high":
            continue
        method = (rule.get("contact_method") or {}).get("id")
        minutes = int(rule.get("start_delay_in_minutes") or 0)
        if method:
            delays[method] = min(minutes, delays.get(method, minutes))
    return delays


def _people(users: list, skipped: list) -> list[specs.Person]:
    people = []
    for user in users:
        email = (user.get("email") or "").strip()
        delays = _contact_delays(user)
        found = []
        for index, method in enumerate(user.get("contact_methods") or []):
            kind, address = method.get("type", ""), (method.get("address") or "").strip()
            if kind.endswith("_reference"):
                skipped.append(
                    f"{email}: contact methods came as references "
                    "(the API ignored include[]=contact_methods)"
                )
                break
            if kind == "sms_contact_method":
                kind, address = "sms", f"+{method.get('country_code', '')}{address}"
            elif kind == "email_contact_method":
                kind = "email"
            else:
                skipped.append(
                    f"{email}: {kind.removesuffix('_contact_method')} contact "
                    f"{method.get('label') or address} not imported (cxhub pages by SMS, e-mail or "
                    "an Apprise URL)"
                )
                continue
            delay = (delays or {}).get(method.get("id"))
            found.append((delay if delay is not None else 0, index, method, kind, address, delay))
        contacts = []
        for position, (_order, _index, method, kind, address, delay) in enumerate(sorted(found)):
            contacts.append(
                specs.Contact(
                    external_id=str(method.get("id") or f"{user['id']}:{kind}:{address}"),
                    kind=kind,
                    address=address,
                    position=position,
                    delay_minutes=delay or 0,
                    # PagerDuty notifies only by the methods its notification rules name.
                    enabled=delays is None or delay is not None,
                )
            )
        people.append(specs.Person(str(user["id"]), email, user.get("name") or "", tuple(contacts)))
    return people


def restrictions_of(layer: dict) -> tuple[specs.Restriction, ...]:
    found = []
    for restriction in layer.get("restrictions") or []:
        hours, minutes, *rest = (int(x) for x in restriction["start_time_of_day"].split(":"))
        begin = time(hours, minutes, rest[0] if rest else 0)
        duration = timedelta(seconds=int(restriction["duration_seconds"]))
        if restriction.get("type") == "weekly_restriction":
            # ISO 8601 weekdays: 1 is Monday.
            day = int(restriction.get("start_day_of_week") or 1) - 1
            found.append(specs.Restriction("week", begin, duration, day))
        else:
            found.append(specs.Restriction("day", begin, duration))
    return tuple(found)


def _layer(layer: dict, where: str, now: datetime, skipped: list) -> specs.Layer | None:
    participants = [
        str(entry["user"]["id"]) for entry in layer.get("users") or [] if entry.get("user")
    ]
    if not participants:
        skipped.append(f"{where}: nobody takes part; layer not imported")
        return None
    seconds = int(layer["rotation_turn_length_seconds"])
    rotation, length = specs.rotation_of_seconds(seconds)
    anchor = _moment(layer["rotation_virtual_start"])
    start = _moment(layer["start"])
    # PagerDuty turns count from the virtual start; the layer is in force from `start`.
    # cxhub's layer starts at its first handoff, so begin at the last handoff before
    # `start`, with the person whose turn that is first.
    turns = max((start - anchor) // timedelta(seconds=seconds), 0)
    if turns:
        anchor += turns * timedelta(seconds=seconds)
        shift = turns % len(participants)
        participants = participants[shift:] + participants[:shift]
    if anchor < start and start > now:
        skipped.append(
            f"{where}: it starts at {start:%Y-%m-%d %H:%M}, between two handoffs; cxhub starts it "
            f"at the handoff before ({anchor:%Y-%m-%d %H:%M})"
        )
    return specs.Layer(
        name=(layer.get("name") or "")[:100],
        rotation=rotation,
        start=anchor,
        participants=tuple(participants),
        length=length,
        end=_moment(layer["end"]) if layer.get("end") else None,
        restrictions=restrictions_of(layer),
    )


def _tiers(policy: dict, schedules: set, people: set, skipped: list) -> list[specs.Tier]:
    where = f"escalation policy {policy['name']}"
    tiers, elapsed = [], 0
    for rule in policy.get("escalation_rules") or []:
        for target in rule.get("targets") or []:
            kind, target_id = target.get("type", ""), str(target.get("id"))
            label = target.get("summary") or target_id
            if kind in ("schedule_reference", "schedule") and target_id in schedules:
                tiers.append(specs.Tier(specs.SCHEDULE, target_id, elapsed, label))
            elif kind in ("user_reference", "user") and target_id in people:
                tiers.append(specs.Tier(specs.PERSON, target_id, elapsed, label))
            else:
                skipped.append(
                    f"{where}: the target {kind} {label} after {elapsed} min is not imported"
                )
        # A rule's delay is how long it waits before escalating to the next one.
        elapsed += int(rule.get("escalation_delay_in_minutes") or 0)
    if policy.get("num_loops"):
        skipped.append(
            f"{where}: {policy['num_loops']} loop(s) not imported: set the action's 'repeat "
            "page every' if wanted"
        )
    return tiers


def translate(raw: dict, *, now: datetime) -> specs.Snapshot:
    """Return what the JSON of `read` means in cxhub's terms, and what it cannot carry."""
    skipped: list[str] = []
    people = _people(raw["users"], skipped)
    known = {p.external_id for p in people}
    members: dict[str, list[str]] = {}
    for user in raw["users"]:
        for team in user.get("teams") or []:
            members.setdefault(str(team["id"]), []).append(str(user["id"]))
    teams = [
        specs.Team(
            str(t["id"]),
            t.get("name") or t.get("summary") or str(t["id"]),
            tuple(members.get(str(t["id"]), ())),
        )
        for t in raw["teams"]
    ]
    schedules = []
    for schedule in raw["schedules"]:
        layers = []
        # PagerDuty lists a schedule's layers highest first; cxhub counts from the bottom.
        for layer in reversed(schedule.get("schedule_layers") or []):
            where = f"schedule {schedule['name']}, layer {layer.get('name') or '?'}"
            found = _layer(layer, where, now, skipped)
            if found is not None:
                layers.append(found)
        overrides = []
        for override in schedule.get("overrides") or []:
            user = str((override.get("user") or {}).get("id"))
            if user not in known:
                skipped.append(
                    f"schedule {schedule['name']}: override {override.get('id')} names an "
                    "unknown user"
                )
                continue
            overrides.append(
                specs.Override(
                    str(override["id"]), user, _moment(override["start"]), _moment(override["end"])
                )
            )
        team = (schedule.get("teams") or [{}])[0].get("id")
        schedules.append(
            specs.Schedule(
                external_id=str(schedule["id"]),
                name=schedule["name"],
                time_zone=schedule.get("time_zone") or "UTC",
                team=str(team) if team else None,
                layers=tuple(layers),
                overrides=tuple(overrides),
            )
        )
    schedule_ids = {s.external_id for s in schedules}
    policies = []
    for policy in raw["policies"]:
        team = (policy.get("teams") or [{}])[0].get("id")
        policies.append(
            specs.Policy(
                external_id=str(policy["id"]),
                name=policy["name"],
                team=str(team) if team else None,
                tiers=tuple(_tiers(policy, schedule_ids, known, skipped)),
            )
        )
    return specs.Snapshot(
        source="pagerduty",
        people=tuple(people),
        teams=tuple(teams),
        schedules=tuple(schedules),
        policies=tuple(policies),
        skipped=tuple(skipped),
    )
