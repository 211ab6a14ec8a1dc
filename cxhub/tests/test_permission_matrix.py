"""Every URL, called by every role, answers what the permission matrix says.

A URL pattern with no line in EXPECTED fails the test: adding a URL means
adding its line here (and to the matrix in docs/security.md). Admin pages of
registered models follow one rule derived from the role groups' permissions,
so a new ModelAdmin needs no line; a custom admin URL does.
"""

import json
from datetime import timedelta

import pytest
from django.contrib.admin import site
from django.contrib.auth.models import Group, User
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import ORIGINAL_PAYLOAD, post_original
from incidents.models import Incident, Integration, ingest_kinds
from incidents.outreach import links
from notifications.models import Channel
from oncall import services as oncall_services
from oncall.models import Override, Schedule
from support.roles import CX_STAFF, SUPPORT

MONITORING = [f"int:{kind}" for kind in ingest_kinds()]
INTEGRATIONS = [*MONITORING, "int:app_backend"]
PEOPLE = ["staff", "support", "cx", "superuser"]
ROLES = ["anonymous", *INTEGRATIONS, *PEOPLE]
GROUPS = {"integrations": INTEGRATIONS, "monitoring": MONITORING, "people": PEOPLE}


def expect(method="get", body=None, **statuses):
    """One line of the matrix: keys are roles (int_cxhub for int:cxhub) or groups of roles.

    Later keys override earlier ones, so `people=403, support=200` reads as
    "every person 403, but Support 200". `everyone` sets the default.
    """
    by_role = {}
    for key, status in statuses.items():
        if key == "everyone":
            roles = ROLES
        elif key in GROUPS:
            roles = GROUPS[key]
        else:
            roles = [key.replace("int_", "int:", 1)]
        for role in roles:
            by_role[role] = status
    missing = set(ROLES) - set(by_role)
    assert not missing, f"no expectation for {sorted(missing)}"
    return method, body, by_role


GENERIC = {"service": "login", "code": "503"}
PD_EVENT = {
    "event_action": "trigger",
    "payload": {"summary": "login down", "source": "login", "severity": "critical"},
}
LOGIN = "login"  # a 302 to the admin login page

