"""Long-lived LaTeX answer checker built on HuggingFace ``math-verify``.

Protocol (one JSON object per line, UTF-8):

    stdin : {"id": ..., "prediction": str, "reference": str}
    stdout: {"id": ..., "correct": bool, "extracted": str | null, "error": str | null}

Exactly one output line is written (and flushed) per non-blank input line, in
input order. The worker never exits because of a bad line: every line is
handled inside a catch-all, with math-verify's own parse/verify timeouts plus an
outer per-item CPU-time limit, so a pathological expression costs at most
``TRACELIFT_MV_ITEM_TIMEOUT`` CPU seconds.

The reference is a MATH-style ``answer`` field (e.g. ``\\frac{1}{2}``); it is
wrapped as ``\\boxed{...}`` for gold parsing unless it already has a
``\\boxed{}`` or ``$`` delimiters. The prediction is free model text: a
``\\boxed{}`` answer is preferred, else math-verify's "final answer is" style
anchors, else the last LaTeX / plain expression in the text.

Exit codes: 0 on end of input, 3 when math-verify cannot be imported (the
message on stderr says how to install it).

Run: ``PYTHONPATH=backend python -u -m tracelift_backend.math_verify_worker``
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import sys
from typing import Any, TextIO

EXIT_MISSING_DEPENDENCY = 3

#: math-verify's own per-call timeouts (integer seconds, signal.alarm based).
PARSE_TIMEOUT_S = int(os.environ.get("TRACELIFT_MV_PARSE_TIMEOUT", "5"))
VERIFY_TIMEOUT_S = int(os.environ.get("TRACELIFT_MV_VERIFY_TIMEOUT", "5"))
#: Outer guard for one whole item, in CPU seconds (ITIMER_VIRTUAL, so it does
#: not clash with the ITIMER_REAL alarm math-verify uses internally).
ITEM_TIMEOUT_S = float(os.environ.get("TRACELIFT_MV_ITEM_TIMEOUT", "20"))
#: Long degenerate generations are cut to their tail (answers come last).
MAX_PREDICTION_CHARS = int(os.environ.get("TRACELIFT_MV_MAX_CHARS", "20000"))
MAX_REFERENCE_CHARS = 2000
MAX_EXTRACTED_CHARS = 500


class _TimeoutRecorder(logging.Handler):
    """Collects math-verify's "Timeout during ..." warnings for the current item
    (math-verify itself only logs them and returns False / [])."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.events: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            msg = record.getMessage()
        except Exception:  # noqa: BLE001
            return
        if msg.startswith("Timeout during comparison"):
            self.events.append("comparison")
        elif msg.startswith("Timeout during parsing"):
            self.events.append("parsing")


TIMEOUTS = _TimeoutRecorder()


class ItemTimeout(BaseException):
    """Raised by the outer CPU-time guard. A BaseException on purpose, so that
    math-verify's ``except Exception`` handlers do not swallow it."""


def _on_item_timeout(signum: int, frame: Any) -> None:  # pragma: no cover - signal
    raise ItemTimeout()


def _import_math_verify() -> Any:
    try:
        import math_verify  # noqa: F401
        from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify
    except Exception as exc:  # ImportError, or a broken install
        sys.stderr.write(
            "tracelift math_verify_worker: cannot import math-verify "
            f"({type(exc).__name__}: {exc}). Install it in the project venv: "
            "python3 -m venv .venv && .venv/bin/pip install math-verify\n"
        )
        sys.stderr.flush()
        sys.exit(EXIT_MISSING_DEPENDENCY)
    return parse, verify, LatexExtractionConfig, ExprExtractionConfig


