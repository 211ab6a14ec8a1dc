"""A drill across hosts: three network namespaces on one machine, a storm, a cut and a kill.

    root namespace: the storm (HTTP posts) and the receiver of pages and pushes, on a
                    bridge ("front", 10.R.0.1) that reaches each app host's web
    db:             a throwaway PostgreSQL and redis-server on 10.R.1.1 (bridge "switch")
    app a, app b:   the Procfile's web, worker, pages and beat; front 10.R.0.2/.3,
                    back 10.R.1.2/.3

Under the storm, app a's back link is taken down on the db side for `cut` seconds
(its packets to PostgreSQL and Redis vanish, as in a partition: no reset, no
refusal), then brought back; a few seconds later every process of app b is
SIGKILLed, so app a, which was cut, must carry the rest alone. Both beats run
until then. What must hold is read from the database and the receiver afterwards.

By hand (root, `ip`, PostgreSQL server binaries, redis-server):

    python -m tests.drill_hosts            # the long form: a 30 s cut
    python -m tests.drill_hosts --cut 20   # the short form CI runs
"""

import argparse
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.hosts import AppHost, DatabaseHost, Network, missing_requirements
from tests.storm import ONE_TRIGGER, Receiver, probe_body
from tests.worker import ROOT, wait_for

HOT_TIERS = {1: 10, 2: 150, 3: 600}  # level -> occurrences that page it
CUSTOMERS = 40  # each with two devices on the storm's service
PROBE_EVERY = 6  # one post in this many is a fresh probe (an action of its own)
POST_TIMEOUT = 3.0
THREADS_PER_HOST = 2


@dataclass
class Post:
    host: str
    sent: float
    answered: float
    status: int  # 0: no answer (refused, timed out)
    report: str | None
    probe: str | None


@dataclass
class Storm:
    """Post `rate` triggers a second to each host (THREADS_PER_HOST threads each) until
    stopped or `max_posts` are made; a post that waits longer than POST_TIMEOUT fails."""

    hosts: dict[str, str]  # name -> base URL
    token: str
    probes: list[str]
    max_posts: int
    rate: float
    posts: list[Post] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    retired: set = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    counter: int = 0

    def _next(self) -> tuple[str, str | None] | None:
        with self.lock:
            if self.counter >= self.max_posts:
                return None
            self.counter += 1
            if self.counter % PROBE_EVERY == 0 and self.probes:
                slug = self.probes.pop()
                return probe_body(slug), slug
            return ONE_TRIGGER, None

    def _post(self, host: str):
        http = requests.Session()
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Content-Type": "application/json",
            "Host": "localhost",  # the hosts' ALLOWED_HOSTS are the local default
        }
        url = f"{self.hosts[host]}/api/v1/triggers"
        interval = THREADS_PER_HOST / self.rate
        due = time.monotonic()
        while not self.stop.is_set() and host not in self.retired:
            work = self._next()
            if work is None:
                return
            body, probe = work
            due = max(due + interval, time.monotonic())  # a slow answer is not made up for
            time.sleep(max(0.0, due - time.monotonic()))
            sent = time.monotonic()
            try:
                response = http.post(url, data=body, headers=headers, timeout=POST_TIMEOUT)
                status = response.status_code
                report = response.json().get("report") if status == 202 else None
            except (requests.RequestException, ValueError):
                status, report = 0, None
                http = requests.Session()
                time.sleep(0.05)  # a refused connection returns at once
            with self.lock:
                self.posts.append(Post(host, sent, time.monotonic(), status, report, probe))

    def start(self):
        self.threads = [
            threading.Thread(target=self._post, args=(host,), daemon=True)
            for host in self.hosts
            for _ in range(THREADS_PER_HOST)
        ]
        for thread in self.threads:
            thread.start()
        return self

    def accepted(self, host: str) -> list[Post]:
        with self.lock:
            return [p for p in self.posts if p.host == host and p.status == 202]

    def end(self):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=POST_TIMEOUT + 5)


