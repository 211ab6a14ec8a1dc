"""Local servers that speak the push providers' protocols, for tests."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from notifications.providers import FCM_SCOPE, sign


class FakeFcm:
    """FCM HTTP v1 and Google's OAuth2 token endpoint on 127.0.0.1.

    The token endpoint verifies the JWT-bearer grant: grant type, RS256 signature
    against the service account's public key, issuer, audience, scope and expiry.
    messages:send checks the bearer token and the message's shape, and answers
    per token: `dead-*` UNREGISTERED (404), `bad-*` INVALID_ARGUMENT (400),
    `busy-*` UNAVAILABLE (503), anything else 200.
    """

    project_id = "cxhub-test"
    client_email = "cxhub@cxhub-test.iam.gserviceaccount.com"

    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.token_requests = []
        self.messages = []
        self.rejected = []
        self.access_token = "ya29.fake-access-token"
        self.busy = True  # whether busy-* tokens get UNAVAILABLE
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path == "/token":
                    status, answer = fake.token(body)
                elif self.path == f"/v1/projects/{fake.project_id}/messages:send":
                    status, answer = fake.send(self.headers.get("Authorization", ""), body)
                else:
                    status, answer = 404, {"error": {"status": "NOT_FOUND"}}
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def service_account(self) -> dict:
        pem = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        return {
            "type": "service_account",
            "project_id": self.project_id,
            "private_key_id": "key-1",
            "private_key": pem,
            "client_email": self.client_email,
            "token_uri": f"{self.url}/token",
        }

    def token(self, body):
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        self.token_requests.append(form)
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return 400, {"error": "unsupported_grant_type"}
        try:
            header = jwt.get_unverified_header(form.get("assertion", ""))
            claims = jwt.decode(
                form["assertion"],
                self.key.public_key(),
                algorithms=["RS256"],
                audience=f"{self.url}/token",
                issuer=self.client_email,
                options={"require": ["exp", "iat", "iss", "aud", "scope"]},
            )
        except (jwt.PyJWTError, KeyError) as exc:
            return 400, {"error": "invalid_grant", "error_description": str(exc)}
        if header.get("kid") != "key-1" or claims["scope"] != FCM_SCOPE:
            return 400, {"error": "invalid_scope"}
        if claims["exp"] - claims["iat"] > 3600 or claims["exp"] < time.time():
            return 400, {"error": "invalid_grant", "error_description": "bad exp"}
        return 200, {"access_token": self.access_token, "expires_in": 3599, "token_type": "Bearer"}

    def send(self, authorization, body):
        if authorization != f"Bearer {self.access_token}":
            return 401, {"error": {"code": 401, "status": "UNAUTHENTICATED"}}
        try:
            message = json.loads(body)["message"]
            token = message["token"]
            assert isinstance(token, str) and token
            assert set(message["notification"]) == {"title", "body"}
            assert all(isinstance(v, str) for v in message.get("data", {}).values())
        except (ValueError, KeyError, TypeError, AssertionError):
            self.rejected.append(body)
            return 400, _fcm_error(400, "INVALID_ARGUMENT", "Invalid JSON payload")
        for prefix, (status, code) in {
            "dead-": (404, "UNREGISTERED"),
            "bad-": (400, "INVALID_ARGUMENT"),
            "busy-": (503, "UNAVAILABLE"),
        }.items():
            if token.startswith(prefix) and (prefix != "busy-" or self.busy):
                self.rejected.append(body)
                return status, _fcm_error(status, code, f"{code} for {token}")
        self.messages.append(message)
        return 200, {"name": f"projects/{self.project_id}/messages/{len(self.messages)}"}

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _fcm_error(status, code, text):
    status_name = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 503: "UNAVAILABLE"}[status]
    return {
        "error": {
            "code": status,
            "message": text,
            "status": status_name,
            "details": [
                {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}
            ],
        }
    }


class FakeGateway:
    """The bank's push gateway: checks X-Cxhub-Signature and reports dead tokens."""

    def __init__(self, secret: str, unregistered=(), failed=None):
        self.secret = secret
        self.unregistered = list(unregistered)
        self.failed = dict(failed or {})
        self.accepted = []
        self.refused = 0
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                expected = f"sha256={sign(gateway.secret, body)}"
                given = self.headers.get("X-Cxhub-Signature", "")
                if not hmac_equal(given, expected):
                    gateway.refused += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                batch = json.loads(body)
                gateway.accepted.append(batch)
                tokens = {r["device"] for r in batch["recipients"]}
                answer = json.dumps(
                    {
                        "unregistered": [t for t in gateway.unregistered if t in tokens],
                        "failed": {t: e for t, e in gateway.failed.items() if t in tokens},
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/push"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def received(self) -> list[str]:
        """Return every device token of every accepted batch, sorted."""
        return sorted(r["device"] for batch in self.accepted for r in batch["recipients"])

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def hmac_equal(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a.encode(), b.encode())
