"""A fast fake FCM HTTP v1 server for benchmarks: asyncio, HTTP/1.1 keep-alive, 127.0.0.1.

    .venv/bin/python bench/fake_fcm.py PORT ACCOUNT_JSON   (or FakeFcmProcess from Python)

It answers `/token` (the JWT-bearer grant, verified against the service account's
public key) and `/v1/projects/<id>/messages:send` (bearer token checked, message
parsed and checked for a token and a notification; tokens starting `dead-`
answered UNREGISTERED), and counts what it accepted, and any token it saw twice,
for `GET /stats`. The provider talks plain http:// to it, so httpx speaks
HTTP/1.1 over its pooled keep-alive connections (as to FCM, minus TLS).
"""

import asyncio
import json
import multiprocessing
import sys
import time

ACCESS_TOKEN = "ya29.bench-access-token"  # noqa: S105 - the fake's own, not a secret
REASONS = {200: b"OK", 400: b"Bad Request", 401: b"Unauthorized", 404: b"Not Found"}


class FcmState:
    def __init__(self, account: dict):
        from cryptography.hazmat.primitives import serialization

        self.account = account
        self.public_key = serialization.load_pem_private_key(
            account["private_key"].encode(), password=None
        ).public_key()
        self.send_path = f"/v1/projects/{account['project_id']}/messages:send"
        self.accepted = 0
        self.rejected = 0
        self.duplicates = 0
        self.tokens: set[str] = set()
        self.first_at = self.last_at = None

    def handle(self, method: str, path: str, headers: dict, body: bytes):
        if path == self.send_path and method == "POST":
            return self.send(headers.get("authorization", ""), body)
        if path == "/token" and method == "POST":
            return self.token(body)
        if path == "/stats":
            return 200, {
                "accepted": self.accepted,
                "rejected": self.rejected,
                "duplicates": self.duplicates,
                "first_at": self.first_at,
                "last_at": self.last_at,
            }
        if path == "/reset" and method == "POST":
            self.accepted = self.rejected = self.duplicates = 0
            self.tokens.clear()
            self.first_at = self.last_at = None
            return 200, {}
        return 404, {"error": {"status": "NOT_FOUND"}}

    def token(self, body: bytes):
        from urllib.parse import parse_qs

        import jwt

        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        try:
            jwt.decode(
                form["assertion"],
                self.public_key,
                algorithms=["RS256"],
                audience=self.account["token_uri"],
                issuer=self.account["client_email"],
            )
        except (jwt.PyJWTError, KeyError) as exc:
            return 400, {"error": "invalid_grant", "error_description": str(exc)}
        return 200, {"access_token": ACCESS_TOKEN, "expires_in": 3599, "token_type": "Bearer"}

    def send(self, authorization: str, body: bytes):
        if authorization != f"Bearer {ACCESS_TOKEN}":
            return 401, {"error": {"code": 401, "status": "UNAUTHENTICATED"}}
        try:
            message = json.loads(body)["message"]
            token = message["token"]
            notification = message["notification"]
            assert isinstance(token, str) and token and notification["body"]
        except (ValueError, KeyError, TypeError, AssertionError):
            self.rejected += 1
            return 400, {"error": {"code": 400, "status": "INVALID_ARGUMENT"}}
        if token.startswith("dead-"):
            self.rejected += 1
            return 404, {
                "error": {
                    "code": 404,
                    "status": "NOT_FOUND",
                    "details": [{"errorCode": "UNREGISTERED"}],
                }
            }
        if token in self.tokens:
            self.duplicates += 1
        else:
            self.tokens.add(token)
        self.accepted += 1
        now = time.time()
        self.first_at = self.first_at or now
        self.last_at = now
        return 200, {"name": f"projects/{self.account['project_id']}/messages/{self.accepted}"}


class HttpProtocol(asyncio.Protocol):
    """Just enough HTTP/1.1: Content-Length bodies, keep-alive, no chunking."""

    def __init__(self, state: FcmState):
        self.state = state
        self.buffer = b""

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = self.buffer[:end].decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", 0))
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            status, answer = self.state.handle(method, path, headers, body)
            data = json.dumps(answer).encode()
            self.transport.write(
                b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                % (status, REASONS.get(status, b"Error"), len(data))
                + data
            )


def serve(port: int, account: dict, ready=None) -> None:
    async def main():
        state = FcmState(account)
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: HttpProtocol(state), "127.0.0.1", port)
        if ready is not None:
            ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(main())


class FakeFcmProcess:
    """Run the fake in its own process (its own core and GIL); stop() ends it."""

    def __init__(self, port: int, account: dict):
        self.url = f"http://127.0.0.1:{port}"
        ready = multiprocessing.Event()
        self.process = multiprocessing.Process(target=serve, args=(port, account, ready))
        self.process.start()
        if not ready.wait(30):
            raise RuntimeError("the fake FCM server did not start")

    def stats(self) -> dict:
        import httpx

        return httpx.get(f"{self.url}/stats").json()

    def reset(self) -> None:
        import httpx

        httpx.post(f"{self.url}/reset")

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(10)


if __name__ == "__main__":
    with open(sys.argv[2]) as handle:
        serve(int(sys.argv[1]), json.load(handle))
