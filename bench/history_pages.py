"""Time every page that reads history, in-process, against the database in DATABASE_URL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> .venv/bin/python bench/history_pages.py

Run it once on a database seeded with a year (`manage.py seed_history --triggers-per-day
10000`) and once on an "empty" one of two days that still fills every list page (an empty
list against a full one measures the rows rendered, not history):

    manage.py seed_history --days 2 --incidents-per-day 60 --triggers-per-day 3000 \
        --customers 1000 --ledger-rows 1000 --ledger-incidents 2 --storm-occurrences 100 \
        --change-events-per-day 60 --approval-every 1
    manage.py summaries_freeze                 # both databases, before measuring

The same pages, found the same way (the biggest incident, a customer the ledger names),
so the two runs compare. Each page is
fetched `--runs` times after one warm-up through Django's test client as the seeded
superuser (no network, no server: the figure is the view, its queries and its template);
it prints p50/p95 and the number of SQL queries, and with `--json FILE` writes them for
`--compare`. `--explain` prints EXPLAIN (ANALYZE, BUFFERS) of each page's slowest query.

The figure to read is one run against both databases, interleaved:

    .venv/bin/python bench/history_pages.py --empty postgres://…/<empty db> \
        --full postgres://…/<year db> --runs 30 --json both.json

starts one process per database (each its own Django, its own DATABASE_URL) and asks
them in turn for the same page, request by request, the order swapped every run, so a
noisy neighbour slows both sides alike; it prints each page's p95 empty vs full and the
ratio. The status pages' snapshots are not cached (CXHUB_STATUS_CACHE_SECONDS=0): the
figure is the page computed, what one request in every 5 s pays.
"""

import argparse
import json
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxhub.settings")


def pages() -> list[tuple[str, str]]:
    from django.contrib import admin
    from django.urls import reverse
    from django.utils import timezone

    from incidents.models import Incident
    from notifications.models import PushRecord

    biggest = Incident.objects.order_by("-occurrences").first()
    customer = PushRecord.objects.order_by("-created_at").values_list("customer_ref", flat=True)[:1]
    customer = customer[0] if customer else "nobody"
    service = "seed-svc-03"
    today = timezone.localdate()
    year_ago = today - timedelta(days=365)
    found = [
        ("support list", "/support/"),
        ("support list, filtered", f"/support/?status=resolved&service={service}&period=30d"),
        ("support list, page 5", "/support/?page=5"),
        ("support list, search by customer", f"/support/?q={customer}"),
        ("support list state", "/support/state.json"),
        ("incident page (biggest)", f"/support/incidents/{biggest.pk}/"),
        ("incident state (biggest)", f"/support/incidents/{biggest.pk}/state.json"),
        ("customer lookup", f"/support/customers/?q={customer}"),
        ("reports, last week", "/support/reports/"),
        ("reports, 90 days", "/support/reports/?preset=90d"),
        ("reports, a year", f"/support/reports/?since={year_ago}&until={today}"),
        ("status page", "/status/"),
        ("status feed (Atom)", "/status/feed.atom"),
        ("status API", "/api/v1/status?locale=en"),
        ("status uptime history (JSON)", "/api/v1/status/history"),
        ("Open Finance discovery status", "/open-banking/discovery/v1/status"),
        ("Open Finance discovery outages", "/open-banking/discovery/v1/outages"),
        ("API incidents", "/api/v1/incidents/"),
        ("API incidents, offset 5000", "/api/v1/incidents/?offset=5000"),
        ("API incident (biggest)", f"/api/v1/incidents/{biggest.pk}/"),
        ("API incident reports (biggest)", f"/api/v1/incidents/{biggest.pk}/reports"),
        ("admin incident (biggest)", reverse("admin:incidents_incident_change", args=[biggest.pk])),
    ]
    for model in admin.site._registry:
        meta = model._meta
        found.append(
            (
                f"admin {meta.app_label}.{meta.model_name}",
                reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"),
            )
        )
    return found


