"""An Opsgenie and a PagerDuty account as their APIs return them (the week of Monday 2026-06-01).

Served by `importers.tests.fakes` in the tests and by hand
(`python -m importers.tests.fakes opsgenie`).
"""

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _user(person_id: str, name: str) -> dict:
    email = f"{name.split()[0].lower()}@bank.test"
    return {"type": "user", "id": person_id, "username": email}


def _step(step_id: str, method: str, to: str, minutes: int) -> dict:
    return {
        "id": step_id,
        "sendAfter": {"timeAmount": minutes, "timeUnit": "minutes"},
        "contact": {"method": method, "to": to},
        "enabled": True,
    }


OPSGENIE = {
    "users": [
        {
            "id": f"u-{first.lower()}",
            "username": f"{first.lower()}@bank.test",
            "fullName": f"{first} {last}",
            "role": {"id": "User", "name": "User"},
            "timeZone": "America/Sao_Paulo",
            "locale": "pt_BR",
            "blocked": False,
            "verified": True,
            "createdAt": "2024-03-01T12:00:00.000Z",
        }
        for first, last in [("Ana", "Souza"), ("Bruno", "Lima"), ("Carla", "Dias"), ("Dave", "Ops")]
    ],
    "contacts": {
        "u-ana": [
            {
                "id": "c-ana-sms",
                "method": "sms",
                "to": "55-11999990001",
                "status": {"enabled": True},
                "applyOrder": 1,
            },
            {
                "id": "c-ana-mail",
                "method": "email",
                "to": "ana@bank.test",
                "status": {"enabled": True},
                "applyOrder": 0,
            },
            {
                "id": "c-ana-voice",
                "method": "voice",
                "to": "55-11999990001",
                "status": {"enabled": True},
                "applyOrder": 2,
            },
        ],
        "u-bruno": [
            {"id": "c-bruno-mail", "method": "email", "to": "bruno@bank.test", "applyOrder": 0}
        ],
        "u-carla": [{"id": "c-carla-sms", "method": "sms", "to": "55-11999990003"}],
    },
    # Each person's notification rules: what reaches them for a new alert, and when.
    "notification_rules": {
        "u-ana": [
            {
                "id": "nr-ana-new",
                "name": "New Alert",
                "actionType": "create-alert",
                "order": 0,
                "enabled": True,
                "criteria": {"type": "match-all"},
                "notificationTime": ["just-before"],
                "steps": [
                    _step("st-ana-sms", "sms", "55-11999990001", 0),
                    _step("st-ana-mail", "email", "ana@bank.test", 5),
                    _step("st-ana-voice", "voice", "55-11999990001", 10),
                ],
            },
            {
                "id": "nr-ana-ack",
                "name": "Acknowledged Alert",
                "actionType": "acknowledged-alert",
                "order": 1,
                "enabled": True,
                "steps": [_step("st-ana-ack", "email", "ana@bank.test", 0)],
            },
        ],
        "u-bruno": [
            {
                "id": "nr-bruno-new",
                "name": "New Alert",
                "actionType": "create-alert",
                "order": 0,
                "enabled": True,
                "steps": [_step("st-bruno-mail", "email", "bruno@bank.test", 0)],
            }
        ],
    },
    "teams": [
        {
            "id": "t-n1",
            "name": "N1",
            "description": "Analistas N1",
            "members": [
                {"user": {"id": "u-ana", "username": "ana@bank.test"}, "role": "admin"},
                {"user": {"id": "u-bruno", "username": "bruno@bank.test"}, "role": "user"},
            ],
        },
        {
            "id": "t-coord",
            "name": "Coordenação",
            "description": "",
            "members": [{"user": {"id": "u-carla", "username": "carla@bank.test"}, "role": "user"}],
        },
    ],
    "schedules": [
        {
            "id": "s-n1",
            "name": "N1 on call",
            "description": "",
            "timezone": "America/Sao_Paulo",
            "enabled": True,
            "ownerTeam": {"id": "t-n1", "name": "N1"},
            "rotations": [
                {
                    "id": "r-day",
                    "name": "Business hours",
                    # Monday 09:00 in Sao Paulo (UTC-3).
                    "startDate": "2026-06-01T12:00:00Z",
                    "type": "daily",
                    "length": 1,
                    "participants": [_user("u-ana", "Ana"), _user("u-bruno", "Bruno")],
                    "timeRestriction": {
                        "type": "time-of-day",
                        "restriction": {"startHour": 9, "startMin": 0, "endHour": 18, "endMin": 0},
                    },
                },
                {
                    "id": "r-night",
                    "name": "Nights",
                    "startDate": "2026-06-01T18:00:00-03:00",
                    "type": "weekly",
                    "length": 1,
                    "participants": [_user("u-carla", "Carla"), _user("u-dave", "Dave")],
                    "timeRestriction": {
                        "type": "weekday-and-time-of-day",
                        "restrictions": [
                            {
                                "startDay": day,
                                "startHour": 18,
                                "startMin": 0,
                                "endDay": DAYS[(i + 1) % 7],
                                "endHour": 9,
                                "endMin": 0,
                            }
                            for i, day in enumerate(DAYS)
                        ],
                    },
                },
            ],
        }
    ],
    "overrides": {
        "s-n1": [
            {
                "_parent": {"id": "s-n1", "name": "N1 on call", "enabled": True},
                "alias": "dave-covers-lunch",
                "user": {"type": "user", "id": "u-dave", "username": "dave@bank.test"},
                # Tuesday 12:00-14:00 in Sao Paulo.
                "startDate": "2026-06-02T15:00:00Z",
                "endDate": "2026-06-02T17:00:00Z",
                "rotations": [],
            }
        ]
    },
    "escalations": [
        {
            "id": "e-n1",
            "name": "N1 escalation",
            "description": "",
            "ownerTeam": {"id": "t-n1", "name": "N1"},
            "rules": [
                {
                    "condition": "if-not-acked",
                    "notifyType": "default",
                    "delay": {"timeAmount": 0, "timeUnit": "minutes"},
                    "recipient": {"type": "schedule", "id": "s-n1", "name": "N1 on call"},
                },
                {
                    "condition": "if-not-acked",
                    "notifyType": "default",
                    "delay": {"timeAmount": 15, "timeUnit": "minutes"},
                    "recipient": {"type": "user", "id": "u-carla", "username": "carla@bank.test"},
                },
                {
                    "condition": "if-not-closed",
                    "notifyType": "default",
                    "delay": {"timeAmount": 1, "timeUnit": "hours"},
                    "recipient": {"type": "team", "id": "t-coord", "name": "Coordenação"},
                },
            ],
            "repeat": {
                "waitInterval": 10,
                "count": 2,
                "resetRecipientStates": False,
                "closeAlertAfterAll": False,
            },
        }
    ],
}


