"""Real GRPO training with TRL on the CPU against a fake reward service: a tiny random Llama with
the embedded planner's tokenizer (the embedded 135M model itself takes minutes per run on two
cores; it is run by hand, see the closing notes of issue 9), LoRA and full fine-tuning, resume,
a service that dies mid-run, and the process stopped by SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from train_fake_service import TOKEN, FakeRewardService
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

from tracelift_backend.train.__main__ import main
from tracelift_backend.train.planner import EMBEDDED_GGUF, REPO_ROOT
from tracelift_backend.train.run import TrainArgs, run_training
from tracelift_backend.train.service import TOKEN_ENV, URL_ENV, RewardServiceClient

BACKEND = Path(__file__).resolve().parents[1]
PROBLEMS = {
    "gsm8k/train/0": "Natalia sold clips to 48 of her friends in April, and then she sold half as many in May. "
    "How many clips did she sell altogether?",
    "gsm8k/train/1": "Weng earns $12 an hour for babysitting. Yesterday she did 50 minutes. How much did she earn?",
}

pytestmark = pytest.mark.skipif(not (REPO_ROOT / EMBEDDED_GGUF).is_file(), reason="the embedded GGUF (setup.sh)")


@pytest.fixture(scope="module")
def tiny_planner(tmp_path_factory) -> Path:
    """A local model directory: a 2-layer random Llama and the embedded planner's tokenizer."""
    folder = tmp_path_factory.mktemp("tiny-planner")
    tokenizer = AutoTokenizer.from_pretrained(str(REPO_ROOT / EMBEDDED_GGUF.parent), gguf_file=EMBEDDED_GGUF.name)
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=1024,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    return folder


def make_run(tmp_path: Path, planner: Path, **fields) -> Path:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    config = {
        "planner": {"model": str(planner)},
        "tasks": [{"task": "gsm8k"}],
        "max_steps": 2,
        "max_completion_length": 12,
        "learning_rate": 1e-3,
        "seed": 1,
        **fields,
    }
    (run_dir / "config.json").write_text(json.dumps(config))
    with (run_dir / "train_prompts.jsonl").open("w") as f:
        for problem_id, question in PROBLEMS.items():
            messages = [{"role": "system", "content": "Write a short plan."}, {"role": "user", "content": question}]
            f.write(json.dumps({"problem_id": problem_id, "task": "gsm8k", "prompt": messages}) + "\n")
    return run_dir


def train(run_dir: Path, service: FakeRewardService, resume: bool = False, max_steps: int | None = None) -> int:
    client = RewardServiceClient(service.url, TOKEN, attempts=2, backoff_s=0.01)
    return run_training(TrainArgs(run_dir / "config.json", run_dir, resume, max_steps), client)


def lora_b(checkpoint: Path) -> dict[str, torch.Tensor]:
    return {k: v for k, v in load_file(checkpoint / "adapter_model.safetensors").items() if "lora_B" in k}


def test_lora_steps_post_rewards_metrics_and_a_checkpoint_then_resume(tmp_path, tiny_planner):
    run_dir = make_run(tmp_path, tiny_planner, max_steps=3)
    with FakeRewardService() as service:
        signalled = []

        def stop_in_the_second_step(problem_id: str, completion: str) -> float | None:
            if service.reward_requests[-1]["step"] == 1 and not signalled:
                signalled.append(True)
                os.kill(os.getpid(), signal.SIGTERM)  # as the launcher stops a run
            return (len(completion) % 7) / 6

        service.reward = stop_in_the_second_step
        assert train(run_dir, service) == 0
        # One problem × G = 4 completions per step; the request carries TRL's global_step.
        assert [r["step"] for r in service.reward_requests] == [0, 1]
        for request in service.reward_requests:
            assert len(request["items"]) == 4 and len({i["problem_id"] for i in request["items"]}) == 1
        metrics = service.events_of("step_metrics")
        assert [m["step"] for m in metrics] == [1, 2]
        for m in metrics:
            assert {"loss", "learning_rate", "grad_norm", "completion_length", "epoch"} <= m["metrics"].keys()
            times = m["metrics"]
            assert times["time_generation_s"] > 0 and times["time_update_s"] > 0
            assert times["time_step_s"] >= times["time_generation_s"] + times["time_reward_s"]
        # Stopped in step 2 of 3: the step finished and was saved.
        assert service.events_of("checkpoint") == [
            {"type": "checkpoint", "step": 2, "path": "checkpoints/checkpoint-2"}
        ]
        # peft initialises lora_B to zeros: the update moved every adapter.
        trained = lora_b(run_dir / "checkpoints" / "checkpoint-2")
        assert trained and all(t.abs().sum() > 0 for t in trained.values())

        assert train(run_dir, service, resume=True) == 0
        assert [r["step"] for r in service.reward_requests] == [0, 1, 2]
        assert [m["step"] for m in service.events_of("step_metrics")] == [1, 2, 3]
        assert service.events_of("checkpoint")[-1] == {
            "type": "checkpoint",
            "step": 3,
            "path": "checkpoints/checkpoint-3",
        }
        resumed = lora_b(run_dir / "checkpoints" / "checkpoint-3")
        assert any(not torch.equal(resumed[k], trained[k]) for k in trained)


