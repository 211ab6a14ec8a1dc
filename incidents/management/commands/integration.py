"""Create, update or rotate an integration from the command line and print its URL and token."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction

from incidents.models import Integration, hash_token
from incidents.models.integrations import integration_url
from incidents.models.mappings import LIST_KEYS, mapping_errors


def mapping_parse(pairs: list[str], mapping: dict) -> dict:
    """Apply `key=path` pairs to a mapping (`key=` drops the override; lists comma-separated)."""
    mapping = dict(mapping)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise CommandError(f"--map {pair}: give key=value, e.g. service=labels.job.")
        if not value.strip():
            mapping.pop(key, None)
        elif key in LIST_KEYS:
            mapping[key] = [v.strip() for v in value.split(",") if v.strip()]
        else:
            mapping[key] = value.strip()
    return mapping


class Command(BaseCommand):
    help = (
        "Create an integration (`create <kind> --name N [--token T] [--map k=v ...]`), "
        "change one (`update --name N [--map k=v ...] [--rate-limit R]`) or `rotate --name N`."
    )

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="command", required=True)
        create = commands.add_parser("create", help="Create an integration and print its token.")
        create.add_argument("kind", choices=Integration.Kind.values)
        create.add_argument("--name", required=True)
        create.add_argument("--token", help="Use this token instead of a random one.")
        update = commands.add_parser("update", help="Change an integration's mapping or limit.")
        update.add_argument("--name", required=True)
        for sub in (create, update):
            sub.add_argument(
                "--rate-limit",
                type=int,
                help="Requests per minute (0, the default: no limit; senders drop a 429).",
            )
            sub.add_argument(
                "--map",
                action="append",
                default=[],
                metavar="KEY=PATH",
                help="A mapping override, e.g. --map service=labels.job --map code=labels.code "
                "(lists comma-separated: --map resolved=ok,recovered; KEY= removes it).",
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
        else:
            integration = Integration.objects.filter(name=name).first()
            if integration is None:
                raise CommandError(f"--name: no integration named '{name}'.")
        if command in ("create", "update"):
            integration.mapping = mapping_parse(options["map"], integration.mapping)
            if errors := mapping_errors(integration.kind, integration.mapping):
                raise CommandError("--map: " + " ".join(errors))
            if options["rate_limit"] is not None:
                if options["rate_limit"] < 0:
                    raise CommandError("--rate-limit: give 0 or more.")
                integration.rate_limit = options["rate_limit"]
        if command == "create":
            token = integration.set_new_token(token)
            try:
                with transaction.atomic():
                    integration.save()
            except IntegrityError:
                raise CommandError(f"--name: an integration named '{name}' exists.") from None
        elif command == "update":
            integration.save(update_fields=["mapping", "rate_limit"])
            self.stdout.write(f"Integration: {integration.name} ({integration.kind}) updated")
            self.stdout.write(f"Mapping: {integration.mapping or '(the defaults)'}")
            return
        else:
            token = integration.set_new_token(token)
            integration.save(update_fields=["token_hash", "token_prefix"])
        url = integration_url(integration)
        self.stdout.write(f"Integration: {integration.name} ({integration.kind})")
        if integration.mapping:
            self.stdout.write(f"Mapping: {integration.mapping}")
        root = settings.CXHUB_BASE_URL
        if integration.kind == Integration.Kind.OPSGENIE:
            self.stdout.write(f"URL:   {url}  (api_url; Authorization: GenieKey <token>)")
        else:
            self.stdout.write(f"URL:   {url}  (Authorization: Bearer <token>)")
        if integration.kind not in (Integration.Kind.APP_BACKEND, Integration.Kind.OPSGENIE):
            self.stdout.write(f"       {url}{token}  (for senders that cannot set headers)")
        if integration.kind == Integration.Kind.PAGERDUTY:
            self.stdout.write(f"       {root}/v2/enqueue  (routing_key = token)")
            self.stdout.write(f"       {root}/v2/change/enqueue  (change events)")
        self.stdout.write(f"May do: {integration.scope}")
        self.stdout.write(f"Token: {token}")
