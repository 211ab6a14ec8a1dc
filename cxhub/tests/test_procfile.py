"""`./run`'s Ctrl-C: SIGTERM to each Procfile line's program, never to its pool children."""

import subprocess
import sys
import time

from cxhub import procfile

# A program with a child of its own, like a Celery worker and its pool: it reports
# whether the child was still alive when the program got SIGTERM.
PROGRAM = """
import signal, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
def stop(*_):
    print("child alive" if child.poll() is None else "child dead", flush=True)
    child.terminate()
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
print("ready", flush=True)
time.sleep(30)
"""


def test_sigterm_goes_to_the_program_which_stops_its_own_children(tmp_path):
    script = tmp_path / "program.py"
    script.write_text(PROGRAM)
    # As honcho starts a line: through a shell, in a session of its own.
    line = subprocess.Popen(  # noqa: S602 (a fixed command, as honcho runs Procfile lines)
        f"{sys.executable} {script}",
        shell=True,
        start_new_session=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert line.stdout.readline().strip() == "ready"
    for _ in range(50):
        if procfile.programs_of(line.pid):
            break
        time.sleep(0.1)
    procfile.terminate(line.pid)
    assert line.stdout.readline().strip() == "child alive"
    assert line.wait(timeout=10) == 0


def test_honcho_waits_long_enough_for_a_warm_shutdown():
    # Measured: a worker's warm shutdown took 2 to 12 s on a busy 2-core machine.
    assert procfile.GRACE_SECONDS >= 15
