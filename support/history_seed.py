"""Write a year of realistic history into PostgreSQL with its own bulk paths.

Every large table is filled by one `INSERT … SELECT` over `generate_series`, never an
ORM loop: incidents first (with their occurrence counts), then reports and triggers
derived from them, their timelines, deliveries, a push ledger over the seeded customers,
change events and approvals. Ids are deterministic (`md5(…)::uuid`), so a trigger can
name its report without a round trip. Only the playbooks (a few dozen rows) go through
the ORM, so they are exactly what the admin would have saved.
"""

import json
import time
from dataclasses import dataclass
from datetime import UTC, timedelta

from django.db import connection, transaction
from django.utils import timezone

from actions.models import Action, Service, Tier, TriggerRule
from incidents.counting.partitions import is_partitioned, partitions_ensure
from incidents.models import Integration
from incidents.models.policy import Policy
from notifications.models import Channel, Team
from support.foreign_keys import foreign_keys_checked_once

SEED_INTEGRATION = "seed-history"
CODES = ["503", "500", "502", "504", "404"]


@dataclass(frozen=True)
class HistorySize:
    days: int = 365
    triggers_per_day: int = 3000
    incidents_per_day: int = 8
    actions: int = 50
    services: int = 20
    customers: int = 1_000_000
    ledger_rows: int = 1_000_000
    ledger_incidents: int = 50
    storm_occurrences: int = 100_000
    unmatched_share: float = 0.02
    change_events_per_day: int = 3
    # One pushed incident in this many (by its occurrence count) asked for an approval.
    approval_every: int = 10


def seeded() -> bool:
    return Integration.objects.filter(name=SEED_INTEGRATION).exists()


