"""Load the original hackathon scenario, idempotently, and print how to use it."""

import os
import secrets
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from actions.models import Action, PushTemplate, Service, Tier, TriggerRule
from incidents.models import Integration, hash_token, ingest_kinds
from notifications.models import Channel, Customer, Device, Team
from oncall import services as oncall
from oncall.models import ContactMethod, Layer, LayerParticipant, Override, Schedule
from oncall.selectors import oncall_at
from statuspage.models import OpenFinanceEndpoint
from support.roles import CX_STAFF, SUPPORT, groups_ensure

TEAMS = [
    ("n1", "Analista N1"),
    ("n2", "Analista N2"),
    ("coordenacao", "Coordenação"),
    ("triage", "Triagem"),
]
# (level, name, team slug, occurrences, minutes): the seed's tiers, with N2 after N1.
TIERS = [
    (1, "Analista N1", "n1", 10, 5),
    (2, "Analista N2", "n2", 20, 20),
    (3, "Coordenação", "coordenacao", None, 60),
]
# (username, role group, password environment variable, file under var/).
DEMO_ROLE_USERS = [
    ("cx", CX_STAFF, "CXHUB_DEMO_CX_PASSWORD", "demo_cx_password"),
    ("support", SUPPORT, "CXHUB_DEMO_SUPPORT_PASSWORD", "demo_support_password"),
]
# Open Finance Brasil endpoints that need the app's login (consents, then the data behind).
OPEN_FINANCE_LOGIN = [
    "/open-banking/consents/v3/consents",
    "/open-banking/accounts/v2/accounts",
    "/open-banking/accounts/v2/accounts/{accountId}/balances",
]
# The N1 analysts on call for tier 1 (docs/oncall.md): (username, first name, last name,
# password environment variable, file under var/, SMS number). Each is woken by SMS at
# once and, if nobody has acknowledged, by e-mail five minutes later.
RESPONDERS = [
    ("ana", "Ana", "Souza", "CXHUB_DEMO_ANA_PASSWORD", "demo_ana_password", "+5511990000001"),
    (
        "bruno",
        "Bruno",
        "Lima",
        "CXHUB_DEMO_BRUNO_PASSWORD",
        "demo_bruno_password",
        "+5511990000002",
    ),
    (
        "carla",
        "Carla",
        "Dias",
        "CXHUB_DEMO_CARLA_PASSWORD",
        "demo_carla_password",
        "+5511990000003",
    ),
]
RESPONDER_EMAIL_DOMAIN = "bank.example"
EMAIL_AFTER_MINUTES = 5
SCHEDULE_NAME = "Plantão N1"
SCHEDULE_ZONE = "America/Sao_Paulo"
# The rotation's first handoff: a Monday at 09:00 in the schedule's zone; a week each.
ROTATION_START = (date(2026, 1, 5), time(9))
# The demo override: from 18:00 tomorrow to 08:00 the day after, in the schedule's zone.
OVERRIDE_FROM, OVERRIDE_HOURS = time(18), 14
PUSH_MESSAGE = "Infelizmente nosso app está indisponível, avisaremos quando voltar"
# Customers whose locale is en get these; everyone else the action's pt-BR texts.
ENGLISH = {
    "outage": "{service} is unavailable since {started_at}; we will let you know when it is back.",
    "all_clear": "{service} is working again.",
}
CUSTOMERS = [
    ("demo-customer-1", "pt-BR", [("android", "demo-token-android-1")]),
    ("demo-customer-2", "pt-BR", [("ios", "demo-token-ios-2")]),
    ("demo-customer-3", "en", [("android", "demo-token-android-3"), ("web", "demo-token-web-3")]),
]
# Customers for the push safeguards (docs/customers.md): one twelve hours from Sao Paulo,
# so one of the two is usually in its quiet hours; one with no app, only an SMS consent.
SAFEGUARD_CUSTOMERS = [
    ("demo-customer-tokyo", "en", {"time_zone": "Asia/Tokyo"}, [("ios", "demo-token-ios-tokyo")]),
    (
        "demo-customer-sms",
        "pt-BR",
        {"phone": "+5511999990000", "phone_consent": True},
        [],
    ),
]


