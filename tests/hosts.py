"""Hosts on one machine: network namespaces, a database host and app hosts.

    root namespace: a bridge ("front", 10.R.0.1) that reaches each app host's web
    db:             a throwaway PostgreSQL and redis-server on 10.R.1.1 (bridge "switch")
    app a, app b:   the Procfile's web, worker, pages and beat; front 10.R.0.2/.3,
                    back 10.R.1.2/.3

Everything made here is undone by the `stop()`/`remove()` methods; tests/drill_hosts.py
uses it.
"""

import os
import random
import shutil
import signal
import subprocess
from pathlib import Path

from tests.processes import PostgresCluster, ProcfileProcess, postgres_bindir, redis_binary
from tests.worker import ROOT


def missing_requirements() -> str:
    """Return why the drill cannot run here, or '' when it can."""
    if os.geteuid() != 0:
        return "the hosts drill needs root (ip netns)"
    if shutil.which("ip") is None:
        return "iproute2 (`ip`) is not installed"
    if postgres_bindir() is None:
        return "PostgreSQL server binaries are not installed"
    if redis_binary() is None:
        return "redis-server is not installed"
    probe = f"cxprobe{os.getpid() % 100000}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"`ip netns add` is not allowed here: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return ""


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20)
    if check and done.returncode:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done


class Network:
    """The namespaces, bridges and veth links; `remove()` undoes whatever was made."""

    def __init__(self):
        self.tag = f"{os.getpid() % 1000:03d}{random.randrange(100):02d}"
        self.net = random.randrange(100, 200)  # 10.<net>.0.0/16, unlikely to collide
        self.ns = {name: f"cxd{self.tag}{name}" for name in ("db", "a", "b")}
        self.front = f"cxd{self.tag}f"
        self.made: list[str] = []

    def addr(self, side: str, host: int) -> str:
        return f"10.{self.net}.{0 if side == 'front' else 1}.{host}"

    def create(self):
        for ns in self.ns.values():
            ip("netns", "add", ns)
            self.made.append(ns)
            ip("-n", ns, "link", "set", "lo", "up")
        ip("link", "add", self.front, "type", "bridge")
        ip("addr", "add", f"{self.addr('front', 1)}/24", "dev", self.front)
        ip("link", "set", self.front, "up")
        db = self.ns["db"]
        ip("-n", db, "link", "add", "switch", "type", "bridge")
        ip("-n", db, "addr", "add", f"{self.addr('back', 1)}/24", "dev", "switch")
        ip("-n", db, "link", "set", "switch", "up")
        for number, name in ((2, "a"), (3, "b")):
            ns = self.ns[name]
            port = f"{self.front}{name}"
            ip("link", "add", port, "type", "veth", "peer", "name", "front", "netns", ns)
            ip("link", "set", port, "master", self.front, "up")
            ip("-n", ns, "addr", "add", f"{self.addr('front', number)}/24", "dev", "front")
            ip("-n", ns, "link", "set", "front", "up")
            link = f"{self.front}{name.upper()}"  # made here, moved to db and renamed
            ip("link", "add", link, "type", "veth", "peer", "name", "back", "netns", ns)
            ip("link", "set", link, "netns", db)
            ip("-n", db, "link", "set", "dev", link, "name", f"to-{name}")
            ip("-n", db, "link", "set", "dev", f"to-{name}", "master", "switch", "up")
            ip("-n", ns, "addr", "add", f"{self.addr('back', number)}/24", "dev", "back")
            ip("-n", ns, "link", "set", "back", "up")
        return self

    def cut(self, host: str, *, up: bool):
        """Take host's link to the database host down (or up) on the database side.

        The app side keeps its address and routes; with its peer down the link has no
        carrier and the kernel drops what it sends, so open connections hang exactly
        as in a network partition.
        """
        ip("-n", self.ns["db"], "link", "set", "dev", f"to-{host}", "up" if up else "down")

    def remove(self):
        for ns in reversed(self.made):
            ip("netns", "del", ns, check=False)  # its veths die with it
        ip("link", "del", self.front, check=False)


