"""Shared helpers: running the sandbox scripts the way the engine does, minus bubblewrap."""

from __future__ import annotations

import json
import os
import select
import sys
import time
from pathlib import Path

import pytest

SANDBOX_DIR = Path(__file__).resolve().parents[1] / "tracelift_backend" / "sandbox"
PREAMBLE = (SANDBOX_DIR / "preamble.py").read_text(encoding="utf-8")


def read_until_eof(fd: int, deadline_s: float) -> bytes:
    """Everything written to a pipe until its writers are gone (fails the test at the deadline)."""
    end = time.monotonic() + deadline_s
    chunks = []
    while True:
        left = end - time.monotonic()
        if left <= 0:
            pytest.fail("timed out reading from the sandbox script")
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def spawn_preamble(limits: str, script: str, args: list[str], fds: dict[int, int]) -> int:
    """posix_spawn ``python -I -S -c <preamble> limits script args`` with the given fds, in a new session.

    A new session as the engine's runner (detached) gives it: the judge kills its
    own process group when it runs unsandboxed, which must not be pytest's."""
    argv = [sys.executable, "-I", "-S", "-c", PREAMBLE, limits, script, *args]
    actions = [(os.POSIX_SPAWN_DUP2, src, dst) for dst, src in fds.items()]
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    return os.posix_spawn(sys.executable, argv, env, file_actions=actions, setsid=True)


def run_judge(spec: dict, timeout_s: float = 60.0) -> list[dict]:
    """Run judge.py as the engine does (spec on stdin, records on fd 3), unsandboxed; returns the records."""
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    chan_r, chan_w = os.pipe()
    pid = spawn_preamble(
        "nofile=256,core=0", str(SANDBOX_DIR / "judge.py"), [], {0: in_r, 1: out_w, 2: out_w, 3: chan_w}
    )
    for fd in (in_r, out_w, chan_w):
        os.close(fd)
    with os.fdopen(in_w, "wb") as stdin:
        stdin.write(json.dumps(spec).encode())
    try:
        channel = read_until_eof(chan_r, timeout_s)
    finally:
        os.close(chan_r)
        os.close(out_r)
        os.waitpid(pid, 0)
    return [json.loads(line) for line in channel.decode().splitlines() if line.strip()]


def judge_spec(program: str, tests: dict, nonce: str = "n0nce", mode: str = "verify", timeout_s: float = 20) -> dict:
    """The spec the engine sends (see buildJudgeSpec in src/engine/verify/code/harness.ts)."""
    return {
        "nonce": nonce,
        "sandboxed": False,
        "python": sys.executable,
        "child": str(SANDBOX_DIR / "child.py"),
        "program": program,
        "mode": mode,
        "tests": tests,
        "limits": {"timeout_s": timeout_s, "per_test_s": timeout_s, "memory_mb": 1024},
    }
