"""Opsgenie's REST API v2 read into a `Snapshot`: users, teams, schedules, escalations.

`read` does the HTTP (offset/limit pages followed by `paging.next`); `translate`
is a pure function of the JSON, so the mapping is tested without a network.
Field names are Opsgenie's (docs.opsgenie.com, opsgenie/opsgenie-oas).
"""

from datetime import datetime, time, timedelta

from importers import specs
from importers.client import Client

API_URL = "https://api.opsgenie.com"
PAGE = 100
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
UNITS = {"hourly": "hours", "daily": "days", "weekly": "weeks"}
MINUTES = {"minutes": 1, "hours": 60, "days": 1440}
_DAY, _WEEK = timedelta(days=1), timedelta(days=7)


def error_text(body: dict) -> str:
    """Return Opsgenie's error body as one line: message, field errors, request id."""
    text = str(body.get("message") or "")
    if isinstance(body.get("errors"), dict):
        text += " (" + "; ".join(f"{k}: {v}" for k, v in body["errors"].items()) + ")"
    if body.get("requestId"):
        text += f" [requestId {body['requestId']}]"
    return text.strip()


def client(api_url: str, api_key: str) -> Client:
    return Client(
        api_url,
        {"Authorization": f"GenieKey {api_key}", "Accept": "application/json"},
        error_text,
    )


def _all(api: Client, path: str, params: dict | None = None) -> list:
    """Return every item of a list, following `paging.next` (offset/limit) to the end."""
    body = api.get(path, params)
    items = list(body.get("data") or [])
    seen = set()
    while (next_url := (body.get("paging") or {}).get("next")) and next_url not in seen:
        seen.add(next_url)
        body = api.get(next_url)
        items.extend(body.get("data") or [])
    return items


def read(api: Client) -> dict:
    """Fetch everything the importer needs; raise SourceError when the API says no."""
    users = _all(api, "v2/users", {"limit": PAGE, "offset": 0})
    for user in users:
        path = f"v2/users/{user['id']}"
        user["contacts"] = api.get(f"{path}/contacts").get("data") or []
        # A new alert reaches a person by the steps of their "create-alert" rules, each
        # after its `sendAfter`; the list leaves the steps out, each rule has them.
        rules = api.get(f"{path}/notification-rules").get("data") or []
        user["notificationRules"] = [
            api.get(f"{path}/notification-rules/{rule['id']}").get("data") or rule
            for rule in rules
            if rule.get("actionType") == "create-alert"
        ]
    teams = [
        api.get(f"v2/teams/{team['id']}").get("data") or team for team in _all(api, "v2/teams")
    ]
    schedules = _all(api, "v2/schedules", {"expand": "rotation"})
    for schedule in schedules:
        path = f"v2/schedules/{schedule['id']}/overrides"
        schedule["overrides"] = api.get(path).get("data") or []
    escalations = _all(api, "v2/escalations")
    return {"users": users, "teams": teams, "schedules": schedules, "escalations": escalations}


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _phone(to: str) -> str:
    # Opsgenie writes numbers as "<country code>-<number>" ("55-11999990000").
    digits = "".join(c for c in to if c.isdigit())
    return f"+{digits}"


def _span(start: timedelta, end: timedelta, period: timedelta) -> timedelta:
    """Return the length from `start` to `end` on a circle of `period` (equal: a full period)."""
    length = (end - start) % period
    return length or period


def restrictions_of(rule: dict | None) -> tuple[specs.Restriction, ...]:
    """Return a rotation's `timeRestriction` as cxhub restrictions (wall-clock windows)."""
    if not rule:
        return ()
    if rule.get("type") == "time-of-day":
        # One window every day; the documented field is `restriction`, a list is read too.
        found = rule.get("restriction") or (rule.get("restrictions") or [None])[0] or {}
        start = timedelta(hours=found.get("startHour", 0), minutes=found.get("startMin", 0))
        end = timedelta(hours=found.get("endHour", 0), minutes=found.get("endMin", 0))
        opens = time(found.get("startHour", 0), found.get("startMin", 0))
        return (specs.Restriction("day", opens, _span(start, end, _DAY)),)
    windows = []
    for found in rule.get("restrictions") or []:
        day = DAYS.index(found["startDay"].lower())
        start = timedelta(
            days=day, hours=found.get("startHour", 0), minutes=found.get("startMin", 0)
        )
        end = timedelta(
            days=DAYS.index(found["endDay"].lower()),
            hours=found.get("endHour", 0),
            minutes=found.get("endMin", 0),
        )
        windows.append(
            specs.Restriction(
                "week",
                time(found.get("startHour", 0), found.get("startMin", 0)),
                _span(start, end, _WEEK),
                day,
            )
        )
    return tuple(windows)


def _person(recipient: dict, by_id: dict, by_name: dict) -> str | None:
    """Return the external id of the user a recipient names (by id, username or name)."""
    if recipient.get("id") in by_id:
        return recipient["id"]
    for key in ("username", "name"):
        if (recipient.get(key) or "").lower() in by_name:
            return by_name[recipient[key].lower()]
    return None