# url name -> (method, body, {role: status}). Path arguments come from ARGS.
EXPECTED = {
    "home": expect(everyone=302),
    "healthz": expect(everyone=200),
    # Customer-facing and anonymous by default (CXHUB_STATUS_API_ANONYMOUS; see test_api).
    "api-status": expect(everyone=200),
    "api-status-history": expect(everyone=200),
    # Open Finance Brasil's discovery feed: anonymous, always (a regulator's reader).
    "open-finance-discovery": expect(everyone=200),
    "statuspage:status": expect(everyone=200),
    "statuspage:feed": expect(everyone=200),
    "statuspage:history": expect(everyone=200),
    # Public forms and signed links (no session needed): a bad form or token, for anyone.
    "statuspage:subscribe": expect("post", {}, everyone=400),
    "statuspage:confirm": expect(everyone=400),
    "statuspage:unsubscribe": expect(everyone=404),
    "statuspage:manage": expect(everyone=404),
    "readyz": expect(everyone=200),
    # Open in the local default; see test_metrics for production settings.
    "metrics": expect(everyone=200),
    "schema": expect(everyone=200),
    "api-docs": expect(everyone=200),
    "api-redoc": expect(everyone=200),
    "support:incidents": expect(everyone=LOGIN, staff=403, support=200, cx=200, superuser=200),
    "support:incidents-state": expect(
        everyone=LOGIN, staff=403, support=200, cx=200, superuser=200
    ),
    "support:incident": expect(everyone=LOGIN, staff=403, support=200, cx=200, superuser=200),
    "support:incident-state": expect(everyone=LOGIN, staff=403, support=200, cx=200, superuser=200),
    "support:incident-operate": expect(
        "post", {}, everyone=LOGIN, staff=403, support=302, cx=403, superuser=302
    ),
    # A written update: Support and CX staff (an empty form comes back to the page, 302).
    "support:incident-status-update": expect(
        "post", {}, everyone=LOGIN, staff=403, support=302, cx=302, superuser=302
    ),
    # Logged out: the login, and back; logged in without the permission: 403 saying why.
    "support:customers": expect(everyone=LOGIN, staff=403, support=200, cx=200, superuser=200),
    "support:reports": expect(everyone=LOGIN, staff=403, support=200, cx=200, superuser=200),
    # Choosing a language is for anyone, logged in or not.
    "support:language": expect("post", {"language": "en"}, everyone=302),
    "api-triggers": expect("post", ORIGINAL_PAYLOAD, everyone=401, integrations=403, int_cxhub=202),
    "api-integration": expect("post", GENERIC, everyone=401, integrations=403, int_generic=202),
    "api-integration-token": expect("post", GENERIC, everyone=401),
    "api-pagerduty-enqueue": expect(
        "post", PD_EVENT, everyone=400, integrations=403, int_pagerduty=202
    ),
    "api-pagerduty-change": expect(
        "post",
        {"payload": {"summary": "Deploy login-api", "source": "login"}},
        everyone=400,
        integrations=403,
        int_pagerduty=202,
    ),
    "api-changes": expect(
        "post",
        {"service": "login", "summary": "Deploy login-api"},
        everyone=401,
        monitoring=201,
        int_app_backend=403,
    ),
    # A heartbeat ping's credential is its check's token in the path (none here).
    "api-heartbeat": expect(everyone=401),
    # The Opsgenie API takes `GenieKey <token>` only: a Bearer header or a session is no key.
    "api-opsgenie-create": expect("post", {"message": "login down"}, everyone=401),
    "api-opsgenie-close": expect("post", {}, everyone=401),
    "api-opsgenie-acknowledge": expect("post", {}, everyone=401),
    # PUT only (the matrix calls with POST).
    "api-opsgenie-message": expect("post", {"message": "m"}, everyone=405),
    "api-opsgenie-description": expect("post", {"description": "d"}, everyone=405),
    "api-incidents": expect(everyone=401, staff=403, support=200, cx=200, superuser=200),
    "api-incident": expect(everyone=401, staff=403, support=200, cx=200, superuser=200),
    "api-incident-reports": expect(everyone=401, staff=403, support=200, cx=200, superuser=200),
    "api-incident-acknowledge": expect(
        "post", {}, everyone=401, staff=403, cx=403, support=200, superuser=200
    ),
    "api-incident-resolve": expect(
        "post", {}, everyone=401, staff=403, cx=403, support=200, superuser=200
    ),
    "api-incident-silence": expect(
        "post", {"minutes": 30}, everyone=401, staff=403, cx=403, support=200, superuser=200
    ),
    "incident-acknowledge-link": expect(
        everyone=LOGIN, staff=403, cx=403, support=200, superuser=200
    ),
    "api-customers": expect(
        "post",
        {"external_id": "m-1"},
        everyone=401,
        integrations=403,
        int_app_backend=201,
        people=403,
        cx=201,
        superuser=201,
    ),
    "api-customers-bulk": expect(
        "post",
        {"customers": [{"external_id": "m-2"}]},
        everyone=401,
        integrations=403,
        int_app_backend=200,
        people=403,
        cx=200,
        superuser=200,
    ),
    # The admin's own pages (model pages follow admin_model_status below).
    "admin:index": expect(everyone=LOGIN, people=200),
    "admin:login": expect(everyone=200, people=302),
    "admin:logout": expect("post", {}, everyone=302, people=200),
    "admin:password_change": expect(everyone=LOGIN, people=200),
    "admin:password_change_done": expect(everyone=LOGIN, people=200),
    "admin:jsi18n": expect(everyone=LOGIN, people=200),
    # Without its query (app, model, field) the autocomplete refuses everyone.
    "admin:autocomplete": expect(everyone=LOGIN, people=403),
    "admin:view_on_site": expect(everyone=LOGIN, people=404),
    "admin:auth_user_password_change": expect(everyone=LOGIN, people=403, superuser=200),
    "admin:app_list": expect(everyone=LOGIN, staff=404, support=200, cx=200, superuser=200),
    "admin:actions_action_dry_run": expect(
        everyone=LOGIN, staff=403, support=200, cx=200, superuser=200
    ),
    # Creating the service a triage link names: CX staff (an empty slug is refused, 302).
    "admin:actions_action_triage_service": expect(
        "post", {}, everyone=LOGIN, staff=403, support=403, cx=302, superuser=302
    ),
    "admin:notifications_team_test_page": expect(
        "post", {}, everyone=LOGIN, staff=403, support=403, cx=302, superuser=302
    ),
    "admin:notifications_channel_reveal": expect(
        everyone=LOGIN, staff=403, support=403, cx=200, superuser=200
    ),
    "admin:incidents_triagealert_reprocess": expect(
        "post", {}, everyone=LOGIN, staff=403, support=403, cx=302, superuser=302
    ),
    # On call: Support reads, CX staff also write overrides.
    "api-schedules": expect(everyone=401, staff=403, support=200, cx=200, superuser=200),
    "api-schedule-oncall": expect(everyone=401, staff=403, support=200, cx=200, superuser=200),
    "api-schedule-shifts": expect(everyone=401, staff=403, support=200, cx=200, superuser=200),
    "api-schedule-overrides": expect(
        "post",
        {"username": "sup", "start": "2030-01-01T09:00Z", "end": "2030-01-01T10:00Z"},
        everyone=401,
        staff=403,
        support=403,
        cx=201,
        superuser=201,
    ),
    # GET here; DELETE is CX staff's (oncall/tests/test_api.py).
    "api-schedule-override": expect(everyone=401, staff=403, support=200, cx=200, superuser=200),
    # A person's own page and their own things on it: both roles.
    "oncall:mine": expect(everyone=LOGIN, staff=403, support=200, cx=200, superuser=200),
    # Only one's own shift (none here: 404) and contact method (an empty form: 400).
    "oncall:hand-over": expect(
        "post", {}, everyone=LOGIN, staff=403, support=404, cx=404, superuser=404
    ),
    "oncall:contact-add": expect(
        "post", {}, everyone=LOGIN, staff=403, support=400, cx=400, superuser=400
    ),
    "oncall:contact-edit": expect(
        "post", {}, everyone=LOGIN, staff=403, support=404, cx=404, superuser=404
    ),
    "oncall:contact-delete": expect(
        "post", {}, everyone=LOGIN, staff=403, support=404, cx=404, superuser=404
    ),
    "oncall:test-page": expect(
        "post", {}, everyone=LOGIN, staff=403, support=302, cx=302, superuser=302
    ),
    "oncall:calendar-regenerate": expect(
        "post", {}, everyone=LOGIN, staff=403, support=302, cx=302, superuser=302
    ),
    "oncall:calendar-revoke": expect(
        "post", {}, everyone=LOGIN, staff=403, support=302, cx=302, superuser=302
    ),
    # The secret token in the link is the credential (a wrong one: 404).
    "oncall:calendar": expect(everyone=200),
    "admin:oncall_schedule_calendar": expect(
        "post", {}, everyone=LOGIN, staff=403, support=403, cx=302, superuser=302
    ),
}

