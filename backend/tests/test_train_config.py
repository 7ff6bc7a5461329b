"""The training config on the Python side: validated against the schema generated from zod (the
field named), the schema's defaults filled in, and what the trainer derives from it."""

from __future__ import annotations

import json

import pytest
import torch

from tracelift_backend.contract import ContractError
from tracelift_backend.train.config import load_train_config, parse_train_config
from tracelift_backend.train.grpo_args import (
    Placement,
    grpo_config,
    per_device_batch_size,
    resolve_placement,
    total_steps,
)
from tracelift_backend.train.planner import EMBEDDED_GGUF, REPO_ROOT, lora_config, planner_source

MINIMAL = {"tasks": [{"task": "gsm8k"}], "max_steps": 3}


def config(**fields):
    return parse_train_config({**MINIMAL, **fields})


def test_defaults_come_from_the_schema():
    c = config()
    assert c["num_generations"] == 4
    assert c["planner"] == {"model": "embedded", "gguf_file": None, "chat_template": True}
    assert c["lora"] == {"r": 16, "alpha": 32, "dropout": 0.05, "target_modules": "all-linear"}
    assert c["tasks"] == [{"task": "gsm8k", "split": "train", "limit": None, "offset": 0}]
    # Nested objects given in part get the rest of their defaults.
    assert config(lora={"r": 8})["lora"] == {"r": 8, "alpha": 32, "dropout": 0.05, "target_modules": "all-linear"}
    assert config(lora=None)["lora"] is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"num_generations": 1}, "num_generations"),
        ({"lora": {"r": 0}}, "lora.r"),
        ({"loss_type": "sapo"}, "loss_type"),
        ({"planner": {"model": ""}}, "planner.model"),
        ({"tasks": []}, "tasks"),
        ({"max_steps": None}, "max_steps"),
    ],
)
def test_a_bad_field_is_named(fields, field):
    with pytest.raises(ContractError) as raised:
        config(**fields)
    assert raised.value.field == field
    assert field in str(raised.value)


def test_a_missing_required_field_is_named(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"tasks": [{"task": "gsm8k"}]}))
    with pytest.raises(ContractError) as raised:
        load_train_config(path)
    assert raised.value.field == "max_steps"
    path.write_text("{not json")
    with pytest.raises(ContractError, match="not JSON"):
        load_train_config(path)


def test_one_step_holds_prompts_per_step_times_g_completions():
    assert per_device_batch_size(config(prompts_per_step=2, num_generations=4), world_size=1) == 8
    assert per_device_batch_size(config(prompts_per_step=2, num_generations=4, gradient_accumulation_steps=2), 2) == 2
    with pytest.raises(ContractError) as raised:
        per_device_batch_size(config(prompts_per_step=1, num_generations=4, gradient_accumulation_steps=3), 1)
    assert raised.value.field == "prompts_per_step"


def test_run_length():
    assert total_steps(config(max_steps=10), num_prompts=4, max_steps_override=None) == 10
    assert total_steps(config(max_steps=10), num_prompts=4, max_steps_override=2) == 2
    # Epochs shorten the run: 1.5 passes over 4 prompts, 2 per step.
    assert (
        total_steps(config(max_steps=10, epochs=1.5, prompts_per_step=2), num_prompts=4, max_steps_override=None) == 3
    )


@pytest.mark.skipif(torch.cuda.is_available(), reason="a machine without a GPU")
def test_a_cuda_config_is_refused_without_a_gpu():
    with pytest.raises(ContractError) as raised:
        resolve_placement(config(device="cuda"))
    assert raised.value.field == "device" and "sees no GPU" in str(raised.value)
    assert resolve_placement(config(device="auto")) == Placement(device="cpu", bf16=False)


def test_grpo_config_is_the_config_not_trl_defaults(tmp_path):
    c = config(
        lora=None, beta=0.04, loss_type="grpo", scale_rewards="none", temperature=0.7, max_completion_length=64, seed=7
    )
    args = grpo_config(c, tmp_path, Placement("cpu", False), steps=5, model_init_kwargs={"gguf_file": "x.gguf"})
    assert (args.loss_type, args.beta, args.scale_rewards) == ("grpo", 0.04, "none")
    assert (args.temperature, args.top_p, args.max_completion_length, args.seed) == (0.7, 1.0, 64, 7)
    assert args.per_device_train_batch_size == 4 and args.num_generations == 4 and args.max_steps == 5
    assert args.learning_rate == 5e-6 and args.save_steps == 100 and args.logging_steps == 1
    assert args.output_dir == str(tmp_path / "checkpoints")
    assert not args.bf16 and not args.activation_checkpointing and not args.use_vllm
    assert args.report_to == []
    # Full fine-tuning with a KL term: TRL loads the reference model as the policy was loaded.
    assert args.model_init_kwargs == {"gguf_file": "x.gguf"}
    # A LoRA policy is its own reference (adapter off).
    lora = grpo_config(config(beta=0.04), tmp_path, Placement("cpu", False), 5, {"gguf_file": "x.gguf"})
    assert lora.model_init_kwargs is None


def test_a_vllm_server_url_sends_planner_rollouts_there(tmp_path):
    url = "http://127.0.0.1:8002"
    args = grpo_config(config(vllm_server_url=url), tmp_path, Placement("cpu", False), 5, None)
    assert (args.use_vllm, args.vllm_mode, args.vllm_server_base_url) == (True, "server", url)
    # use_vllm without a URL: TRL's default server address
    default = grpo_config(config(use_vllm=True), tmp_path, Placement("cpu", False), 5, None)
    assert (default.use_vllm, default.vllm_mode, default.vllm_server_base_url) == (True, "server", None)
    assert (default.vllm_server_host, default.vllm_server_port) == ("0.0.0.0", 8000)
    off = grpo_config(config(), tmp_path, Placement("cpu", False), 5, None)
    assert not off.use_vllm and off.vllm_server_base_url is None


def test_planner_sources(tmp_path):
    embedded = planner_source({"model": "embedded", "gguf_file": None})
    assert (embedded.name_or_path, embedded.gguf_file) == (str((REPO_ROOT / EMBEDDED_GGUF).parent), EMBEDDED_GGUF.name)
    assert planner_source({"model": "Qwen/Qwen2.5-7B-Instruct", "gguf_file": None}).gguf_file is None
    with pytest.raises(FileNotFoundError, match="GGUF not found"):
        planner_source({"model": "embedded", "gguf_file": str(tmp_path / "missing.gguf")})
    peft = lora_config({"r": 8, "alpha": 16, "dropout": 0.0, "target_modules": ["q_proj", "v_proj"]})
    assert (peft.r, peft.lora_alpha, set(peft.target_modules)) == (8, 16, {"q_proj", "v_proj"})
    assert lora_config(None) is None


def test_the_embedded_planner_follows_the_engine_model_setting(tmp_path, monkeypatch):
    # An installed extension has no models/ beside the code: TRACELIFT_EMBEDDED_MODEL says where it is.
    model = tmp_path / "elsewhere" / "SmolLM2.gguf"
    model.parent.mkdir()
    model.write_bytes(b"GGUF")
    monkeypatch.setenv("TRACELIFT_EMBEDDED_MODEL", str(model))
    source = planner_source({"model": "embedded", "gguf_file": None}, repo_root=tmp_path / "no-repo")
    assert (source.name_or_path, source.gguf_file) == (str(model.parent), model.name)
