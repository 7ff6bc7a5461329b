"""verl's training parquet from a run's ``train_prompts.jsonl`` (the engine's planner prompts and problem ids).

    python -m tracelift_backend.adapters.verl_data RUN_DIR RUN_DIR/train.parquet

Columns as verl's RL dataset reads them: ``prompt`` (chat messages: the run's planner must use its chat
template), ``data_source`` (``tracelift/<task>``), ``ability`` (the task), ``reward_model``
(``{"style": "rule", "ground_truth": ""}``: the answer stays with the reward service) and ``extra_info``
(``{"problem_id", "index"}``: the id the verl reward function posts).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from datasets import Dataset

from tracelift_backend.train.dataset import PromptsError, load_train_prompts


def verl_dataset(run_dir: Path) -> Dataset:
    """The run's training prompts as verl's rows (chat prompts only)."""
    prompts = load_train_prompts(run_dir, chat=True)

    def row(example: dict[str, Any], index: int) -> dict[str, Any]:
        return {
            "data_source": f"tracelift/{example['task']}",
            "ability": example["task"],
            "reward_model": {"style": "rule", "ground_truth": ""},
            "extra_info": {"problem_id": example["problem_id"], "index": index},
        }

    return prompts.map(row, with_indices=True, remove_columns=["problem_id", "task"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="verl's training parquet from RUN_DIR/train_prompts.jsonl")
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    try:
        dataset = verl_dataset(args.run_dir)
    except (OSError, PromptsError) as e:
        print(f"verl_data: {e}", file=sys.stderr)
        return 1
    dataset.to_parquet(str(args.out))
    print(f"verl_data: {len(dataset)} prompts → {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