def measure(runs: int, explain: bool, only: str, show_queries: bool = False) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    # A local host name: the settings' defaults, not production's checks.
    client = Client(SERVER_NAME="localhost")
    client.force_login(get_user_model().objects.get(username="admin"))
    results = {}
    for name, url in pages():
        if only and only not in name:
            continue
        client.get(url)  # warm-up: templates, per-process caches
        times = []
        queries = []

        def log(execute, sql, params, many, context, queries=queries):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                queries.append((time.perf_counter() - started, sql, params))

        with connection.execute_wrapper(log):
            response = client.get(url)
        for _ in range(runs):
            started = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        results[name] = {
            "url": url,
            "status": response.status_code,
            "p50": statistics.median(times),
            "p95": p95,
            "queries": len(queries),
        }
        print(
            f"{name:<45} {response.status_code} p50 {results[name]['p50']:7.1f} ms "
            f"p95 {p95:7.1f} ms  {len(queries):3d} queries",
            flush=True,
        )
        if show_queries:
            for took, sql, _params in queries:
                print(f"    {took * 1000:7.1f} ms  {sql[:160]}")
        if explain:
            slowest = max(queries, default=None)
            if slowest and slowest[1].lstrip().upper().startswith("SELECT"):
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest[1], slowest[2])
                    print(f"    slowest ({slowest[0] * 1000:.1f} ms): {slowest[1][:300]}")
                    for (line,) in cursor.fetchall()[:25]:
                        print("      " + line)
    return results


def serve():
    """Answer the interleaving parent: one JSON request per stdin line, one answer each."""
    import django

    # The protocol owns the real stdout; whatever Django or a view prints goes to stderr.
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    # A local host name: the settings' defaults, not production's checks.
    client = Client(SERVER_NAME="localhost")
    client.force_login(get_user_model().objects.get(username="admin"))
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "pages":
            answer = pages()
        else:
            queries = []

            def log(execute, sql, params, many, context, queries=queries):
                started = time.perf_counter()
                try:
                    return execute(sql, params, many, context)
                finally:
                    queries.append((time.perf_counter() - started, sql, params))

            with connection.execute_wrapper(log):
                started = time.perf_counter()
                response = client.get(request["url"])
                took = (time.perf_counter() - started) * 1000
            answer = {"ms": took, "status": response.status_code, "queries": len(queries)}
            if request.get("explain") and queries:
                slowest = max(queries)
                answer["slowest"] = [slowest[0] * 1000, slowest[1][:300]]
                if slowest[1].lstrip().upper().startswith("SELECT"):
                    with connection.cursor() as cursor:
                        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest[1], slowest[2])
                        answer["plan"] = [row[0] for row in cursor.fetchall()[:30]]
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


class Side:
    """One database's page process, asked one request at a time."""

    def __init__(self, database_url: str):
        import subprocess

        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "CXHUB_STATUS_CACHE_SECONDS": "0",
        }
        self.process = subprocess.Popen(  # noqa: S603 (this script, its own arguments)
            [sys.executable, __file__, "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )

    def ask(self, **request):
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the page process stopped (exit {self.process.wait()})")
        return json.loads(line)

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=30)


def p95(times: list[float]) -> float:
    times = sorted(times)
    return times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]


