"""Create or rotate an integration from the command line and print its URL and token."""

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction

from incidents.admin import integration_url
from incidents.models import Integration, hash_token


class Command(BaseCommand):
    help = "Create an integration (`create <kind> --name N [--token T]`) or `rotate --name N`."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="command", required=True)
        create = commands.add_parser("create", help="Create an integration and print its token.")
        create.add_argument("kind", choices=Integration.Kind.values)
        create.add_argument("--name", required=True)
        create.add_argument("--token", help="Use this token instead of a random one.")
        create.add_argument(
            "--rate-limit", type=int, help="Requests per minute (0: no limit; default 600)."
        )
        rotate = commands.add_parser("rotate", help="Give an integration a new token.")
        rotate.add_argument("--name", required=True)
        rotate.add_argument("--token", help="Use this token instead of a random one.")

    def handle(self, *args, command, name, token=None, **options):
        if token is not None and len(token) < 16:
            raise CommandError("--token: give at least 16 characters.")
        if token and Integration.objects.filter(token_hash=hash_token(token)).exists():
            raise CommandError("--token: another integration already uses this token.")
        if command == "create":
            integration = Integration(name=name, kind=options["kind"])
            if options["rate_limit"] is not None:
                integration.rate_limit = options["rate_limit"]
            token = integration.set_new_token(token)
            try:
                with transaction.atomic():
                    integration.save()
            except IntegrityError:
                raise CommandError(f"--name: an integration named '{name}' exists.") from None
        else:
            integration = Integration.objects.filter(name=name).first()
            if integration is None:
                raise CommandError(f"--name: no integration named '{name}'.")
            token = integration.set_new_token(token)
            integration.save(update_fields=["token_hash", "token_prefix"])
        url = integration_url(integration)
        self.stdout.write(f"Integration: {integration.name} ({integration.kind})")
        self.stdout.write(f"URL:   {url}  (Authorization: Bearer <token>)")
        if integration.kind != Integration.Kind.APP_BACKEND:
            self.stdout.write(f"       {url}{token}  (for senders that cannot set headers)")
        if integration.kind == Integration.Kind.PAGERDUTY:
            self.stdout.write(f"       {url.split('/api/')[0]}/v2/enqueue  (routing_key = token)")
        self.stdout.write(f"May do: {integration.scope}")
        self.stdout.write(f"Token: {token}")
