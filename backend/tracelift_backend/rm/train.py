"""``python -m tracelift_backend.rm.train --config CONFIG --run-dir DIR [--max-steps N]``: trains a Reason
RM on TraceLift-Groups files (docs/reason-rm.md). The config is validated against
``schemas/rm_train_config.schema.json`` (zod RmTrainConfigSchema) with its defaults filled in.

The run directory is a run like any other: this process appends ``run_started`` (run_kind
``rm_train``), ``step_metrics`` (losses every ``logging_steps``; the dev metrics after each epoch),
``checkpoint`` (``checkpoints/checkpoint-<step>`` after each epoch but the last; the final RM is
``model/``, the directory ``tracelift rm serve --model`` takes) and ``run_ended`` to ``events.jsonl``.
SIGINT/SIGTERM: the current step finishes, the RM is evaluated and saved, the run ends cancelled.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
import traceback
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch
from transformers import get_linear_schedule_with_warmup

from ..contract import ContractError, append_event, schema, validate
from ..parent_guard import guard_from_env
from ..train.config import with_defaults
from ..train.stop import GracefulStop
from .data import (
    Candidate,
    Group,
    GroupsError,
    check_rubrics,
    collate,
    dev_split,
    eval_item,
    infer_task_name,
    read_groups,
    sample_item,
    usable,
)
from .losses import LossWeights, rm_loss
from .metrics import ScoredCandidate, dev_metrics
from .model import RUBRIC_DIMENSIONS, ReasonRewardModel, RmSpec, build_reward_model, resolve_device, save_reward_model

RM_TRAIN_CONFIG = "rm_train_config"
MODEL_DIR = "model"
CHECKPOINTS_DIR = "checkpoints"
EXIT_OK = 0
EXIT_FAILED = 1


def log(message: str) -> None:
    print(f"[rm] {message}", flush=True)


def now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def parse_rm_config(record: Any) -> dict[str, Any]:
    validate(RM_TRAIN_CONFIG, record)
    return with_defaults(schema(RM_TRAIN_CONFIG), record)


def load_rm_config(path: Path) -> dict[str, Any]:
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ContractError(RM_TRAIN_CONFIG, "", f"{path} is not JSON ({e})") from None
    return parse_rm_config(record)


class RunEvents:
    """Appends validated run events to DIR/events.jsonl."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir

    def emit(self, event: dict[str, Any]) -> None:
        append_event(self.run_dir, {"time": now(), **event})

    def metrics(self, step: int, metrics: dict[str, float]) -> None:
        finite = {k: float(v) for k, v in metrics.items() if math.isfinite(v)}
        if finite:
            self.emit({"type": "step_metrics", "step": step, "metrics": finite})


@torch.inference_mode()
def evaluate(
    model: ReasonRewardModel, tokenizer: Any, items: Sequence[Sequence[Candidate]], max_length: int, batch_size: int
) -> dict[str, float]:
    model.eval()
    flat = [c for item in items for c in item]
    scores: list[float] = []
    for start in range(0, len(flat), batch_size):
        chunk = flat[start : start + batch_size]
        batch = collate([chunk], tokenizer, max_length)
        out = model(batch.input_ids.to(model.device), batch.attention_mask.to(model.device))
        scores.extend(out.score.float().cpu().tolist())
    scored, i = [], 0
    for item in items:
        scored.append([ScoredCandidate(scores[i + j], c.gold_total, c.positive, c.kind) for j, c in enumerate(item)])
        i += len(item)
    return dev_metrics(scored)