SEED = """
import json
from actions.models import Action, Service, Tier, TriggerRule
from incidents.models import Integration
from notifications.models import Channel, Customer, Device, Team
from tests.storm import probe_actions
from tests.drill_hosts import CUSTOMERS, HOT_TIERS

receiver = {receiver!r}
login = Service.objects.create(slug="login", name="Login")
action = Action.objects.create(
    code="HOT", name="Login storm", push_threshold=5,
    push_message="App unavailable", all_clear_message="Back",
)
TriggerRule.objects.create(action=action, service=login, code="503")
for level, occurrences in HOT_TIERS.items():
    team = Team.objects.create(slug=f"tier{{level}}", name=f"Tier {{level}}")
    Channel.objects.create(team=team, kind="apprise", target=f"{{receiver}}/tier{{level}}")
    Tier.objects.create(
        action=action, level=level, name=f"N{{level}}", team=team, after_occurrences=occurrences
    )
for n in range(CUSTOMERS):
    customer = Customer.objects.create(external_id=f"c{{n}}")
    customer.services.set([login])
    for device in ("a", "b"):
        Device.objects.create(customer=customer, platform="android", token=f"tok-{{n}}-{{device}}")
slugs = probe_actions({probes}, target=f"{{receiver}}/probe")
integration = Integration(name="drill")
token = integration.set_new_token()
integration.save()
print(json.dumps({{"token": token, "probes": slugs}}))
"""


