"""GRPO training of a reasoning planner on TRL's GRPOTrainer (issue 9).

``python -m tracelift_backend.train --config RUN/config.json --run-dir RUN [--resume] [--max-steps N]``
is started by the engine's launcher (src/engine/train/launcher.ts). The reward is never computed
here: every completion is scored by the engine's reward service on loopback
(``TRACELIFT_REWARD_URL``, ``TRACELIFT_REWARD_TOKEN``), which also writes the run's events.

Step numbers (as the service's docs/training.md): a reward request carries TRL's ``global_step``
while the step runs (0 for the first); ``step_metrics`` and ``checkpoint`` events carry the step
as TRL numbers updates (1 for the first: the service adds 1 to a request's step, so the three
agree), and ``checkpoint-<step>`` is TRL's directory of the model after that update.
"""
