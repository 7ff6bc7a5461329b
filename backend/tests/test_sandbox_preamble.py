"""The launcher (tracelift_backend/sandbox/preamble.py), run as the engine runs it: python -I -S -c."""

from __future__ import annotations

import errno
import json
import os
import resource
from pathlib import Path

from conftest import read_until_eof, spawn_preamble

REPORT = """
import json, os, resource, sys
names = ("nofile", "fsize", "cpu", "core")
limits = {name: resource.getrlimit(getattr(resource, "RLIMIT_" + name.upper())) for name in names}
fsize_error = None
try:
    with open(os.path.join(sys.argv[1], "big"), "wb") as f:
        f.write(b"x" * 5000)
except OSError as e:
    fsize_error = e.strerror
print(json.dumps({"limits": limits, "argv": sys.argv, "name": __name__, "file": __file__, "fsize_error": fsize_error}))
"""


def run_report(tmp_path: Path, limits: str) -> dict:
    script = tmp_path / "report.py"
    script.write_text(REPORT)
    out_r, out_w = os.pipe()
    pid = spawn_preamble(limits, str(script), [str(tmp_path), "extra"], {1: out_w, 2: out_w})
    os.close(out_w)
    try:
        output = read_until_eof(out_r, 30)
    finally:
        os.close(out_r)
        _, status = os.waitpid(pid, 0)
    assert status == 0, output
    return json.loads(output)


def test_limits_are_applied_soft_equal_hard_and_the_script_runs_as_main(tmp_path: Path) -> None:
    report = run_report(tmp_path, "nofile=64,fsize=1000,cpu=7,core=0")
    assert report["limits"] == {"nofile": [64, 64], "fsize": [1000, 1000], "cpu": [7, 7], "core": [0, 0]}
    assert report["argv"] == [str(tmp_path / "report.py"), str(tmp_path), "extra"]
    assert report["name"] == "__main__"
    assert report["file"] == str(tmp_path / "report.py")
    # RLIMIT_FSIZE is enforced: the write past 1000 bytes fails (Python ignores SIGXFSZ).
    assert report["fsize_error"] == os.strerror(errno.EFBIG)
    assert (tmp_path / "big").stat().st_size == 1000


def test_unknown_and_empty_items_are_skipped(tmp_path: Path) -> None:
    before = resource.getrlimit(resource.RLIMIT_CPU)
    report = run_report(tmp_path, ",no_such_limit=5,,nofile=100,")
    assert report["limits"]["nofile"] == [100, 100]
    assert report["limits"]["cpu"] == list(before)
    assert report["fsize_error"] is None