@dataclass
class Result:
    cut: float
    posts: list[Post]
    cut_at: float
    healed_at: float
    killed_at: float
    storm_end: float
    settled: float  # seconds from the storm's end until every row was processed and sent
    pages: list  # Received, paths /tier<n> and /probe/<slug>
    pushes: list  # Received, path /push
    db: dict
    fronts: dict[str, str]  # host -> front address (the address its sends come from)
    links: tuple[int, list[str]]  # acknowledge links of host b's pages opened on host a
    exited: list[str]  # host a's processes that ended on their own, with their log's tail
    figures: dict = field(default_factory=dict)

    def accepted(self, host: str | None = None) -> list[Post]:
        return [p for p in self.posts if p.status == 202 and host in (None, p.host)]

    def problems(self) -> list[str]:
        """Return every property the run broke, in words (empty: the drill passed)."""
        found = []
        db = self.db
        accepted = {p.report for p in self.accepted()}
        lost = accepted - set(db["reports"])
        if lost:
            found.append(f"{len(lost)} accepted report(s) not stored, e.g. {sorted(lost)[:3]}")
        if db["unprocessed"]:
            found.append(f"{db['unprocessed']} report(s) never processed")
        if db["unlinked"]:
            found.append(f"{db['unlinked']} trigger(s) counted by no incident")
        for code, occurrences, linked in db["incidents"]:
            if occurrences != linked:
                found.append(f"incident of {code}: {occurrences} occurrences, {linked} triggers")
        hot = [row for row in db["incidents"] if row[0] == "HOT"]
        if len(hot) != 1:
            found.append(f"{len(hot)} storm incidents (expected 1)")
        accepted_hot = sum(1 for p in self.accepted() if p.probe is None)
        stored_hot = db["hot_triggers"]
        if hot and hot[0][1] != stored_hot:
            found.append(f"storm incident counted {hot[0][1]} of {stored_hot} stored triggers")
        if stored_hot < accepted_hot:
            found.append(f"{accepted_hot} storm triggers accepted, {stored_hot} stored")
        # Pages: one delivery per due tier and probe, sent, received once.
        occurrences = hot[0][1] if hot else 0
        due_tiers = {f"/tier{level}" for level, at in HOT_TIERS.items() if occurrences >= at}
        accepted_probes = {p.probe for p in self.accepted() if p.probe}
        stored_probes = set(db["probe_incidents"])
        missing = accepted_probes - stored_probes
        if missing:
            found.append(f"{len(missing)} accepted probe(s) opened no incident")
        due = due_tiers | {f"/probe/{slug}" for slug in stored_probes}
        page_rows = db["pages"]  # (path, status) per page delivery
        rows_by_path: dict[str, int] = {}
        for path, status in page_rows:
            rows_by_path[path] = rows_by_path.get(path, 0) + 1
            if status != "sent":
                found.append(f"page {path} ended {status}")
        if set(rows_by_path) != due:
            found.append(
                f"page deliveries for {sorted(set(rows_by_path) ^ due)[:5]} differ from what is due"
            )
        twice = sorted(path for path, n in rows_by_path.items() if n > 1)
        if twice:
            found.append(f"{len(twice)} page(s) with more than one delivery row: {twice[:5]}")
        received: dict[str, set] = {}
        for page in self.pages:
            received.setdefault(page.path, set()).add(page.idempotency_key())
        if set(received) != due:
            found.append(f"pages received for {sorted(set(received) ^ due)[:5]} differ from due")
        for path, keys in received.items():
            if len(keys) > 1 or "" in keys:
                found.append(f"{path} reached the receiver as {len(keys)} distinct page(s)")
        # A copy with the page's own Idempotency-Key is the documented exception: a
        # host cut off after the receiver answered but before it recorded "sent" (its
        # front link still up) cannot tell, and the lease hands the page to another
        # host; the receiver drops the copy by its key (docs/operations.md). The
        # figures count such copies.
        # Pushes: the storm's push delivery once, each device once. A repeated batch (its
        # own Idempotency-Key again) is the same exception, for the same reason: the
        # gateway drops it by its key (the figures count such copies).
        batches: dict[str, set] = {}
        for push in self.pushes:
            batch = batches.setdefault(push.idempotency_key(), set())
            batch.update(recipient["device"] for recipient in push.json()["recipients"])
        if "" in batches:
            found.append("a push batch reached the gateway without an Idempotency-Key")
        devices = [device for batch in batches.values() for device in batch]
        if len(devices) != len(set(devices)):
            found.append(f"a device was pushed in two batches ({len(devices) - len(set(devices))})")
        if hot and occurrences >= 5 and len(set(devices)) != 2 * CUSTOMERS:
            found.append(f"{len(set(devices))} of {2 * CUSTOMERS} devices pushed")
        if db["push_rows"] != [("sent",)] * len(db["push_rows"]) or not db["push_rows"]:
            found.append(f"push deliveries ended {db['push_rows']}")
        # The host that was not cut answers every post while the other is cut.
        during = [p for p in self.posts if p.host == "b" and self.cut_at <= p.sent < self.healed_at]
        refused = [p for p in during if p.status != 202]
        if not during or refused:
            found.append(f"host b answered {len(refused)} of {len(during)} posts during the cut")
        # The cut host, alone after the kill, answers every post.
        alone = [p for p in self.posts if p.host == "a" and p.sent >= self.killed_at]
        bad = [(p.status, round(p.answered - p.sent, 2)) for p in alone if p.status != 202]
        if not alone or bad:
            found.append(
                f"host a answered {len(bad)} of {len(alone)} posts after the kill without 202"
                f" (status, seconds; 0: no answer in {POST_TIMEOUT} s): {bad[:5]}"
            )
        tried, refused = self.links
        if not tried or refused:
            found.append(f"{len(refused)} of {tried} acknowledge links refused: {refused[:3]}")
        # Host a's transactions stay open on the server while it is cut off; what they
        # locked (the storm's incident row) stalls every host until the server drops
        # them (CXHUB_DB_DEAD_PEER_SECONDS), not until the cut heals.
        gap = self.figures.get("longest_page_gap")
        if gap is None or gap >= self.cut:
            found.append(f"no page reached the receiver for {gap} s (the cut lasted {self.cut} s)")
        for process in self.exited:
            found.append(f"host a's {process}")
        if self.figures.get("a_pages_again") is None:
            found.append("host a never sent a page after the cut healed")
        return found

    def measure(self):
        """Fill `figures` with what the benchmark table reports."""
        b_during = [
            p for p in self.posts if p.host == "b" and self.cut_at <= p.sent < self.healed_at
        ]
        a_back = [
            p.answered - self.healed_at
            for p in self.posts
            if p.host == "a" and p.status == 202 and p.sent >= self.healed_at
        ]
        a_pages = [
            page.at - self.healed_at
            for page in self.pages
            if page.extra["client"] == self.fronts["a"] and page.at >= self.healed_at
        ]
        probe_latency = [
            page.at - sent
            for page in self.pages
            for sent in [self.probe_sent.get(page.path.rsplit("/", 1)[-1])]
            if sent is not None and page.at >= sent
        ]
        arrivals = sorted(page.at for page in self.pages if page.at <= self.storm_end)
        gap, gap_end = max(
            ((later - earlier, later) for earlier, later in itertools.pairwise(arrivals)),
            default=(None, None),
        )
        self.figures = {
            "posts": len(self.posts),
            "accepted": len(self.accepted()),
            "accepted_a": len(self.accepted("a")),
            "accepted_b": len(self.accepted("b")),
            "b_during_cut": len(b_during),
            "b_non_202_during_cut": sum(1 for p in b_during if p.status != 202),
            "b_slowest_during_cut": max((p.answered - p.sent for p in b_during), default=None),
            "a_202_again": min(a_back, default=None),
            "a_pages_again": min(a_pages, default=None),
            "acknowledge_links_checked": self.links[0],
            "pages": len(self.pages),
            "page_copies_dropped_by_key": len(self.pages) - len({p.path for p in self.pages}),
            "push_copies_dropped_by_key": len(self.pushes)
            - len({p.idempotency_key() for p in self.pushes}),
            "probe_page_p95": percentile(probe_latency, 0.95),
            "probe_page_max": max(probe_latency, default=None),
            **{
                f"probe_page_max_{phase}": max(
                    (
                        page.at - sent
                        for page in self.pages
                        for sent in [self.probe_sent.get(page.path.rsplit("/", 1)[-1])]
                        if sent is not None and start <= sent < end
                    ),
                    default=None,
                )
                for phase, start, end in (
                    ("before_cut", 0, self.cut_at),
                    ("during_cut", self.cut_at, self.healed_at),
                    ("after_heal", self.healed_at, self.killed_at),
                    ("after_kill", self.killed_at, self.storm_end),
                )
            },
            # The longest silence at the receiver during the storm, and when it ended.
            "longest_page_gap": gap,
            "longest_gap_ended_after_heal": gap_end - self.healed_at if gap else None,
            "settled": self.settled,
            "occurrences": max((row[1] for row in self.db["incidents"]), default=0),
        }

    @property
    def probe_sent(self) -> dict[str, float]:
        return {p.probe: p.sent for p in self.accepted() if p.probe}


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def read_database(db: DatabaseHost) -> dict:
    incidents = db.sql(
        "select a.code, i.occurrences,"
        " (select count(*) from incidents_trigger t where t.incident_id = i.id)"
        " from incidents_incident i join actions_action a on a.id = i.action_id"
    )
    pages = db.sql(
        "select c.target, d.status from notifications_delivery d"
        " join notifications_channel c on c.id = d.channel_id where d.purpose = 'page'"
    )
    return {
        "reports": [str(row[0]) for row in db.sql("select id from incidents_report")],
        "unprocessed": db.sql("select count(*) from incidents_report where processed_at is null")[
            0
        ][0],
        "unlinked": db.sql("select count(*) from incidents_trigger where incident_id is null")[0][
            0
        ],
        "hot_triggers": db.sql("select count(*) from incidents_trigger where service = 'login'")[0][
            0
        ],
        "incidents": incidents,
        "probe_incidents": [
            row[0]
            for row in db.sql(
                "select s.slug from incidents_incident i"
                " join actions_triggerrule r on r.action_id = i.action_id"
                " join actions_service s on s.id = r.service_id"
                " join actions_action a on a.id = i.action_id where a.code <> 'HOT'"
            )
        ],
        "pages": [("/" + target.split("/", 3)[3], status) for target, status in pages],
        "push_rows": db.sql(
            "select status from notifications_delivery where purpose = 'push' order by status"
        ),
    }


