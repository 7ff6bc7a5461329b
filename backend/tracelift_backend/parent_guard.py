"""Child processes that die with the engine process that started them.

The engine starts long-lived Python children in their own process groups (the embedded executor
server, the GRPO trainer) so that a Ctrl-C reaches the engine first and it can stop them in order.
The cost: when the engine itself is killed without unwinding (kill -9, an OOM kill, a closed
terminal) nothing stops them, and an orphaned server or trainer holds a port, cores and memory
for ever. A guard thread watches the parent: once the process has been re-parented, it exits.

``python -m tracelift_backend.parent_guard PARENT_PID MODULE [ARGS...]`` runs MODULE as ``__main__``
under the guard (used for the embedded executor: ``llama_cpp.server``). In-process:
``exit_when_orphaned(parent_pid)``.
"""

from __future__ import annotations

import os
import runpy
import sys
import threading
import time
from collections.abc import Callable

PARENT_PID_ENV = "TRACELIFT_PARENT_PID"
ORPHAN_EXIT_STATUS = 3


def _default_exit(message: str) -> None:
    try:
        print(message, file=sys.stderr, flush=True)
    except OSError:
        pass  # stderr is usually a pipe to the dead parent (EPIPE): exit all the same
    # Not sys.exit: this runs in a side thread, and the main thread may be deep in a server
    # loop or a training step. os._exit ends the process now; what was written stays written.
    os._exit(ORPHAN_EXIT_STATUS)


def exit_when_orphaned(
    parent_pid: int,
    poll_s: float = 1.0,
    on_orphaned: Callable[[str], None] = _default_exit,
) -> threading.Thread:
    """Starts a daemon thread that calls ``on_orphaned`` once this process's parent is no longer
    ``parent_pid`` (the parent died and the process was re-parented). The pid is passed in rather
    than read here because the parent may already be gone when the child starts."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(poll_s)
        on_orphaned(f"[parent-guard] parent process {parent_pid} is gone: exiting")

    thread = threading.Thread(target=watch, name="parent-guard", daemon=True)
    thread.start()
    return thread


def guard_from_env() -> threading.Thread | None:
    """Guards this process when the engine said who its parent is (``TRACELIFT_PARENT_PID``) and
    that process is its parent. A process started further down (a trainer under ``accelerate
    launch``, which inherits the variable) is left alone: its own parent is the launcher there."""
    value = os.environ.get(PARENT_PID_ENV, "").strip()
    if not value.isdigit() or os.getppid() != int(value):
        return None
    return exit_when_orphaned(int(value))


def main(argv: list[str]) -> None:
    if len(argv) < 2 or not argv[0].isdigit():
        print("usage: python -m tracelift_backend.parent_guard PARENT_PID MODULE [ARGS...]", file=sys.stderr)
        sys.exit(2)
    parent_pid, module = int(argv[0]), argv[1]
    exit_when_orphaned(parent_pid)
    sys.argv = [module, *argv[2:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
