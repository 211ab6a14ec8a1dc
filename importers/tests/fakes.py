"""Local servers that speak Opsgenie's and PagerDuty's REST APIs as their documentation shows.

Written from the public documentation (docs.opsgenie.com and opsgenie/opsgenie-oas;
developer.pagerduty.com and PagerDuty/api-schema): the same paths, authorization
headers, pagination (Opsgenie: offset/limit and `paging.next` links; PagerDuty:
offset/limit and `more`) and error bodies (Opsgenie: `{"message", "took",
"requestId"}`; PagerDuty: `{"error": {"message", "code", "errors"}}`). Small pages
make every list take more than one request.

Run one by hand (Ctrl-C stops it), its account moved to the coming week:

    python -m importers.tests.fakes opsgenie --port 8701
    python -m importers.tests.fakes pagerduty --port 8702
"""

import argparse
import copy
import json
import re
import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo


class FakeApi:
    """A JSON API on 127.0.0.1 (a free port), in a thread; records every request."""

    page_size = 2

    def __init__(self, port: int = 0):
        self.requests = []
        self.throttle = set()  # paths answered 429 once
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                api.requests.append({"path": parts.path, "query": query, "headers": self.headers})
                status, body = api.answer(parts.path, query, self.headers)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def answer(self, path: str, query: dict, headers) -> tuple[int, dict]:
        raise NotImplementedError

    def paths(self) -> list[str]:
        return [r["path"] for r in self.requests]


class FakeOpsgenie(FakeApi):
    """Opsgenie's REST API v2: `Authorization: GenieKey <key>`."""

    def __init__(self, data: dict, key: str = "og-good-key", port: int = 0):
        super().__init__(port)
        self.data = data
        self.key = key

    def _base(self, **fields) -> dict:
        return {**fields, "took": 0.012, "requestId": str(uuid.uuid4())}

    def answer(self, path, query, headers):
        if headers.get("Authorization") != f"GenieKey {self.key}":
            return 401, self._base(message="Could not authenticate")
        if path in self.throttle:
            self.throttle.discard(path)
            return 429, self._base(message="You are making too many requests!")
        parts = path.strip("/").split("/")
        if len(parts) < 2 or parts[0] != "v2":
            return 404, self._base(message="Could not find handler.")
        kind, rest = parts[1], parts[2:]
        if kind == "users" and not rest:
            return 200, self._page(path, query, self.data["users"])
        if kind == "users" and rest[1:] == ["contacts"]:
            return 200, self._base(data=self.data["contacts"].get(rest[0], []))
        if kind == "users" and rest[1:2] == ["notification-rules"]:
            rules = self.data.get("notification_rules", {}).get(rest[0], [])
            if len(rest) == 2:
                # The list has each rule's meta; the steps come with the rule itself.
                meta = ("id", "name", "actionType", "order", "enabled")
                return 200, self._base(data=[{k: r[k] for k in meta if k in r} for r in rules])
            rule = next((r for r in rules if r["id"] == rest[2]), None)
            if len(rest) != 3 or rule is None:
                return 404, self._base(message="Notification rule not found.")
            return 200, self._base(data=rule)
        if kind == "teams" and not rest:
            listed = [{k: t[k] for k in ("id", "name", "description")} for t in self.data["teams"]]
            return 200, self._base(data=listed, expandable=["member"])
        if kind == "teams" and len(rest) == 1:
            team = next((t for t in self.data["teams"] if t["id"] == rest[0]), None)
            if team is None:
                return 404, self._base(message=f"No team exists with id [{rest[0]}]")
            return 200, self._base(data=team)
        if kind == "schedules" and not rest:
            # Rotations only with ?expand=rotation, as the List Schedules docs say.
            expand = "rotation" in ",".join(query.get("expand", []))
            schedules = [
                {k: v for k, v in s.items() if expand or k != "rotations"}
                for s in self.data["schedules"]
            ]
            return 200, self._base(data=schedules, expandable=["rotation"])
        if kind == "schedules" and rest[1:] == ["overrides"]:
            return 200, self._base(data=self.data["overrides"].get(rest[0], []))
        if kind == "escalations" and not rest:
            return 200, self._base(data=self.data["escalations"])
        return 404, self._base(message="Could not find handler.")

    def _page(self, path, query, items) -> dict:
        limit = min(int(query.get("limit", ["20"])[0]), self.page_size)
        offset = int(query.get("offset", ["0"])[0])
        body = self._base(data=items[offset : offset + limit], totalCount=len(items))

        def link(at):
            return f"{self.url}{path}?" + urlencode({"offset": at, "limit": limit})

        body["paging"] = {"first": link(0), "last": link(max(len(items) - limit, 0))}
        if offset + limit < len(items):
            body["paging"]["next"] = link(offset + limit)
        return body


