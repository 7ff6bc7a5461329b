"""Run events the trainer sends to the reward service (the only writer of events.jsonl during a run):
``step_metrics`` after each logged step, ``checkpoint`` after each save.

TRL's log names are mapped to the run contract's metric names; the service adds the figures it
scored itself (reward mean/std, uplift, success rates, executor calls).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transformers import TrainerCallback
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from .service import RewardServiceClient

EVENTS_PATH = "/v1/events"

#: TRL / transformers log key → run contract metric name.
TRL_METRIC_NAMES = {
    "loss": "loss",
    "kl": "kl",
    "learning_rate": "learning_rate",
    "completions/mean_length": "completion_length",
    "completions/clipped_ratio": "completion_clipped_ratio",
    "grad_norm": "grad_norm",
    "entropy": "entropy",
    "epoch": "epoch",
}


@dataclass
class StepTimer:
    """Seconds spent in one optimizer step, by phase; the trainer adds to it, the callback reads it."""

    generation_s: float = 0.0
    reward_s: float = 0.0
    started: float | None = None
    step_s: float | None = None

    def start_step(self) -> None:
        self.generation_s = self.reward_s = 0.0
        self.step_s = None
        self.started = time.perf_counter()

    def end_step(self) -> None:
        if self.started is not None:
            self.step_s = time.perf_counter() - self.started

    def metrics(self) -> dict[str, float]:
        if self.step_s is None:
            return {}
        return {
            "time_generation_s": self.generation_s,
            "time_reward_s": self.reward_s,
            # Everything else of the step: log-probs, loss, backward, optimizer.
            "time_update_s": max(0.0, self.step_s - self.generation_s - self.reward_s),
            "time_step_s": self.step_s,
        }


def step_metrics(logs: Mapping[str, Any], timer: StepTimer) -> dict[str, float]:
    """The contract's metrics from one TRL log record (finite numbers only) and the step's timings."""
    metrics: dict[str, float] = {}
    for key, name in TRL_METRIC_NAMES.items():
        value = logs.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            metrics[name] = float(value)
    metrics.update(timer.metrics())
    return metrics


@dataclass
class ServiceEventsCallback(TrainerCallback):
    """Posts ``step_metrics`` on each step's log and ``checkpoint`` on each save (main process only)."""

    client: RewardServiceClient
    run_dir: Path
    timer: StepTimer = field(default_factory=StepTimer)
    #: Step of the last checkpoint posted (None: none yet).
    last_checkpoint_step: int | None = None

    def on_step_begin(self, args: Any, state: Any, control: Any, **_: Any) -> None:
        self.timer.start_step()

    def on_step_end(self, args: Any, state: Any, control: Any, **_: Any) -> None:
        self.timer.end_step()

    def on_log(self, args: Any, state: Any, control: Any, logs: Mapping[str, Any] | None = None, **_: Any) -> None:
        # The end-of-training summary (train_runtime, train_loss…) is not a step.
        if not state.is_world_process_zero or not logs or "train_runtime" in logs or state.global_step < 1:
            return
        metrics = step_metrics(logs, self.timer)
        if metrics:
            self.client.post(EVENTS_PATH, {"type": "step_metrics", "step": state.global_step, "metrics": metrics})

    def on_save(self, args: Any, state: Any, control: Any, **_: Any) -> None:
        if state.is_world_process_zero:
            self.post_checkpoint(Path(args.output_dir), state.global_step)

    def post_checkpoint(self, output_dir: Path, global_step: int) -> None:
        """Posts the checkpoint TRL wrote after ``global_step`` steps (its directory, relative to the run)."""
        folder = output_dir / f"{PREFIX_CHECKPOINT_DIR}-{global_step}"
        path = Path(os.path.relpath(folder.resolve(), self.run_dir.resolve())).as_posix()
        self.client.post(EVENTS_PATH, {"type": "checkpoint", "step": global_step, "path": path})
        self.last_checkpoint_step = global_step
