"""The trainer's client of the reward service, against a fake service over real HTTP: the bearer
token, rewards passed through (None stays None), bounded retries, errors raised."""

from __future__ import annotations

import socket

import pytest
from train_fake_service import TOKEN, FakeRewardService

from tracelift_backend.train.rewards import completion_text, make_reward_function, request_rewards
from tracelift_backend.train.service import RewardServiceClient, RewardServiceError


def client_of(service: FakeRewardService, **kwargs) -> RewardServiceClient:
    return RewardServiceClient(service.url, TOKEN, backoff_s=0.01, **kwargs)


def test_rewards_carry_the_token_and_none_stays_none():
    def reward(problem_id: str, completion: str) -> float | None:
        return None if completion == "no signal" else float(len(completion))

    with FakeRewardService(reward=reward) as service:
        rewards = request_rewards(client_of(service), 3, ["p1", "p1", "p2"], ["abc", "no signal", "de"])
    assert rewards == [3.0, None, 2.0]
    assert service.auth_headers == [f"Bearer {TOKEN}"]
    assert service.reward_requests == [
        {
            "step": 3,
            "items": [
                {"problem_id": "p1", "completion": "abc"},
                {"problem_id": "p1", "completion": "no signal"},
                {"problem_id": "p2", "completion": "de"},
            ],
        }
    ]


def test_a_wrong_token_is_refused_without_retry():
    with FakeRewardService() as service:
        client = RewardServiceClient(service.url, "wrong", backoff_s=0.01)
        with pytest.raises(RewardServiceError, match="HTTP 401"):
            request_rewards(client, 0, ["p"], ["x"])
    assert service.attempts == 1


def test_a_service_error_is_retried_then_raised():
    with FakeRewardService(fail_next=10, fail_status=500) as service:
        with pytest.raises(RewardServiceError, match=r"3 times; last: HTTP 500"):
            request_rewards(client_of(service, attempts=3), 0, ["p"], ["x"])
    assert service.attempts == 3 and service.reward_requests == []


def test_a_passing_failure_is_retried():
    with FakeRewardService(fail_next=2, fail_status=503) as service:
        assert request_rewards(client_of(service, attempts=3), 0, ["p"], ["abcdef"]) == [1.0]
    assert service.attempts == 3


def test_an_unreachable_service_is_retried_then_raised():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = RewardServiceClient(f"http://127.0.0.1:{port}", TOKEN, attempts=2, backoff_s=0.01)
    with pytest.raises(RewardServiceError, match="2 times; last: cannot connect"):
        request_rewards(client, 0, ["p"], ["x"])


@pytest.mark.parametrize("rewards", [[1.0], [1.0, 2.0, 3.0], [1.0, "2"], [1.0, float("nan")], [True, 1.0]])
def test_a_malformed_answer_is_an_error_not_rewards(rewards):
    service = FakeRewardService()
    service.handle = lambda path, auth, body: (200, {"rewards": rewards})  # type: ignore[method-assign]
    with service:
        with pytest.raises(RewardServiceError):
            request_rewards(client_of(service), 0, ["p", "q"], ["x", "y"])


def test_the_missing_environment_is_named():
    with pytest.raises(RewardServiceError, match="TRACELIFT_REWARD_TOKEN not set"):
        RewardServiceClient.from_env({"TRACELIFT_REWARD_URL": "http://127.0.0.1:1"})
    client = RewardServiceClient.from_env({"TRACELIFT_REWARD_URL": "http://h:1/", "TRACELIFT_REWARD_TOKEN": "t"})
    assert (client.base_url, client.token) == ("http://h:1", "t")


def test_the_trl_reward_function_posts_the_step_and_chat_completions():
    import asyncio
    from types import SimpleNamespace

    with FakeRewardService() as service:
        reward_fn = make_reward_function(client_of(service))
        completions = [[{"role": "assistant", "content": "<reasoning>add</reasoning>"}], [{"role": "assistant"}]]
        rewards = asyncio.run(
            reward_fn(
                prompts=[[], []],
                completions=completions,
                problem_id=["p", "p"],
                task=["gsm8k", "gsm8k"],
                trainer_state=SimpleNamespace(global_step=5),
                log_extra=None,
                log_metric=None,
            )
        )
    request = service.reward_requests[0]
    assert request["step"] == 5
    assert [i["completion"] for i in request["items"]] == ["<reasoning>add</reasoning>", ""]
    assert rewards == [(len("<reasoning>add</reasoning>") % 7) / 6, 0.0]
    assert completion_text("plain") == "plain"