def run(config: dict[str, Any], run_dir: Path, max_steps: int | None, engine_version: str) -> int:
    run_dir.mkdir(parents=True, exist_ok=True)
    if not (run_dir / "config.json").exists():  # run directly (not by `tracelift rm train`, which writes it)
        (run_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    events = RunEvents(run_dir)
    events.emit(
        {
            "type": "run_started",
            "run_id": str(uuid.uuid4()),
            "run_kind": "rm_train",
            "engine_version": engine_version,
            "resumed": False,
            "config": config,
        }
    )
    stop = GracefulStop()
    stop.install()
    try:
        status, message = _train(config, run_dir, max_steps, events, stop)
    except (GroupsError, ContractError, FileNotFoundError, ValueError) as error:
        status, message = "failed", str(error)
        print(f"[rm] {message}", file=sys.stderr, flush=True)
        events.emit({"type": "error", "message": message, "where": "rm_train", "problem_id": None, "fatal": True})
    except Exception as error:  # noqa: BLE001 — reported as the run's end, then the exit status
        status, message = "failed", f"{type(error).__name__}: {error}"
        traceback.print_exc()
        events.emit({"type": "error", "message": message, "where": "rm_train", "problem_id": None, "fatal": True})
    finally:
        stop.restore()
    events.emit({"type": "run_ended", "status": status, "message": message})
    return EXIT_FAILED if status == "failed" else EXIT_OK


def _train(
    config: dict[str, Any], run_dir: Path, max_steps: int | None, events: RunEvents, stop: GracefulStop
) -> tuple[str, str | None]:
    if not config["groups"]:
        raise GroupsError("no groups files: give --groups FILE… (or groups in the config)")
    groups, left_out = usable(read_groups(config["groups"]))
    if not groups:
        raise GroupsError("no group has both a positive and a negative")
    task_name = config["task_name"] or infer_task_name(groups)
    dims = RUBRIC_DIMENSIONS[task_name]
    check_rubrics(groups, dims)
    train, dev = dev_split(groups, config["dev_fraction"], config["seed"])
    log(f"{task_name}: {len(train)} train / {len(dev)} dev groups ({left_out} without a positive or negative left out)")

    random.seed(config["seed"])
    torch.manual_seed(config["seed"])
    device = resolve_device(config["device"])
    bf16 = config["bf16"] if config["bf16"] is not None else device.type == "cuda"
    base = config["base"]
    spec = RmSpec(base["model"], base["gguf_file"], task_name, dims, config["lora"] is not None, config["max_length"])
    spec = RmSpec(**{**spec.__dict__, "dropout": config["dropout"]})
    log(f"base {base['model']}{' / ' + base['gguf_file'] if base['gguf_file'] else ''} on {device}")
    model, tokenizer = build_reward_model(spec, config["lora"], torch.bfloat16 if bf16 else torch.float32)
    model.to(device)

    per_step = config["groups_per_batch"] * config["gradient_accumulation_steps"]
    steps_per_epoch = math.ceil(len(train) / per_step)
    limit = max_steps or config["max_steps"]
    total = min(steps_per_epoch * config["epochs"], limit) if limit else steps_per_epoch * config["epochs"]
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=config["learning_rate"], weight_decay=config["weight_decay"])
    scheduler = get_linear_schedule_with_warmup(optimizer, math.ceil(config["warmup_ratio"] * total), total)
    weights = LossWeights(**config["loss_weights"])
    rng = random.Random(config["seed"])
    dev_items = [eval_item(g, task_name, dims) for g in dev]
    log(f"{total} steps ({steps_per_epoch} per epoch), {sum(p.numel() for p in trainable):,} trainable parameters")

    step = 0
    epoch_done = 0.0
    status: str = "completed"
    for epoch in range(config["epochs"]):
        order = list(train)
        rng.shuffle(order)
        batches = [order[i : i + config["groups_per_batch"]] for i in range(0, len(order), config["groups_per_batch"])]
        for first in range(0, len(batches), config["gradient_accumulation_steps"]):
            started = time.perf_counter()
            model.train()
            chunk = batches[first : first + config["gradient_accumulation_steps"]]
            sums: dict[str, float] = {}
            for batch_groups in chunk:
                parts = _forward(model, tokenizer, batch_groups, rng, config, task_name, dims, weights)
                (parts.total / len(chunk)).backward()
                for k, v in parts.floats().items():
                    sums[k] = sums.get(k, 0.0) + v / len(chunk)
            grad_norm = torch.nn.utils.clip_grad_norm_(trainable, config["max_grad_norm"])
            step_lr = scheduler.get_last_lr()[0]  # the rate this step used (the scheduler moves on below)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            if step % config["logging_steps"] == 0 or step == total:
                figures = {
                    **sums,
                    "learning_rate": step_lr,
                    "grad_norm": float(grad_norm),
                    "epoch": epoch + (first + len(chunk)) / len(batches),
                    "time_step_s": time.perf_counter() - started,
                }
                events.metrics(step, figures)
                log(f"step {step}/{total}  loss {sums['loss']:.4f}  posneg {sums['loss_posneg']:.4f}")
            epoch_done = epoch + (first + len(chunk)) / len(batches)
            if stop.requested or step >= total:
                break
        if stop.requested:
            status = "cancelled"
        last = step >= total or stop.requested or epoch == config["epochs"] - 1
        _epoch_end(model, tokenizer, dev_items, config, events, run_dir, step, epoch_done, final=last)
        if last:
            break
    message = f"stopped by {stop.requested} after step {step}" if stop.requested else None
    return status, message


