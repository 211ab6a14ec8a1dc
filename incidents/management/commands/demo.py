"""Load the original hackathon scenario, idempotently, and print how to use it."""

import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from actions.models import Action, PushTemplate, Service, Tier, TriggerRule
from incidents.models import Integration, hash_token
from notifications.models import Channel, Customer, Device, Team

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


class Command(BaseCommand):
    help = "Create the demo scenario: action 0001 for login 503/404, teams, customers, a token."

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="Print nothing but errors.")

    @transaction.atomic
    def handle(self, *args, **options):
        login, _ = Service.objects.update_or_create(slug="login", defaults={"name": "Login no app"})
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
            },
        )
        for code in ("503", "404"):
            TriggerRule.objects.get_or_create(action=action, service=login, code=code)
        for purpose, text in ENGLISH.items():
            PushTemplate.objects.update_or_create(
                action=action, purpose=purpose, locale="en", defaults={"text": text}
            )
        for level, name, team, occurrences, minutes in TIERS:
            Tier.objects.update_or_create(
                action=action,
                level=level,
                defaults={
                    "name": name,
                    "team": teams[team],
                    "after_occurrences": occurrences,
                    "after_minutes": minutes,
                },
            )
        for external_id, locale, devices in CUSTOMERS:
            customer, _ = Customer.objects.update_or_create(
                external_id=external_id, defaults={"locale": locale}
            )
            customer.services.add(login)
            for platform, token in devices:
                Device.objects.update_or_create(
                    token=token, defaults={"customer": customer, "platform": platform}
                )

        token = self._integration_token()
        password = self._admin_password()
        if options["quiet"]:
            return
        base = settings.CXHUB_BASE_URL
        self.stdout.write(
            self.style.SUCCESS("Demo scenario ready: action 0001 'MS de Login sem resposta'.")
        )
        self.stdout.write(f"  Admin:  {base}/admin/  login admin / {password}")
        self.stdout.write(f"  Token:  {token}")
        self.stdout.write(
            f"  Try:    curl -X POST {base}/api/v1/triggers -H 'Authorization: Bearer {token}' "
            "-H 'Content-Type: application/json' "
            """-d '{"gatilhos": [{"servico": "login", "retorno": "503"}, """
            """{"servico": "login", "retorno": "404"}]}'"""
        )

    def _integration_token(self) -> str:
        """Use CXHUB_DEMO_TOKEN, or keep the demo token from var/ across runs."""
        token_file = settings.VAR_DIR / "demo_token"
        token = os.environ.get("CXHUB_DEMO_TOKEN") or (
            token_file.read_text().strip() if token_file.exists() else secrets.token_urlsafe(32)
        )
        token_file.write_text(token)
        integration = Integration.objects.filter(name="demo").first() or Integration(name="demo")
        if integration.token_hash != hash_token(token):
            integration.set_new_token(token)
            integration.save()
        return token

    def _admin_password(self) -> str:
        """Use CXHUB_DEMO_PASSWORD, or keep the generated one from var/ across runs."""
        password_file = settings.VAR_DIR / "demo_password"
        password = os.environ.get("CXHUB_DEMO_PASSWORD") or (
            password_file.read_text().strip()
            if password_file.exists()
            else secrets.token_urlsafe(12)
        )
        password_file.write_text(password)
        password_file.chmod(0o600)
        user, _ = get_user_model().objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True}
        )
        if not user.check_password(password):
            user.set_password(password)
            user.is_staff = user.is_superuser = True
            user.save()
        return password