class Checker:
    def __init__(self) -> None:
        parse, verify, LatexExtractionConfig, ExprExtractionConfig = _import_math_verify()
        self._parse = parse
        self._verify = verify
        self._gold_config = [LatexExtractionConfig(), ExprExtractionConfig()]
        # boxed_match_priority=0: a \boxed{} answer wins over anchors/last match.
        self._pred_config = [
            LatexExtractionConfig(boxed_match_priority=0),
            ExprExtractionConfig(),
        ]

    # -- gold / prediction parsing ------------------------------------------
    def parse_gold(self, reference: str) -> list[Any]:
        ref = reference.strip()
        if "\\boxed" in ref or ref.startswith("$"):
            wrapped = ref
        else:
            wrapped = "\\boxed{" + ref + "}"
        gold = self._parse(wrapped, extraction_config=self._gold_config, parsing_timeout=PARSE_TIMEOUT_S)
        if not gold and wrapped != ref:
            gold = self._parse("$" + ref + "$", extraction_config=self._gold_config, parsing_timeout=PARSE_TIMEOUT_S)
        return gold

    def parse_prediction(self, prediction: str) -> list[Any]:
        return self._parse(prediction, extraction_config=self._pred_config, parsing_timeout=PARSE_TIMEOUT_S)

    def check(self, prediction: str, reference: str) -> tuple[bool, str | None]:
        gold = self.parse_gold(reference)
        pred = self.parse_prediction(prediction)
        extracted = _extracted_text(pred)
        correct = False
        if gold and pred:
            correct = bool(self._verify(gold, pred, timeout_seconds=VERIFY_TIMEOUT_S))
        if not correct:
            # Text answers (\text{Evelyn}, "(C)", "\text{odd}") are often not
            # parsed to anything comparable: fall back to a normalised string
            # match between the reference and the prediction's final answer.
            ref_norm = _norm_text(reference)
            for final in (last_boxed(prediction), extracted, _anchored_answer(prediction)):
                if final is not None and ref_norm != "" and _norm_text(final) == ref_norm:
                    correct = True
                    if extracted is None:
                        extracted = final.strip()
                    break
        return correct, extracted


# -- helpers ------------------------------------------------------------------

def _extracted_text(parsed: list[Any]) -> str | None:
    """math-verify returns [sympy_object, matched_string]; report the string."""
    if not parsed:
        return None
    text: str | None = None
    for item in reversed(parsed):
        if isinstance(item, str):
            text = item
            break
    if text is None:
        try:
            text = str(parsed[0])
        except Exception:
            return None
    text = text.strip()
    if len(text) > MAX_EXTRACTED_CHARS:
        text = text[:MAX_EXTRACTED_CHARS] + "..."
    return text


def last_boxed(text: str) -> str | None:
    """Content of the last \\boxed{...} / \\fbox{...} (balanced braces)."""
    idx = max(text.rfind("\\boxed"), text.rfind("\\fbox"))
    if idx < 0:
        return None
    i = text.find("{", idx)
    if i < 0:
        # "\boxed 5" form
        m = re.match(r"\\(?:boxed|fbox)\s+([^\s$]+)", text[idx:])
        return m.group(1) if m else None
    depth = 0
    for j in range(i, len(text)):
        c = text[j]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1 : j]
    return None


_ANCHOR = re.compile(
    r"(?:final answer is|answer is|answer:)\s*(?:\$)?([^\n$]{1,200}?)(?:\$|\.?\s*$|\.\s|\n)",
    re.IGNORECASE,
)


def _anchored_answer(text: str) -> str | None:
    """Text after the last 'answer is' / 'Answer:' marker (for word answers)."""
    matches = list(_ANCHOR.finditer(text[-5000:]))
    if not matches:
        return None
    return matches[-1].group(1).strip()


_TEXT_CMD = re.compile(r"\\(?:text|textbf|textit|mathrm|mathbf|mbox|operatorname)\s*\{([^{}]*)\}")


def _norm_text(s: str) -> str:
    s = s.strip()
    inner = last_boxed(s)
    if inner is not None:
        s = inner
    for _ in range(3):
        s = _TEXT_CMD.sub(r"\1", s)
    s = re.sub(r"\\(?:left|right)\b", "", s)
    s = re.sub(r"\\[,;:! ]", "", s)
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    s = s.replace("$", "").replace("~", "")
    s = re.sub(r"\s+", "", s)
    s = s.rstrip(".")
    return s.lower()


