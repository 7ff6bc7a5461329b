"""The planner policy: model and tokenizer from a Hugging Face id, a local directory, or a GGUF file
(``"embedded"``: SmolLM2-135M-Instruct from the GGUF the embedded executor serves, so nothing is
downloaded), and the LoRA adapter settings."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from peft import LoraConfig
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

EMBEDDED_PLANNER = "embedded"
#: The embedded executor's model (scripts/setup.sh), relative to the repository root.
EMBEDDED_GGUF = Path("models") / "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_MODEL_ENV = "TRACELIFT_EMBEDDED_MODEL"
REPO_ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class PlannerSource:
    """What ``from_pretrained`` is given: a model id or directory, and a GGUF file name inside it."""

    name_or_path: str
    gguf_file: str | None

    def init_kwargs(self) -> dict[str, Any]:
        # float32 as TRL loads a policy given by name; bf16 training is autocast (GRPOConfig.bf16).
        kwargs: dict[str, Any] = {"dtype": torch.float32}
        if self.gguf_file is not None:
            kwargs["gguf_file"] = self.gguf_file
        return kwargs


def planner_source(planner: dict[str, Any], repo_root: Path = REPO_ROOT) -> PlannerSource:
    """Resolves ``config.planner``. A relative GGUF path is taken from the repository root (embedded)
    or inside the model directory (a local model)."""
    model, gguf = planner["model"], planner.get("gguf_file")
    if model == EMBEDDED_PLANNER:
        # An installed extension has no models/ beside the code: it says where the model is.
        path = Path(gguf) if gguf else Path(os.environ.get(EMBEDDED_MODEL_ENV) or EMBEDDED_GGUF)
        path = path if path.is_absolute() else repo_root / path
        if not path.is_file():
            raise FileNotFoundError(f"embedded planner GGUF not found: {path} (scripts/setup.sh fetches it)")
        return PlannerSource(str(path.parent), path.name)
    return PlannerSource(model, gguf or None)


def load_planner(source: PlannerSource) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    kwargs = source.init_kwargs()
    tokenizer = AutoTokenizer.from_pretrained(source.name_or_path, gguf_file=source.gguf_file)
    model = AutoModelForCausalLM.from_pretrained(source.name_or_path, **kwargs)
    quantizer = getattr(model, "hf_quantizer", None)
    if source.gguf_file is not None and quantizer is not None:
        # The GGUF weights are de-quantized to float32 on load, but the model still says it is
        # quantized and the Trainer refuses to train a "purely quantized" model.
        quantizer.remove_quantization_config(model)
    return model, tokenizer


def lora_config(lora: dict[str, Any] | None) -> LoraConfig | None:
    """peft settings of ``config.lora`` (None: full fine-tuning)."""
    if lora is None:
        return None
    return LoraConfig(
        r=lora["r"],
        lora_alpha=lora["alpha"],
        lora_dropout=lora["dropout"],
        target_modules=lora["target_modules"],
        task_type="CAUSAL_LM",
    )
