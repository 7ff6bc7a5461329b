"""The engine's data contract on the Python side.

The contract is defined once, in zod (src/engine/contract); ``npm run schemas``
writes it as JSON Schemas into ``schemas/`` beside this file. Everything Python
reads from or writes to a run directory goes through here and is validated
against those schemas; a record that does not match raises ``ContractError``
naming the field.

A run directory (see src/engine/contract/events.ts) holds ``config.json`` (an
eval config) and ``events.jsonl`` (one run event per line, append-only). As in
the engine's run reader (src/engine/run/runReader.ts), bytes after the last
newline of ``events.jsonl`` are a line still being written or cut by a crash:
they are left unread, not an error.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import validators
from jsonschema.exceptions import ValidationError, best_match

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"

EVAL_CONFIG = "eval_config"
RUN_EVENT = "run_event"

CONFIG_FILE = "config.json"
EVENTS_FILE = "events.jsonl"


class ContractError(ValueError):
    """A record that does not match the contract; ``field`` is its dotted path ("" for the record itself)."""

    def __init__(self, schema: str, field: str, reason: str) -> None:
        super().__init__(f"{schema}: {field or '(record)'}: {reason}")
        self.schema = schema
        self.field = field
        self.reason = reason


@lru_cache(maxsize=None)
def schema(name: str) -> dict[str, Any]:
    """The JSON Schema ``name`` (e.g. ``"run_event"``) as generated from zod."""
    path = SCHEMA_DIR / f"{name}.schema.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        known = sorted(p.name.removesuffix(".schema.json") for p in SCHEMA_DIR.glob("*.schema.json"))
        raise ContractError(name, "", f"no schema {path.name} in {SCHEMA_DIR} (known: {', '.join(known)})") from None


@lru_cache(maxsize=None)
def _validator(name: str) -> Any:
    sch = schema(name)
    cls = validators.validator_for(sch)
    cls.check_schema(sch)
    return cls(sch)


_NO_CONST = object()


def _union_tag(branches: Any) -> tuple[str, list[Any]] | None:
    """A zod discriminated union is a oneOf whose branches each fix one property with ``const``:
    that property's name and the value each branch fixes."""
    if not isinstance(branches, list) or not branches or not all(isinstance(b, Mapping) for b in branches):
        return None
    for key in branches[0].get("properties", {}):
        tags = [b.get("properties", {}).get(key, {}).get("const", _NO_CONST) for b in branches]
        if _NO_CONST not in tags:
            return key, tags
    return None


def _explain(error: ValidationError) -> tuple[str, str]:
    """(dotted field, reason) of the error that says most about what is wrong. In a discriminated
    union the record's tag picks the branch whose errors are reported (jsonschema alone only says
    "not valid under any of the given schemas")."""
    while error.validator in ("oneOf", "anyOf") and error.context and isinstance(error.instance, Mapping):
        union = _union_tag(error.validator_value)
        if union is None:
            break
        key, tags = union
        tag = error.instance.get(key)
        if tag not in tags:
            return _dotted([*error.absolute_path, key]), f"{tag!r} is not one of {', '.join(map(repr, tags))}"
        inside = [e for e in error.context if e.relative_schema_path[0] == tags.index(tag)]
        if not inside:
            break
        error = best_match(inside)
    path = list(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, Mapping):
        missing = [p for p in error.validator_value if p not in error.instance and repr(p) in error.message]
        if missing:
            return _dotted([*path, missing[0]]), "is required"
    return _dotted(path), error.message


def _dotted(path: list[Any]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(path))


def validate(name: str, record: Any) -> Any:
    """``record`` if it matches schema ``name``; else ContractError naming the field."""
    error = best_match(_validator(name).iter_errors(record))
    if error is not None:
        where, reason = _explain(error)
        raise ContractError(name, where, reason)
    return record


def parse_event_line(line: str | bytes) -> dict[str, Any]:
    """One line of events.jsonl as a validated run event."""
    try:
        event = json.loads(line)
    except json.JSONDecodeError as e:
        raise ContractError(RUN_EVENT, "", f"invalid JSON ({e})") from None
    return validate(RUN_EVENT, event)


@dataclass
class LineIssue:
    """A complete line of a JSON Lines file that was not a valid record."""

    line: int
    message: str


@dataclass
class EventLog:
    """What ``read_events`` found: the valid events in order, the bad lines, and the cut tail."""

    events: list[dict[str, Any]] = field(default_factory=list)
    issues: list[LineIssue] = field(default_factory=list)
    #: Bytes after the last newline: a line being written, or cut by a crash. Not parsed.
    unfinished: bytes = b""


def _events_path(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    return p / EVENTS_FILE if p.is_dir() else p


def read_events(path: str | os.PathLike[str]) -> EventLog:
    """The run events of ``events.jsonl`` (or of a run directory). Bad complete lines are reported
    in ``issues`` (line number and field) and skipped, as the engine's run reader does."""
    data = _events_path(path).read_bytes()
    complete, newline, unfinished = data.rpartition(b"\n")
    log = EventLog(unfinished=unfinished)
    if not newline:
        return log
    for number, line in enumerate(complete.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            log.events.append(parse_event_line(line))
        except ContractError as e:
            log.issues.append(LineIssue(number, str(e)))
    return log


def read_eval_config(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """A run directory's config.json, validated."""
    path = Path(run_dir) / CONFIG_FILE
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ContractError(EVAL_CONFIG, "", f"{path} is not JSON ({e})") from None
    return validate(EVAL_CONFIG, config)


def append_event(path: str | os.PathLike[str], event: Mapping[str, Any]) -> None:
    """Validate ``event`` and append it as one line to events.jsonl (or a run directory's).

    A line cut by an earlier crash is closed with a newline first (as the engine's
    run writer does), so the new event starts a line of its own."""
    record = validate(RUN_EVENT, dict(event))
    line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8") + b"\n"
    fd = os.open(_events_path(path), os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            line = b"\n" + line
        written = 0
        while written < len(line):
            written += os.write(fd, line[written:])
    finally:
        os.close(fd)