def _as_text(value: Any, field: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        raise ValueError(f"field '{field}' must be a string")
    if isinstance(value, (int, float)):
        return repr(value)
    raise ValueError(f"field '{field}' must be a string")


def handle_line(checker: Checker, line: str) -> dict[str, Any]:
    item_id: Any = None
    try:
        obj = json.loads(line)
        if not isinstance(obj, dict):
            raise ValueError("input line must be a JSON object")
        item_id = obj.get("id")
        prediction = _as_text(obj.get("prediction"), "prediction")
        reference = _as_text(obj.get("reference"), "reference")
        if len(prediction) > MAX_PREDICTION_CHARS:
            prediction = prediction[-MAX_PREDICTION_CHARS:]
        if not reference.strip():
            raise ValueError("field 'reference' is empty")
        if len(reference) > MAX_REFERENCE_CHARS:
            raise ValueError("field 'reference' is too long")
        TIMEOUTS.events.clear()
        signal.setitimer(signal.ITIMER_VIRTUAL, ITEM_TIMEOUT_S)
        try:
            correct, extracted = checker.check(prediction, reference)
        finally:
            signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        error = None
        if TIMEOUTS.events and not correct:
            kinds = sorted(set(TIMEOUTS.events))
            error = "math-verify timeout during " + " and ".join(kinds)
        return {"id": item_id, "correct": correct, "extracted": extracted, "error": error}
    except ItemTimeout:
        return {"id": item_id, "correct": False, "extracted": None, "error": f"timeout after {ITEM_TIMEOUT_S:g}s CPU"}
    except RecursionError:
        return {"id": item_id, "correct": False, "extracted": None, "error": "RecursionError: expression too deep"}
    except Exception as exc:  # noqa: BLE001 - the worker must survive any line
        msg = f"{type(exc).__name__}: {exc}"
        return {"id": item_id, "correct": False, "extracted": None, "error": msg[:500]}


def _json_line(obj: dict[str, Any]) -> str:
    try:
        return json.dumps(obj, ensure_ascii=True) + "\n"
    except (TypeError, ValueError):
        obj = dict(obj)
        obj["id"] = repr(obj.get("id"))
        return json.dumps(obj, ensure_ascii=True, default=str) + "\n"


def install_logging() -> None:
    """Quiet math-verify (its timeout warnings echo the whole input) and route
    its timeout warnings to the per-item recorder instead of stderr."""
    mv_logger = logging.getLogger("math_verify")
    mv_logger.setLevel(logging.WARNING)
    mv_logger.propagate = False
    if TIMEOUTS not in mv_logger.handlers:
        mv_logger.addHandler(TIMEOUTS)
    logging.getLogger("latex2sympy2_extended").setLevel(logging.ERROR)


def main(stdin: Any = None, stdout: TextIO | None = None) -> int:
    # Protocol output goes to a private copy of fd 1; fd 1 / sys.stdout are
    # pointed at stderr so stray prints from dependencies cannot corrupt it.
    if stdout is None:
        out: TextIO = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
        os.dup2(2, 1)
        sys.stdout = sys.stderr
    else:
        out = stdout
    inp = stdin if stdin is not None else sys.stdin.buffer

    install_logging()
    signal.signal(signal.SIGVTALRM, _on_item_timeout)
    try:
        sys.set_int_max_str_digits(20000)
    except AttributeError:  # Python < 3.11
        pass
    # A broken pipe on the TS side should end the worker quietly.
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)

    checker = Checker()
    while True:
        try:
            raw = inp.readline()
        except KeyboardInterrupt:
            return 0
        if not raw:
            return 0
        line = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
        if not line.strip():
            continue
        try:
            result = handle_line(checker, line)
        except BaseException as exc:  # noqa: BLE001 - e.g. a late ItemTimeout
            if isinstance(exc, (SystemExit, KeyboardInterrupt)):
                raise
            result = {"id": None, "correct": False, "extracted": None, "error": f"internal error: {type(exc).__name__}"}
        out.write(_json_line(result))
        out.flush()


if __name__ == "__main__":
    sys.exit(main())
