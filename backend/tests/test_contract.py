"""tracelift_backend.contract: the zod contract's JSON Schemas applied to what Python reads and writes,
over the fixture run the engine wrote and over hand-made bad records."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest

from tracelift_backend import contract

FIXTURE_RUN = Path(__file__).resolve().parents[2] / "test/fixtures/workspace/.tracelift/runs/gsm8k-reference-3"


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A copy of the fixture run, free to damage."""
    return Path(shutil.copytree(FIXTURE_RUN, tmp_path / "run"))


def fixture_events() -> list[dict]:
    lines = (FIXTURE_RUN / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_every_schema_file_is_a_valid_json_schema() -> None:
    names = sorted(p.name.removesuffix(".schema.json") for p in contract.SCHEMA_DIR.glob("*.schema.json"))
    assert {contract.EVAL_CONFIG, contract.RUN_EVENT} <= set(names)
    for name in names:
        contract._validator(name)  # check_schema raises on an invalid schema


def test_the_fixture_run_reads_whole() -> None:
    log = contract.read_events(FIXTURE_RUN)
    assert [e["type"] for e in log.events] == [
        "run_started",
        "rollout_group",
        "rollout_group",
        "rollout_group",
        "run_ended",
    ]
    assert log.issues == [] and log.unfinished == b""
    config = contract.read_eval_config(FIXTURE_RUN)
    assert config["task"] == "gsm8k" and config == log.events[0]["config"]


def test_a_truncated_last_line_is_left_unread(run_dir: Path) -> None:
    events = run_dir / "events.jsonl"
    data = events.read_bytes()
    cut = data[: len(data) - 40]  # inside the last event: no newline after it
    events.write_bytes(cut)
    log = contract.read_events(events)
    assert [e["type"] for e in log.events] == ["run_started", "rollout_group", "rollout_group", "rollout_group"]
    assert log.issues == []
    assert log.unfinished == cut[cut.rindex(b"\n") + 1 :] and log.unfinished.startswith(b'{"time"')


def test_a_file_with_no_complete_line_has_no_events(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_bytes(b'{"time": "2026')
    log = contract.read_events(events)
    assert log.events == [] and log.issues == [] and log.unfinished == b'{"time": "2026'


def test_bad_lines_in_the_middle_are_reported_by_line_and_field_and_skipped(run_dir: Path) -> None:
    events = fixture_events()
    bad = copy.deepcopy(events[2])
    bad["group_index"] = "two"
    lines = [json.dumps(e) for e in events[:2]] + ["{not json", json.dumps(bad)] + [json.dumps(e) for e in events[3:]]
    (run_dir / "events.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    log = contract.read_events(run_dir)
    assert [e["type"] for e in log.events] == ["run_started", "rollout_group", "rollout_group", "run_ended"]
    assert [i.line for i in log.issues] == [3, 4]
    assert "invalid JSON" in log.issues[0].message
    assert "run_event: group_index: 'two' is not of type 'integer'" == log.issues[1].message


def rollout_group() -> dict:
    return copy.deepcopy(fixture_events()[1])


@pytest.mark.parametrize(
    "damage,field,reason",
    [
        (lambda e: e.pop("problem_id"), "problem_id", "is required"),
        (lambda e: e.update(task_kind="poetry"), "task_kind", "'poetry' is not one of"),
        (lambda e: e["baseline"]["tally"].update(successes=-1), "baseline.tally.successes", "less than the minimum"),
        (lambda e: e["samples"][0].pop("trace"), "samples[0].trace", "is required"),
        (
            lambda e: e["samples"][0]["with_trace"]["attempts"][1].update(output=7),
            "samples[0].with_trace.attempts[1].output",
            "",
        ),
        (lambda e: e.update(type="rollout_grop"), "type", "'rollout_grop' is not one of 'run_started'"),
    ],
)
def test_a_bad_run_event_is_rejected_naming_the_field(damage, field: str, reason: str) -> None:
    event = rollout_group()
    contract.validate(contract.RUN_EVENT, event)
    damage(event)
    with pytest.raises(contract.ContractError) as caught:
        contract.parse_event_line(json.dumps(event))
    assert caught.value.schema == "run_event"
    assert caught.value.field == field
    assert reason in caught.value.reason
    assert field in str(caught.value)


def test_a_bad_eval_config_is_rejected_naming_the_field(run_dir: Path) -> None:
    config = json.loads((run_dir / "config.json").read_text())
    config["executor"]["timeout_ms"] = 0
    (run_dir / "config.json").write_text(json.dumps(config))
    with pytest.raises(contract.ContractError) as caught:
        contract.read_eval_config(run_dir)
    assert caught.value.field == "executor.timeout_ms"

    config = json.loads((FIXTURE_RUN / "config.json").read_text())
    config["trace_source"] = {"kind": "file", "path": "traces.jsonl", "format": "csv"}
    with pytest.raises(contract.ContractError) as caught:
        contract.validate(contract.EVAL_CONFIG, config)
    assert caught.value.field == "trace_source.format"


def test_appended_events_are_validated_and_start_a_line_of_their_own(run_dir: Path) -> None:
    events = run_dir / "events.jsonl"
    ended = fixture_events()[-1]
    with pytest.raises(contract.ContractError):
        contract.append_event(run_dir, {**ended, "type": "run_ended", "time": 5})
    assert events.read_bytes() == (FIXTURE_RUN / "events.jsonl").read_bytes()  # nothing written

    events.write_bytes(events.read_bytes()[:-40])  # a crash cut the last line
    contract.append_event(run_dir, ended)
    log = contract.read_events(run_dir)
    assert log.events[-1] == ended and log.unfinished == b""
    assert [i.line for i in log.issues] == [5]  # the cut line stays, as a bad line, not glued to the new one


def test_an_unknown_schema_name_is_an_error_that_lists_the_known_ones() -> None:
    with pytest.raises(contract.ContractError, match="known: .*run_event"):
        contract.validate("no_such_schema", {})
