"""Tests for tracelift_backend.math_verify_worker (needs math-verify installed).

Run: .venv/bin/python -m pytest backend/tests/test_math_verify_worker.py
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BACKEND = Path(__file__).resolve().parents[1]
if str(BACKEND) not in sys.path:
    sys.path.insert(0, str(BACKEND))

pytest.importorskip("math_verify")

from tracelift_backend import math_verify_worker as mvw  # noqa: E402


@pytest.fixture(scope="module")
def checker() -> mvw.Checker:
    mvw.install_logging()
    return mvw.Checker()


def run(checker: mvw.Checker, prediction: object, reference: object, id_: object = 1) -> dict:
    return mvw.handle_line(checker, json.dumps({"id": id_, "prediction": prediction, "reference": reference}))


@pytest.mark.parametrize(
    "prediction,reference",
    [
        ("The answer is $0.5$", "\\frac{1}{2}"),
        ("\\boxed{\\frac34}", "\\dfrac{3}{4}"),
        ("$\\boxed{(3, \\frac{\\pi}{2})}$", "\\left( 3, \\frac{\\pi}{2} \\right)"),
        ("\\boxed{\\frac{\\sqrt2}{2}}", "\\sqrt{2}/2"),
        ("\\boxed{[2, 5)}", "[2,5)"),
        ("\\boxed{\\text{Evelyn}}", "\\text{Evelyn}"),
        ("The answer is Evelyn.", "\\text{Evelyn}"),
        ("\\boxed{\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}}", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}"),
    ],
)
def test_equivalent(checker, prediction, reference):
    res = run(checker, prediction, reference)
    assert res["correct"] is True, res
    assert res["error"] is None


@pytest.mark.parametrize(
    "prediction,reference",
    [("\\boxed{3}", "4"), ("\\boxed{(2, 5]}", "[2,5)"), ("no answer", "5"), ("", "1")],
)
def test_not_equivalent(checker, prediction, reference):
    assert run(checker, prediction, reference)["correct"] is False


@pytest.mark.parametrize(
    "prediction,reference",
    [
        ("\\pi", "\\pi"),
        ("2\\pi", "2\\pi"),
        ("11\\sqrt2", "11\\sqrt{2}"),
        ("\\frac{1}{\\sqrt{3}}", "\\frac{\\sqrt{3}}{3}"),
        ("\\dfrac{\\pi}{3}", "\\frac{\\pi}{3}"),
        ("(-\\infty, 2) \\cup (3, \\infty)", "(-\\infty, 2) \\cup (3, \\infty)"),
        ("\\text{even}", "\\text{even}"),
        ("\\text{(C)}", "\\text{(C)}"),
        ("\\left( \\frac{3}{2}, -13 \\right)", "\\left( \\frac{3}{2}, -13 \\right)"),
        ("1+274i", "1+274i"),
        ("\\begin{pmatrix} 1/5 \\\\ -18/5 \\end{pmatrix}", "\\begin{pmatrix} 1/5 \\\\ -18/5 \\end{pmatrix}"),
        ("\\$18.90", "\\$18.90"),
        ("The answer is 11\\sqrt2", "11\\sqrt{2}"),
        ("Final answer: x \\in [-2,7]", "x \\in [-2,7]"),
        ("Some reasoning first.\n\n\\frac{270}7\\text{ degrees}", "\\frac{270}7\\text{ degrees}"),
        ("18 dollars", "18"),
        ("x = 3 or x = 4", "3, 4"),
    ],
)
def test_bare_answers_read_like_the_reference(checker, prediction, reference):
    res = run(checker, prediction, reference)
    assert res["correct"] is True, res
    assert res["hedged"] is False


@pytest.mark.parametrize(
    "prediction,reference",
    [
        ("18 or 19", "19"),
        ("either 3 or 4", "3"),
        ("x=3 or x=4", "4"),
        ("The answer is 18 or 19.", "18"),
        ("\\boxed{3 \\text{ or } 4}", "3"),
        ("It could be 18 or 19.", "19"),
        ("We get $3$ or maybe $4$.", "4"),
    ],
)
def test_hedges_are_refused(checker, prediction, reference):
    res = run(checker, prediction, reference)
    assert res["correct"] is False, res
    assert res["hedged"] is True, res


@pytest.mark.parametrize(
    "prediction,reference",
    [
        ("11\\sqrt2", "11"),
        ("4210_6", "4210_{5}"),
        ("\\text{(D)}", "\\text{(C)}"),
        ("(2, 5]", "[2,5)"),
        ("x = 3, and x = -3 is excluded, so x = 3 or x = -3", "3"),
    ],
)
def test_near_misses_are_wrong(checker, prediction, reference):
    assert run(checker, prediction, reference)["correct"] is False


@pytest.mark.parametrize(
    "prediction,reference",
    [
        ("x = 3 or x = -3, and since x > 0, x = 3", "3"),
        ("The answer is the number of apples or pears, which is 12.", "12"),
    ],
)
def test_alternatives_in_prose_are_not_a_hedge(checker, prediction, reference):
    res = run(checker, prediction, reference)
    assert res["correct"] is True, res
    assert res["hedged"] is False


def test_bad_lines_never_raise(checker):
    for line in [
        "not json",
        "[1, 2]",
        '{"id": 3}',
        '{"id": 4, "prediction": null, "reference": "1"}',
        '{"id": 5, "prediction": "1", "reference": ""}',
    ]:
        res = mvw.handle_line(checker, line)
        assert res["correct"] is False
        assert isinstance(res["error"], str)


def test_timeout_is_reported(checker):
    res = run(checker, "\\boxed{10^{10^{10^{10}}}}", "1")
    assert res["correct"] is False
    assert "timeout" in (res["error"] or "")


def test_main_loop_one_line_per_input():
    inp = io.BytesIO(
        b'{"id": "a", "prediction": "\\\\boxed{1}", "reference": "1"}\n\nnot json\n'
        b'{"id": "b", "prediction": "2", "reference": "3"}\n'
    )
    out = io.StringIO()
    assert mvw.main(stdin=inp, stdout=out) == 0
    lines = [json.loads(row) for row in out.getvalue().splitlines()]
    assert [(row["id"], row["correct"]) for row in lines] == [("a", True), (None, False), ("b", False)]


def test_subprocess_protocol():
    env = dict(os.environ, PYTHONPATH=str(BACKEND))
    proc = subprocess.run(
        [sys.executable, "-u", "-m", "tracelift_backend.math_verify_worker"],
        input='{"id": 1, "prediction": "\\\\boxed{\\\\frac{1}{2}}", "reference": "0.5"}\n',
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {
        "id": 1,
        "correct": True,
        "extracted": "\\frac{1}{2}",
        "error": None,
        "hedged": False,
    }