ACKNOWLEDGE_LINK = re.compile(r"/incidents/[0-9a-f-]{36}/acknowledge/[^\s\"'<>\\]+")


def acknowledge_links(pages: list, web_url: str) -> tuple[int, list[str]]:
    """Open each page's acknowledge link on `web_url`; return how many, and those refused.

    The link is signed by the host whose worker wrote the page; another host's web
    accepts it only if both have the same SECRET_KEY (valid: a redirect to the login
    page; a bad signature: 404).
    """
    refused, tried = [], 0
    http = requests.Session()
    for page in pages:
        found = ACKNOWLEDGE_LINK.search(page.body.decode(errors="replace"))
        if not found:
            refused.append(f"{page.path}: no acknowledge link in the page")
            continue
        tried += 1
        response = http.get(
            f"{web_url}{found.group()}",
            headers={"Host": "localhost"},
            allow_redirects=False,
            timeout=POST_TIMEOUT,
        )
        if response.status_code != 302:
            refused.append(f"{page.path}: {response.status_code}")
    return tried, refused


def settled(db: DatabaseHost) -> bool:
    [(unprocessed, unsent)] = db.sql(
        "select (select count(*) from incidents_report where processed_at is null),"
        " (select count(*) from notifications_delivery where status in ('pending', 'sending'))"
    )
    return unprocessed == 0 and unsent == 0