def _address(method: str | None, to: str) -> tuple:
    """Return a contact's (method, address) as comparable: phone numbers by their digits."""
    to = to.strip()
    return (method, _phone(to) if method in ("sms", "voice") else to.lower())


def _minutes(duration: dict | None) -> int:
    duration = duration or {}
    return int(duration.get("timeAmount") or 0) * MINUTES.get(duration.get("timeUnit"), 1)


def contact_delays(user: dict, skipped: list) -> dict[tuple, int] | None:
    """Return {(method, address): minutes} from the user's new-alert rules, or None if unknown.

    A contact in no enabled step of an enabled rule is not used for new alerts.
    Rules may have conditions and time restrictions; a contact takes its shortest
    delay among them.
    """
    if "notificationRules" not in user:
        return None
    rules = [r for r in user["notificationRules"] if r.get("enabled", True)]
    if not rules:
        return None
    if len(rules) > 1 or any(r.get("timeRestriction") for r in rules):
        skipped.append(
            f"{user.get('username')}: {len(rules)} new-alert notification rule(s) with "
            "conditions or time restrictions; cxhub keeps one delay per contact method (the "
            "shortest)"
        )
    delays: dict[tuple, int] = {}
    for rule in rules:
        for step in rule.get("steps") or []:
            if not step.get("enabled", True):
                continue
            contact = step.get("contact") or {}
            key = _address(contact.get("method"), contact.get("to") or "")
            minutes = _minutes(step.get("sendAfter"))
            delays[key] = min(minutes, delays.get(key, minutes))
    return delays


def _people(users: list, skipped: list) -> list[specs.Person]:
    people = []
    for user in users:
        email = (user.get("username") or "").strip()
        delays = contact_delays(user, skipped)
        contacts = []

        def order(pair, delays=delays):
            index, contact = pair
            delay = (delays or {}).get(_address(contact.get("method"), contact.get("to") or ""))
            unused = delays is not None and delay is None
            return (unused, delay or 0, contact.get("applyOrder", index), index)

        for _index, contact in sorted(enumerate(user.get("contacts") or []), key=order):
            method, to = contact.get("method"), (contact.get("to") or "").strip()
            if method not in ("email", "sms") or not to:
                skipped.append(
                    f"{email}: {method} contact {to or '(empty)'} not imported (cxhub pages by "
                    "SMS, e-mail or an Apprise URL)"
                )
                continue
            delay = None if delays is None else delays.get(_address(method, to))
            contacts.append(
                specs.Contact(
                    external_id=str(contact.get("id") or f"{user['id']}:{method}:{to}"),
                    kind=method,
                    address=_phone(to) if method == "sms" else to,
                    position=len(contacts),
                    delay_minutes=delay or 0,
                    # Opsgenie pages a new alert only by the contacts its rules' steps name.
                    enabled=(contact.get("status") or {}).get("enabled", True)
                    and (delays is None or delay is not None),
                )
            )
        people.append(
            specs.Person(str(user["id"]), email, user.get("fullName") or "", tuple(contacts))
        )
    return people


def _layers(schedule: dict, people: tuple, skipped: list) -> list[specs.Layer]:
    by_id, by_name = people
    layers = []
    for number, rotation in enumerate(schedule.get("rotations") or [], start=1):
        name = rotation.get("name") or f"Rotation {number}"
        where = f"schedule {schedule['name']}, rotation {name}"
        participants = []
        for participant in rotation.get("participants") or []:
            kind = participant.get("type")
            person = _person(participant, by_id, by_name) if kind == "user" else None
            if person is None:
                named = participant.get("name") or participant.get("id") or "-"
                skipped.append(
                    f"{where}: a {kind} participant ({named}) is left out: cxhub rotations "
                    "take turns among people, so the turns after it come earlier than in Opsgenie"
                )
                continue
            participants.append(person)
        if not participants:
            skipped.append(f"{where}: no person takes part; rotation not imported")
            continue
        if rotation.get("type") not in UNITS:
            skipped.append(f"{where}: unknown type {rotation.get('type')!r}; rotation not imported")
            continue
        kind, length = specs.rotation_of(UNITS[rotation["type"]], rotation.get("length") or 1)
        layers.append(
            specs.Layer(
                name=name[:100],
                rotation=kind,
                start=_moment(rotation["startDate"]),
                participants=tuple(participants),
                length=length,
                end=_moment(rotation["endDate"]) if rotation.get("endDate") else None,
                restrictions=restrictions_of(rotation.get("timeRestriction")),
            )
        )
    return layers


