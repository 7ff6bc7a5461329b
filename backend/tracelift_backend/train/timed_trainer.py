"""GRPOTrainer that records how long each step spends sampling completions and waiting for rewards
(into the StepTimer the events callback reads; the rest of the step is the update)."""

from __future__ import annotations

import time
from typing import Any

from trl import GRPOTrainer

from .events import StepTimer


class TimedGRPOTrainer(GRPOTrainer):
    def __init__(self, *args: Any, step_timer: StepTimer, **kwargs: Any) -> None:
        self.step_timer = step_timer
        super().__init__(*args, **kwargs)

    def _generate(self, prompts: list) -> Any:
        started = time.perf_counter()
        try:
            return super()._generate(prompts)
        finally:
            self.step_timer.generation_s += time.perf_counter() - started

    def _calculate_rewards(self, inputs: Any, prompts: Any, completions: Any, completion_ids_list: Any) -> Any:
        started = time.perf_counter()
        try:
            return super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        finally:
            self.step_timer.reward_s += time.perf_counter() - started
