"""Start a real Celery worker (with embedded beat) against the test database and broker."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    """Return a DATABASE_URL for the database the tests are using right now."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = quote(db["USER"] or "")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"])
    host = f"{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}"
    return f"postgres://{auth}@{host}/{db['NAME']}"


def purge_queues() -> None:
    """Drop messages earlier tests left in the broker (every queue the app declares)."""
    from cxhub.celery import app

    with app.connection_for_write() as conn:
        for queue in app.conf.task_queues or ["celery"]:
            conn.default_channel.queue_purge(getattr(queue, "name", queue))


def wait_for(predicate, *, timeout: float, interval: float = 0.1, message: str = ""):
    """Poll `predicate` until it returns something truthy or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s: {message}")
        time.sleep(interval)


class LoggedProcess:
    """A child process in its own session, logging to `log_path`; stop() ends its group."""

    log_path: Path
    process: subprocess.Popen | None = None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        if self.process:
            self.log.close()


class Worker(LoggedProcess):
    def __init__(self, tmp_path: Path, env: dict | None = None):
        # Imported here, not at module level: importing the settings module reads the
        # environment, and scripts (bench/) set it up before configuring Django.
        from cxhub import settings as base_settings

        self.log_path = tmp_path / "worker.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            # The folders the test process itself uses (the filesystem broker lives
            # there); tests may point settings.VAR_DIR elsewhere for demo files.
            "CXHUB_VAR_DIR": str(base_settings.VAR_DIR),
            "SECRET_KEY": settings.SECRET_KEY,
            "CXHUB_SWEEP_SECONDS": "1",
            "CXHUB_STALE_SECONDS": "2",
            "CXHUB_QUIET_HOURS": "",  # tests run at any hour
            # Tests wait for sweeps by their log lines, which beat's routine keeps at
            # DEBUG (cxhub.logs.RoutineFilter): let them through.
            "LOG_LEVEL": "DEBUG",
            **(env or {}),
        }
        self.schedule = tmp_path / "beat-schedule"
        self.process = None

    def start(self):
        self.log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "cxhub",
                "worker",
                "--beat",
                "--schedule",
                str(self.schedule),
                "--concurrency",
                "2",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(
            lambda: "ready." in self.output() or self.process.poll() is not None,
            timeout=60,
            message="worker start",
        )
        assert self.process.poll() is None, f"worker exited:\n{self.output()}"
        return self


@contextlib.contextmanager
def running_worker(tmp_path: Path, env: dict | None = None):
    """Start a worker on a purged broker; stop it and print its log tail afterwards."""
    purge_queues()
    worker = Worker(tmp_path, env=env)
    try:
        yield worker.start()
    finally:
        worker.stop()
        print(worker.output()[-5000:])
