"""The Reason RM (docs/official-protocol.md §2.2): any transformers causal-LM backbone without its LM
head, the last token's hidden state (right padding: index = attention-mask sum − 1), one 5-way head per
rubric dimension and a total head.

    E_d     = Σ_l softmax(logits_d)_l · l              (expected label, 0..4)
    derived = mean_d E_d / 4                            (the official weights are 0.2 each)
    score   = 0.5 · derived + 0.5 · sigmoid(total_head)

A saved RM is a directory: ``rm_config.json`` (what the model is), ``heads.safetensors``, the
tokenizer, and either ``adapter/`` (LoRA over the base named in the config) or ``backbone/`` (full
weights). The base is loaded with the GRPO trainer's planner loader, so ``"embedded"`` means
SmolLM2-135M-Instruct from the embedded executor's GGUF.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors.torch import load_file, save_file
from torch import nn
from transformers import AutoModel, AutoTokenizer, PreTrainedTokenizerBase

from ..train.planner import load_planner, planner_source

#: Rubric dimension names per domain (src/engine/contract/groups.ts RUBRIC_DIMENSIONS).
RUBRIC_DIMENSIONS: dict[str, tuple[str, ...]] = {
    "math": (
        "problem_understanding",
        "solution_strategy",
        "step_coherence",
        "calculation_correctness",
        "answer_support",
    ),
    "code": ("task_understanding", "plan_quality", "step_coherence", "action_support", "non_leakage"),
}
NUM_LABELS = 5
RM_FORMAT = "tracelift-reason-rm"
RM_CONFIG_FILE = "rm_config.json"
HEADS_FILE = "heads.safetensors"
ADAPTER_DIR = "adapter"
BACKBONE_DIR = "backbone"
TOKENIZER_DIR = "tokenizer"


def render_reasoning_text(group: Mapping[str, Any], candidate: Mapping[str, Any], task_name: str) -> str:
    """The text the RM reads, exactly as the official ``data.py: render_reasoning_text`` builds it."""
    task_type = group.get("task_type")
    if task_type is None:
        task_type = (group.get("metadata") or {}).get("task_type") or group.get("source", "unknown")
    tests = group.get("tests_or_constraints") or group.get("tests") or ""
    parts = [f"<task>{task_name}</task>", f"<type>{task_type}</type>", "<problem>", group.get("problem", "").strip()]
    parts.append("</problem>")
    if tests:
        parts.extend(["<tests>", tests.strip(), "</tests>"])
    parts.extend(["<reasoning>", candidate.get("reasoning", "").strip(), "</reasoning>"])
    return "\n".join(parts)


@dataclass(frozen=True)
class RmSpec:
    """``rm_config.json``: the base the backbone comes from, the rubric, how the weights are stored."""

    base_model: str
    base_gguf_file: str | None
    task_name: str
    dimensions: tuple[str, ...]
    #: True: ``adapter/`` holds a LoRA adapter over the base; False: ``backbone/`` holds full weights.
    lora: bool
    max_length: int = 3072
    dropout: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"format": RM_FORMAT, **asdict(self), "dimensions": list(self.dimensions), "num_labels": NUM_LABELS}

    @staticmethod
    def from_json(record: Mapping[str, Any]) -> RmSpec:
        if record.get("format") != RM_FORMAT:
            raise ValueError(f"{RM_CONFIG_FILE}: format is {record.get('format')!r}, expected {RM_FORMAT!r}")
        if record.get("num_labels", NUM_LABELS) != NUM_LABELS:
            raise ValueError(f"{RM_CONFIG_FILE}: num_labels must be {NUM_LABELS}")
        return RmSpec(
            base_model=str(record["base_model"]),
            base_gguf_file=record.get("base_gguf_file"),
            task_name=str(record["task_name"]),
            dimensions=tuple(record["dimensions"]),
            lora=bool(record["lora"]),
            max_length=int(record.get("max_length", 3072)),
            dropout=float(record.get("dropout", 0.0)),
        )


@dataclass
class RewardOutput:
    dimension_logits: torch.Tensor  # [B, D, 5]
    expected: torch.Tensor  # [B, D], each in [0, 4]
    derived: torch.Tensor  # [B], mean expected label / 4
    total_head: torch.Tensor  # [B], sigmoid of the total head
    score: torch.Tensor  # [B], 0.5 · derived + 0.5 · total_head


def rm_score(dimension_logits: torch.Tensor, total_logit: torch.Tensor) -> RewardOutput:
    """The score formula from the heads' raw outputs ([B, D, 5] and [B])."""
    labels = torch.arange(dimension_logits.shape[-1], dtype=dimension_logits.dtype, device=dimension_logits.device)
    expected = (F.softmax(dimension_logits, dim=-1) * labels).sum(dim=-1)
    derived = expected.mean(dim=-1) / (dimension_logits.shape[-1] - 1)
    total_head = torch.sigmoid(total_logit)
    return RewardOutput(dimension_logits, expected, derived, total_head, 0.5 * derived + 0.5 * total_head)


