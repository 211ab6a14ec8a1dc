"""Real servers for fault drills and benchmarks: Redis, a PostgreSQL cluster, gunicorn.

Each binds 127.0.0.1 on a free port, is started as a subprocess of its own, and
is stopped (and its files removed) by `stop()`; every wait has a deadline.
"""

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.worker import ROOT, LoggedProcess, wait_for


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def redis_binary() -> str | None:
    return shutil.which("redis-server")


def postgres_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


class RedisServer:
    """A throwaway redis-server: no persistence, so a restart starts empty."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            [
                redis_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: port_open(self.port), timeout=10, message="redis-server listening")
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        wait_for(lambda: not port_open(self.port), timeout=10, message="redis-server stopped")


class PostgresCluster:
    """A throwaway PostgreSQL cluster run by the `postgres` OS user when started as root.

    Drills run it with fsync off (they fault it, they do not time it); `durable=True`
    keeps PostgreSQL's defaults (fsync, synchronous_commit) for benchmarks.
    """

    def __init__(self, *, durable: bool = False):
        self.durable = durable
        self.bindir = postgres_bindir()
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="cxhub-pg-"))
        self.data = self.dir / "data"
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self.user = "postgres"

    @property
    def url(self) -> str:
        return f"postgres://{self.user}@127.0.0.1:{self.port}/cxhub"

    def _run(self, *args, check=True, timeout=60):
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(
            command, check=check, timeout=timeout, capture_output=True, text=True, cwd=self.dir
        )

    def init(self):
        self._run("initdb", "-D", str(self.data), "-U", self.user, "--auth=trust", "-E", "UTF8")
        return self

    def start(self):
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        if not self.durable:
            options += " -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.dir / "log"),
            "-o",
            options,
            "-w",
            "-t",
            "30",
            "start",
        )
        return self

    def createdb(self, name="cxhub"):
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, name)

    def postmaster_pid(self) -> int:
        """Return the postmaster's pid: every backend is its child."""
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def stop(self, mode="fast"):
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    def destroy(self):
        try:
            self.stop(mode="immediate")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


class Gunicorn(LoggedProcess):
    """cxhub (or another WSGI app) under gunicorn on a free port."""

    def __init__(
        self, log_path: Path, env: dict, *, workers=2, threads=8, app="cxhub.wsgi", tls=None
    ):
        self.tls = tls  # (certfile, keyfile): serve https, as some clients insist
        self.port = free_port()
        self.log_path = log_path
        self.env = {**os.environ, **env}
        self.workers = workers
        self.threads = threads
        self.app = app
        self.process = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self):
        self.log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        tls = ["--certfile", str(self.tls[0]), "--keyfile", str(self.tls[1])] if self.tls else []
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                self.app,
                # Every gunicorn 27 shares one control socket under $HOME by default, and
                # stopping one deletes it for the others: none of these needs it.
                "--no-control-socket",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--threads",
                str(self.threads),
                "--graceful-timeout",
                "5",
                *tls,
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(
            lambda: port_open(self.port) or self.process.poll() is not None,
            timeout=60,
            message="gunicorn listening",
        )
        assert self.process.poll() is None, f"gunicorn exited:\n{self.output()}"
        return self


def procfile_commands(path: Path = ROOT / "Procfile") -> dict[str, str]:
    """Return the Procfile's process types and their command lines."""
    commands = {}
    for line in path.read_text().splitlines():
        name, sep, command = line.partition(":")
        if sep and name.strip() and not name.startswith("#"):
            commands[name.strip()] = command.strip()
    return commands


class ProcfileProcess(LoggedProcess):
    """One Procfile process type, run as `honcho` would: its line through a shell.

    The shell `exec`s the command, so `pid` is the program itself (gunicorn's
    master, Celery's main process); the environment fills the line's ${VARS}.
    """

    def __init__(self, name: str, log_path: Path, env: dict, *, ready: str | None = None):
        self.name = name
        self.command = procfile_commands()[name]
        self.log_path = log_path
        bindir = str(Path(sys.executable).parent)
        self.env = {**os.environ, **env, "PATH": f"{bindir}:{os.environ.get('PATH', '')}"}
        self.ready = ready
        self.process = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def start(self):
        self.log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(  # noqa: S603 (the checkout's own Procfile)
            ["/bin/sh", "-c", f"exec {self.command}"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if self.ready:
            wait_for(
                lambda: self.ready in self.output() or self.process.poll() is not None,
                timeout=60,
                message=f"{self.name} ready",
            )
            assert self.process.poll() is None, f"{self.name} exited:\n{self.output()}"
        return self


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """Write a certificate for 127.0.0.1 and its key; return (certfile, keyfile)."""
    from datetime import UTC, datetime, timedelta
    from ipaddress import IPv4Address

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certfile, keyfile = directory / "cert.pem", directory / "key.pem"
    certfile.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certfile, keyfile


def timed(fn):
    """Call fn() and return (result, seconds)."""
    start = time.monotonic()
    result = fn()
    return result, time.monotonic() - start