ADMIN_MODEL_VIEWS = ("changelist", "add", "change", "delete", "history")


def url_names(patterns=None, namespace=""):
    """Yield the name of every URL pattern (namespaced), walking includes."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}"


def admin_model_names():
    return {
        f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}": model
        for model in site._registry
        for view in ADMIN_MODEL_VIEWS
    }


def test_every_url_has_an_expectation():
    models = admin_model_names()
    # "<name>-alias" is the same view under the other trailing-slash spelling.
    names = {name.removesuffix("-alias") for name in url_names()}
    missing = sorted(name for name in names if name not in EXPECTED | models)
    assert not missing, f"add these URL names to EXPECTED (and docs/security.md): {missing}"


@pytest.fixture
def world(scenario):
    post_original(1)
    incident = Incident.objects.get()
    tokens = {}
    for kind in [*ingest_kinds(), Integration.Kind.APP_BACKEND]:
        integration = Integration(name=f"matrix-{kind}", kind=kind)
        tokens[kind] = integration.set_new_token()
        integration.save()
    users = {
        "staff": User.objects.create_user("plain", is_staff=True),
        "support": User.objects.create_user("sup", is_staff=True),
        "cx": User.objects.create_user("cxs", is_staff=True),
        "superuser": User.objects.create_superuser("root"),
    }
    users["support"].groups.add(Group.objects.get(name=SUPPORT))
    users["cx"].groups.add(Group.objects.get(name=CX_STAFF))
    channel = Channel.objects.first()
    schedule = Schedule.objects.create(name="N1 on call")
    override = Override.objects.create(
        schedule=schedule,
        user=users["support"],
        start=timezone.now(),
        end=timezone.now() + timedelta(hours=1),
    )
    return {
        "incident": incident,
        "tokens": tokens,
        "users": users,
        "channel": channel,
        "schedule": schedule,
        "override": override,
        "calendar": oncall_services.calendar_link_rotate(schedule=schedule),
    }


def client_for(role, world):
    client = APIClient()
    if role.startswith("int:"):
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {world['tokens'][role[4:]]}")
    elif role != "anonymous":
        client.force_login(world["users"][role])
    return client


def args_for(name, world):
    incident = world["incident"]
    return {
        "support:incident": [incident.pk],
        "support:incident-state": [incident.pk],
        "support:incident-operate": [incident.pk, "acknowledge"],
        "support:incident-status-update": [incident.pk],
        "statuspage:confirm": ["not-a-token"],
        "statuspage:unsubscribe": ["not-a-token"],
        "statuspage:manage": ["not-a-token"],
        "api-incident": [incident.pk],
        "api-incident-reports": [incident.pk],
        "api-incident-acknowledge": [incident.pk],
        "api-incident-resolve": [incident.pk],
        "api-incident-silence": [incident.pk],
        "api-integration": ["generic"],
        "api-integration-token": ["generic", "not-a-token"],
        "api-heartbeat": ["not-a-token"],
        "open-finance-discovery": ["2", "status"],
        "api-opsgenie-close": ["some-alias"],
        "api-opsgenie-acknowledge": ["some-alias"],
        "api-opsgenie-message": ["some-alias"],
        "api-opsgenie-description": ["some-alias"],
        "incident-acknowledge-link": [incident.pk, links.acknowledge_token(incident.pk)],
        "admin:auth_user_password_change": [world["users"]["superuser"].pk],
        "admin:app_list": ["incidents"],
        "admin:view_on_site": [1, 1],
        "admin:actions_action_dry_run": [incident.action_id],
        "admin:incidents_triagealert_reprocess": [1],
        "admin:notifications_team_test_page": [world["channel"].team_id],
        "admin:notifications_channel_reveal": [world["channel"].pk],
        "api-schedule-oncall": [world["schedule"].pk],
        "api-schedule-shifts": [world["schedule"].pk],
        "api-schedule-overrides": [world["schedule"].pk],
        "api-schedule-override": [world["schedule"].pk, world["override"].pk],
        "oncall:hand-over": [0],
        "oncall:contact-edit": [0],
        "oncall:contact-delete": [0],
        "oncall:calendar": [f"{world['calendar']}.ics"],
        "admin:oncall_schedule_calendar": [world["schedule"].pk],
    }.get(name, [])


def call(client, method, url, body):
    if method == "get":
        return client.get(url)
    return client.post(url, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_url_answers_each_role_as_expected(world, name, role):
    if name == "admin:incidents_triagealert_reprocess":
        from incidents.models import TriageAlert

        now = timezone.now()
        TriageAlert.objects.create(
            pk=1, service="login", code="599", first_seen_at=now, last_seen_at=now
        )
    method, body, by_role = EXPECTED[name]
    url = reverse(name, args=args_for(name, world))
    response = call(client_for(role, world), method, url, body)
    expected = by_role[role]
    if expected == LOGIN:
        assert response.status_code == 302, (name, role, response.content[:300])
        assert response["Location"].startswith(reverse("admin:login")), (name, role)
    else:
        assert response.status_code == expected, (name, role, response.content[:300])


def holds(role, world, perm) -> bool:
    user = world["users"].get(role)
    return bool(user and user.has_perm(perm))


@pytest.mark.parametrize("role", ROLES)
def test_admin_model_pages_follow_the_role_permissions(world, role):
    """Nobody without a role sees a model page; a role sees what its group may view."""
    client = client_for(role, world)
    for model in site._registry:
        meta = model._meta
        base = f"admin:{meta.app_label}_{meta.model_name}"
        changelist = client.get(reverse(f"{base}_changelist"))
        change = client.get(reverse(f"{base}_change", args=["0"]))
        if role not in PEOPLE:
            assert changelist.status_code == change.status_code == 302, (base, role)
            assert changelist["Location"].startswith(reverse("admin:login"))
            continue
        sees = role == "superuser" or any(
            holds(role, world, f"{meta.app_label}.{verb}_{meta.model_name}")
            for verb in ("view", "change")
        )
        assert changelist.status_code == (200 if sees else 403), (base, role)
        # A missing object: refused without the permission, "not found" redirect with it.
        assert change.status_code == (302 if sees else 403), (base, role)