class Command(BaseCommand):
    help = "Create the demo scenario: action 0001 for login 503/404, teams, customers, a token."

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="Print nothing but errors.")

    @transaction.atomic
    def handle(self, *args, **options):
        login, _ = Service.objects.update_or_create(
            slug="login", defaults={"name": "Login no app", "status_visible": True}
        )
        teams = {}
        for slug, name in TEAMS:
            teams[slug], _ = Team.objects.update_or_create(slug=slug, defaults={"name": name})
            Channel.objects.get_or_create(
                team=teams[slug], kind="console", defaults={"target": name}
            )
        action, _ = Action.objects.update_or_create(
            code="0001",
            defaults={
                "name": "MS de Login sem resposta",
                "enabled": True,
                "push_threshold": 5,
                "push_message": PUSH_MESSAGE,
                "all_clear_message": "Voltamos a funcionar! O app já está disponível.",
                # Lifecycle: resolve after 10 quiet minutes, reopen within 5, page the
                # highest tier again every 15 while unacknowledged, re-open an
                # acknowledgement not resolved within 30.
                "quiet_minutes": 10,
                "flap_minutes": 5,
                "repeat_minutes": 15,
                "ack_timeout_minutes": 30,
                "status_visible": True,
                "push_fallback": "sms",
            },
        )
        for code in ("503", "404"):
            TriggerRule.objects.get_or_create(action=action, service=login, code=code)
        # What the Open Finance discovery feed reports failing while login is down.
        for path in OPEN_FINANCE_LOGIN:
            OpenFinanceEndpoint.objects.get_or_create(service=login, path=path)
        for purpose, text in ENGLISH.items():
            PushTemplate.objects.update_or_create(
                action=action, purpose=purpose, locale="en", defaults={"text": text}
            )
        groups_ensure()
        responder_passwords, schedule = self._oncall(teams["n1"])
        for level, name, team, occurrences, minutes in TIERS:
            # Tier 1 pages the N1 analyst on call; nobody on call falls back to n1's channels.
            target = {"target": Tier.Target.ONCALL, "schedule": schedule} if level == 1 else {}
            Tier.objects.update_or_create(
                action=action,
                level=level,
                defaults={
                    "name": name,
                    "team": teams[team],
                    "after_occurrences": occurrences,
                    "after_minutes": minutes,
                    **target,
                },
            )
        customers = [(e, loc, {}, d) for e, loc, d in CUSTOMERS] + SAFEGUARD_CUSTOMERS
        for external_id, locale, extra, devices in customers:
            customer, _ = Customer.objects.update_or_create(
                external_id=external_id, defaults={"locale": locale, **extra}
            )
            customer.services.add(login)
            for platform, token in devices:
                Device.objects.update_or_create(
                    token=token, defaults={"customer": customer, "platform": platform}
                )

        token = self._integration_token()
        kind_tokens = {
            kind: self._integration_token(
                name=f"demo-{kind}", kind=kind, token_file=f"demo_token_{kind}", env=None
            )
            for kind in ingest_kinds()
            if kind != Integration.Kind.CXHUB
        }
        # The customer registry's own credential: monitoring tokens may not write it.
        backend_token = self._integration_token(
            name="demo-app-backend",
            kind=Integration.Kind.APP_BACKEND,
            token_file="demo_token_app_backend",  # noqa: S106 (a file name)
            env=None,
        )
        password = self._user("admin", "CXHUB_DEMO_PASSWORD", "demo_password", superuser=True)
        role_passwords = {
            username: self._user(username, env_name, file_name, role=role)
            for username, role, env_name, file_name in DEMO_ROLE_USERS
        }
        if options["quiet"]:
            return
        base = settings.CXHUB_BASE_URL
        self.stdout.write(
            self.style.SUCCESS("Demo scenario ready: action 0001 'MS de Login sem resposta'.")
        )
        self.stdout.write(f"  Admin:  {base}/admin/  login admin / {password}")
        self.stdout.write(f"  Support pages: {base}/support/")
        self.stdout.write(f"  Status page: {base}/status/  in-app status: {base}/api/v1/status")
        for username, role, *_ in DEMO_ROLE_USERS:
            self.stdout.write(f"  {role}: login {username} / {role_passwords[username]}")
        now = timezone.now()
        on_call = ", ".join(p.get_username() for p in oncall_at(schedule, now)) or "nobody"
        self.stdout.write(
            f"  On call: schedule '{SCHEDULE_NAME}' (weekly, with an override), {on_call} now; "
            f"tier 1 pages them by SMS, then e-mail after {EMAIL_AFTER_MINUTES} min "
            f"({base}/oncall/):"
        )
        for username, *_ in RESPONDERS:
            self.stdout.write(f"    login {username} / {responder_passwords[username]}")
        self.stdout.write("  Credentials, each for one thing only:")
        self.stdout.write(f"  Token:  {token}  (cxhub triggers: POST /api/v1/triggers)")
        self.stdout.write(
            f"  App backend token: {backend_token}  (customer registry: POST "
            "/api/v1/customers and /api/v1/customers/bulk)"
        )
        self.stdout.write(
            f"  Try:    curl -X POST {base}/api/v1/triggers -H 'Authorization: Bearer {token}' "
            "-H 'Content-Type: application/json' "
            """-d '{"gatilhos": [{"servico": "login", "retorno": "503"}, """
            """{"servico": "login", "retorno": "404"}]}'"""
        )
        self.stdout.write(
            "  Integrations of each kind (docs/integrations.md), URL with token "
            "(each token sends only its own kind's payloads):"
        )
        for kind, kind_token in kind_tokens.items():
            if kind == Integration.Kind.OPSGENIE:
                # The Opsgenie API lives at the root; its key goes in a header.
                self.stdout.write(f"    {kind:<13} {base}/  (GenieKey {kind_token})")
            else:
                self.stdout.write(f"    {kind:<13} {base}/api/v1/integrations/{kind}/{kind_token}")
        self.stdout.write(
            "  People: admin manages everything; CX staff configure actions, teams, "
            "integrations and customers; Support read incidents and acknowledge, resolve, "
            "silence (docs/security.md)."
        )

    def _oncall(self, team):
        """Create the N1 responders, their contact methods and their weekly schedule.

        Return their passwords and the schedule. An override (another analyst
        covering tomorrow night) is added when none lies ahead, so a rerun adds
        nothing while the last one is still to come.
        """
        passwords, people = {}, []
        for position, (username, first, last, env_name, file_name, phone) in enumerate(RESPONDERS):
            passwords[username] = self._user(username, env_name, file_name, role=SUPPORT)
            user = get_user_model().objects.get(username=username)
            email = f"{username}@{RESPONDER_EMAIL_DOMAIN}"
            if (user.first_name, user.last_name, user.email) != (first, last, email):
                user.first_name, user.last_name, user.email = first, last, email
                user.save(update_fields=["first_name", "last_name", "email"])
            for order, (kind, address, delay) in enumerate(
                [("sms", phone, 0), ("email", email, EMAIL_AFTER_MINUTES)]
            ):
                method = ContactMethod.objects.filter(user=user, kind=kind).first()
                method = method or ContactMethod(user=user, kind=kind)
                method.address, method.position, method.delay_minutes = address, order, delay
                method.enabled = True
                oncall.contact_method_save(method)
            people.append((position, user))
        zone = ZoneInfo(SCHEDULE_ZONE)
        schedule, _ = Schedule.objects.update_or_create(
            name=SCHEDULE_NAME, defaults={"time_zone": SCHEDULE_ZONE, "team": team}
        )
        day, handoff = ROTATION_START
        layer, _ = Layer.objects.update_or_create(
            schedule=schedule,
            order=1,
            defaults={
                "name": "N1",
                "rotation_type": Layer.Rotation.WEEKLY,
                "start": datetime.combine(day, handoff, tzinfo=zone),
                "end": None,
            },
        )
        for position, user in people:
            LayerParticipant.objects.update_or_create(
                layer=layer, user=user, defaults={"position": position}
            )
        now = timezone.now()
        oncall.schedule_shifts_refresh(schedule.pk, now=now)
        if not Override.objects.filter(schedule=schedule, end__gt=now).exists():
            tomorrow = timezone.localtime(now, zone).date() + timedelta(days=1)
            start = datetime.combine(tomorrow, OVERRIDE_FROM, tzinfo=zone)
            on_duty = oncall_at(schedule, start)
            cover = next(user for _, user in people if user not in on_duty)
            oncall.override_create(
                schedule=schedule,
                user=cover,
                start=start,
                end=start + timedelta(hours=OVERRIDE_HOURS),
            )
        return passwords, schedule

    def _integration_token(
        self,
        name="demo",
        kind="cxhub",
        token_file="demo_token",  # noqa: S107 (a file name)
        env="CXHUB_DEMO_TOKEN",
    ) -> str:
        """Use the env token (CXHUB_DEMO_TOKEN), or keep the integration's token from var/."""
        token_file = settings.VAR_DIR / token_file
        token = (os.environ.get(env) if env else None) or (
            token_file.read_text().strip() if token_file.exists() else secrets.token_urlsafe(32)
        )
        token_file.write_text(token)
        token_file.chmod(0o600)  # a credential: its owner's only
        integration = Integration.objects.filter(name=name).first() or Integration(
            name=name, kind=kind
        )
        if integration.token_hash != hash_token(token):
            integration.set_new_token(token)
            integration.save()
        return token

    def _user(self, username, env_name, file_name, *, superuser=False, role=None) -> str:
        """Create or update a demo user; return its password.

        The password is `env_name` from the environment, or the one generated on
        an earlier run and kept in var/`file_name`, or a new random one.
        """
        password_file = settings.VAR_DIR / file_name
        password = os.environ.get(env_name) or (
            password_file.read_text().strip()
            if password_file.exists()
            else secrets.token_urlsafe(12)
        )
        password_file.write_text(password)
        password_file.chmod(0o600)
        user, _ = get_user_model().objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": superuser}
        )
        if not user.check_password(password) or not user.is_staff:
            user.set_password(password)
            user.is_staff = True
            user.is_superuser = superuser
            user.save()
        if role:
            user.groups.set([Group.objects.get(name=role)])
        return password
