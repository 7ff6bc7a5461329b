"""The judge (tracelift_backend/sandbox/judge.py): its comparison logic directly, and whole runs
as the engine starts them (preamble, spec on stdin, records on fd 3), without bubblewrap."""

from __future__ import annotations

import math

import pytest
from conftest import judge_spec, run_judge

import codec
import judge

# ---- JSON reading without the json package ----


def test_loads_reads_json_and_rejects_trailing_data() -> None:
    assert judge.loads(b' {"a": [1, 2.5, null, true, "\\u00e9"]} \n') == {"a": [1, 2.5, None, True, "é"]}
    assert math.isnan(judge.loads("NaN"))
    with pytest.raises(ValueError):
        judge.loads('{"a": 1} {"b": 2}')
    with pytest.raises(ValueError):
        judge.loads("")


# ---- comparing outputs (EvalPlus oracles) ----


@pytest.mark.parametrize(
    "out,exp,inp,atol,oracle,expected",
    [
        ([1, 2], [1, 2], [], 0, "exact", True),
        ([1, 2], [2, 1], [], 0, "exact", False),
        ([1, 2], [2, 1], [], 0, "set_eq", True),
        (0.1 + 0.2, 0.3, [], 0, "exact", True),  # floats get atol 1e-6 by default
        (0.3001, 0.3, [], 0, "exact", False),
        (0.3001, 0.3, [], 1e-3, "exact", True),
        (1, 1.0000001, [], 1e-3, "exact", False),  # int vs float: types must match for the tolerance
        ([0.5, float("nan")], [0.5, float("nan")], [], 1e-6, "exact", False),
        (0, 7, [], 0, "or_zero", True),
        (3, 7, [], 0, "or_zero", False),
        (None, 7, [], 0, "always_true", True),
        (1.0, None, [[-1.0, 1.0]], 1e-6, "find_zero", True),  # 1 is the root of -1 + x
        (2.0, None, [[-1.0, 1.0]], 1e-6, "find_zero", False),
    ],
)
def test_evalplus_match(out, exp, inp, atol, oracle, expected) -> None:
    assert judge._evalplus_match(out, exp, inp, atol, oracle) is expected


def test_digest_equal_exactly_when_values_compare_equal() -> None:
    assert judge._digest({"b": [1, 2.0], "a": {3, 1}}) == judge._digest({"a": {1, 3}, "b": [1.0, 2]})
    assert judge._digest(True) == judge._digest(1)
    assert judge._digest([1, 2]) != judge._digest([2, 1])
    assert judge._digest((1, 2)) != judge._digest([1, 2])
    assert judge._digest(2**80) != judge._digest(2**80 + 1)
    assert judge._digest(object()).startswith("undigestible")


# ---- values from the program: references equal only to themselves ----


def make_judge() -> judge.Judge:
    spec = judge_spec("", {"kind": "asserts", "asserts": []})
    return judge.Judge(spec, out=None, first_child=None)


def test_references_from_the_program_are_opaque_and_equal_only_to_themselves() -> None:
    j = make_judge()
    a = codec.decode({"$ref": [0, "Liar"]}, j.resolve)
    again = codec.decode({"$ref": [0, "Liar"]}, j.resolve)
    other = codec.decode({"$ref": [1, "Liar"]}, j.resolve)
    assert a is again
    assert a != other and not (a == 4) and a != 4
    assert repr(a) == "<candidate Liar object>"
    with pytest.raises(codec.CodecError):
        codec.decode({"$ref": "zero"}, j.resolve)
    # The program may not name the judge's objects.
    with pytest.raises(codec.CodecError):
        codec.decode({"$name": "f"}, j.resolve)


def test_only_the_programs_own_objects_can_be_passed_back_to_it() -> None:
    j = make_judge()
    ref = codec.decode({"$ref": [3, "X"]}, j.resolve)
    assert j.enc_arg([1, ref]) == [1, {"$ref": [3, ""]}]
    with pytest.raises(judge.HarnessError):
        j.enc_arg(object())


