"""The trainer's run events: TRL's log names mapped to the contract's step_metrics, checkpoints
posted relative to the run directory, and the graceful stop on SIGTERM."""

from __future__ import annotations

import math
import os
import signal
from types import SimpleNamespace

import pytest
from train_fake_service import TOKEN, FakeRewardService
from transformers import TrainerControl

from tracelift_backend.contract import validate
from tracelift_backend.train.events import ServiceEventsCallback, StepTimer, step_metrics
from tracelift_backend.train.service import RewardServiceClient
from tracelift_backend.train.stop import GracefulStop

TRL_LOG = {
    "loss": 0.25,
    "grad_norm": 0.5,
    "learning_rate": 5e-6,
    "num_tokens": 679.0,
    "completions/mean_length": 94.75,
    "completions/clipped_ratio": 0.75,
    "reward": 0.5,
    "entropy": 0.54,
    "kl": None,  # TRL logs None where every value was NaN
    "clip_ratio/low_mean": math.nan,
    "step_time": 125.7,
    "epoch": 0.5,
}


def timer_of(generation: float, reward: float, step: float) -> StepTimer:
    return StepTimer(generation_s=generation, reward_s=reward, started=0.0, step_s=step)


def test_trl_logs_map_to_contract_metrics():
    metrics = step_metrics(TRL_LOG, timer_of(6.0, 1.5, 10.0))
    assert metrics == {
        "loss": 0.25,
        "grad_norm": 0.5,
        "learning_rate": 5e-6,
        "completion_length": 94.75,
        "completion_clipped_ratio": 0.75,
        "entropy": 0.54,
        "epoch": 0.5,
        "time_generation_s": 6.0,
        "time_reward_s": 1.5,
        "time_update_s": 2.5,
        "time_step_s": 10.0,
    }
    assert step_metrics({"kl": 0.01, "loss": math.inf}, StepTimer()) == {"kl": 0.01}


def test_callback_posts_step_metrics_and_checkpoints(tmp_path):
    run_dir = tmp_path / "run"
    state = SimpleNamespace(is_world_process_zero=True, global_step=0)
    args = SimpleNamespace(output_dir=str(run_dir / "checkpoints"))
    with FakeRewardService() as service:
        callback = ServiceEventsCallback(RewardServiceClient(service.url, TOKEN), run_dir)
        callback.on_step_begin(args, state, None)
        state.global_step = 1
        callback.on_step_end(args, state, None)
        callback.on_log(args, state, None, logs=TRL_LOG)
        callback.on_save(args, state, None)
        # The end-of-training summary is not a step.
        callback.on_log(args, state, None, logs={"train_runtime": 3.0, "train_loss": 0.1, "epoch": 1.0})
        # Other processes of a multi-GPU run post nothing.
        callback.on_log(args, SimpleNamespace(is_world_process_zero=False, global_step=2), None, logs=TRL_LOG)
    metrics, checkpoint = service.events
    assert metrics["type"] == "step_metrics" and metrics["step"] == 1
    assert metrics["metrics"]["loss"] == 0.25 and metrics["metrics"]["time_step_s"] >= 0
    assert checkpoint == {"type": "checkpoint", "step": 1, "path": "checkpoints/checkpoint-1"}
    # What the trainer posts is a run event once the service stamps its time.
    for event in service.events:
        validate("run_event", {**event, "time": "2026-01-01T00:00:00.000Z"})


@pytest.fixture
def restored_signals():
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def test_sigterm_stops_after_the_step_with_a_checkpoint(restored_signals):
    stop = GracefulStop()
    stop.install()
    control = TrainerControl()
    stop.on_step_end(None, None, control)
    assert not control.should_training_stop and not control.should_save
    os.kill(os.getpid(), signal.SIGTERM)
    assert stop.requested == "SIGTERM"
    stop.on_step_end(None, None, control)
    assert control.should_training_stop and control.should_save
    # A second signal ends the process at once.
    with pytest.raises(SystemExit) as raised:
        os.kill(os.getpid(), signal.SIGINT)
    assert raised.value.code == 128 + signal.SIGINT