def run(
    tmp: Path,
    *,
    cut: float = 30.0,
    warm: int = 20,
    kill_after: float = 4.0,
    alone: float = 8.0,
    probes: int = 400,
    max_posts: int = 8000,
    rate: float = 10.0,
    settings: dict | None = None,
    log=print,
) -> Result:
    """Run the drill in `tmp`; return what happened. Everything made is undone on return."""
    network = Network()
    db = DatabaseHost(network)
    hosts: dict[str, AppHost] = {}
    receiver = None
    storm = None
    try:
        network.create()
        log(f"namespaces {sorted(network.ns.values())}, 10.{network.net}.0.0/16")
        db.start()
        receiver = Receiver(host=network.addr("front", 1))
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("CXHUB_", "CELERY_"))},
            "DATABASE_URL": db.database_url,
            "CELERY_BROKER_URL": db.redis_url(0),
            "CACHE_URL": f"rediscache://{db.address}:6379/1",  # shared failed-auth counts
            "SECRET_KEY": "drill-hosts-" + "k" * 40,  # one key for every host
            "DJANGO_SETTINGS_MODULE": "cxhub.settings",
            "PYTHONPATH": str(ROOT),
            "CXHUB_BEHIND_PROXY": "false",
            "WEB_CONCURRENCY": "2",
            "WORKER_CONCURRENCY": "2",
            "CXHUB_SWEEP_SECONDS": "1",
            "CXHUB_STALE_SECONDS": "2",
            "CXHUB_DELIVERY_LEASE_SECONDS": "5",
            "CXHUB_HTTP_TIMEOUT": "2",
            "CXHUB_QUIET_HOURS": "",
            "CXHUB_OUTBOUND_ALLOW": f"10.{network.net}.0.0/16",
            "CXHUB_PUSH_PROVIDER": "webhook",
            "CXHUB_PUSH_WEBHOOK_URL": f"{receiver.url}/push",
            "CXHUB_PUSH_WEBHOOK_SECRET": "drill",
            **(settings or {}),
        }
        on_a = ["ip", "netns", "exec", network.ns["a"]]  # a host that reaches the database
        started = time.monotonic()
        subprocess.run(
            [*on_a, sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
            cwd=ROOT, env=env, check=True, timeout=300, capture_output=True,
        )  # fmt: skip
        seeded = subprocess.run(
            [*on_a, sys.executable, "manage.py", "shell", "-c",
             SEED.format(receiver=receiver.apprise, probes=probes)],
            cwd=ROOT, env=env, check=True, timeout=120, capture_output=True, text=True,
        )  # fmt: skip
        seed = json.loads(seeded.stdout.strip().splitlines()[-1])
        log(f"migrated and seeded in {time.monotonic() - started:.1f}s")
        for name in ("a", "b"):
            hosts[name] = AppHost(name, network, db, env, tmp).start()
        wait_for(
            lambda: all(host.ready() for host in hosts.values()),
            timeout=120,
            interval=0.5,
            message="web, worker, pages and beat ready on both hosts",
        )
        storm = Storm(
            {name: host.url for name, host in hosts.items()},
            seed["token"],
            list(reversed(seed["probes"])),
            max_posts,
            rate,
        ).start()
        # The storm is on before the cut: each host has answered `warm` posts (the first
        # requests load the application in each gunicorn worker).
        wait_for(
            lambda: all(len(storm.accepted(name)) >= warm for name in hosts),
            timeout=120,
            interval=0.2,
            message=f"{warm} posts accepted by each host",
        )
        cut_at = time.monotonic()
        network.cut("a", up=False)
        log(f"host a cut from the database host for {cut:.0f}s")
        time.sleep(cut)
        network.cut("a", up=True)
        healed_at = time.monotonic()
        log("host a back")
        time.sleep(kill_after)
        storm.retired.add("b")  # its clients give up on it
        hosts["b"].kill()
        killed_at = time.monotonic()
        log("host b killed (SIGKILL, every process)")
        time.sleep(alone)
        storm.end()
        storm_end = time.monotonic()
        log(f"storm over: {len(storm.posts)} posts")
        wait_for(lambda: settled(db), timeout=120, interval=0.5, message="every row settled")
        settled_in = time.monotonic() - storm_end
        time.sleep(2)  # a late duplicate, if any, would arrive now
        # Pages host b wrote, opened on host a's web: one SECRET_KEY across hosts.
        from_b = [
            page
            for page in receiver.to("/probe")
            if page.extra["client"] == hosts["b"].front and page.at < killed_at
        ]
        links = acknowledge_links(from_b, hosts["a"].url)
        result = Result(
            cut=cut,
            posts=list(storm.posts),
            cut_at=cut_at,
            healed_at=healed_at,
            killed_at=killed_at,
            storm_end=storm_end,
            settled=settled_in,
            pages=receiver.to("/tier") + receiver.to("/probe"),
            pushes=receiver.to("/push"),
            db=read_database(db),
            fronts={name: host.front for name, host in hosts.items()},
            links=links,
            exited=[
                f"{process.name} ({process.process.returncode}):\n{process.output()[-1500:]}"
                for process in hosts["a"].processes
                if process.process.poll() is not None
            ],
        )
        result.measure()
        return result
    except BaseException:
        for host in hosts.values():
            log(host.logs())
        raise
    finally:
        if storm:
            storm.end()
        for host in hosts.values():
            host.stop()
        if receiver:
            receiver.close()
        db.stop()
        network.remove()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cut", type=float, default=30.0, help="seconds host a is cut off")
    parser.add_argument("--alone", type=float, default=15.0, help="seconds host a runs alone")
    parser.add_argument(
        "--dead-peer", help="CXHUB_DB_DEAD_PEER_SECONDS for the hosts (0: the server's own)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the hosts' logs")
    parser.add_argument("--rate", type=float, default=10.0, help="posts a second to each host")
    args = parser.parse_args(argv)
    if reason := missing_requirements():
        print(f"cannot run: {reason}", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="cxhub-hosts-"))
    try:
        settings = {} if args.dead_peer is None else {"CXHUB_DB_DEAD_PEER_SECONDS": args.dead_peer}
        result = run(tmp, cut=args.cut, alone=args.alone, rate=args.rate, settings=settings)
    finally:
        if args.keep:
            print(f"logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    for name, value in result.figures.items():
        print(f"{name}: {round(value, 2) if isinstance(value, float) else value}")
    problems = result.problems()
    for problem in problems:
        print(f"FAILED: {problem}")
    print("drill passed" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
