#!/usr/bin/env python3
"""A few GRPO steps on CUDA with bf16 and LoRA: steps/s and GPU memory, in one self-contained file.

For a GPU machine that has torch, transformers, peft and accelerate but no TRL, no gguf, no Node,
no model weights and no network (docs/training.md, "GPU check"). So the planner is a model built
from a config with random weights (the shape of Qwen2.5-0.5B by default), the prompts are random
token ids, and the GRPO update is written out here, the way TRL's GRPOTrainer does it for one
iteration per batch:

  1. sample G completions for each prompt (``generate``, temperature 1),
  2. a synthetic reward per completion (the share of its tokens in the lower half of the
     vocabulary: cheap, varied within a group, and learnable),
  3. group-normalised advantages  A = (r - mean_group) / (std_group + 1e-4),
  4. loss = - mean over completion tokens of  A * log p(token)  (+ beta * KL to the reference,
     the k3 estimator, with the reference = the model with its LoRA adapter disabled),
  5. one AdamW step on the LoRA parameters (accelerate: bf16 autocast, device placement).

Prints one line per step and, last, one JSON line: steps/s (after the warm-up step), seconds
per step split into generation / update, peak GPU memory, the reward at the first and last step.
Exits non-zero if a loss or gradient is not finite, or when --device cuda finds no GPU.

    python scripts/gpu-check/grpo_cuda.py                       # CUDA, bf16, 8 steps
    python scripts/gpu-check/grpo_cuda.py --device cpu --steps 2  # the same code on the CPU (tests)
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

import torch
from accelerate import Accelerator
from peft import LoraConfig, get_peft_model
from transformers import Qwen2Config, Qwen2ForCausalLM

#: Model shapes (random weights): "0.5b" is Qwen2.5-0.5B's; "tiny" is for CPU tests.
PRESETS = {
    "tiny": dict(
        vocab_size=512,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
    ),
    "0.5b": dict(
        vocab_size=151936,
        hidden_size=896,
        intermediate_size=4864,
        num_hidden_layers=24,
        num_attention_heads=14,
        num_key_value_heads=2,
    ),
    "1.5b": dict(
        vocab_size=151936,
        hidden_size=1536,
        intermediate_size=8960,
        num_hidden_layers=28,
        num_attention_heads=12,
        num_key_value_heads=2,
    ),
}
LORA_TARGETS = [
    "q_proj",
    "k_proj",
    "v_proj",
    "o_proj",
    "gate_proj",
    "up_proj",
    "down_proj",
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", choices=["auto", "cuda", "cpu"], default="auto")
    p.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default=None,
        help="model shape (default: 0.5b on CUDA, tiny on CPU)",
    )
    p.add_argument(
        "--steps", type=int, default=8, help="GRPO steps timed (after one warm-up step)"
    )
    p.add_argument("--prompts", type=int, default=4, help="prompts per step")
    p.add_argument("--group", type=int, default=8, help="G: completions per prompt")
    p.add_argument("--prompt-len", type=int, default=64)
    p.add_argument("--max-new-tokens", type=int, default=128)
    p.add_argument("--lora-r", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument(
        "--beta", type=float, default=0.04, help="KL coefficient (0: no reference pass)"
    )
    p.add_argument("--no-bf16", action="store_true", help="fp32 on CUDA too")
    p.add_argument(
        "--max-seconds",
        type=float,
        default=270.0,
        help="stop timing new steps after this long",
    )
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def synthetic_reward(completions: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """Share of a completion's tokens in the lower half of the vocabulary, per completion."""
    return (completions < vocab_size // 2).float().mean(dim=1)


def group_advantages(rewards: torch.Tensor, group: int) -> torch.Tensor:
    """GRPO's advantages: each reward against its own group's mean and std."""
    grouped = rewards.view(-1, group)
    mean = grouped.mean(dim=1, keepdim=True)
    std = grouped.std(dim=1, keepdim=True)
    return ((grouped - mean) / (std + 1e-4)).view(-1)


def completion_logprobs(
    model: torch.nn.Module, sequences: torch.Tensor, prompt_len: int
) -> torch.Tensor:
    """log p(token) of each completion token under the model, [batch, completion_len] in fp32."""
    logits = model(input_ids=sequences).logits[:, prompt_len - 1 : -1].float()
    return (
        torch.log_softmax(logits, dim=-1)
        .gather(-1, sequences[:, prompt_len:].unsqueeze(-1))
        .squeeze(-1)
    )


def grpo_loss(
    logp: torch.Tensor,
    ref_logp: torch.Tensor | None,
    advantages: torch.Tensor,
    beta: float,
) -> torch.Tensor:
    """One-iteration GRPO loss (ratio 1, so the clipped surrogate is the policy gradient)."""
    # exp(logp - logp.detach()) is 1 with the policy gradient as its gradient, as TRL writes it.
    per_token = -torch.exp(logp - logp.detach()) * advantages.unsqueeze(1)
    if ref_logp is not None and beta > 0:
        delta = ref_logp - logp
        per_token = per_token + beta * (torch.exp(delta) - delta - 1)
    return per_token.mean()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    torch.manual_seed(args.seed)
    cuda = torch.cuda.is_available()
    if args.device == "cuda" and not cuda:
        print(
            "grpo_cuda: --device cuda, but torch.cuda.is_available() is False",
            file=sys.stderr,
        )
        return 2
    on_cuda = cuda and args.device != "cpu"
    bf16 = on_cuda and not args.no_bf16
    if bf16 and not torch.cuda.is_bf16_supported():
        print("grpo_cuda: this GPU has no bf16; run with --no-bf16", file=sys.stderr)
        return 2
    preset = args.preset or ("0.5b" if on_cuda else "tiny")
    accelerator = Accelerator(mixed_precision="bf16" if bf16 else "no", cpu=not on_cuda)
    device = accelerator.device

    config = Qwen2Config(
        **PRESETS[preset],
        max_position_embeddings=args.prompt_len + args.max_new_tokens + 8,
    )
    config.pad_token_id = config.eos_token_id = config.bos_token_id = 0
    base = Qwen2ForCausalLM(config)
    if bf16:
        base = base.to(
            torch.bfloat16
        )  # base weights in bf16; the LoRA adapters stay fp32 (peft's default)
    lora = LoraConfig(
        r=args.lora_r,
        lora_alpha=2 * args.lora_r,
        lora_dropout=0.0,
        target_modules=LORA_TARGETS,
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(base, lora)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=args.lr
    )
    model, optimizer = accelerator.prepare(model, optimizer)
    gpu_name = torch.cuda.get_device_name(device) if on_cuda else None
    print(
        f"grpo_cuda: {preset} model ({total / 1e6:.0f}M params, {trainable / 1e6:.2f}M LoRA) on {gpu_name or 'cpu'}, "
        f"{'bf16' if bf16 else 'fp32'}, {args.prompts} prompts x G={args.group}, {args.max_new_tokens} new tokens",
        flush=True,
    )

    timed: list[dict[str, float]] = []
    rewards_seen: list[float] = []
    for step in range(
        args.steps + 1
    ):  # step 0 warms up (kernels, allocator) and is not timed
        if step > 1 and time.perf_counter() - started > args.max_seconds:
            print(
                f"grpo_cuda: stopping after {step - 1} timed steps (--max-seconds {args.max_seconds})",
                flush=True,
            )
            break
        if on_cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        prompts = torch.randint(
            1, config.vocab_size, (args.prompts, args.prompt_len), device=device
        )
        batch = prompts.repeat_interleave(args.group, dim=0)
        unwrapped = accelerator.unwrap_model(model)
        unwrapped.eval()
        with torch.no_grad(), accelerator.autocast():
            sequences = unwrapped.generate(
                input_ids=batch,
                attention_mask=torch.ones_like(batch),
                do_sample=True,
                temperature=1.0,
                top_k=0,
                max_new_tokens=args.max_new_tokens,
                min_new_tokens=args.max_new_tokens,
                pad_token_id=0,
            )
        completions = sequences[:, args.prompt_len :]
        rewards = synthetic_reward(completions, config.vocab_size)
        advantages = group_advantages(rewards, args.group)
        if on_cuda:
            torch.cuda.synchronize()
        t1 = time.perf_counter()

        model.train()
        ref_logp = None
        if args.beta > 0:
            with torch.no_grad(), accelerator.autocast(), unwrapped.disable_adapter():
                ref_logp = completion_logprobs(model, sequences, args.prompt_len)
        with accelerator.autocast():
            logp = completion_logprobs(model, sequences, args.prompt_len)
            loss = grpo_loss(logp, ref_logp, advantages, args.beta)
        accelerator.backward(loss)
        grad_norm = accelerator.clip_grad_norm_(
            [p for p in model.parameters() if p.requires_grad], 1.0
        )
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if on_cuda:
            torch.cuda.synchronize()
        t2 = time.perf_counter()

        loss_value, grad_value = float(loss.detach()), float(grad_norm)
        if not (math.isfinite(loss_value) and math.isfinite(grad_value)):
            print(
                f"grpo_cuda: step {step}: loss {loss_value}, grad norm {grad_value}: not finite",
                file=sys.stderr,
            )
            return 1
        reward_mean = float(rewards.mean())
        rewards_seen.append(reward_mean)
        print(
            f"step {step}{' (warm-up)' if step == 0 else ''}: reward {reward_mean:.4f}  loss {loss_value:+.5f}  "
            f"grad {grad_value:.4f}  generation {t1 - t0:.2f} s  update {t2 - t1:.2f} s",
            flush=True,
        )
        if step > 0:
            timed.append(
                {"generation_s": t1 - t0, "update_s": t2 - t1, "step_s": t2 - t0}
            )

    if not timed:
        print("grpo_cuda: no timed step finished", file=sys.stderr)
        return 1
    step_s = sum(t["step_s"] for t in timed) / len(timed)
    result = {
        "device": gpu_name or "cpu",
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "preset": preset,
        "params_m": round(total / 1e6, 1),
        "lora_params_m": round(trainable / 1e6, 3),
        "dtype": "bf16" if bf16 else "fp32",
        "prompts": args.prompts,
        "group": args.group,
        "new_tokens": args.max_new_tokens,
        "steps": len(timed),
        "steps_per_s": round(1 / step_s, 4),
        "step_s": round(step_s, 3),
        "generation_s": round(sum(t["generation_s"] for t in timed) / len(timed), 3),
        "update_s": round(sum(t["update_s"] for t in timed) / len(timed), 3),
        "tokens_per_s": round(
            args.prompts * args.group * args.max_new_tokens / step_s, 1
        ),
        "reward_first": round(rewards_seen[0], 4),
        "reward_last": round(rewards_seen[-1], 4),
        "peak_allocated_gib": round(torch.cuda.max_memory_allocated(device) / 2**30, 3)
        if on_cuda
        else None,
        "peak_reserved_gib": round(torch.cuda.max_memory_reserved(device) / 2**30, 3)
        if on_cuda
        else None,
        "wall_s": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
