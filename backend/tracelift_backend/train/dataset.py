"""Training prompts (``RUN/train_prompts.jsonl``, written by the launcher with the engine's planner
templates: the trainer never builds a prompt) as the ``datasets.Dataset`` TRL samples from."""

from __future__ import annotations

import json
from pathlib import Path

from datasets import Dataset

PROMPTS_FILE = "train_prompts.jsonl"


class PromptsError(ValueError):
    pass


def load_train_prompts(run_dir: Path, chat: bool) -> Dataset:
    """Columns ``prompt`` (chat messages when ``chat``, else a string), ``problem_id``, ``task``."""
    path = run_dir / PROMPTS_FILE
    rows = []
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise PromptsError(f"{path}:{number}: not JSON ({e})") from None
            rows.append(_checked(row, chat, f"{path}:{number}"))
    if not rows:
        raise PromptsError(f"{path}: no training prompts")
    return Dataset.from_list(rows)


def _checked(row: object, chat: bool, where: str) -> dict[str, object]:
    if not isinstance(row, dict):
        raise PromptsError(f"{where}: not an object")
    for key in ("problem_id", "task"):
        if not isinstance(row.get(key), str) or not row[key]:
            raise PromptsError(f"{where}: {key} must be a non-empty string")
    prompt = row.get("prompt")
    if chat:
        messages_ok = isinstance(prompt, list) and prompt and all(_is_message(m) for m in prompt)
        if not messages_ok:
            raise PromptsError(f"{where}: prompt must be a list of {{role, content}} messages (planner.chat_template)")
        prompt = [{"role": m["role"], "content": m["content"]} for m in prompt]
    elif not isinstance(prompt, str) or not prompt:
        raise PromptsError(f"{where}: prompt must be a non-empty string (planner.chat_template is false)")
    return {"prompt": prompt, "problem_id": row["problem_id"], "task": row["task"]}


def _is_message(message: object) -> bool:
    return (
        isinstance(message, dict) and isinstance(message.get("role"), str) and isinstance(message.get("content"), str)
    )
