"""TRL reward function backed by the engine's reward service (``POST /v1/rewards``).

TRL calls it with the local batch (this process's completions) and the dataset columns repeated
per completion; the service groups items of the same (step, problem) across requests and processes.
A ``None`` reward (a signal the service could not get: failed executor call, no RM score) is
passed on as ``None``: TRL leaves it out of the group baseline and gives it no advantage.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Sequence
from typing import Any

from .service import RewardServiceClient, RewardServiceError

REWARDS_PATH = "/v1/rewards"


def completion_text(completion: str | Sequence[dict[str, Any]]) -> str:
    """The planner's text: a plain completion, or the content of a chat completion's messages."""
    if isinstance(completion, str):
        return completion
    return "".join(str(message.get("content") or "") for message in completion)


def request_rewards(
    client: RewardServiceClient, step: int, problem_ids: Sequence[str], completions: Sequence[str]
) -> list[float | None]:
    """Scores ``completions`` (one per problem id, same order); a reward or None for each."""
    items = [{"problem_id": pid, "completion": text} for pid, text in zip(problem_ids, completions, strict=True)]
    answer = client.post(REWARDS_PATH, {"step": step, "items": items})
    rewards = answer.get("rewards")
    if not isinstance(rewards, list) or len(rewards) != len(items):
        got = len(rewards) if isinstance(rewards, list) else type(rewards).__name__
        raise RewardServiceError(f"reward service answered {got} rewards for {len(items)} items")
    for i, reward in enumerate(rewards):
        finite = isinstance(reward, int | float) and not isinstance(reward, bool) and math.isfinite(reward)
        if reward is not None and not finite:
            raise RewardServiceError(f"reward service answered rewards[{i}] = {reward!r} (not a number or null)")
    return [None if r is None else float(r) for r in rewards]


def make_reward_function(client: RewardServiceClient) -> Callable[..., Any]:
    """An async reward function for ``GRPOTrainer(reward_funcs=[...])``."""

    async def tracelift_reward(
        prompts: list[Any], completions: list[Any], problem_id: list[str], trainer_state: Any, **_: Any
    ) -> list[float | None]:
        texts = [completion_text(c) for c in completions]
        # The HTTP call blocks: run it off TRL's event loop thread.
        return await asyncio.to_thread(request_rewards, client, trainer_state.global_step, problem_id, texts)

    return tracelift_reward
