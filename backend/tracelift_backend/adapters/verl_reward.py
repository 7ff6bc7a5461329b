"""verl reward function backed by the TraceLift reward service (src/engine/train/rewardService.ts).

verl (https://github.com/volcengine/verl) loads a custom reward function from a file::

    custom_reward_function.path=backend/tracelift_backend/adapters/verl_reward.py
    custom_reward_function.name=compute_score             # verl's naive reward manager: one sample per call
    # or, better: one request per step, so the service scores a problem's samples as one group
    reward_model.reward_manager=batch custom_reward_function.name=compute_score_batched

Each sample's ``extra_info`` must carry ``problem_id``: the id of a line of the run's
``train_prompts.jsonl`` (build verl's parquet from that file, so prompts and ids are the engine's).
``data_source`` and ``ground_truth`` are not used: the service knows each problem's answer.
The step a sample belongs to (the service joins rollout groups by step and problem) is
``extra_info["step"]`` (or ``global_step`` / ``global_steps``) when the data carries it; otherwise
each call of ``compute_score_batched`` is one step (0, 1, 2, … as TRL numbers them while
generating), and ``compute_score`` uses the step of the last batched call (0 when there was none).

The service's URL and token come from ``TRACELIFT_REWARD_URL`` and ``TRACELIFT_REWARD_TOKEN``
(set by ``tracelift train`` for the trainer it starts). Requests go through the trainer's own
client (``tracelift_backend.train.service``): bounded retries of unreachable/5xx, and anything
else raises ``RewardServiceError``, which stops the verl job rather than inventing rewards.

A missing reward (the service answers ``null``: every executor call of the trace failed, no RM
score) has no place in verl, whose rewards are tensors. ``TRACELIFT_VERL_NULL_REWARD`` decides:
``raise`` (default: the step fails with the problem named), ``nan`` (float NaN: verl does not
mask it, so it reaches the advantages; only for a loop that filters NaN itself), or a number
(e.g. ``0``: an explicit choice to score a missing signal as that number).
"""

from __future__ import annotations

import math
import os
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

try:
    from tracelift_backend.train.rewards import request_rewards
    from tracelift_backend.train.service import RewardServiceClient, RewardServiceError
except ImportError:  # verl loads this file by path: make its package importable (backend/ is two levels up)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tracelift_backend.train.rewards import request_rewards
    from tracelift_backend.train.service import RewardServiceClient, RewardServiceError

NULL_REWARD_ENV = "TRACELIFT_VERL_NULL_REWARD"
#: extra_info keys that may carry the training step (verl's datasets do not by default).
STEP_KEYS = ("step", "global_step", "global_steps")

__all__ = ["compute_score", "compute_score_batched", "NULL_REWARD_ENV", "RewardServiceError"]


class _StepClock:
    """Steps counted by batched calls (one per training step) when the data carries none."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 0
        self._last = 0

    def advance(self) -> int:
        with self._lock:
            self._last = self._next
            self._next += 1
            return self._last

    def current(self) -> int:
        with self._lock:
            return self._last


_clock = _StepClock()


def _problem_id(extra_info: Any, index: int | None = None) -> str:
    where = "extra_info" if index is None else f"extra_infos[{index}]"
    if not isinstance(extra_info, Mapping):
        raise ValueError(f"{where} must be a dict with 'problem_id' (the id of a train_prompts.jsonl line)")
    problem_id = extra_info.get("problem_id")
    if problem_id is None or str(problem_id) == "":
        raise ValueError(f"{where} has no 'problem_id' (the id of a train_prompts.jsonl line)")
    return str(problem_id)


def _given_step(extra_info: Any) -> int | None:
    if not isinstance(extra_info, Mapping):
        return None
    for key in STEP_KEYS:
        value = extra_info.get(key)
        if value is None:
            continue
        try:
            step = int(value)
        except (TypeError, ValueError):
            raise ValueError(f"extra_info[{key!r}] = {value!r} is not a step number") from None
        if step < 0:
            raise ValueError(f"extra_info[{key!r}] = {step} is negative")
        return step
    return None


def _null_reward_policy() -> str | float:
    raw = os.environ.get(NULL_REWARD_ENV, "raise").strip().lower()
    if raw in ("raise", "nan"):
        return raw
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{NULL_REWARD_ENV}={raw!r}: expected raise, nan or a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{NULL_REWARD_ENV}={raw!r}: a number must be finite (or use nan)")
    return value


def _resolve(rewards: Sequence[float | None], problem_ids: Sequence[str], policy: str | float) -> list[float]:
    out: list[float] = []
    for reward, problem_id in zip(rewards, problem_ids, strict=True):
        if reward is not None:
            out.append(reward)
        elif policy == "raise":
            raise RewardServiceError(
                f"the reward service has no reward for a completion of {problem_id!r} (its executor or RM signal "
                f"is missing; the run's samples.jsonl says why); set {NULL_REWARD_ENV}=nan or a number to go on"
            )
        elif policy == "nan":
            out.append(math.nan)
        else:
            out.append(float(policy))
    return out


def _score(step: int, problem_ids: list[str], solutions: list[str], client: RewardServiceClient | None) -> list[float]:
    policy = _null_reward_policy()  # a bad setting fails before the request, not after
    client = client or RewardServiceClient.from_env()
    return _resolve(request_rewards(client, step, problem_ids, solutions), problem_ids, policy)


def compute_score(
    data_source: Any = None,
    solution_str: str = "",
    ground_truth: Any = None,
    extra_info: Mapping[str, Any] | None = None,
    *,
    client: RewardServiceClient | None = None,
    **_: Any,
) -> float:
    """verl's per-sample reward function: the service's reward for one completion."""
    if not isinstance(solution_str, str):
        raise TypeError(f"solution_str must be the decoded completion (a str), got {type(solution_str).__name__}")
    problem_id = _problem_id(extra_info)
    step = _given_step(extra_info)
    return _score(_clock.current() if step is None else step, [problem_id], [solution_str], client)[0]


def compute_score_batched(
    data_sources: Sequence[Any] | None = None,
    solution_strs: Sequence[str] = (),
    ground_truths: Sequence[Any] | None = None,
    extra_infos: Sequence[Mapping[str, Any] | None] | None = None,
    *,
    client: RewardServiceClient | None = None,
    **_: Any,
) -> list[float]:
    """verl's batch reward function (``reward_model.reward_manager=batch``): one request for the batch."""
    solutions = list(solution_strs)
    infos = list(extra_infos) if extra_infos is not None else [None] * len(solutions)
    if len(infos) != len(solutions):
        raise ValueError(f"{len(solutions)} solution_strs but {len(infos)} extra_infos")
    for i, s in enumerate(solutions):
        if not isinstance(s, str):
            raise TypeError(f"solution_strs[{i}] must be a str, got {type(s).__name__}")
    problem_ids = [_problem_id(info, i) for i, info in enumerate(infos)]
    given = {_given_step(info) for info in infos}
    if len(given) > 1:
        raise ValueError(f"one batch, several steps in extra_infos: {sorted(s for s in given if s is not None)}")
    step = given.pop() if given else None
    if not solutions:
        return []
    return _score(_clock.advance() if step is None else step, problem_ids, solutions, client)
