"""One training run: config, prompts, planner, TRL trainer, the service callbacks, and what happens
when it ends (completed, stopped by a signal, or failed)."""

from __future__ import annotations

import json
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

from transformers.trainer import TRAINER_STATE_NAME
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR, get_last_checkpoint

from .config import load_train_config
from .dataset import load_train_prompts
from .events import EVENTS_PATH, ServiceEventsCallback, StepTimer
from .grpo_args import grpo_config, resolve_placement, total_steps
from .planner import load_planner, lora_config, planner_source
from .rewards import make_reward_function
from .service import RewardServiceClient, RewardServiceError
from .stop import GracefulStop
from .timed_trainer import TimedGRPOTrainer

EXIT_OK = 0
EXIT_FAILED = 1


@dataclass(frozen=True)
class TrainArgs:
    config: Path
    run_dir: Path
    resume: bool = False
    max_steps: int | None = None


def log(message: str) -> None:
    print(f"[trainer] {message}", flush=True)


def run_training(args: TrainArgs, client: RewardServiceClient | None = None) -> int:
    """Trains; the process exit status (0: completed or stopped gracefully)."""
    stop = GracefulStop()
    stop.install()
    try:
        return _train(args, client, stop)
    finally:
        stop.restore()


def _train(args: TrainArgs, client: RewardServiceClient | None, stop: GracefulStop) -> int:
    config = load_train_config(args.config)
    client = client or RewardServiceClient.from_env()
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    placement = resolve_placement(config, world_size)
    dataset = load_train_prompts(args.run_dir, chat=config["planner"]["chat_template"])
    steps = total_steps(config, len(dataset), args.max_steps)
    source = planner_source(config["planner"])
    log(f"planner {source.name_or_path}{' / ' + source.gguf_file if source.gguf_file else ''} on {placement}")
    model, tokenizer = load_planner(source)

    timer = StepTimer()
    events = ServiceEventsCallback(client=client, run_dir=args.run_dir, timer=timer)
    trainer = TimedGRPOTrainer(
        model=model,
        reward_funcs=[make_reward_function(client)],
        args=grpo_config(config, args.run_dir, placement, steps, source.init_kwargs()),
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=lora_config(config["lora"]),
        callbacks=[events, stop],
        step_timer=timer,
    )
    checkpoint = resume_checkpoint(trainer.args.output_dir, steps) if args.resume else None
    log(f"{steps} steps{f', resuming from {checkpoint}' if checkpoint else ''}")
    try:
        trainer.train(resume_from_checkpoint=checkpoint)
    except Exception as error:  # noqa: BLE001 — reported, checkpointed, and turned into the exit status
        return fail(trainer, events, client, error, world_size)
    if stop.requested:
        log(f"stopped ({stop.requested}) after step {trainer.state.global_step}; checkpoint saved")
    else:
        log(f"completed {trainer.state.global_step} steps")
    return EXIT_OK


def resume_checkpoint(output_dir: str, steps: int) -> str | None:
    """The last checkpoint of the run, or None (a run stopped before its first one starts over)."""
    last = get_last_checkpoint(output_dir) if os.path.isdir(output_dir) else None
    if last is None:
        log(f"no checkpoint in {output_dir}: starting from the first step")
        return None
    started_with = json.loads((Path(last) / TRAINER_STATE_NAME).read_text(encoding="utf-8")).get("max_steps")
    if started_with and started_with < steps:
        # Measured with transformers 5.24 (docs/training.md): the decay is rebuilt for the new
        # length and only the step count is restored, so the rate jumps up here.
        log(
            f"note: this run started with {started_with} steps; the learning-rate schedule is stretched "
            f"to {steps} steps, so the rate jumps up at the resume point"
        )
    return last


def fail(
    trainer: TimedGRPOTrainer,
    events: ServiceEventsCallback,
    client: RewardServiceClient,
    error: BaseException,
    world_size: int,
) -> int:
    """A failed step: say why, keep what was trained (a resumable checkpoint of the last finished
    step) and tell the service, if it still answers."""
    what = f"{type(error).__name__}: {error}"
    print(f"[trainer] training failed in step {trainer.state.global_step + 1}: {what}", file=sys.stderr, flush=True)
    if not isinstance(error, RewardServiceError):
        traceback.print_exc()
    step = trainer.state.global_step
    folder = Path(trainer.args.output_dir) / f"{PREFIX_CHECKPOINT_DIR}-{step}"
    # One process only: the other processes of a multi-GPU run would not join the save.
    if world_size == 1 and step > 0 and not folder.exists():
        try:
            trainer._save_checkpoint(trainer.model_wrapped, trial=None)
            print(f"[trainer] saved {folder} (resume with --resume)", file=sys.stderr, flush=True)
        except Exception as save_error:  # noqa: BLE001 — the first error is the one reported
            print(f"[trainer] could not save a checkpoint: {save_error!r}", file=sys.stderr, flush=True)
    dead_service = isinstance(error, RewardServiceError)
    if not dead_service:
        try:
            if folder.exists() and events.last_checkpoint_step != step:
                events.post_checkpoint(Path(trainer.args.output_dir), step)
            client.post(EVENTS_PATH, {"type": "error", "message": what, "where": "trainer", "fatal": True})
        except RewardServiceError as post_error:
            print(f"[trainer] could not report to the service: {post_error}", file=sys.stderr, flush=True)
    return EXIT_FAILED
