"""Graceful stop: the first SIGTERM or SIGINT lets the current step finish, saves a checkpoint and
ends training (exit 0); a second one ends the process at once."""

from __future__ import annotations

import signal
import sys
from types import FrameType
from typing import Any

from transformers import TrainerCallback

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class GracefulStop(TrainerCallback):
    def __init__(self) -> None:
        self.requested: str | None = None
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        for sig in STOP_SIGNALS:
            self._previous[sig] = signal.signal(sig, self._on_signal)

    def restore(self) -> None:
        """The handlers from before ``install`` (training is over)."""
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.requested is not None:
            print(f"[trainer] {name} again: exiting now", file=sys.stderr, flush=True)
            # 128 + signal number, as a shell reports a process killed by the signal.
            raise SystemExit(128 + signum)
        self.requested = name
        print(f"[trainer] {name}: stopping after the current step", file=sys.stderr, flush=True)

    def on_step_end(self, args: Any, state: Any, control: Any, **_: Any) -> Any:
        if self.requested is not None:
            control.should_training_stop = True
            control.should_save = True
        return control
