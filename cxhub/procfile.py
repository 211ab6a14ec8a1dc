"""`./run`'s process manager: honcho, stopping each process the way it expects.

On Ctrl-C honcho sends SIGTERM to the process group of every Procfile line: the
shell, the program and the program's own children. A Celery worker's pool
processes then die of it at once while the worker itself starts its warm
shutdown, and the worker waited for its dead pool until honcho SIGKILLed it 5 s
later (ERROR lines, messages not handed back). Here SIGTERM goes to the program
alone (the shell's child: Celery, gunicorn, beat), which stops its own children;
the grace before SIGKILL (still the whole group) fits a warm shutdown.
"""

import os
import signal
import sys

GRACE_SECONDS = 20


def programs_of(shell_pid: int) -> list[int]:
    """Return the shell's children: the programs a Procfile line started."""
    try:
        with open(f"/proc/{shell_pid}/task/{shell_pid}/children") as children:
            return [int(pid) for pid in children.read().split()]
    except OSError:
        return []


def terminate(pid: int) -> None:
    """Send SIGTERM to the line's program(s), or to the group when none is found."""
    programs = programs_of(pid)
    try:
        if programs:
            for program in programs:
                os.kill(program, signal.SIGTERM)
        else:
            os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass


def main(argv=None) -> int:
    from honcho import compat, manager
    from honcho.command import main as honcho_main

    manager.KILL_WAIT = GRACE_SECONDS
    compat.ProcessManager.terminate = lambda self, pid: terminate(pid)
    return honcho_main(argv)


if __name__ == "__main__":
    sys.exit(main())
