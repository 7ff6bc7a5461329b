"""``python -m tracelift_backend.train --config RUN/config.json --run-dir RUN [--resume] [--max-steps N]``"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..contract import ContractError
from ..parent_guard import guard_from_env
from .dataset import PromptsError
from .service import RewardServiceError


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tracelift_backend.train", description=__doc__)
    parser.add_argument("--config", required=True, type=Path, help="the resolved training config (RUN/config.json)")
    parser.add_argument(
        "--run-dir", required=True, type=Path, help="the run directory (train_prompts.jsonl, checkpoints/)"
    )
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint in RUN/checkpoints")
    parser.add_argument(
        "--max-steps", type=positive_int, default=None, help="total optimizer steps (overrides the config)"
    )
    ns = parser.parse_args(argv)
    # A launcher killed without unwinding (kill -9) cannot stop us: stop with it.
    guard_from_env()
    # Imported here: torch, transformers and TRL take seconds to import; --help does not need them.
    from .run import TrainArgs, run_training

    try:
        return run_training(TrainArgs(ns.config, ns.run_dir, ns.resume, ns.max_steps))
    except (ContractError, PromptsError, RewardServiceError, FileNotFoundError) as e:
        print(f"[trainer] {e}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