# ---- whole runs ----


def records_of(records: list[dict], kind: str) -> list[dict]:
    return [r for r in records if r["t"] == kind]


def test_a_run_reports_each_assert_tagged_with_the_nonce() -> None:
    records = run_judge(
        judge_spec(
            "def f(x):\n    return x * x\n", {"kind": "asserts", "asserts": ["assert f(2) == 4", "assert f(3) == 10"]}
        )
    )
    assert all(r["n"] == "n0nce" for r in records)
    assert [r["t"] for r in records][0] == "hello"
    assert records_of(records, "meta") == [{"t": "meta", "total": 2, "n": "n0nce"}]
    assert [(r["i"], r["status"]) for r in records_of(records, "test")] == [(0, "passed"), (1, "failed")]
    assert records[-1]["t"] == "end"


def test_forged_equality_from_the_program_does_not_pass() -> None:
    program = (
        "class Always:\n"
        "    def __eq__(self, other):\n"
        "        return True\n"
        "class LiarInt(int):\n"
        "    def __eq__(self, other):\n"
        "        return True\n"
        "    __hash__ = int.__hash__\n"
        "def f(x):\n"
        "    return Always()\n"
        "def g(x):\n"
        "    return LiarInt(0)\n"
    )
    tests = {"kind": "asserts", "asserts": ["assert f(2) == 4", "assert g(2) == 4", "assert g(2) == 0"]}
    statuses = [r["status"] for r in records_of(run_judge(judge_spec(program, tests)), "test")]
    assert statuses == ["failed", "failed", "passed"]


def test_the_programs_interpreter_holds_no_harness_modules_paths_or_extra_fds() -> None:
    # The child imports codec.py from the harness directory, then removes both traces;
    # only its five pipes are open (the judge's result channel is not among them).
    program = (
        "import os, sys\n"
        "LEAKS = sorted(n for n in ('codec', 'judge', 'child') if n in sys.modules)\n"
        "PATHS = [p for p in sys.path if 'sandbox' in p]\n"
        "FDS = sorted(int(fd) for fd in os.listdir('/proc/self/fd'))\n"
        "def f():\n"
        "    return [LEAKS, PATHS, FDS]\n"
    )
    tests = {"kind": "asserts", "asserts": ["assert f() == [[], [], [0, 1, 2, 3, 4, 5]], f()"]}
    (test,) = records_of(run_judge(judge_spec(program, tests)), "test")
    assert test["status"] == "passed", test


def test_a_syntax_error_is_reported_as_a_compile_error() -> None:
    records = run_judge(judge_spec("def f(x) return x\n", {"kind": "asserts", "asserts": ["assert f(1) == 1"]}))
    (err,) = records_of(records, "compile_error")
    assert err["msg"].startswith("SyntaxError") and err["line"] == 1


def test_a_program_that_loops_forever_times_out() -> None:
    spec = judge_spec("def f(x):\n    while True:\n        pass\n", {"kind": "asserts", "asserts": ["assert f(1)"]})
    spec["limits"] = {"timeout_s": 1, "per_test_s": 1, "memory_mb": 1024}
    (test,) = records_of(run_judge(spec), "test")
    assert test["status"] == "timeout"


def test_record_mode_reports_the_reference_outputs() -> None:
    tests = {"kind": "evalplus", "entry_point": "f", "inputs": [[2], [{"$tuple": [1, 2]}]], "expected_json": ["0", "0"]}
    records = run_judge(judge_spec("def f(x):\n    return [x, x]\n", tests, mode="record"))
    assert [(r["i"], r["v"]) for r in records_of(records, "value")] == [
        (0, [2, 2]),
        (1, [{"$tuple": [1, 2]}, {"$tuple": [1, 2]}]),
    ]
