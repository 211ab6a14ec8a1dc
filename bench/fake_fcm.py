"""A fast local FCM HTTP v1 server for the delivery benchmark (asyncio, HTTP/1.1 keep-alive).

    python bench/fake_fcm.py --port 0 --public-key key.pem --account account.json

Speaks what the FCM provider uses: `POST /token` (the OAuth2 JWT-bearer grant,
checked against the service account's public key: RS256 signature, issuer,
audience, scope, expiry) and `POST /v1/projects/<project>/messages:send`
(bearer token and message shape checked; 200 with a message name). `GET /stats`
answers the counts. It prints its port on the first line. The tests' fake
(notifications/tests/fakes.py) is a thread-per-connection server, too slow for
a million requests on two cores.
"""

import argparse
import asyncio
import json
import time
from urllib.parse import parse_qs

import jwt

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
ACCESS_TOKEN = "ya29.bench-access-token"  # noqa: S105 (a fake, local only)
stats = {"messages": 0, "rejected": 0, "tokens": 0, "connections": 0}


def token_answer(body: bytes, account: dict, public_key: str, audience: str):
    form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
    if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
        return 400, {"error": "unsupported_grant_type"}
    try:
        claims = jwt.decode(
            form.get("assertion", ""),
            public_key,
            algorithms=["RS256"],
            audience=audience,
            issuer=account["client_email"],
            options={"require": ["exp", "iat", "iss", "aud", "scope"]},
        )
    except jwt.PyJWTError as exc:
        return 400, {"error": "invalid_grant", "error_description": str(exc)}
    if claims["scope"] != SCOPE or claims["exp"] < time.time():
        return 400, {"error": "invalid_scope"}
    stats["tokens"] += 1
    return 200, {"access_token": ACCESS_TOKEN, "expires_in": 3599, "token_type": "Bearer"}


def send_answer(headers: dict, body: bytes, project: str):
    if headers.get("authorization") != f"Bearer {ACCESS_TOKEN}":
        return 401, {"error": {"code": 401, "status": "UNAUTHENTICATED"}}
    try:
        message = json.loads(body)["message"]
        assert isinstance(message["token"], str) and message["token"]
        assert set(message["notification"]) == {"title", "body"}
    except (ValueError, KeyError, TypeError, AssertionError):
        stats["rejected"] += 1
        return 400, {"error": {"code": 400, "status": "INVALID_ARGUMENT"}}
    stats["messages"] += 1
    return 200, {"name": f"projects/{project}/messages/{stats['messages']}"}


async def serve(reader, writer, *, account, public_key, audience):
    stats["connections"] += 1
    project = account["project_id"]
    send_path = f"/v1/projects/{project}/messages:send"
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *lines = head.decode("latin-1").split("\r\n")
            method, path, _ = request_line.split(" ", 2)
            headers = {}
            for line in lines:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", 0)))
            if method == "POST" and path == send_path:
                status, answer = send_answer(headers, body, project)
            elif method == "POST" and path == "/token":
                status, answer = token_answer(body, account, public_key, audience)
            elif method == "GET" and path == "/stats":
                status, answer = 200, stats
            else:
                status, answer = 404, {"error": {"status": "NOT_FOUND"}}
            data = json.dumps(answer).encode()
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(data)}\r\n\r\n".encode()
                + data
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--account", required=True, help="the service-account JSON")
    parser.add_argument("--public-key", required=True, help="its public key, PEM")
    args = parser.parse_args()
    with open(args.account) as handle:
        account = json.load(handle)
    with open(args.public_key) as handle:
        public_key = handle.read()

    async def handler(reader, writer):
        await serve(
            reader,
            writer,
            account=account,
            public_key=public_key,
            audience=account["token_uri"],
        )

    server = await asyncio.start_server(handler, "127.0.0.1", args.port, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
