"""Create a heartbeat check from the command line and print its ping URL."""

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction

from actions.models import Action, Service
from incidents.intake.heartbeats import heartbeat_rule_ensure
from incidents.models import HeartbeatCheck, Integration
from incidents.models.monitoring import heartbeat_url


class Command(BaseCommand):
    help = (
        "Create a heartbeat check: `create --name N --service S --action CODE "
        "[--every MIN] [--grace MIN] [--integration NAME [--signal-alert Watchdog]]`."
    )

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="command", required=True)
        create = commands.add_parser("create", help="Create a check and print its ping URL.")
        create.add_argument("--name", required=True)
        create.add_argument("--service", required=True, help="The service's slug (pix).")
        create.add_argument("--action", required=True, help="The code of the action to open.")
        create.add_argument("--every", type=int, default=5, help="Minutes between signals.")
        create.add_argument("--grace", type=int, default=5, help="Minutes a signal may be late.")
        create.add_argument("--integration", help="Also fed by this integration's Watchdog alert.")
        create.add_argument(
            "--signal-alert",
            default="Watchdog",
            help="The alertname of the signal alert ('' : any notification).",
        )

    def handle(self, *args, name, **options):
        service = Service.objects.filter(slug=options["service"]).first()
        if service is None:
            raise CommandError(f"--service: no service '{options['service']}'.")
        action = Action.objects.filter(code=options["action"]).first()
        if action is None:
            raise CommandError(f"--action: no action with code '{options['action']}'.")
        integration = None
        if options["integration"]:
            integration = Integration.objects.filter(name=options["integration"]).first()
            if integration is None:
                raise CommandError(f"--integration: no integration '{options['integration']}'.")
        if options["every"] < 1 or options["grace"] < 0:
            raise CommandError("--every: at least 1 minute; --grace: 0 or more.")
        check = HeartbeatCheck(
            name=name,
            service=service,
            action=action,
            integration=integration,
            signal_alertname=options["signal_alert"],
            expected_minutes=options["every"],
            grace_minutes=options["grace"],
        )
        token = check.set_new_token()
        try:
            with transaction.atomic():
                check.save()
                heartbeat_rule_ensure(check)
        except IntegrityError:
            raise CommandError(f"--name: a heartbeat check named '{name}' exists.") from None
        self.stdout.write(f"Heartbeat check: {check.name} ({service.slug} -> {action.code})")
        self.stdout.write(f"Ping:  POST or GET {heartbeat_url()}{token}")
        self.stdout.write(f"Token: {token}")
