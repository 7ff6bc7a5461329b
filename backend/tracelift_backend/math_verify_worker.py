"""Long-lived LaTeX answer checker built on HuggingFace ``math-verify``.

Protocol (one JSON object per line, UTF-8):

    stdin : {"id": ..., "prediction": str, "reference": str}
    stdout: {"id": ..., "correct": bool, "extracted": str | null, "error": str | null,
             "hedged": bool}

Exactly one output line is written (and flushed) per non-blank input line, in
input order. The worker never exits because of a bad line: every line is
handled inside a catch-all, with math-verify's own parse/verify timeouts plus an
outer per-item CPU-time limit, so a pathological expression costs at most
``TRACELIFT_MV_ITEM_TIMEOUT`` CPU seconds.

The reference is a MATH-style ``answer`` field (e.g. ``\\frac{1}{2}``), read as
if written inside ``\\boxed{}``. The prediction is free model text; its final
answer is, in this order: the last ``\\boxed{}``; what follows the last
"answer is" / "Answer:" / "Final answer:"; the whole text (or its last line)
when it is a bare answer such as ``11\\sqrt2`` or ``(-\\infty, 0]``, read
exactly like the reference; otherwise math-verify's own extraction from the
text. A final answer offering alternatives ("18 or 19", "either 3 or 4") for a
single-valued reference is wrong and reported with ``hedged: true``.

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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Verdict:
    correct: bool
    #: The prediction's final answer as it was read (None when none was found).
    extracted: str | None
    #: The final answer offers alternatives ("18 or 19") while the reference is one value.
    hedged: bool = False


@dataclass(frozen=True)
class FinalAnswer:
    """Where the prediction's final answer is and how to read it.

    kind: ``boxed`` (a ``\\boxed{}`` answer), ``anchored`` (after "answer is" /
    "Final answer:"), ``bare`` (the text, or its last line, is itself an answer
    written without ``$`` delimiters), ``delimited`` (prose with ``$...$``),
    ``prose`` (plain text). ``text`` is the answer segment: boxed content,
    anchor payload, bare answer, or the prediction's tail.
    """

    kind: str
    text: str
    #: What math-verify should read (the whole prediction, or from the anchor on).
    source: str


class Checker:
    """Reads a prediction's final answer the way a grader would and asks
    math-verify whether it equals the reference.

    math-verify does the mathematics (LaTeX and plain expressions, sets,
    intervals, matrices, complex numbers, units). In front of it, this class
    only decides *which* text is the final answer: a bare LaTeX answer
    ("11\\sqrt2", "\\text{even}", "(-\\infty, 0]") is wrapped in ``\\boxed{}`` the
    same way the reference is, because math-verify's extractor only sees LaTeX
    inside delimiters; and an answer that offers alternatives for a
    single-valued reference is refused.
    """

    def __init__(self) -> None:
        parse, verify, latex_config, expr_config = _import_math_verify()
        self._parse = parse
        self._verify = verify
        self._gold_config = [latex_config(), expr_config()]
        # boxed_match_priority=0: a \boxed{} answer wins over anchors/last match.
        self._pred_config = [latex_config(boxed_match_priority=0), expr_config()]

    # -- parsing --------------------------------------------------------------
    def _parse_with(self, text: str, config: list[Any]) -> list[Any]:
        return self._parse(text, extraction_config=config, parsing_timeout=PARSE_TIMEOUT_S)

    def parse_gold(self, reference: str) -> list[Any]:
        ref = reference.strip()
        if "\\boxed" in ref or ref.startswith("$"):
            return self._parse_with(ref, self._gold_config)
        gold = self._parse_with(_boxed(_bare_to_latex(ref)), self._gold_config)
        if not _has_value(gold):
            gold = self._parse_with("$" + ref + "$", self._gold_config) or gold
        return gold

    def parse_bare(self, answer: str) -> list[Any]:
        """A bare answer is read exactly like a bare reference."""
        latex = _bare_to_latex(answer)
        parsed = self._parse_with(_boxed(latex), self._pred_config)
        if not _has_value(parsed) and "$" not in latex and "\n" not in latex:
            parsed = self._parse_with("$" + latex + "$", self._pred_config) or parsed
        return parsed

    # -- checking -------------------------------------------------------------
    def check(self, prediction: str, reference: str) -> Verdict:
        gold = self.parse_gold(reference)
        final = locate_final_answer(prediction)
        if final is None:
            return Verdict(False, None)
        multi_valued_gold = _is_multi_valued(gold)
        if not multi_valued_gold and _is_hedged(final):
            return Verdict(False, _clip(final.text), hedged=True)

        if final.kind in ("anchored", "bare") and not _has_delimiters(final.text):
            text = final.text
            if multi_valued_gold:
                text = _EITHER.sub("", text)
            pred = self.parse_bare(text)
        else:
            pred = self._parse_with(final.source, self._pred_config)
        extracted = _extracted_text(pred) or _clip(final.text)

        correct = False
        if gold and pred:
            correct = bool(self._verify(gold, pred, timeout_seconds=VERIFY_TIMEOUT_S))
        if correct and _bases(final.text) - _bases(reference) and _bases(reference):
            # math-verify drops base subscripts: 4210_6 would equal 4210_5.
            return Verdict(False, extracted)
        if not correct:
            # Word answers ("\\text{Evelyn}", "(C)") that math-verify turns into
            # products of symbols: compare normalised strings of the final answer.
            ref_norm = _norm_text(reference)
            if ref_norm and _norm_text(final.text) == ref_norm:
                correct = True
        return Verdict(correct, extracted)


# -- locating the final answer ---------------------------------------------------

#: "The final answer is", "Answer:", "**Final Answer:**", "the answer is".
_ANCHOR = re.compile(r"(?:\bfinal\s+answer|\banswer)\s*(?:\*\*)?\s*(?:is\b|:)\s*(?:\*\*)?:?[ \t]*", re.IGNORECASE)
_I_HOPE = re.compile(r"\.?\s*I hope it is correct\.?\s*$", re.IGNORECASE)
_DELIMITER = re.compile(r"(?<!\\)\$|\\\(|\\\[")
#: Two words of two or more letters in a row (outside LaTeX commands): prose, not an answer.
_PROSE = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}[ \t]+[A-Za-z]{2,}(?![A-Za-z])")
_TEXT_GROUP = re.compile(r"\\(?:text|textbf|textit|textrm|mathrm|mathbf|mbox|operatorname)\s*\{[^{}]*\}")
MAX_BARE_CHARS = 400


def _has_delimiters(text: str) -> bool:
    return bool(_DELIMITER.search(text))


def _looks_bare(text: str) -> bool:
    """True for an answer written on its own ("2\\pi", "x \\in [-2,7]",
    "18 dollars", "Evelyn"), false for sentences."""
    t = text.strip()
    if not t or len(t) > MAX_BARE_CHARS or _has_delimiters(t) or "\\boxed" in t:
        return False
    # "either 3 or 4" is a (hedged) answer, not a sentence.
    return not _PROSE.search(_OR_WORD.sub(" ", _TEXT_GROUP.sub(" ", t)))


def _clean_payload(text: str) -> str:
    t = _I_HOPE.sub("", text.strip())
    t = t.strip().strip("*").strip()
    if t.endswith(".") and not t.endswith("..."):
        t = t[:-1].rstrip()
    return t


#: A TeX-escaped dollar sign is a currency sign; math-verify's extractor would
#: otherwise see neither a number nor a delimiter there.
_ESCAPED_DOLLAR = re.compile(r"(?<!\\)\\\$")


def locate_final_answer(prediction: str) -> FinalAnswer | None:
    text = _ESCAPED_DOLLAR.sub("", prediction.replace("\r\n", "\n")).strip()
    if not text:
        return None
    boxed = last_boxed(text)
    if boxed is not None:
        return FinalAnswer("boxed", boxed, text)
    anchors = list(_ANCHOR.finditer(text))
    if anchors:
        a = anchors[-1]
        rest = text[a.end() :]
        lines = [ln for ln in rest.split("\n") if ln.strip()]
        if lines:
            payload = _clean_payload(rest.split("\n", 1)[0] if rest.split("\n", 1)[0].strip() else lines[0])
            if payload and (_has_delimiters(payload) or _looks_bare(payload)):
                return FinalAnswer("anchored", payload, text[a.start() :])
            if payload:
                # "The answer is the number of apples, which is 12."
                return FinalAnswer("prose", payload, text[a.start() :])
    if _looks_bare(text):
        return FinalAnswer("bare", _clean_payload(text), text)
    last_line = text.rsplit("\n", 1)[-1]
    if last_line != text and _looks_bare(last_line):
        return FinalAnswer("bare", _clean_payload(last_line), text)
    cut = text.rfind("\n", 0, max(len(text) - 300, 0))
    tail = text[cut + 1 :] if len(text) > 300 else text
    return FinalAnswer("delimited" if _has_delimiters(text) else "prose", tail, text)


# -- hedges -----------------------------------------------------------------------

#: A disjunction inside an answer segment: "18 or 19", "either 3 or 4", "3 \\text{ or } 4".
_OR_WORD = re.compile(r"(?<![A-Za-z\\])(?:or|either)(?![A-Za-z])|\\lor(?![A-Za-z])|\band/or\b", re.IGNORECASE)
_EITHER = re.compile(r"(?<![A-Za-z\\])either(?![A-Za-z])\s*", re.IGNORECASE)
_NUMBERISH = r"-?\\?\$?\d[\d,]*(?:\.\d+)?(?:/\d+)?"
_VALUE = (
    rf"(?:{_NUMBERISH}|(?<!\\)\$[^$\n]+(?<!\\)\$|\\\([^\n]*?\\\)"
    r"|\\(?:boxed|text|mathrm|textbf)\{[^{}\n]*\}|\([A-Za-z]\))"
)
#: Alternatives at the end of prose: "... 18 or 19 apples.", "$3$ or maybe $4$".
_VALUE_OR_VALUE = re.compile(
    rf"(?:{_VALUE}\s*(?:[A-Za-z]+\s*)?,?\s*\(?\s*(?:or|and/or)|\beither)\s+"
    rf"(?:(?:maybe|perhaps|possibly|even|else)\s+)?(?:[A-Za-z]\s*=\s*)?{_VALUE}",
    re.IGNORECASE,
)


#: Inline or display math spans, to find the last one in prose.
_MATH_SPAN = re.compile(
    r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<!\\)\$([^$]+?)(?<!\\)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL
)


def _is_hedged(final: FinalAnswer) -> bool:
    if final.kind in ("boxed", "anchored", "bare"):
        return bool(_OR_WORD.search(final.text))
    if final.kind == "delimited":
        spans = list(_MATH_SPAN.finditer(final.text))
        if spans and _OR_WORD.search(next(g for g in spans[-1].groups() if g is not None)):
            return True
    # Prose: alternatives count only when nothing numeric follows them (the
    # reasoning "x = 3 or x = -3, and x > 0, so x = 3" is not a hedge).
    for m in _VALUE_OR_VALUE.finditer(final.text):
        after = final.text[m.end() :]
        if not re.search(r"\d", after):
            return True
    return False


# -- helpers ------------------------------------------------------------------------

#: Trailing unit words written without \\text ("18 dollars", "5 cm").
_TRAILING_WORDS = re.compile(r"(?<=[\d}\s])\s*((?<![\\A-Za-z])[A-Za-z]{2,}(?:\s+[A-Za-z]{2,})*)\s*$")
_WORDS_ONLY = re.compile(r"[A-Za-z]{2,}(?:[ '\-]+[A-Za-z]{2,})*")


def _bare_to_latex(answer: str) -> str:
    """LaTeX for a bare answer: word answers become ``\\text{}`` (as the
    references write them), trailing unit words ``\\text{ unit}``, and a
    plain-text currency sign is dropped."""
    t = answer.strip()
    if _WORDS_ONLY.fullmatch(t):
        return "\\text{" + t + "}"
    m = _TRAILING_WORDS.search(t)
    if m and m.start(1) > 0:
        t = t[: m.start(1)].rstrip() + "\\text{ " + m.group(1) + "}"
    return t


_BASE_SUBSCRIPT = re.compile(r"(?<![A-Za-z\\_])[0-9A-F]+_\{?(\d+)\}?")


def _bases(text: str) -> set[str]:
    """Number-base subscripts written in an answer (4210_{5} -> {"5"})."""
    return {m.group(1) for m in _BASE_SUBSCRIPT.finditer(text)}


def _boxed(latex: str) -> str:
    return "\\boxed{" + latex + "}"


def _has_value(parsed: list[Any]) -> bool:
    """math-verify returns [sympy_value, matched_string]; a list of strings
    only means nothing was parsed."""
    return any(not isinstance(x, str) for x in parsed)


def _is_multi_valued(gold: list[Any]) -> bool:
    for value in gold:
        if isinstance(value, str):
            continue
        if type(value).__name__ == "FiniteSet":
            try:
                return len(value.args) > 1
            except Exception:  # noqa: BLE001
                return False
        return False
    return False


def _clip(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MAX_EXTRACTED_CHARS else text[:MAX_EXTRACTED_CHARS] + "..."


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
        except Exception:  # noqa: BLE001
            return None
    return _clip(text)


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
            verdict = checker.check(prediction, reference)
        finally:
            signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        error = None
        if TIMEOUTS.events and not verdict.correct:
            kinds = sorted(set(TIMEOUTS.events))
            error = "math-verify timeout during " + " and ".join(kinds)
        return {
            "id": item_id,
            "correct": verdict.correct,
            "extracted": verdict.extracted,
            "error": error,
            "hedged": verdict.hedged,
        }
    except ItemTimeout:
        return _failure(item_id, f"timeout after {ITEM_TIMEOUT_S:g}s CPU")
    except RecursionError:
        return _failure(item_id, "RecursionError: expression too deep")
    except Exception as exc:  # noqa: BLE001 - the worker must survive any line
        return _failure(item_id, f"{type(exc).__name__}: {exc}"[:500])


def _failure(item_id: Any, error: str) -> dict[str, Any]:
    """An item that could not be checked: never correct, always with a reason."""
    return {"id": item_id, "correct": False, "extracted": None, "error": error, "hedged": False}


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
            result = _failure(None, f"internal error: {type(exc).__name__}")
        out.write(_json_line(result))
        out.flush()


if __name__ == "__main__":
    sys.exit(main())