def interleaved(empty_url: str, full_url: str, runs: int, only: str, explain: bool) -> dict:
    """Measure every page on both databases, request by request in turn; return both."""
    sides = {"empty": Side(empty_url), "full": Side(full_url)}
    try:
        urls = {name: dict(side.ask(op="pages")) for name, side in sides.items()}
        results = {"empty": {}, "full": {}}
        print(f"{'page':<45} {'empty p95':>10} {'full p95':>10} {'ratio':>6}  queries")
        for name in urls["full"]:
            if (only and only not in name) or name not in urls["empty"]:
                continue
            # The first view may freeze summaries (a year's report: hundreds of queries
            # once); the queries counted are the second view's, what every later one costs.
            for key, side in sides.items():
                side.ask(op="get", url=urls[key][name])
            first = {k: s.ask(op="get", url=urls[k][name]) for k, s in sides.items()}
            times = {"empty": [], "full": []}
            for run in range(runs):
                order = ("empty", "full") if run % 2 == 0 else ("full", "empty")
                for key in order:
                    times[key].append(sides[key].ask(op="get", url=urls[key][name])["ms"])
            for key in sides:
                results[key][name] = {
                    "url": urls[key][name],
                    "status": first[key]["status"],
                    "p50": statistics.median(times[key]),
                    "p95": p95(times[key]),
                    "queries": first[key]["queries"],
                }
            e, f = results["empty"][name], results["full"][name]
            ratio = f["p95"] / e["p95"] if e["p95"] else float("nan")
            flag = "" if f["p95"] < 300 and ratio <= 1.5 else "  <-- over"
            statuses = ""
            if not e["status"] == f["status"] == 200:
                statuses = f"  HTTP {e['status']}/{f['status']}"
            print(
                f"{name:<45} {e['p95']:8.1f}ms {f['p95']:8.1f}ms {ratio:6.2f}  "
                f"{e['queries']} / {f['queries']}{flag}{statuses}",
                flush=True,
            )
            if explain and flag:
                answer = sides["full"].ask(op="get", url=urls["full"][name], explain=True)
                if "slowest" in answer:
                    print(f"    slowest ({answer['slowest'][0]:.1f} ms): {answer['slowest'][1]}")
                for line in answer.get("plan", []):
                    print("      " + line)
        return results
    finally:
        for side in sides.values():
            side.close()


def markdown(results: dict):
    """Print the table of docs/benchmarks.md: page, p95 empty, p95 full, ratio, queries."""
    print("| page | empty p95 | full p95 | full / empty | queries (empty / full) |")
    print("| --- | ---: | ---: | ---: | --- |")
    for name, f in results["full"].items():
        e = results["empty"][name]
        ratio = f["p95"] / e["p95"] if e["p95"] else float("nan")
        print(
            f"| {name} | {e['p95']:,.0f} ms | {f['p95']:,.0f} ms | {ratio:.2f} | "
            f"{e['queries']} / {f['queries']} |"
        )


def compare(empty: dict, full: dict):
    print(f"{'page':<45} {'empty p95':>10} {'full p95':>10} {'ratio':>6}  queries")
    for name, f in full.items():
        e = empty.get(name)
        if not e:
            continue
        ratio = f["p95"] / e["p95"] if e["p95"] else float("nan")
        flag = "" if f["p95"] < 300 and ratio <= 1.5 else "  <-- over"
        print(
            f"{name:<45} {e['p95']:8.1f}ms {f['p95']:8.1f}ms {ratio:6.2f}  "
            f"{e['queries']} / {f['queries']}{flag}"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--queries", action="store_true", help="Print each query's time.")
    parser.add_argument("--only", default="", help="Only pages whose name contains this.")
    parser.add_argument("--json", type=Path, help="Write the results here.")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("EMPTY", "FULL"))
    parser.add_argument("--empty", help="DATABASE_URL of the empty database (with --full).")
    parser.add_argument("--full", help="DATABASE_URL of the year's database (with --empty).")
    parser.add_argument("--markdown", type=Path, help="Print the table of a --json of a pair.")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    if args.markdown:
        markdown(json.loads(args.markdown.read_text()))
        return
    if args.empty and args.full:
        results = interleaved(
            args.empty, args.full, max(1, min(args.runs, 200)), args.only, args.explain
        )
        if args.json:
            args.json.write_text(json.dumps(results, indent=1))
        return
    if args.compare:
        compare(*(json.loads(p.read_text()) for p in args.compare))
        return
    import django

    django.setup()
    results = measure(max(1, min(args.runs, 200)), args.explain, args.only, args.queries)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