def _forward(
    model: ReasonRewardModel,
    tokenizer: Any,
    batch_groups: Sequence[Group],
    rng: random.Random,
    config: dict[str, Any],
    task_name: str,
    dims: Sequence[str],
    weights: LossWeights,
):
    items = [sample_item(g, rng, config["negatives_per_group"], task_name, dims) for g in batch_groups]
    batch = collate(items, tokenizer, config["max_length"])
    device = model.device
    out = model(batch.input_ids.to(device), batch.attention_mask.to(device))
    return rm_loss(
        out,
        batch.labels.to(device),
        batch.gold_total.to(device),
        batch.is_positive.to(device),
        batch.group_sizes,
        weights,
    )


def _epoch_end(
    model: ReasonRewardModel,
    tokenizer: Any,
    dev_items: list[list[Candidate]],
    config: dict[str, Any],
    events: RunEvents,
    run_dir: Path,
    step: int,
    epoch: float,
    final: bool,
) -> None:
    if dev_items:
        metrics = evaluate(model, tokenizer, dev_items, config["max_length"], config["eval_batch_size"])
        events.metrics(step, {**metrics, "epoch": epoch})
        shown = {k: round(v, 4) for k, v in metrics.items() if "/" not in k}
        log(f"epoch {epoch:.2f} dev: {shown}")
    folder = Path(MODEL_DIR) if final else Path(CHECKPOINTS_DIR) / f"checkpoint-{step}"
    save_reward_model(model, tokenizer, run_dir / folder)
    events.emit({"type": "checkpoint", "step": step, "path": folder.as_posix()})
    log(f"saved {run_dir / folder}")


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tracelift_backend.rm.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True, type=Path, help="RM training config (rm_train_config schema)")
    parser.add_argument(
        "--run-dir", required=True, type=Path, help="run directory (events.jsonl, checkpoints/, model/)"
    )
    parser.add_argument("--max-steps", type=positive_int, default=None, help="optimizer steps (overrides the config)")
    parser.add_argument("--engine-version", default="python", help="recorded in run_started")
    ns = parser.parse_args(argv)
    guard_from_env()  # started by the engine: end with it, even after a kill -9
    try:
        config = load_rm_config(ns.config)
    except (ContractError, FileNotFoundError) as e:
        print(f"[rm] {e}", file=sys.stderr, flush=True)
        return EXIT_FAILED
    return run(config, ns.run_dir, ns.max_steps, ns.engine_version)


if __name__ == "__main__":
    sys.exit(main())
