"""RM training end to end on a tiny random backbone: groups read and checked, the dev split, run events
in the contract (run_started rm_train, step_metrics with losses and dev metrics, checkpoint, run_ended),
the saved RM loads back with the scores the trainer's eval saw, and the loss falls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rm_tiny import save_tiny_base

from tracelift_backend.contract import read_events
from tracelift_backend.rm.data import GroupsError, dev_split, eval_item, read_groups
from tracelift_backend.rm.model import RUBRIC_DIMENSIONS, load_reward_model
from tracelift_backend.rm.train import evaluate, main, parse_rm_config

FIXTURE = Path(__file__).resolve().parents[2] / "test" / "fixtures" / "groups.gsm8k.jsonl"
MATH = RUBRIC_DIMENSIONS["math"]


def rubric(level: int, total: float) -> dict:
    return {**dict.fromkeys(MATH, level), "total": total}


def synthetic_groups(n: int) -> list[dict]:
    """Positives are long, on-topic, worked steps; negatives are cut to a few characters or irrelevant."""
    out = []
    for i in range(n):
        steps = f"First {i} plus {i + 1} is {2 * i + 1}. Then times two gives {4 * i + 2}. So the total is {4 * i + 2}."
        out.append(
            {
                "problem_id": f"synthetic_{i:03d}",
                "source": "synthetic",
                "task_type": "math",
                "problem": f"Add {i} and {i + 1}, then double it.",
                "reference_solution": str(4 * i + 2),
                "positive_pool": [{"reasoning": steps, "rubric": rubric(4, 1.0)}],
                "negative_bank": [
                    {"reasoning": steps[:9], "negative_kind": "truncated", "rubric": rubric(1, 0.2)},
                    {"reasoning": "zzz qqq", "negative_kind": "irrelevant", "rubric": rubric(0, 0.0)},
                ],
            }
        )
    return out


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory) -> Path:
    return save_tiny_base(tmp_path_factory.mktemp("tiny-base"))


def run_config(tmp_path: Path, base: Path, groups: list[Path], **fields) -> Path:
    config = {
        "base": {"model": str(base)},
        "groups": [str(g) for g in groups],
        "lora": {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": "all-linear"},
        "learning_rate": 5e-3,
        "epochs": 2,
        "groups_per_batch": 2,
        "gradient_accumulation_steps": 1,
        "max_length": 256,  # bytes: the whole text (a cut keeps the start, as the official collator)
        "dev_fraction": 0.25,
        "device": "cpu",
        **fields,
    }
    path = tmp_path / "rm.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def test_config_defaults_are_the_official_settings():
    config = parse_rm_config({})
    assert config["lora"] == {
        "r": 32,
        "alpha": 64,
        "dropout": 0.05,
        "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    }
    assert (config["learning_rate"], config["epochs"], config["gradient_accumulation_steps"]) == (1e-4, 3, 16)
    assert config["loss_weights"]["posneg"] == 0.7 and config["loss_weights"]["negneg"] == 0.0
    assert config["negatives_per_group"] == 4 and config["max_length"] == 3072


def test_groups_errors_name_file_line_and_field(tmp_path):
    bad = write_jsonl(tmp_path / "g.jsonl", [synthetic_groups(1)[0], {"problem_id": "x", "source": "s"}])
    with pytest.raises(GroupsError, match=r"g\.jsonl:2: .*task_type"):
        read_groups([bad])


def test_dev_split_is_by_hash_and_stable():
    groups = read_groups([FIXTURE])
    train, dev = dev_split(groups, 0.1, 18)
    assert len(dev) == 1 and len(train) == 1  # at least one dev group when there are two
    assert dev_split(list(reversed(groups)), 0.1, 18)[1][0].problem_id == dev[0].problem_id


def test_short_run_writes_events_and_a_model_that_loads(tiny_base, tmp_path):
    groups = write_jsonl(tmp_path / "groups.jsonl", synthetic_groups(12))
    run_dir = tmp_path / "run"
    code = main(
        [
            "--config",
            str(run_config(tmp_path, tiny_base, [groups, FIXTURE])),
            "--run-dir",
            str(run_dir),
            "--max-steps",
            "8",
            "--engine-version",
            "test",
        ]
    )
    assert code == 0
    log = read_events(run_dir)
    assert log.issues == []
    kinds = [e["type"] for e in log.events]
    assert kinds[0] == "run_started" and kinds[-1] == "run_ended"
    started = log.events[0]
    assert started["run_kind"] == "rm_train" and started["engine_version"] == "test"
    assert log.events[-1]["status"] == "completed"
    steps = [e for e in log.events if e["type"] == "step_metrics" and "loss" in e["metrics"]]
    assert [e["step"] for e in steps] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert {"loss_dim", "loss_total", "loss_posneg", "loss_negneg", "learning_rate"} <= set(steps[0]["metrics"])
    dev = [e for e in log.events if e["type"] == "step_metrics" and "dev_pair_accuracy" in e["metrics"]]
    assert [e["step"] for e in dev] == [6, 8]  # 12 train groups, 2 per step: after epoch 1 and at the end
    m = dev[-1]["metrics"]
    assert {"dev_total_mae", "dev_total_rmse", "dev_group_accuracy", "dev_pair_accuracy/truncated"} <= set(m)
    checkpoints = [e for e in log.events if e["type"] == "checkpoint"]
    assert [c["path"] for c in checkpoints] == ["checkpoints/checkpoint-6", "model"]
    assert all((run_dir / c["path"] / "rm_config.json").is_file() for c in checkpoints)
    # The saved RM gives the scores the trainer's last eval was computed from.
    model, tokenizer = load_reward_model(run_dir / "model", device="cpu")
    config = json.loads((run_dir / "config.json").read_text())
    _, dev_groups = dev_split(read_groups(config["groups"]), config["dev_fraction"], config["seed"])
    again = evaluate(model, tokenizer, [eval_item(g, "math", MATH) for g in dev_groups], 256, 8)
    assert again["dev_total_mae"] == pytest.approx(m["dev_total_mae"], abs=1e-4)


def test_loss_falls(tiny_base, tmp_path):
    groups = write_jsonl(tmp_path / "groups.jsonl", synthetic_groups(8))
    run_dir = tmp_path / "run"
    config = run_config(
        tmp_path,
        tiny_base,
        [groups],
        lora=None,
        learning_rate=3e-3,
        epochs=10,
        dev_fraction=0,
        groups_per_batch=4,
        logging_steps=1,
        warmup_ratio=0,
    )
    assert main(["--config", str(config), "--run-dir", str(run_dir)]) == 0
    losses = [e["metrics"]["loss"] for e in read_events(run_dir).events if e["type"] == "step_metrics"]
    assert len(losses) == 20
    assert sum(losses[-4:]) / 4 < 0.7 * sum(losses[:4]) / 4, losses


def test_a_bad_groups_file_fails_the_run_with_the_reason(tiny_base, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"problem_id": 1}\n', encoding="utf-8")
    run_dir = tmp_path / "run"
    assert main(["--config", str(run_config(tmp_path, tiny_base, [bad])), "--run-dir", str(run_dir)]) == 1
    events = read_events(run_dir).events
    assert events[-1]["type"] == "run_ended" and events[-1]["status"] == "failed"
    assert "bad.jsonl:1" in events[-1]["message"]


@pytest.mark.parametrize("name", ["cpu-smollm2.json", "qwen25-7b-math.json", "qwen25-7b-code.json"])
def test_rm_recipes_are_valid_configs(name):
    from tracelift_backend.rm.train import load_rm_config

    config = load_rm_config(FIXTURE.parents[2] / "recipes" / "rm" / name)
    if name.startswith("qwen"):
        assert config["base"]["model"] == "Qwen/Qwen2.5-7B-Instruct"
        assert (config["learning_rate"], config["epochs"], config["gradient_accumulation_steps"]) == (1e-4, 3, 16)
        assert config["lora"]["r"] == 32 and config["lora"]["alpha"] == 64 and config["bf16"] is True
        assert config["task_name"] == name.removeprefix("qwen25-7b-").removesuffix(".json")
    else:
        assert config["base"]["model"] == "embedded" and config["device"] == "cpu"


def test_learning_rate_logged_is_the_one_each_step_used(tiny_base, tmp_path):
    groups = write_jsonl(tmp_path / "groups.jsonl", synthetic_groups(4))
    run_dir = tmp_path / "run"
    # 4 steps, 2 of warmup (ceil(0.5 · 4)): 0, 0.5·lr, lr, then linear decay to 0 at step 4: 0.5·lr.
    config = run_config(tmp_path, tiny_base, [groups], epochs=4, groups_per_batch=4, dev_fraction=0, warmup_ratio=0.5)
    assert main(["--config", str(config), "--run-dir", str(run_dir)]) == 0
    rates = [e["metrics"]["learning_rate"] for e in read_events(run_dir).events if e["type"] == "step_metrics"]
    assert rates == pytest.approx([0.0, 2.5e-3, 5e-3, 2.5e-3])