class DatabaseHost:
    """PostgreSQL and redis-server in the db namespace, on the switch's address."""

    def __init__(self, network: Network):
        self.network = network
        self.ns = network.ns["db"]
        self.address = network.addr("back", 1)
        self.postgres = NamespacedPostgres(self.ns, self.address)
        self.redis = None

    @property
    def database_url(self) -> str:
        return f"postgres://postgres@{self.address}:5432/cxhub"

    def redis_url(self, db: int) -> str:
        return f"redis://{self.address}:6379/{db}"

    def start(self):
        self.postgres.init()
        hba = self.postgres.data / "pg_hba.conf"
        hba.write_text(hba.read_text() + f"host all all 10.{self.network.net}.1.0/24 trust\n")
        self.postgres.start()
        self.postgres.createdb()
        self.redis = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                self.ns,
                redis_binary(),
                "--bind",
                self.address,
                "--port",
                "6379",
                "--protected-mode",
                "no",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        return self

    def sql(self, query: str, *params) -> list[tuple]:
        """Run a query through the cluster's Unix socket (files cross namespaces)."""
        import psycopg

        dsn = f"host={self.postgres.dir} port=5432 user=postgres dbname=cxhub"
        with psycopg.connect(dsn, autocommit=True) as db:
            return db.execute(query, params).fetchall()

    def stop(self):
        if self.redis and self.redis.poll() is None:
            os.killpg(self.redis.pid, signal.SIGKILL)
            self.redis.wait(timeout=10)
        self.postgres.destroy()


class NamespacedPostgres(PostgresCluster):
    """A throwaway cluster whose postmaster runs inside a network namespace."""

    def __init__(self, ns: str, address: str):
        super().__init__()
        self.ns = ns
        self.address = address
        self.port = 5432  # the namespace has its own ports

    def _run(self, *args, check=True, timeout=60):
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(
            ["ip", "netns", "exec", self.ns, *command],
            check=check,
            timeout=timeout,
            capture_output=True,
            text=True,
            cwd=self.dir,
        )

    def start(self):
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses={self.address} -c fsync=off "
            "-c max_connections=200"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"), "-o", options, "-w",
            "-t", "30", "start",
        )  # fmt: skip
        return self

    def createdb(self, name="cxhub"):
        self._run("createdb", "-h", str(self.dir), "-p", str(self.port), "-U", self.user, name)


class HostProcess(ProcfileProcess):
    """One Procfile line run inside an app host's namespace."""

    def __init__(self, ns: str, name: str, log_path: Path, env: dict, ready: str):
        super().__init__(name, log_path, env, ready=ready)
        self.env = {**env, "PATH": self.env["PATH"]}  # nothing of the test process's settings
        self.ns = ns

    def start(self):
        self.log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(  # noqa: S603 (the checkout's own Procfile)
            ["ip", "netns", "exec", self.ns, "/bin/sh", "-c", f"exec {self.command}"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def is_ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"{self.ns} {self.name} exited:\n{self.output()[-3000:]}")
        return self.ready in self.output()

    def kill(self):
        """SIGKILL the whole process group: the program and every child, no shutdown."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


class AppHost:
    """web, worker, pages and beat of one app host, as the Procfile starts them."""

    READY = {"web": "Booting worker", "worker": "ready.", "pages": "ready.", "beat": "Starting"}

    def __init__(self, name: str, network: Network, db: DatabaseHost, env: dict, tmp: Path):
        self.name = name
        self.ns = network.ns[name]
        self.front = network.addr("front", 2 if name == "a" else 3)
        var = tmp / f"host-{name}"
        var.mkdir()
        self.env = {
            **env,
            "CXHUB_VAR_DIR": str(var),  # each host its own disk: beat's schedule file too
            "CXHUB_WEB_BIND": f"{self.front}:8000",
        }
        self.processes = [
            HostProcess(self.ns, kind, var / f"{kind}.log", self.env, ready)
            for kind, ready in self.READY.items()
        ]

    @property
    def url(self) -> str:
        return f"http://{self.front}:8000"

    def start(self):
        for process in self.processes:
            process.start()
        return self

    def ready(self) -> bool:
        return all(process.is_ready() for process in self.processes)

    def kill(self):
        for process in self.processes:
            process.kill()

    def stop(self):
        for process in self.processes:
            process.stop()

    def logs(self) -> str:
        return "\n".join(
            f"--- {self.name} {process.name}\n{process.output()[-2500:]}"
            for process in self.processes
        )
