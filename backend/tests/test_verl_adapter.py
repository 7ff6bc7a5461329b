"""The verl reward function module's argument handling, against the small fake service (the real
service is exercised by test/integration/verlAdapter.test.ts)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from train_fake_service import TOKEN, FakeRewardService

from tracelift_backend.adapters import verl_reward
from tracelift_backend.adapters.verl_reward import NULL_REWARD_ENV, compute_score, compute_score_batched
from tracelift_backend.train.service import RewardServiceClient, RewardServiceError

ADAPTER = Path(verl_reward.__file__)


def by_problem(problem_id: str, completion: str) -> float | None:
    return None if problem_id == "missing" else float(len(completion))


@pytest.fixture
def service():
    with FakeRewardService(reward=by_problem) as s:
        yield s


@pytest.fixture
def client(service):
    return RewardServiceClient(base_url=service.url, token=TOKEN, attempts=1)


@pytest.fixture(autouse=True)
def fresh_clock(monkeypatch):
    monkeypatch.setattr(verl_reward, "_clock", verl_reward._StepClock())
    monkeypatch.delenv(NULL_REWARD_ENV, raising=False)


def test_one_sample_posts_its_problem_id_and_completion(service, client):
    reward = compute_score("gsm8k", "<reasoning>x</reasoning>", "18", {"problem_id": "p1", "index": 3}, client=client)
    assert reward == float(len("<reasoning>x</reasoning>"))
    assert service.reward_requests == [
        {"step": 0, "items": [{"problem_id": "p1", "completion": "<reasoning>x</reasoning>"}]}
    ]


def test_verl_keyword_call_with_extra_kwargs_and_a_step_in_extra_info(service, client):
    # verl passes keywords (and reward_kwargs of its own); a step in extra_info is used as given.
    reward = compute_score(
        data_source="d",
        solution_str="abc",
        ground_truth=None,
        extra_info={"problem_id": "p1", "step": 5},
        client=client,
        x=1,
    )
    assert reward == 3.0
    assert service.reward_requests[-1]["step"] == 5


def test_a_batch_is_one_request_and_each_call_is_the_next_step(service, client):
    infos = [{"problem_id": "p1"}, {"problem_id": "p1"}, {"problem_id": "p2"}]
    first = compute_score_batched(
        data_sources=["d"] * 3,
        solution_strs=["a", "bb", "ccc"],
        ground_truths=[None] * 3,
        extra_infos=infos,
        client=client,
    )
    assert first == [1.0, 2.0, 3.0]
    compute_score_batched(["d"], ["dddd"], [None], [{"problem_id": "p2"}], client=client)
    assert [r["step"] for r in service.reward_requests] == [0, 1]
    assert [i["problem_id"] for i in service.reward_requests[0]["items"]] == ["p1", "p1", "p2"]
    # A per-sample call after them belongs to the last batched step.
    compute_score("d", "e", None, {"problem_id": "p1"}, client=client)
    assert service.reward_requests[-1]["step"] == 1


def test_numpy_like_sequences_are_accepted(service, client):
    # verl's non_tensor_batch holds object arrays: any sequence works.
    rewards = compute_score_batched(
        data_sources=("d", "d"),
        solution_strs=("a", "b"),
        ground_truths=("x", "y"),
        extra_infos=({"problem_id": 7}, {"problem_id": "p"}),
        client=client,
    )
    assert rewards == [1.0, 1.0]
    assert service.reward_requests[0]["items"][0]["problem_id"] == "7"


@pytest.mark.parametrize(
    ("extra_info", "message"),
    [
        (None, "must be a dict with 'problem_id'"),
        ({"index": 1}, "has no 'problem_id'"),
        ({"problem_id": ""}, "has no 'problem_id'"),
        ({"problem_id": "p", "step": "later"}, "is not a step number"),
        ({"problem_id": "p", "global_step": -1}, "is negative"),
    ],
)
def test_bad_extra_info_is_refused_before_any_request(service, client, extra_info, message):
    with pytest.raises(ValueError, match=message):
        compute_score("d", "text", None, extra_info, client=client)
    assert service.attempts == 0


def test_bad_batches_are_refused(service, client):
    with pytest.raises(ValueError, match="2 solution_strs but 1 extra_infos"):
        compute_score_batched(None, ["a", "b"], None, [{"problem_id": "p"}], client=client)
    with pytest.raises(ValueError, match=r"extra_infos\[1\] has no 'problem_id'"):
        compute_score_batched(None, ["a", "b"], None, [{"problem_id": "p"}, {}], client=client)
    with pytest.raises(ValueError, match="several steps"):
        compute_score_batched(
            None, ["a", "b"], None, [{"problem_id": "p", "step": 1}, {"problem_id": "p", "step": 2}], client=client
        )
    with pytest.raises(TypeError, match=r"solution_strs\[0\] must be a str"):
        compute_score_batched(None, [b"bytes"], None, [{"problem_id": "p"}], client=client)
    with pytest.raises(TypeError, match="solution_str must be the decoded completion"):
        compute_score("d", None, None, {"problem_id": "p"}, client=client)
    assert service.attempts == 0
    assert compute_score_batched(None, [], None, [], client=client) == []


def test_a_missing_reward_raises_by_default_naming_the_problem(client):
    with pytest.raises(RewardServiceError, match=f"'missing'.*{NULL_REWARD_ENV}"):
        compute_score_batched(None, ["a", "b"], None, [{"problem_id": "p"}, {"problem_id": "missing"}], client=client)


def test_a_missing_reward_as_nan_or_a_number_when_asked(monkeypatch, client):
    infos = [{"problem_id": "p"}, {"problem_id": "missing"}]
    monkeypatch.setenv(NULL_REWARD_ENV, "nan")
    ok, nan = compute_score_batched(None, ["a", "b"], None, infos, client=client)
    assert ok == 1.0 and math.isnan(nan)
    monkeypatch.setenv(NULL_REWARD_ENV, "-1")
    assert compute_score_batched(None, ["a", "b"], None, infos, client=client) == [1.0, -1.0]
    for bad in ("zero", "inf"):
        monkeypatch.setenv(NULL_REWARD_ENV, bad)
        with pytest.raises(ValueError, match=NULL_REWARD_ENV):
            compute_score("d", "a", None, {"problem_id": "p"}, client=client)


def test_service_failures_raise_not_rewards(service, client):
    service.fail_next = 1
    with pytest.raises(RewardServiceError, match="HTTP 500"):
        compute_score("d", "a", None, {"problem_id": "p"}, client=client)


def test_url_and_token_come_from_the_environment(service, monkeypatch):
    monkeypatch.setenv("TRACELIFT_REWARD_URL", service.url)
    monkeypatch.setenv("TRACELIFT_REWARD_TOKEN", TOKEN)
    assert compute_score("d", "abcd", None, {"problem_id": "p"}) == 4.0
    assert service.auth_headers[-1] == f"Bearer {TOKEN}"
    monkeypatch.delenv("TRACELIFT_REWARD_TOKEN")
    with pytest.raises(RewardServiceError, match="TRACELIFT_REWARD_TOKEN not set"):
        compute_score("d", "abcd", None, {"problem_id": "p"})


def test_loaded_by_path_as_verl_does_without_backend_on_the_path(service, tmp_path):
    # verl: importlib.util.spec_from_file_location("custom_module", path); here in a clean interpreter.
    script = (
        "import importlib.util, json, sys\n"
        "spec = importlib.util.spec_from_file_location('custom_module', sys.argv[1])\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "sys.modules['custom_module'] = module\n"
        "spec.loader.exec_module(module)\n"
        "print(json.dumps(module.compute_score_batched(['d'], ['xyz'], [None], [{'problem_id': 'p'}])))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(TRACELIFT_REWARD_URL=service.url, TRACELIFT_REWARD_TOKEN=TOKEN)
    out = subprocess.run(
        [sys.executable, "-I", "-c", script, str(ADAPTER)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [3.0]


def test_the_verl_parquet_carries_the_engine_prompts_and_problem_ids(tmp_path):
    from datasets import Dataset

    from tracelift_backend.adapters.verl_data import main

    messages = [{"role": "system", "content": "Plan."}, {"role": "user", "content": "What is 2 x 9?"}]
    lines = [{"problem_id": f"gsm8k/train/{i}", "task": "gsm8k", "prompt": messages} for i in (3, 4)]
    (tmp_path / "train_prompts.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    assert main([str(tmp_path), str(tmp_path / "train.parquet")]) == 0
    rows = Dataset.from_parquet(str(tmp_path / "train.parquet")).to_list()
    assert [r["extra_info"] for r in rows] == [
        {"problem_id": "gsm8k/train/3", "index": 0},
        {"problem_id": "gsm8k/train/4", "index": 1},
    ]
    assert rows[0]["prompt"] == messages
    assert rows[0]["data_source"] == "tracelift/gsm8k" and rows[0]["reward_model"] == {
        "style": "rule",
        "ground_truth": "",
    }
    # A run whose planner has no chat template has string prompts: verl needs messages.
    (tmp_path / "train_prompts.jsonl").write_text(json.dumps({**lines[0], "prompt": "text"}) + "\n", encoding="utf-8")
    assert main([str(tmp_path), str(tmp_path / "other.parquet")]) == 1