def last_token_states(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Each row's last real token (right padding)."""
    index = (attention_mask.long().sum(dim=-1) - 1).clamp(min=0)
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), index]


class RewardHeads(nn.Module):
    """One 5-way head per dimension and the total head, kept in float32 whatever the backbone's dtype."""

    def __init__(self, hidden_size: int, num_dimensions: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.dimension_heads = nn.ModuleList(nn.Linear(hidden_size, NUM_LABELS) for _ in range(num_dimensions))
        self.total_head = nn.Linear(hidden_size, 1)

    def forward(self, pooled: torch.Tensor) -> RewardOutput:
        pooled = self.dropout(pooled.float())
        logits = torch.stack([head(pooled) for head in self.dimension_heads], dim=1)
        return rm_score(logits, self.total_head(pooled).squeeze(-1))


class ReasonRewardModel(nn.Module):
    def __init__(self, backbone: nn.Module, spec: RmSpec) -> None:
        super().__init__()
        self.backbone = backbone
        self.spec = spec
        hidden = _hidden_size(backbone)
        self.heads = RewardHeads(hidden, len(spec.dimensions), spec.dropout)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> RewardOutput:
        out = self.backbone(input_ids=input_ids, attention_mask=attention_mask, return_dict=True)
        return self.heads(last_token_states(out.last_hidden_state, attention_mask))

    @property
    def device(self) -> torch.device:
        return next(self.heads.parameters()).device


def _hidden_size(backbone: nn.Module) -> int:
    config = getattr(backbone, "config", None)
    size = getattr(config, "hidden_size", None)
    if not isinstance(size, int):
        raise ValueError(f"backbone {type(backbone).__name__} has no config.hidden_size")
    return size


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def prepare_tokenizer(tokenizer: PreTrainedTokenizerBase) -> PreTrainedTokenizerBase:
    """Right padding (the pooling reads the last real token) and a pad token (the EOS when none)."""
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "right"
    return tokenizer


def load_base(base_model: str, gguf_file: str | None) -> tuple[nn.Module, PreTrainedTokenizerBase]:
    """The base causal LM's backbone (its LM head dropped) and tokenizer, by the planner's loader."""
    causal, tokenizer = load_planner(planner_source({"model": base_model, "gguf_file": gguf_file}))
    return causal.base_model, prepare_tokenizer(tokenizer)


def build_reward_model(
    spec: RmSpec, lora: Mapping[str, Any] | None, dtype: torch.dtype = torch.float32
) -> tuple[ReasonRewardModel, PreTrainedTokenizerBase]:
    """A fresh RM on its base (heads randomly initialised); ``lora``: r, alpha, dropout, target_modules
    (the heads are trained in full either way), None: the backbone is fine-tuned in full."""
    backbone, tokenizer = load_base(spec.base_model, spec.base_gguf_file)
    backbone = backbone.to(dtype)
    if lora is not None:
        backbone = get_peft_model(
            backbone,
            LoraConfig(
                r=lora["r"],
                lora_alpha=lora["alpha"],
                lora_dropout=lora["dropout"],
                target_modules=lora["target_modules"],
                task_type="FEATURE_EXTRACTION",
            ),
        )
    return ReasonRewardModel(backbone, spec), tokenizer


def save_reward_model(model: ReasonRewardModel, tokenizer: PreTrainedTokenizerBase, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if model.spec.lora:
        model.backbone.save_pretrained(folder / ADAPTER_DIR)
    else:
        model.backbone.save_pretrained(folder / BACKBONE_DIR)
    save_file({k: v.detach().contiguous().cpu() for k, v in model.heads.state_dict().items()}, folder / HEADS_FILE)
    tokenizer.save_pretrained(folder / TOKENIZER_DIR)
    # Written last: a folder with rm_config.json is a complete RM.
    (folder / RM_CONFIG_FILE).write_text(json.dumps(model.spec.to_json(), indent=2) + "\n", encoding="utf-8")


def read_spec(folder: Path) -> RmSpec:
    path = folder / RM_CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{folder} is not a Reason RM directory (no {RM_CONFIG_FILE})")
    return RmSpec.from_json(json.loads(path.read_text(encoding="utf-8")))


def load_reward_model(
    folder: Path, device: str = "auto", dtype: torch.dtype = torch.float32, merge: bool = True
) -> tuple[ReasonRewardModel, PreTrainedTokenizerBase]:
    """A saved RM for scoring (eval mode). ``merge`` folds a LoRA adapter into the weights (faster)."""
    folder = Path(folder)
    spec = read_spec(folder)
    tokenizer = prepare_tokenizer(AutoTokenizer.from_pretrained(folder / TOKENIZER_DIR))
    if spec.lora:
        backbone, _ = load_base(spec.base_model, spec.base_gguf_file)
        backbone = PeftModel.from_pretrained(backbone.to(dtype), folder / ADAPTER_DIR)
        if merge:
            backbone = backbone.merge_and_unload()
    else:
        backbone = AutoModel.from_pretrained(folder / BACKBONE_DIR, dtype=dtype)
    model = ReasonRewardModel(backbone, spec)
    model.heads.load_state_dict(load_file(folder / HEADS_FILE))
    model.to(resolve_device(device)).eval()
    return model, tokenizer


@dataclass(frozen=True)
class ScoreItem:
    """One trace to score: the request's fields, already defaulted."""

    problem: str
    reasoning: str
    task_name: str
    task_type: str | None
    max_length: int


@dataclass(frozen=True)
class ItemScore:
    score: float
    dimensions: dict[str, float]


def encode(
    tokenizer: PreTrainedTokenizerBase, texts: Sequence[str], max_lengths: Sequence[int]
) -> dict[str, torch.Tensor]:
    """Each text cut to its own token budget (right side, as the official collator's truncation), then
    padded together."""
    rows = [
        tokenizer(text, truncation=True, max_length=n)["input_ids"] for text, n in zip(texts, max_lengths, strict=True)
    ]
    return tokenizer.pad({"input_ids": rows}, padding=True, return_tensors="pt")


@torch.inference_mode()
def score_items(
    model: ReasonRewardModel, tokenizer: PreTrainedTokenizerBase, items: Sequence[ScoreItem]
) -> list[ItemScore]:
    """One forward pass over ``items``."""
    if not items:
        return []
    texts = [
        render_reasoning_text(
            {"problem": it.problem, "task_type": it.task_type}, {"reasoning": it.reasoning}, it.task_name
        )
        for it in items
    ]
    batch = encode(tokenizer, texts, [it.max_length for it in items])
    out = model(batch["input_ids"].to(model.device), batch["attention_mask"].to(model.device))
    scores = out.score.float().cpu().tolist()
    expected = out.expected.float().cpu().tolist()
    dims = model.spec.dimensions
    return [ItemScore(s, dict(zip(dims, e, strict=True))) for s, e in zip(scores, expected, strict=True)]