def _overrides(schedule: dict, people: tuple, skipped: list) -> list[specs.Override]:
    found = []
    for override in schedule.get("overrides") or []:
        alias = override.get("alias") or f"{override.get('startDate')}"
        person = _person(override.get("user") or {}, *people)
        if person is None:
            skipped.append(
                f"schedule {schedule['name']}, override {alias}: its user is not a known person"
            )
            continue
        if override.get("rotations"):
            skipped.append(
                f"schedule {schedule['name']}, override {alias}: Opsgenie applies it to some "
                "rotations only; in cxhub it covers the whole schedule"
            )
        found.append(
            specs.Override(
                alias, person, _moment(override["startDate"]), _moment(override["endDate"])
            )
        )
    return found


def _team_id(reference: dict | None, teams: list) -> str | None:
    if not reference:
        return None
    for team in teams:
        if reference.get("id") == team.get("id") or (
            reference.get("name") and reference.get("name") == team.get("name")
        ):
            return str(team["id"])
    return None


def _tiers(escalation: dict, raw: dict, people: tuple, skipped: list) -> list[specs.Tier]:
    where = f"escalation {escalation['name']}"
    tiers = []
    # Each rule's delay counts from the alert's creation (not from the rule before).
    rules = sorted(escalation.get("rules") or [], key=lambda r: _minutes(r.get("delay")))
    for rule in rules:
        minutes = _minutes(rule.get("delay"))
        recipient = rule.get("recipient") or {}
        kind = recipient.get("type")
        label = recipient.get("name") or recipient.get("username") or kind or "?"
        if rule.get("condition") == "if-not-closed":
            skipped.append(
                f"{where}: the rule for {label} waits for a close; cxhub tiers stop at the "
                "acknowledgement (the rule is imported as if-not-acked)"
            )
        notify = rule.get("notifyType", "default")
        if kind == "schedule":
            schedule = next(
                (
                    s
                    for s in raw["schedules"]
                    if s.get("id") == recipient.get("id") or s.get("name") == recipient.get("name")
                ),
                None,
            )
            if schedule is None or notify != "default":
                why = (
                    "unknown schedule"
                    if schedule is None
                    else f"notifies the {notify} on-call; cxhub pages who is on call now"
                )
                skipped.append(
                    f"{where}: the rule for schedule {label} after {minutes} min is not imported "
                    f"({why})"
                )
                continue
            tiers.append(specs.Tier(specs.SCHEDULE, str(schedule["id"]), minutes, label))
        elif kind == "team":
            team = _team_id(recipient, raw["teams"])
            if team is None:
                skipped.append(f"{where}: the rule for team {label} names an unknown team")
                continue
            if notify not in ("default", "all"):
                skipped.append(
                    f"{where}: the rule for team {label} notifies its {notify}; cxhub pages the "
                    "team's channels"
                )
            tiers.append(specs.Tier(specs.TEAM, team, minutes, label))
        elif kind == "user" and (person := _person(recipient, *people)) is not None:
            tiers.append(specs.Tier(specs.PERSON, person, minutes, label))
        else:
            skipped.append(
                f"{where}: the rule for {kind} {label} after {minutes} min is not imported "
                "(cxhub tiers page a schedule's on-call, a team or a person)"
            )
    repeat = escalation.get("repeat") or {}
    if repeat.get("waitInterval"):
        skipped.append(
            f"{where}: repeat every {repeat['waitInterval']} min ({repeat.get('count') or '?'} "
            "times) not imported: set the action's 'repeat page every' if wanted"
        )
    return tiers


def translate(raw: dict, *, now: datetime) -> specs.Snapshot:
    """Return what the JSON of `read` means in cxhub's terms, and what it cannot carry."""
    skipped: list[str] = []
    people = _people(raw["users"], skipped)
    by_id = {p.external_id: p for p in people}
    by_name = {p.email.lower(): p.external_id for p in people}
    lookup = (by_id, by_name)
    teams = []
    for team in raw["teams"]:
        members = []
        for member in team.get("members") or []:
            person = _person(member.get("user") or {}, *lookup)
            if person is not None:
                members.append(person)
        teams.append(specs.Team(str(team["id"]), team["name"], tuple(members)))
    schedules = []
    for schedule in raw["schedules"]:
        layers = _layers(schedule, lookup, skipped)
        found = specs.Schedule(
            external_id=str(schedule["id"]),
            name=schedule["name"],
            time_zone=schedule.get("timezone") or "UTC",
            team=_team_id(schedule.get("ownerTeam"), raw["teams"]),
            layers=tuple(layers),
            overrides=tuple(_overrides(schedule, lookup, skipped)),
            # "All on-call users from different rotations are notified" (Opsgenie's docs).
            layers_add_up=True,
        )
        schedules.append(found)
    policies = [
        specs.Policy(
            external_id=str(escalation["id"]),
            name=escalation["name"],
            team=_team_id(escalation.get("ownerTeam"), raw["teams"]),
            tiers=tuple(_tiers(escalation, raw, lookup, skipped)),
        )
        for escalation in raw["escalations"]
    ]
    return specs.Snapshot(
        source="opsgenie",
        people=tuple(people),
        teams=tuple(teams),
        schedules=tuple(schedules),
        policies=tuple(policies),
        skipped=tuple(skipped),
    )
