"""TRL ``GRPOConfig`` from the training config.

Every setting that decides what is trained is set here explicitly, also where it equals TRL
1.16's default: TRL changed its GRPO defaults between versions (loss_type "bnpo" → "dapo", beta
0.04 → 0.0, gradient checkpointing on, bf16 on), and a run must be what its config says whatever
TRL is installed. The paper's math runs used TRL's GRPOTrainer defaults of their time
(docs/official-protocol.md §4.6); the config carries those choices (beta, loss_type, scale_rewards)
and this module passes them on. TRL 1.16 has no ``max_prompt_length``: prompts are not cut.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from trl import GRPOConfig

from ..contract import ContractError
from .config import TRAIN_CONFIG

CHECKPOINTS_DIR = "checkpoints"


@dataclass(frozen=True)
class Placement:
    """Where training runs: the torch device type, bf16 resolved, and the number of processes."""

    device: str
    bf16: bool
    world_size: int = 1


def resolve_placement(config: dict[str, Any], world_size: int = 1) -> Placement:
    """``config.device`` and ``config.bf16`` on this machine; a CUDA config without a GPU is refused."""
    cuda = torch.cuda.is_available()
    wanted = config["device"]
    if wanted == "cuda" and not cuda:
        build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
        raise ContractError(
            TRAIN_CONFIG, "device", f"is 'cuda' but torch {torch.__version__} ({build}) sees no GPU on this machine"
        )
    device = "cuda" if wanted == "cuda" or (wanted == "auto" and cuda) else "cpu"
    bf16 = config["bf16"]
    if bf16 is None:
        bf16 = device == "cuda" and torch.cuda.is_bf16_supported()
    return Placement(device=device, bf16=bool(bf16), world_size=world_size)


def per_device_batch_size(config: dict[str, Any], world_size: int) -> int:
    """Completions per process and micro-step so that one optimizer step holds ``prompts_per_step``
    problems × G completions (TRL counts completions, not prompts)."""
    completions = config["prompts_per_step"] * config["num_generations"]
    split = config["gradient_accumulation_steps"] * world_size
    if completions % split:
        raise ContractError(
            TRAIN_CONFIG,
            "prompts_per_step",
            f"prompts_per_step × num_generations = {completions} completions per step cannot be split evenly over "
            f"gradient_accumulation_steps × processes = {split}",
        )
    return completions // split


def total_steps(config: dict[str, Any], num_prompts: int, max_steps_override: int | None) -> int:
    """Optimizer steps of the run: ``--max-steps`` if given, else ``max_steps``, shortened to
    ``epochs`` passes over the prompts when the config sets epochs."""
    if max_steps_override is not None:
        return max_steps_override
    steps = config["max_steps"]
    if config["epochs"] is not None:
        steps = min(steps, math.ceil(config["epochs"] * num_prompts / config["prompts_per_step"]))
    return max(1, steps)


def grpo_config(
    config: dict[str, Any], run_dir: Path, placement: Placement, steps: int, model_init_kwargs: dict[str, Any] | None
) -> GRPOConfig:
    """``model_init_kwargs``: how the planner was loaded, for TRL to load the reference model the
    same way (full fine-tuning with beta > 0 only; a LoRA policy is its own reference)."""
    needs_reference = config["beta"] > 0 and config["lora"] is None
    return GRPOConfig(
        output_dir=str(run_dir / CHECKPOINTS_DIR),
        # Run length and batch
        max_steps=steps,
        per_device_train_batch_size=per_device_batch_size(config, placement.world_size),
        gradient_accumulation_steps=config["gradient_accumulation_steps"],
        num_generations=config["num_generations"],
        shuffle_dataset=True,
        seed=config["seed"],
        data_seed=config["seed"],
        # Optimizer: AdamW, linear decay from learning_rate without warm-up, clip 1.0 (TrainingArguments'
        # defaults, the paper's runs)
        learning_rate=config["learning_rate"],
        optim="adamw_torch",
        lr_scheduler_type="linear",
        warmup_steps=0,
        weight_decay=0.0,
        max_grad_norm=1.0,
        # Sampling of the planner's completions
        max_completion_length=config["max_completion_length"],
        temperature=config["temperature"],
        top_p=config["top_p"],
        top_k=0,
        min_p=None,
        repetition_penalty=1.0,
        # GRPO objective
        beta=config["beta"],
        loss_type=config["loss_type"],
        scale_rewards=config["scale_rewards"],
        epsilon=0.2,
        epsilon_high=None,
        delta=None,
        num_iterations=1,
        importance_sampling_level="token",
        mask_truncated_completions=False,
        multi_objective_aggregation="sum_then_normalize",
        top_entropy_quantile=1.0,
        disable_dropout=False,
        model_init_kwargs=model_init_kwargs if needs_reference else None,
        # Precision and device
        bf16=placement.bf16,
        fp16=False,
        use_cpu=placement.device == "cpu",
        # Memory for time: off, as TrainingArguments (TRL 1.16 turns it on); it does not change the result.
        activation_checkpointing=False,
        # Planner rollouts: transformers generate, or a TRL vLLM server (`trl vllm-serve`); a server URL
        # means rollouts go there (None: TRL's host/port defaults, 0.0.0.0:8000)
        use_vllm=config["use_vllm"] or config["vllm_server_url"] is not None,
        vllm_mode="server",
        vllm_server_base_url=config["vllm_server_url"],
        # The reward function reads problem_id and task
        remove_unused_columns=False,
        # Checkpoints, logs
        save_strategy="steps",
        save_steps=config["save_steps"],
        save_only_model=False,
        logging_steps=config["logging_steps"],
        logging_strategy="steps",
        report_to="none",
        log_completions=False,
        disable_tqdm=False,
        dataloader_num_workers=0,
    )