def playbooks_create(size: HistorySize) -> tuple[Integration, list[Action]]:
    """Create services, teams, actions with rules and three tiers, and one integration."""
    teams = []
    for level, name in enumerate(["Seed N1", "Seed N2", "Seed coordination"], start=1):
        team, _ = Team.objects.get_or_create(slug=f"seed-n{level}", defaults={"name": name})
        Channel.objects.get_or_create(team=team, kind="console", defaults={"target": name})
        teams.append(team)
    services = [
        Service.objects.get_or_create(
            slug=f"seed-svc-{n:02d}", defaults={"name": f"Seeded service {n:02d}"}
        )[0]
        for n in range(size.services)
    ]
    actions = []
    for n in range(size.actions):
        action, _ = Action.objects.get_or_create(
            code=f"S{n:03d}",
            defaults={
                "name": f"Seeded playbook {n:03d}",
                "push_threshold": 5,
                "push_message": "Seeded outage text",
                "all_clear_message": "Seeded all-clear text",
                "quiet_minutes": 10,
                "status_visible": True,
            },
        )
        TriggerRule.objects.get_or_create(
            action=action,
            service=services[n % size.services],
            code=CODES[(n // size.services) % len(CODES)],
        )
        for level, (occurrences, minutes) in enumerate([(10, 5), (20, 20), (None, 60)], start=1):
            Tier.objects.get_or_create(
                action=action,
                level=level,
                defaults={
                    "name": teams[level - 1].name,
                    "team": teams[level - 1],
                    "after_occurrences": occurrences,
                    "after_minutes": minutes,
                },
            )
        actions.append(action)
    integration = Integration(name=SEED_INTEGRATION, kind=Integration.Kind.CXHUB)
    integration.set_new_token()
    integration.save()
    return integration, actions


# Pseudo-random but repeatable: a hash of a number scaled to [0, 1).
def _unit(expr: str, salt: str) -> str:
    return (
        f"(('x' || substr(md5('{salt}' || ({expr})::text), 1, 8))::bit(32)::bigint / 4294967296.0)"
    )


STEPS = [
    (
        "incidents",
        """
        INSERT INTO incidents_incident (id, status, occurrences, opened_at, last_occurrence_at,
            policy, escalation_level, push_queued_at, next_check_at, escalation_from,
            last_paged_at, repeats, silenced_until, silenced_by, maintenance_until,
            acknowledged_at, acknowledged_by, resolved_at, resolved_by, action_id, maintenance_id)
        SELECT md5('seed-incident-' || g.n)::uuid, 'resolved', g.occ, g.opened,
            g.opened + g.dur, a.policy,
            CASE WHEN g.occ >= 20 THEN 2 WHEN g.occ >= 10 THEN 1 ELSE 0 END
                + CASE WHEN g.dur >= interval '60 minutes' THEN 1 ELSE 0 END,
            CASE WHEN g.occ >= 5 THEN g.opened + interval '1 minute' END,
            NULL, NULL, g.opened + interval '5 minutes', 0, NULL, '', NULL,
            g.opened + g.ack, 'support', g.opened + g.dur + interval '10 minutes', 'cxhub',
            a.id, NULL
        FROM (
            SELECT d.n, d.opened, d.ack, d.dur,
                greatest(1, (%(per_incident)s * d.factor * (0.25 + 1.5 * d.r))::int) AS occ
            FROM (
                SELECT s.n,
                    date_trunc('day', %(now)s::timestamptz) - (s.n / %(k)s + 1) * interval '1 day'
                        + (s.n %% %(k)s) * (interval '1 day' / %(k)s) AS opened,
                    (2 + 28 * {r1}) * interval '1 minute' AS ack,
                    (10 + 170 * {r2}) * interval '1 minute' AS dur,
                    {r0} AS r,
                    CASE WHEN (s.n / %(k)s) %% 29 = 7 THEN 5.0
                         WHEN extract(dow FROM %(now)s::timestamptz - (s.n / %(k)s + 1)
                              * interval '1 day') IN (0, 6) THEN 0.3
                         ELSE 1.0 END AS factor
                FROM generate_series(0, %(days)s * %(k)s - 1) AS s(n)
            ) d
        ) g
        JOIN seed_actions a ON a.n = g.n %% %(actions)s
        """.format(  # noqa: S608 (constant SQL: the three hash expressions below)
            r0=_unit("s.n", "occ"), r1=_unit("s.n", "ack"), r2=_unit("s.n", "dur")
        ),
    ),
    (
        "the storm incident",
        """
        INSERT INTO incidents_incident (id, status, occurrences, opened_at, last_occurrence_at,
            policy, escalation_level, push_queued_at, next_check_at, escalation_from,
            last_paged_at, repeats, silenced_until, silenced_by, maintenance_until,
            acknowledged_at, acknowledged_by, resolved_at, resolved_by, action_id, maintenance_id)
        SELECT md5('seed-incident-storm')::uuid, 'resolved', %(storm)s, s.at,
            s.at + interval '4 hours', a.policy, 3, s.at + interval '1 minute', NULL, NULL,
            NULL, 0, NULL, '', NULL, s.at + interval '12 minutes', 'support',
            s.at + interval '4 hours 10 minutes', 'cxhub', a.id, NULL
        FROM seed_actions a
        CROSS JOIN (SELECT date_trunc('day', %(now)s::timestamptz) - interval '2 days'
            + interval '9 hours' AS at) s
        WHERE a.n = 0 AND %(storm)s > 0
        """,
    ),
    (
        "reports",
        """
        INSERT INTO incidents_report (id, received_at, payload, processed_at, integration_id,
            ordered)
        SELECT md5(i.id::text || '-' || j)::uuid, t.at,
            jsonb_build_object('gatilhos', jsonb_build_array(
                jsonb_build_object('servico', a.service, 'retorno', a.code))),
            t.at + interval '40 milliseconds', %(integration)s, false
        FROM incidents_incident i
        JOIN seed_actions a ON a.id = i.action_id
        CROSS JOIN LATERAL generate_series(1, i.occurrences) AS j
        CROSS JOIN LATERAL (SELECT i.opened_at
            + (i.last_occurrence_at - i.opened_at) * (j - 1) / greatest(i.occurrences - 1, 1)
            AS at) t
        """,
    ),
    (
        "triggers",
        """
        INSERT INTO incidents_trigger (service, code, status, fingerprint, starts_at, summary,
            received_at, matched, reprocessed_at, incident_id, report_id)
        SELECT a.service, a.code, 'firing', '', NULL, '', r.received_at, true, NULL, i.id,
            r.id
        FROM incidents_incident i
        JOIN seed_actions a ON a.id = i.action_id
        CROSS JOIN LATERAL generate_series(1, i.occurrences) AS j
        CROSS JOIN LATERAL (SELECT i.opened_at
            + (i.last_occurrence_at - i.opened_at) * (j - 1) / greatest(i.occurrences - 1, 1)
            AS at) t
        -- The report's time as well as its id: on PostgreSQL's day partitions the time
        -- names the one partition to look in (the id alone probes every day's index).
        JOIN incidents_report r ON r.id = md5(i.id::text || '-' || j)::uuid
            AND r.received_at = t.at
        """,
    ),
    (
        "incidents' trigger bounds",
        # What counting keeps on each incident (incidents.counting.bounds), from its triggers.
        """
        UPDATE incidents_incident i
        SET first_received_at = b.first, last_received_at = b.last, report_count = b.reports
        FROM (
            SELECT incident_id, min(received_at) AS first, max(received_at) AS last,
                count(DISTINCT report_id) AS reports
            FROM incidents_trigger WHERE incident_id IS NOT NULL GROUP BY incident_id
        ) b
        WHERE b.incident_id = i.id
        """,
    ),
    (
        "unmatched reports and triggers",
        """
        WITH u AS (
            SELECT md5('seed-unmatched-' || s.n)::uuid AS id,
                date_trunc('day', %(now)s::timestamptz)
                    - (s.n / %(per_day)s + 1) * interval '1 day'
                    + (s.n %% %(per_day)s) * (interval '1 day' / %(per_day)s) AS at,
                'unknown-' || (s.n %% 37) AS service
            FROM generate_series(0, %(days)s * %(per_day)s - 1) AS s(n)
        ), r AS (
            INSERT INTO incidents_report (id, received_at, payload, processed_at,
                integration_id, ordered)
            SELECT u.id, u.at, jsonb_build_object('gatilhos', jsonb_build_array(
                jsonb_build_object('servico', u.service, 'retorno', '500'))),
                u.at + interval '40 milliseconds', %(integration)s, false
            FROM u
        )
        INSERT INTO incidents_trigger (service, code, status, fingerprint, starts_at, summary,
            received_at, matched, reprocessed_at, incident_id, report_id)
        SELECT u.service, '500', 'firing', '', NULL, '', u.at, false, NULL, NULL, u.id FROM u
        """,
    ),
    (
        "timelines",
        """
        INSERT INTO incidents_timelineevent (at, kind, actor, detail, incident_id, params)
        SELECT e.at, e.kind, e.actor, e.detail, i.id, '{}'::jsonb
        FROM incidents_incident i
        JOIN seed_actions a ON a.id = i.action_id
        CROSS JOIN LATERAL (
            SELECT i.opened_at AS at, 'opened' AS kind, 'cxhub' AS actor,
                'Opened by ' || a.service || '/' || a.code AS detail
            UNION ALL SELECT i.push_queued_at, 'push_queued', 'cxhub', 'Customer push queued'
                WHERE i.push_queued_at IS NOT NULL
            UNION ALL SELECT i.opened_at + l * interval '2 minutes', 'tier_paged', 'cxhub',
                'Tier ' || l || ' paged'
                FROM generate_series(1, i.escalation_level) AS l
            UNION ALL SELECT i.opened_at + l * interval '2 minutes' + interval '1 second',
                'delivery_sent', 'cxhub', 'Page to tier ' || l || ' sent'
                FROM generate_series(1, i.escalation_level) AS l
            UNION ALL SELECT i.acknowledged_at, 'acknowledged', i.acknowledged_by, ''
            UNION ALL SELECT i.resolved_at, 'resolved', i.resolved_by, 'Quiet period over'
        ) e
        """,
    ),
    (
        "deliveries",
        """
        INSERT INTO notifications_delivery (id, key, purpose, tier_level, provider, title,
            message, recipients, size, status, attempts, last_error, created_at, due_at,
            claimed_at, sent_at, channel_id, incident_id, team_id, claim, queued_at, texts,
            quiet_hours, rate_slot_at)
        SELECT md5(d.key)::uuid, d.key, d.purpose, d.level, d.provider, d.title, d.message,
            '[]'::jsonb, d.size, 'sent', 1, '', d.at, d.at, d.at, d.at + interval '1 second',
            d.channel_id, i.id, d.team_id, NULL, d.at, '{}'::jsonb, '', NULL
        FROM incidents_incident i
        JOIN seed_actions a ON a.id = i.action_id
        CROSS JOIN LATERAL (
            SELECT 'page:' || i.id || ':' || l || ':seed' AS key, 'page' AS purpose,
                l::smallint AS level, '' AS provider, 'Tier ' || l || ' paged' AS title,
                'Seeded page' AS message, 1 AS size,
                i.opened_at + l * interval '2 minutes' AS at, c.id AS channel_id,
                t.team_id AS team_id
            FROM generate_series(1, least(i.escalation_level, 3)) AS l
            JOIN actions_tier t ON t.action_id = a.id AND t.level = l
            JOIN LATERAL (SELECT min(id) AS id FROM notifications_channel
                          WHERE team_id = t.team_id) c ON true
            UNION ALL SELECT 'push:' || i.id || ':0', 'push', NULL, 'fcm', '',
                'Seeded outage text', 0, i.push_queued_at, NULL, NULL
                WHERE i.push_queued_at IS NOT NULL
            UNION ALL SELECT 'all_clear:' || i.id || ':0', 'all_clear', NULL, 'fcm', '',
                'Seeded all-clear text', 0, i.resolved_at, NULL, NULL
                WHERE i.push_queued_at IS NOT NULL
        ) d
        """,
    ),
    (
        "customers",
        """
        INSERT INTO notifications_customer (external_id, locale, last_outage_push_at,
            created_at, updated_at, last_outage_incident_id, email, email_consent,
            opt_out_all_clear, opt_out_outage, phone, phone_consent, time_zone)
        SELECT 'seed-customer-' || lpad(s.n::text, 7, '0'),
            CASE WHEN s.n %% 5 = 0 THEN 'en' ELSE 'pt-BR' END, NULL,
            %(now)s::timestamptz, %(now)s::timestamptz, NULL, '', false, false, false, '',
            false, ''
        FROM generate_series(0, %(customers)s - 1) AS s(n)
        """,
    ),
    (
        "devices and services of customers",
        """
        WITH c AS (
            SELECT id, (substr(external_id, 15))::int AS n FROM notifications_customer
            WHERE external_id LIKE 'seed-customer-%%'
        ), d AS (
            INSERT INTO notifications_device (platform, token, enabled, disabled_at,
                disabled_reason, created_at, customer_id)
            SELECT CASE WHEN c.n %% 3 = 0 THEN 'ios' ELSE 'android' END,
                'seed-token-' || lpad(c.n::text, 7, '0'), true, NULL, '',
                %(now)s::timestamptz, c.id
            FROM c
        )
        INSERT INTO notifications_customer_services (customer_id, service_id)
        SELECT c.id, s.id FROM c
        JOIN (SELECT id, row_number() OVER (ORDER BY slug) - 1 AS k FROM actions_service
              WHERE slug LIKE 'seed-svc-%%') s ON s.k = c.n %% %(services)s
        """,
    ),
    (
        "push ledger",
        """
        WITH pushed AS (
            SELECT i.id, i.push_queued_at AS at,
                row_number() OVER (ORDER BY i.opened_at DESC) - 1 AS k
            FROM incidents_incident i
            WHERE i.push_queued_at IS NOT NULL AND i.id IN (SELECT id FROM seed_incidents)
            ORDER BY i.opened_at DESC LIMIT %(ledger_incidents)s
        ), first AS (
            SELECT min(d.id) AS id, count(*) AS n FROM notifications_device d
            WHERE d.token LIKE 'seed-token-%%'
        )
        INSERT INTO notifications_pushrecord (customer_ref, token_tail, platform, locale,
            purpose, message, provider, status, error, created_at, sent_at, customer_id,
            delivery_id, device_id, incident_id, channel, quiet_hours)
        SELECT c.external_id, right(d.token, 6), d.platform, c.locale, 'outage',
            'Seeded outage text', 'fcm', 'sent', '', p.at, p.at + interval '30 seconds',
            c.id, md5('push:' || p.id || ':0')::uuid, d.id, p.id, 'push', ''
        FROM pushed p CROSS JOIN first f
        CROSS JOIN LATERAL generate_series(0, least(%(per_push)s, f.n) - 1) AS j
        JOIN notifications_device d
            ON d.id = f.id + (p.k * 7919 * %(per_push)s + j) %% f.n
        JOIN notifications_customer c ON c.id = d.customer_id
        """,
    ),
    (
        "change events",
        """
        INSERT INTO incidents_changeevent (id, service, summary, source, at, received_at,
            links, details, integration_id)
        SELECT md5('seed-change-' || s.n)::uuid,
            'seed-svc-' || lpad((s.n %% %(services)s)::text, 2, '0'), 'Deploy ' || s.n, 'ci',
            t.at, t.at, '[]'::jsonb, '{}'::jsonb, %(integration)s
        FROM generate_series(0, %(days)s * %(changes)s - 1) AS s(n)
        CROSS JOIN LATERAL (SELECT date_trunc('day', %(now)s::timestamptz)
            - (s.n / %(changes)s + 1) * interval '1 day'
            + (s.n %% %(changes)s) * (interval '1 day' / %(changes)s)
            + interval '30 minutes' AS at) t
        """,
    ),
    (
        "approvals",
        """
        INSERT INTO incidents_pushapproval (id, status, customers, devices, threshold,
            set_up_by, requested_at, expires_at, decided_by, decided_at, incident_id)
        SELECT md5('seed-approval-' || i.id)::uuid, 'approved', 50000, 60000, 10000,
            '["cx"]'::jsonb, i.opened_at + interval '1 minute', NULL, 'admin',
            i.push_queued_at, i.id
        FROM incidents_incident i
        WHERE i.push_queued_at IS NOT NULL AND i.id IN (SELECT id FROM seed_incidents)
            AND i.occurrences %% %(approval_every)s = 0
        """,
    ),
]


def history_seed(size: HistorySize, *, now=None, log=print) -> dict:
    """Seed `size` of history ending yesterday; return {step: seconds} and row counts."""
    now = now or timezone.now()
    timings = {}
    if is_partitioned():
        # Give every seeded day its partitions first, so no row lands in the default one.
        today = now.astimezone(UTC).date()
        partitions_ensure(today - timedelta(days=size.days + 2), today)
    with transaction.atomic():
        integration, actions = playbooks_create(size)
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE seed_actions (n int, id uuid, service text, code text, "
                "policy jsonb) ON COMMIT DROP"
            )
            for n, action in enumerate(actions):
                rule = action.rules.select_related("service").get()
                cursor.execute(
                    "INSERT INTO seed_actions VALUES (%s, %s, %s, %s, %s::jsonb)",
                    [
                        n,
                        action.id,
                        rule.service.slug,
                        rule.code,
                        _json(Policy.of(action).to_json()),
                    ],
                )
            params = {
                "now": now,
                "days": size.days,
                "k": size.incidents_per_day,
                "actions": size.actions,
                "services": size.services,
                "per_incident": size.triggers_per_day / size.incidents_per_day,
                "per_day": int(size.triggers_per_day * size.unmatched_share),
                "storm": size.storm_occurrences,
                "integration": integration.id,
                "customers": size.customers,
                "ledger_incidents": size.ledger_incidents,
                "per_push": size.ledger_rows // max(size.ledger_incidents, 1),
                "changes": size.change_events_per_day,
                "approval_every": size.approval_every,
            }
            with foreign_keys_checked_once(cursor) as once:
                for name, sql in STEPS:
                    if name.startswith("unmatched") and not params["per_day"]:
                        continue  # fewer than 50 triggers a day: none unmatched
                    if name == "reports":
                        # The incidents this run wrote: reports, ledger and approvals key
                        # on them.
                        cursor.execute(
                            "CREATE TEMP TABLE seed_incidents ON COMMIT DROP AS "
                            "SELECT i.id FROM incidents_incident i "
                            "JOIN seed_actions a ON a.id = i.action_id"
                        )
                    started = time.monotonic()
                    cursor.execute(sql, params)
                    timings[name] = (cursor.rowcount, time.monotonic() - started)
                    log(f"{name}: {cursor.rowcount:,} rows in {timings[name][1]:.1f} s")
                started = time.monotonic()
            if once:
                timings["foreign keys"] = (0, time.monotonic() - started)
                log(f"foreign keys: each checked once in {timings['foreign keys'][1]:.1f} s")
        started = time.monotonic()
    timings["commit"] = (0, time.monotonic() - started)
    log(f"commit in {timings['commit'][1]:.1f} s")
    return timings


def _json(value) -> str:
    return json.dumps(value, default=str)
