"""The parent guard: a child started under it exits once its parent is killed without unwinding."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tracelift_backend import parent_guard

BACKEND = Path(__file__).resolve().parents[1]

# The parent: starts a long-running module (a module that sleeps) under the guard in a new session
# with its output piped to the parent, as the engine does (detached; once the parent is gone, writing
# to stderr fails with EPIPE), prints the child's pid, then waits for ever.
PARENT = textwrap.dedent(
    """
    import os, subprocess, sys, time
    child = subprocess.Popen(
        [sys.executable, "-m", "tracelift_backend.parent_guard", str(os.getpid()), "sleeper"],
        start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": sys.argv[1] + os.pathsep + sys.argv[2]},
    )
    print(child.pid, flush=True)
    time.sleep(600)
    """
)
SLEEPER = "import time\nprint('sleeping', flush=True)\ntime.sleep(600)\n"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0) until reaped; its /proc status says so.
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "\nState:\tZ" in status.read_text())


def test_the_child_exits_when_its_parent_is_killed(tmp_path):
    (tmp_path / "sleeper.py").write_text(SLEEPER)
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(BACKEND), str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    child_pid = int(parent.stdout.readline())
    try:
        time.sleep(1.5)
        assert alive(child_pid), "the guarded child runs while its parent lives"
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 10
        while alive(child_pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not alive(child_pid), "the guarded child outlived its killed parent"
    finally:
        if alive(child_pid):
            os.kill(child_pid, signal.SIGKILL)
        if parent.poll() is None:
            parent.kill()


def test_the_watcher_fires_only_after_re_parenting(monkeypatch):
    calls: list[str] = []
    parents = iter([100, 100, 1])
    monkeypatch.setattr(os, "getppid", lambda: next(parents))
    thread = parent_guard.exit_when_orphaned(100, poll_s=0.01, on_orphaned=calls.append)
    thread.join(5)
    assert len(calls) == 1 and "100" in calls[0]


@pytest.mark.parametrize(
    ("env", "ppid", "guarded"),
    [({}, 42, False), ({"TRACELIFT_PARENT_PID": "42"}, 42, True), ({"TRACELIFT_PARENT_PID": "42"}, 7, False)],
)
def test_the_environment_guards_direct_children_only(monkeypatch, env, ppid, guarded):
    monkeypatch.delenv("TRACELIFT_PARENT_PID", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(os, "getppid", lambda: ppid)
    started: list[int] = []
    monkeypatch.setattr(parent_guard, "exit_when_orphaned", lambda pid: started.append(pid))
    parent_guard.guard_from_env()
    assert started == ([42] if guarded else [])
