"""The child (tracelift_backend/sandbox/child.py) spoken to over its pipes, as the judge does."""

from __future__ import annotations

import json
import marshal
import os
import sys
from collections.abc import Iterator

import pytest
from conftest import SANDBOX_DIR, read_until_eof

import judge


class ChildSession:
    """A child started by the judge's own spawn_child(), with the judge's framing on fds 3 and 4."""

    def __init__(self, program: str, mode: str = "call") -> None:
        self.proc = judge.spawn_child(sys.executable, str(SANDBOX_DIR / "child.py"), os.getcwd(), True)
        os.set_blocking(self.proc.resp_r, True)
        module = "__main__" if mode == "script" else "solution"
        self.send({"mode": mode, "program": program, "module": module, "limits": {"as": 1 << 31, "cpu": 20}})

    def send(self, obj: dict) -> None:
        body = marshal.dumps(obj)
        os.write(self.proc.req_w, len(body).to_bytes(4, "big") + body)

    def _read_exact(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = os.read(self.proc.resp_r, n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    def recv(self) -> dict:
        size = int.from_bytes(self._read_exact(4), "big")
        return json.loads(self._read_exact(size))

    def call(self, name: str, *args: object) -> dict:
        self.send({"op": "call", "f": {"$name": name}, "a": list(args)})
        return self.recv()

    def close(self) -> int:
        """End of requests (the child exits), then its exit status."""
        for fd in (self.proc.req_w, self.proc.stdin_w):
            if fd is not None:
                os.close(fd)
        _, status = os.waitpid(self.proc.pid, 0)
        for fd in (self.proc.resp_r, self.proc.stdout_r, self.proc.stderr_r):
            os.close(fd)
        return status


@pytest.fixture
def session() -> Iterator[ChildSession]:
    s = ChildSession(
        "import math\n"
        "SIZE = 3\n"
        "class Box:\n"
        "    pass\n"
        "def square(x):\n"
        "    return x * x\n"
        "def pair(x):\n"
        "    return (x, {x: [x]})\n"
        "def box():\n"
        "    return Box()\n"
        "def boom():\n"
        "    raise KeyError('no')\n"
        "def huge():\n"
        "    return list(range(5_000_000))\n"
    )
    assert s.recv() == {"t": "compiled"}
    yield s
    s.close()


def test_ready_lists_the_programs_names(session: ChildSession) -> None:
    ready = session.recv()
    assert ready["t"] == "ready"
    names = ready["names"]
    assert names["math"] == ["module", "math"]
    assert names["SIZE"] == ["value", 3]
    assert names["square"] == ["callable"] and names["Box"] == ["callable"]


def test_calls_answer_in_typed_json(session: ChildSession) -> None:
    session.recv()
    assert session.call("square", 7) == {"ok": 49}
    assert session.call("square", {"$int": format(2**60, "x")}) == {"ok": {"$int": format(2**120, "x")}}
    assert session.call("pair", 2) == {"ok": {"$tuple": [2, {"$dict": [[2, [2]]]}]}}
    ref = session.call("box")["ok"]
    assert ref == {"$ref": [0, "Box"]}


def test_errors_come_back_described_not_raised(session: ChildSession) -> None:
    session.recv()
    assert session.call("boom") == {"err": ["exc", "KeyError", "'no'"]}
    assert session.call("huge")["err"][0] == "toolarge"
    # The child still serves requests after both.
    assert session.call("square", 3) == {"ok": 9}


def test_a_program_that_does_not_compile_is_reported() -> None:
    s = ChildSession("def f(:\n")
    msg = s.recv()
    assert msg["t"] == "compile_error" and msg["exc"] == "SyntaxError" and msg["line"] == 1
    assert os.WEXITSTATUS(s.close()) == 1


def test_script_mode_runs_the_program_as_main_with_its_stdin() -> None:
    s = ChildSession("import sys\nprint(int(sys.stdin.read()) * 2, __name__)\n", mode="script")
    assert s.recv() == {"t": "compiled"}
    os.write(s.proc.stdin_w, b"21\n")
    os.close(s.proc.stdin_w)
    s.proc.stdin_w = None
    assert read_until_eof(s.proc.stdout_r, 30) == b"42 __main__\n"
    assert s.close() == 0