def _pd_user(user_id, name, methods, rules, teams=("PT1",)):
    return {
        "id": user_id,
        "type": "user",
        "summary": name,
        "name": name,
        "email": f"{name.split()[0].lower()}@bank.test",
        "time_zone": "Europe/Berlin",
        "role": "user",
        "teams": [{"id": t, "type": "team_reference", "summary": "N1"} for t in teams],
        "contact_methods": methods,
        "notification_rules": rules,
    }


def _email(method_id, address):
    return {"id": method_id, "type": "email_contact_method", "label": "Work", "address": address}


def _rule(rule_id, method_id, method_type, minutes, urgency="high"):
    return {
        "id": rule_id,
        "type": "assignment_notification_rule",
        "start_delay_in_minutes": minutes,
        "contact_method": {"id": method_id, "type": method_type},
        "urgency": urgency,
    }


PAGERDUTY = {
    "users": [
        _pd_user(
            "PANA",
            "Ana Souza",
            [
                {
                    "id": "PC1",
                    "type": "sms_contact_method",
                    "label": "Mobile",
                    "country_code": 49,
                    "address": "15112345601",
                },
                _email("PC2", "ana@bank.test"),
                {
                    "id": "PC3",
                    "type": "phone_contact_method",
                    "label": "Mobile",
                    "country_code": 49,
                    "address": "15112345601",
                },
            ],
            [
                _rule("PN2", "PC2", "email_contact_method", 5),
                _rule("PN1", "PC1", "sms_contact_method", 0),
            ],
        ),
        _pd_user(
            "PBRU",
            "Bruno Lima",
            [_email("PC4", "bruno@bank.test")],
            [_rule("PN3", "PC4", "email_contact_method", 0)],
        ),
        _pd_user(
            "PCAR",
            "Carla Dias",
            [_email("PC5", "carla@bank.test")],
            [_rule("PN4", "PC5", "email_contact_method", 0, urgency="low")],
        ),
    ],
    "teams": [{"id": "PT1", "type": "team", "summary": "N1", "name": "N1", "description": ""}],
    "schedules": [
        {
            "id": "PS1",
            "type": "schedule",
            "summary": "Primary",
            "name": "Primary",
            "time_zone": "Europe/Berlin",
            "description": "",
            "teams": [{"id": "PT1", "type": "team_reference", "summary": "N1"}],
            # Highest layer first, as PagerDuty lists them.
            "schedule_layers": [
                {
                    "id": "PL2",
                    "name": "Weekend",
                    "start": "2026-05-30T09:00:00+02:00",
                    "end": None,
                    "rotation_virtual_start": "2026-05-30T09:00:00+02:00",
                    "rotation_turn_length_seconds": 86400,
                    "users": [{"user": {"id": "PCAR", "type": "user_reference"}}],
                    "restrictions": [
                        {
                            "type": "weekly_restriction",
                            "start_time_of_day": "09:00:00",
                            "duration_seconds": 129600,
                            "start_day_of_week": 6,
                        }
                    ],
                },
                {
                    "id": "PL1",
                    "name": "Weekly",
                    "start": "2026-05-25T09:00:00+02:00",
                    "end": None,
                    "rotation_virtual_start": "2026-05-25T09:00:00+02:00",
                    "rotation_turn_length_seconds": 604800,
                    "users": [
                        {"user": {"id": "PANA", "type": "user_reference"}},
                        {"user": {"id": "PBRU", "type": "user_reference"}},
                    ],
                    "restrictions": [],
                },
            ],
        }
    ],
    "overrides": {
        "PS1": [
            {
                "id": "PO1",
                "start": "2026-06-03T12:00:00+02:00",
                "end": "2026-06-03T14:00:00+02:00",
                "user": {"id": "PCAR", "type": "user_reference", "summary": "Carla Dias"},
            }
        ]
    },
    "policies": [
        {
            "id": "PEP1",
            "type": "escalation_policy",
            "name": "Primary EP",
            "num_loops": 1,
            "teams": [{"id": "PT1", "type": "team_reference"}],
            "escalation_rules": [
                {
                    "id": "PR1",
                    "escalation_delay_in_minutes": 10,
                    "targets": [{"id": "PS1", "type": "schedule_reference", "summary": "Primary"}],
                },
                {
                    "id": "PR2",
                    "escalation_delay_in_minutes": 20,
                    "targets": [{"id": "PBRU", "type": "user_reference", "summary": "Bruno Lima"}],
                },
            ],
        }
    ],
}