def test_full_fine_tuning_stops_with_a_resumable_checkpoint_when_the_service_fails(tmp_path, tiny_planner):
    run_dir = make_run(tmp_path, tiny_planner, lora=None, max_steps=5)
    initial = load_file(tiny_planner / "model.safetensors")
    # The service breaks down in step 2: its rewards request and everything after fail.
    with FakeRewardService(fail_from_step=1) as service:
        assert train(run_dir, service) == 1
        # Step 1 trained; step 2's rewards never came, and nothing was turned into a reward.
        assert [r["step"] for r in service.reward_requests] == [0]
        assert service.attempts == 1 + 1 + 2  # rewards, step_metrics, the failed rewards request twice
        assert [m["step"] for m in service.events_of("step_metrics")] == [1]
    checkpoint = run_dir / "checkpoints" / "checkpoint-1"
    assert json.loads((checkpoint / "trainer_state.json").read_text())["global_step"] == 1
    assert (checkpoint / "optimizer.pt").is_file()
    trained = load_file(checkpoint / "model.safetensors")
    assert any(not torch.equal(trained[k], initial[k]) for k in initial if k in trained)

    with FakeRewardService() as service:
        assert train(run_dir, service, resume=True, max_steps=2) == 0
        assert [r["step"] for r in service.reward_requests] == [1]
        assert [m["step"] for m in service.events_of("step_metrics")] == [2]


def test_a_bad_config_is_refused_with_the_field_named(tmp_path, capsys, tiny_planner):
    run_dir = make_run(tmp_path, tiny_planner, num_generations=1)
    assert main(["--config", str(run_dir / "config.json"), "--run-dir", str(run_dir)]) == 1
    assert "num_generations" in capsys.readouterr().err


def test_sigterm_finishes_the_step_saves_and_exits_0(tmp_path, tiny_planner):
    run_dir = make_run(tmp_path, tiny_planner, max_steps=1000)
    with FakeRewardService() as service:
        env = {**os.environ, URL_ENV: service.url, TOKEN_ENV: TOKEN, "PYTHONPATH": str(BACKEND)}
        command = [sys.executable, "-m", "tracelift_backend.train", "--config", str(run_dir / "config.json")]
        trainer = subprocess.Popen(
            [*command, "--run-dir", str(run_dir)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            deadline = time.monotonic() + 120
            while not service.reward_requests and trainer.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            assert service.reward_requests, "the trainer never asked for rewards"
            trainer.send_signal(signal.SIGTERM)
            output, _ = trainer.communicate(timeout=120)
        finally:
            if trainer.poll() is None:
                trainer.kill()
        assert trainer.returncode == 0, output
        assert "stopped (SIGTERM)" in output
        checkpoints = service.events_of("checkpoint")
        assert len(checkpoints) == 1
        step = checkpoints[0]["step"]
        assert step < 1000 and (run_dir / checkpoints[0]["path"] / "trainer_state.json").is_file()
        assert service.events_of("step_metrics")[-1]["step"] == step
