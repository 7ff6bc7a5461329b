"""The Reason RM server over real HTTP (uvicorn on a loopback port): the official protocol, batching
across concurrent one-item requests, the bounded queue's 503, 400s that name the field, the token,
and the tiny real RM behind it."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
import uvicorn
from rm_tiny import save_tiny_base

from tracelift_backend.rm.model import (
    RUBRIC_DIMENSIONS,
    ItemScore,
    RmSpec,
    ScoreItem,
    build_reward_model,
    score_items,
)
from tracelift_backend.rm.serve import ServerSettings, create_app

DIMS = RUBRIC_DIMENSIONS["math"]


def settings(**kw) -> ServerSettings:
    base = dict(task_name="math", dimensions=DIMS, default_max_length=64, max_length_cap=128, max_wait_ms=50)
    return ServerSettings(**{**base, **kw})


@contextmanager
def serving(score_batch, s: ServerSettings) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(score_batch, s), host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def post(url: str, body, token: str | None = None, raw: bytes | None = None) -> tuple[int, dict]:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    data = raw if raw is not None else json.dumps(body).encode()
    request = urllib.request.Request(url + "/score", data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as res:
            return res.status, json.loads(res.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def item(i: int = 0, **kw) -> dict:
    return {"problem": f"problem {i}", "reasoning": f"step {i}", **kw}


class Recorder:
    """A scorer that records each batch; score = the item's max_length / 1000 so truncation is visible."""

    def __init__(self, first_delay: float = 0.0, block: threading.Event | None = None) -> None:
        self.batches: list[list[ScoreItem]] = []
        self.first_delay = first_delay
        self.block = block
        self.entered = threading.Event()

    def __call__(self, items: Sequence[ScoreItem]) -> list[ItemScore]:
        self.batches.append(list(items))
        self.entered.set()
        if self.block is not None:
            self.block.wait(20)
        if len(self.batches) == 1 and self.first_delay:
            time.sleep(self.first_delay)
        return [ItemScore(it.max_length / 1000, dict.fromkeys(DIMS, 2.0)) for it in items]


def test_protocol_round_trip_defaults_and_caps():
    rec = Recorder()
    with serving(rec, settings()) as url:
        status, body = post(url, {"items": [item(0), item(1, task_name="code", task_type="algo")]})
        assert status == 200
        assert body["scores"] == [0.064, 0.064]  # default max_length
        assert body["dimensions"] == [dict.fromkeys(DIMS, 2.0)] * 2
        first, second = rec.batches[0]
        assert (first.task_name, first.task_type) == ("math", None)  # the model's task name by default
        assert (second.task_name, second.task_type) == ("code", "algo")
        status, body = post(url, {"items": [item()], "max_length": 100000, "batch_size": 1})
        assert status == 200 and body["scores"] == [0.128]  # capped by the server
        status, body = post(url, {"items": [], "max_length": 16})
        assert (status, body["scores"]) == (200, [])
        with urllib.request.urlopen(url + "/health", timeout=10) as res:
            health = json.loads(res.read())
        assert health["ok"] is True and health["dimensions"] == list(DIMS)


def test_concurrent_one_item_requests_are_batched():
    rec = Recorder(first_delay=0.5)
    with serving(rec, settings(max_batch=8, max_wait_ms=20)) as url:
        with ThreadPoolExecutor(8) as pool:
            first = pool.submit(post, url, {"items": [item(99)]})
            assert rec.entered.wait(10)
            # While the first batch is on the model, six clients send one item each.
            rest = [pool.submit(post, url, {"items": [item(i)], "batch_size": 1}) for i in range(6)]
            answers = [f.result() for f in [first, *rest]]
    assert all(status == 200 and len(body["scores"]) == 1 for status, body in answers)
    assert [len(b) for b in rec.batches] == [1, 6]
    assert sorted(it.problem for it in rec.batches[1]) == [f"problem {i}" for i in range(6)]


def test_full_queue_answers_503_and_the_rest_are_served():
    release = threading.Event()
    rec = Recorder(block=release)
    with serving(rec, settings(max_batch=1, max_queue=2, max_wait_ms=0)) as url:
        with ThreadPoolExecutor(4) as pool:
            first = pool.submit(post, url, {"items": [item(0)]})
            assert rec.entered.wait(10)  # the worker holds item 0; the queue is empty
            second = pool.submit(post, url, {"items": [item(1), item(2)]})  # fills the queue
            time.sleep(0.3)
            status, body = post(url, {"items": [item(3)]})
            assert status == 503
            assert "busy" in body["error"] and "2 items already waiting" in body["error"]
            release.set()
            assert first.result()[0] == 200 and second.result()[0] == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"items": [{"reasoning": "r"}]}, "items[0].problem"),
        ({"items": [{"problem": "p", "reasoning": 3}]}, "items[0].reasoning"),
        ({"items": [item()], "max_length": 0}, "max_length"),
        ({"items": [item()], "batch_size": "2"}, "batch_size"),
        ({"items": "nope"}, "items"),
        ({}, "items"),
    ],
)
def test_malformed_bodies_are_400_naming_the_field(body, field):
    with serving(Recorder(), settings()) as url:
        status, answer = post(url, body)
    assert status == 400
    assert answer["field"] == field and f"field {field}:" in answer["error"]


def test_invalid_json_is_400():
    with serving(Recorder(), settings()) as url:
        status, answer = post(url, None, raw=b'{"items": [')
    assert status == 400 and "not valid JSON" in answer["error"]


def test_bearer_token():
    rec = Recorder()
    with serving(rec, settings(token="s3cret")) as url:
        assert post(url, {"items": [item()]})[0] == 401
        assert post(url, {"items": [item()]}, token="wrong")[0] == 401
        assert post(url, {"items": [item()]}, token="s3cret")[0] == 200
    assert len(rec.batches) == 1


def test_a_failing_model_is_a_500_not_a_score():
    def broken(items):
        raise RuntimeError("CUDA out of memory")

    with serving(broken, settings()) as url:
        status, body = post(url, {"items": [item()]})
    assert status == 500 and "CUDA out of memory" in body["error"]


def test_the_real_tiny_rm_behind_the_server(tmp_path):
    base = save_tiny_base(tmp_path / "base")
    spec = RmSpec(str(base), None, "math", DIMS, lora=False, max_length=64)
    model, tokenizer = build_reward_model(spec, None)
    model.eval()
    seen: list[int] = []

    def scorer(items):
        seen.append(len(items))
        time.sleep(0.3 if len(seen) == 1 else 0)
        return score_items(model, tokenizer, items)

    items = [item(i) for i in range(5)]
    direct = [
        s.score
        for s in score_items(
            model, tokenizer, [ScoreItem(**it, task_name="math", task_type=None, max_length=64) for it in items]
        )
    ]
    with serving(scorer, settings(max_batch=8)) as url:
        with ThreadPoolExecutor(6) as pool:
            lead = pool.submit(post, url, {"items": [item(9)]})
            time.sleep(0.1)
            answers = [pool.submit(post, url, {"items": [it]}) for it in items]
            got = [f.result()[1]["scores"][0] for f in answers]
            assert lead.result()[0] == 200
    assert got == pytest.approx(direct, abs=1e-5)
    assert all(0 <= s <= 1 for s in got)
    assert max(seen) > 1, f"batches seen: {seen}"