class FakePagerDuty(FakeApi):
    """PagerDuty's REST API v2: `Authorization: Token token=<key>`, the v2 Accept header."""

    def __init__(self, data: dict, key: str = "pd-good-key", port: int = 0):
        super().__init__(port)
        self.data = data
        self.key = key

    def answer(self, path, query, headers):
        if headers.get("Authorization") != f"Token token={self.key}":
            return 401, {"error": {"message": "Authentication failed"}}
        if path in self.throttle:
            self.throttle.discard(path)
            return 429, {"error": {"message": "Rate Limit Exceeded"}}
        parts = path.strip("/").split("/")
        if parts == ["users"]:
            users = self.data["users"]
            if "contact_methods" not in query.get("include[]", []):
                users = [
                    {
                        **u,
                        "contact_methods": [
                            {"id": c["id"], "type": c["type"] + "_reference"}
                            for c in u.get("contact_methods", [])
                        ],
                    }
                    for u in users
                ]
            return 200, self._page(query, "users", users)
        if parts == ["teams"]:
            return 200, self._page(query, "teams", self.data["teams"])
        if parts == ["schedules"]:
            listed = [
                {k: v for k, v in s.items() if k != "schedule_layers"}
                for s in self.data["schedules"]
            ]
            return 200, self._page(query, "schedules", listed)
        if len(parts) == 2 and parts[0] == "schedules":
            found = next((s for s in self.data["schedules"] if s["id"] == parts[1]), None)
            if found is None:
                return 404, {"error": {"message": "Not Found", "code": 2100}}
            return 200, {"schedule": found}
        if len(parts) == 3 and parts[0] == "schedules" and parts[2] == "overrides":
            if not query.get("since") or not query.get("until"):
                return 400, {
                    "error": {
                        "message": "Invalid Input Provided",
                        "code": 2001,
                        "errors": ["Since and until are required."],
                    }
                }
            return 200, {"overrides": self.data["overrides"].get(parts[1], [])}
        if parts == ["escalation_policies"]:
            return 200, self._page(query, "escalation_policies", self.data["policies"])
        return 404, {"error": {"message": "Not Found", "code": 2100}}

    def _page(self, query, key, items) -> dict:
        limit = min(int(query.get("limit", ["25"])[0]), self.page_size)
        offset = int(query.get("offset", ["0"])[0])
        return {
            key: items[offset : offset + limit],
            "limit": limit,
            "offset": offset,
            "more": offset + limit < len(items),
            "total": None,
        }


# The accounts' week starts on this Monday.
ACCOUNT_MONDAY = date(2026, 6, 1)
_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")


def moved(data, by: timedelta, zone: ZoneInfo):
    """Return `data` with every ISO 8601 moment moved by `by` at the same wall-clock time.

    Wall-clock in the account's zone: a 09:00 handoff in Berlin stays at 09:00 when
    the move crosses a change of clocks (its offset changes instead).
    """
    if isinstance(data, dict):
        return {key: moved(value, by, zone) for key, value in data.items()}
    if isinstance(data, list):
        return [moved(value, by, zone) for value in data]
    if isinstance(data, str) and _MOMENT.match(data):
        local = datetime.fromisoformat(data).astimezone(zone).replace(tzinfo=None) + by
        moment = local.replace(tzinfo=zone)
        if data.endswith("Z"):
            return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return moment.isoformat()
    return data


def weeks_to_next_monday(today: date) -> int:
    """Return how many weeks move the accounts' Monday to the first Monday after `today`."""
    return (today - ACCOUNT_MONDAY).days // 7 + 1


def main(argv=None) -> None:
    from importers.tests.accounts import OPSGENIE, PAGERDUTY

    parser = argparse.ArgumentParser(
        prog="python -m importers.tests.fakes",
        description="Serve the test account on 127.0.0.1 as Opsgenie's or PagerDuty's API.",
    )
    parser.add_argument("tool", choices=["opsgenie", "pagerduty"])
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--key", help="the API key it accepts (default og-good-key/pd-good-key)")
    parser.add_argument(
        "--weeks",
        type=int,
        help="move the account's dates this many weeks (default: its Monday becomes next Monday)",
    )
    args = parser.parse_args(argv)
    weeks = args.weeks if args.weeks is not None else weeks_to_next_monday(datetime.now(UTC).date())
    account = OPSGENIE if args.tool == "opsgenie" else PAGERDUTY
    zone = ZoneInfo(account["schedules"][0].get("timezone") or account["schedules"][0]["time_zone"])
    data = moved(copy.deepcopy(account), timedelta(weeks=weeks), zone)
    kind, key = (
        (FakeOpsgenie, "og-good-key") if args.tool == "opsgenie" else (FakePagerDuty, "pd-good-key")
    )
    server = kind(data, key=args.key or key, port=args.port)
    monday = ACCOUNT_MONDAY + timedelta(weeks=weeks)
    print(
        f"{args.tool} API on {server.url} (key {server.key}); the account's week starts "
        f"Monday {monday}. Ctrl-C stops it.",
        flush=True,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


if __name__ == "__main__":
    main()
