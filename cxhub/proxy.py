"""The Procfile's `proxy`: nginx in front of gunicorn, so slow clients cannot stall it.

A sync gunicorn worker serves one connection at a time from its first byte, so a
few clients that send their headers a byte at a time hold every worker and the
next request (`/healthz` too) waits. nginx reads each request whole (headers,
then the body, with timeouts) and only then hands it to gunicorn over a Unix
socket: gunicorn's workers only ever see complete requests.

`python -m cxhub.proxy` writes `var/proxy/nginx.conf` for CXHUB_PORT and
CXHUB_VAR_DIR and runs nginx in the foreground. nginx is Debian's `nginx-light`
(`apt-get install nginx-light`).
"""

import getpass
import os
import shutil
import sys
from pathlib import Path

CONF = """\
# Written by `python -m cxhub.proxy`; edits are overwritten at the next start.
daemon off;
user {user};
worker_processes {workers};
pid {dir}/nginx.pid;
error_log stderr warn;

events {{
    worker_connections 4096;
}}

http {{
    # gunicorn writes the access log, with tokens in paths and headers redacted.
    access_log off;
    server_tokens off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;

    # A client has this long to send its headers, and then between two reads of
    # its body; a slow one costs nginx a few kilobytes, never a gunicorn worker.
    client_header_timeout {header_timeout}s;
    client_body_timeout {header_timeout}s;
    send_timeout 30s;
    keepalive_timeout 30s;
    large_client_header_buffers 4 16k;
    client_max_body_size {max_body};
    client_body_buffer_size 1m;

    upstream cxhub {{
        server unix:{socket};
        keepalive 16;
    }}

    server {{
        listen {bind}:{port} backlog=4096;

        location / {{
            proxy_pass http://cxhub;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            # The client as nginx saw it, not what the client claims.
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_request_buffering on;
            proxy_read_timeout 60s;
        }}
    }}
}}
"""


def conf_text(*, port: int, var_dir: Path, bind: str, max_body: int, workers: int) -> str:
    """Return nginx's configuration for cxhub's web socket under `var_dir`."""
    directory = var_dir / "proxy"
    return CONF.format(
        # nginx's workers run as whoever starts it, so they reach the socket under var/.
        user=getpass.getuser(),
        workers=workers,
        dir=directory,
        socket=var_dir / "web.sock",
        port=port,
        bind=bind,
        header_timeout=10,
        max_body=max_body,
    )


def main() -> None:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not nginx:
        sys.exit(
            "cxhub's web tier needs nginx in front of gunicorn (slow clients would stall it): "
            "apt-get install nginx-light"
        )
    root = Path(__file__).resolve().parent.parent
    var_dir = Path(os.environ.get("CXHUB_VAR_DIR") or root / "var").resolve()
    directory = var_dir / "proxy"
    directory.mkdir(parents=True, exist_ok=True)
    conf = directory / "nginx.conf"
    conf.write_text(
        conf_text(
            port=int(os.environ.get("CXHUB_PORT") or 8000),
            var_dir=var_dir,
            bind=os.environ.get("CXHUB_BIND") or "127.0.0.1",
            max_body=int(os.environ.get("CXHUB_MONITORING_MAX_BODY") or 10 * 1024 * 1024) + 65536,
            workers=int(os.environ.get("CXHUB_PROXY_WORKERS") or 1),
        )
    )
    os.execv(nginx, [nginx, "-e", "stderr", "-p", str(directory), "-c", str(conf)])  # noqa: S606


if __name__ == "__main__":
    main()
