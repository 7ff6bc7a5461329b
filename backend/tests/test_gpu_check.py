"""The prepared GPU check (scripts/gpu-check/grpo_cuda.py) runs its GRPO loop on the CPU with fast
settings, and its pieces compute what GRPO computes."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("peft")
pytest.importorskip("accelerate")

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "gpu-check" / "grpo_cuda.py"
FAST = [
    "--device",
    "cpu",
    "--steps",
    "2",
    "--prompts",
    "2",
    "--group",
    "4",
    "--prompt-len",
    "8",
    "--max-new-tokens",
    "8",
]


@pytest.fixture(scope="module")
def grpo():
    spec = importlib.util.spec_from_file_location("grpo_cuda", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_two_steps_on_the_cpu_print_the_figures():
    out = subprocess.run([sys.executable, str(SCRIPT), *FAST], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert [line.split(":")[0] for line in lines if line.startswith("step ")] == [
        "step 0 (warm-up)",
        "step 1",
        "step 2",
    ]
    result = json.loads(lines[-1])
    assert result["device"] == "cpu" and result["dtype"] == "fp32" and result["preset"] == "tiny"
    assert result["steps"] == 2
    assert result["steps_per_s"] > 0 and result["generation_s"] > 0 and result["update_s"] > 0
    assert 0 <= result["reward_first"] <= 1 and 0 <= result["reward_last"] <= 1
    assert result["lora_params_m"] > 0 and result["peak_allocated_gib"] is None


def test_asking_for_cuda_without_one_fails_clearly():
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    out = subprocess.run([sys.executable, str(SCRIPT), "--device", "cuda"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 2
    assert "torch.cuda.is_available() is False" in out.stderr


def test_advantages_are_normalised_within_each_group(grpo):
    rewards = torch.tensor([1.0, 0.0, 1.0, 0.0, 0.5, 0.5, 0.5, 0.5])
    adv = grpo.group_advantages(rewards, 4)
    assert torch.allclose(adv[:4].mean(), torch.tensor(0.0), atol=1e-6)
    assert adv[0] > 0 > adv[1]
    assert torch.equal(adv[4:], torch.zeros(4)), "a group of equal rewards teaches nothing"


def test_the_loss_gradient_is_the_policy_gradient_and_kl_pulls_back(grpo):
    logp = torch.tensor([[-1.0, -2.0], [-0.5, -0.5]], requires_grad=True)
    advantages = torch.tensor([2.0, -1.0])
    grpo.grpo_loss(logp, None, advantages, beta=0.0).backward()
    # d/d logp of -mean(A * 1): -A / number of tokens
    assert torch.allclose(logp.grad, torch.tensor([[-0.5, -0.5], [0.25, 0.25]]))
    # The KL term is 0 at the reference and pushes logp back toward it.
    logp2 = torch.tensor([[-1.0]], requires_grad=True)
    loss = grpo.grpo_loss(logp2, torch.tensor([[-1.0]]), torch.tensor([0.0]), beta=1.0)
    assert float(loss.detach()) == pytest.approx(0.0)
    above = torch.tensor([[-0.5]], requires_grad=True)
    grpo.grpo_loss(above, torch.tensor([[-1.0]]), torch.tensor([0.0]), beta=1.0).backward()
    assert above.grad.item() > 0, "gradient descent lowers a log-prob above the reference's"


def test_the_synthetic_reward_is_the_share_of_low_tokens(grpo):
    completions = torch.tensor([[0, 1, 300, 400], [10, 20, 30, 40]])
    assert grpo.synthetic_reward(completions, 512).tolist() == [0.5, 1.0]
