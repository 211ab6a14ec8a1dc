"""A local SMS / e-mail gateway for fallback tests: checks the signature, records batches."""

import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from notifications.providers import sign


class FakeMessageGateway:
    """The bank's SMS or e-mail gateway on 127.0.0.1; `failed` maps an address to an error."""

    def __init__(self, secret: str, failed=None, status=200):
        self.secret = secret
        self.failed = dict(failed or {})
        self.status = status
        self.accepted = []
        self.refused = 0
        self.requests = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                gateway.requests.append({"path": self.path, "body": body})
                expected = f"sha256={sign(gateway.secret, body)}"
                if not hmac.compare_digest(self.headers.get("X-Cxhub-Signature", ""), expected):
                    gateway.refused += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                if gateway.status != 200:
                    self.send_response(gateway.status)
                    self.end_headers()
                    return
                batch = json.loads(body)
                gateway.accepted.append(batch)
                to = {r["to"] for r in batch["recipients"]}
                answer = {"failed": {a: e for a, e in gateway.failed.items() if a in to}}
                payload = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/messages"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
