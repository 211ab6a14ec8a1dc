"""Take credentials out of what cxhub keeps or logs: stored payloads, URLs, messages.

A monitoring payload may carry its own credential (PagerDuty's `routing_key` is
the integration token) or a sender's (an `Authorization` header copied into a
webhook body); a URL may carry a token as its last segment. What is kept for
support staff to read must not.
"""

import base64
import binascii
import re
from urllib.parse import unquote

REDACTED = "[redacted]"

# Field names that hold a credential, in any case and with - or _ (routing_key,
# X-Api-Key, client_secret, access_token, Authorization, password ...).
SECRET_FIELD = re.compile(
    r"routing.?key|token|authori[sz]ation|passw(or)?d|secret|api.?key|signature|cookie|"
    r"credential|private.?key|session",
    re.IGNORECASE,
)
# A credential written out in a string: "Bearer abc...", "Token abc...", "Basic abc...".
SCHEME_CREDENTIAL = re.compile(
    r"\b(Bearer|Token|Basic|GenieKey)\s+[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE
)
# The password in a URL's user info: scheme://user:password@host.
URL_PASSWORD = re.compile(r"(://[^/\s:@]*:)[^/\s@]+@")
# Paths that end in a credential; the named group is replaced.
SECRET_PATHS = [
    re.compile(r"(/api/v1/integrations/[^/?\s]+/)(?P<secret>[^/?\s\"]+)"),
    re.compile(r"(/api/v1/heartbeats/)(?P<secret>[^/?\s\"]+)"),
    re.compile(r"(/incidents/[0-9a-f-]{36}/acknowledge/)(?P<secret>[^/?\s\"]+)"),
    # Status page links: a confirmation token carries the address it subscribes.
    re.compile(r"(/status/(?:confirm|unsubscribe|manage)/)(?P<secret>[^/?\s\"]+)"),
    # An on-call calendar link (oncall.views.calendar): the token is the whole credential.
    re.compile(r"(/oncall/calendar/)(?P<secret>[^/?\s\"]+)"),
]
SECRET_PATH_MARKS = ("/integrations/", "/heartbeats/", "/acknowledge/", "/status/", "/calendar/")
# A query parameter whose name holds a credential word: ?token=, &api_key=, and
# Apprise's header arguments such as ?-X-Api-Key= or ?+Authorization=.
SECRET_QUERY = re.compile(
    r"([?&](?:key|[^=&\s\"]*(?:token|api.?key|access.?key|routing.?key|secret|passw|signature|"
    r"auth)[^=&\s\"]*)=)[^&\s\"]*",
    re.IGNORECASE,
)


def text(value: str, *, secrets=()) -> str:
    """Return `value` with the given secrets and credential-looking parts replaced."""
    for secret in secrets:
        if secret and len(secret) >= 6 and secret in value:
            value = value.replace(secret, REDACTED)
    # Each pattern needs a character most strings of a payload lack: checking for it
    # first keeps a 5,000-alert notification from paying every regex on every label.
    if " " in value:
        value = SCHEME_CREDENTIAL.sub(lambda m: f"{m.group(1)} {REDACTED}", value)
    if "@" in value:
        value = URL_PASSWORD.sub(rf"\g<1>{REDACTED}@", value)
    return url(value) if ("/" in value or "=" in value) else value


def url(value: str) -> str:
    """Return a URL or path with a token in its path or query string replaced.

    A path written with percent-encoded slashes (`integrations%2Fgeneric%2F<token>`)
    reaches the same view, so it is decoded first when that reveals a token path.
    """
    if "%" in value:
        decoded = unquote(value)
        if any(mark in decoded for mark in SECRET_PATH_MARKS):
            value = decoded
    if any(mark in value for mark in SECRET_PATH_MARKS):
        for pattern in SECRET_PATHS:
            value = pattern.sub(rf"\g<1>{REDACTED}", value)
    if "=" in value:
        value = SECRET_QUERY.sub(rf"\g<1>{REDACTED}", value)
    return value


def query(value: str) -> str:
    """Return a query string (without its "?") with credential parameters replaced."""
    return url(f"?{value}")[1:] if value else value


def payload(data, *, secrets=()):
    """Return a copy of a JSON document with credential fields and `secrets` replaced.

    Walks without recursion (documents are already depth-checked, but a deep one
    must not cost a stack frame per level).
    """
    secrets = [s for s in secrets if s]
    root = [data]
    stack = [(root, 0)]
    while stack:
        container, key = stack.pop()
        value = container[key]
        if isinstance(value, dict):
            copy = {}
            for name, child in value.items():
                if isinstance(name, str) and SECRET_FIELD.search(name) and child not in (None, ""):
                    copy[name] = REDACTED
                else:
                    copy[name] = child
                    stack.append((copy, name))
            container[key] = copy
        elif isinstance(value, list):
            copy = list(value)
            container[key] = copy
            stack.extend((copy, index) for index in range(len(copy)))
        elif isinstance(value, str):
            container[key] = text(value, secrets=secrets)
    return root[0]


def request_secrets(request, body=None) -> list[str]:
    """Return every credential a request carried, to replace wherever it appears.

    Its Authorization value (Bearer, Token, GenieKey; for Basic also the decoded
    `user:password` and password), a token in its path, and PagerDuty's
    `routing_key` in the body (the integration's token).
    """
    from rest_framework.authentication import get_authorization_header

    found = []
    parts = get_authorization_header(request).split()
    if len(parts) == 2:
        try:
            credential = parts[1].decode()
        except UnicodeDecodeError:
            credential = ""
        found.append(credential)
        if parts[0].lower() == b"basic":
            try:
                pair = base64.b64decode(credential, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                pair = ""
            found += [pair, pair.partition(":")[2]]
    context = getattr(request, "parser_context", None) or {}
    if token := (context.get("kwargs") or {}).get("token"):
        found.append(token)
    if isinstance(body, dict) and isinstance(body.get("routing_key"), str):
        found.append(body["routing_key"])
    return [secret for secret in found if secret]


def stored(data, request, *, body=None):
    """Return what an ingest path keeps (a payload, triggers, a change, a note) without credentials.

    The one function every ingest path stores through: the request's own
    credentials (`request_secrets`) are replaced wherever they appear, and so are
    credential-named fields, `Bearer …`/`Basic …` values and URL passwords.
    """
    return payload(data, secrets=request_secrets(request, body))
