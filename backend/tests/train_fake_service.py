"""A small stand-in for the engine's reward service (src/engine/train/rewardService.ts) for the
trainer's tests: the same HTTP API and bearer token, rewards computed from the completion text,
and every request recorded."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "0123456789abcdef" * 4


def length_reward(problem_id: str, completion: str) -> float | None:
    """Deterministic, varied within a group: a GRPO step with it has non-zero advantages."""
    return (len(completion) % 7) / 6


@dataclass
class FakeRewardService:
    reward: Callable[[str, str], float | None] = length_reward
    #: Answer the next this-many requests with this HTTP status instead (0: none).
    fail_next: int = 0
    fail_status: int = 500
    #: From the first rewards request of this step on, every request fails with fail_status (None: never).
    fail_from_step: int | None = None
    reward_requests: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    auth_headers: list[str | None] = field(default_factory=list)
    attempts: int = 0

    def __post_init__(self) -> None:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 — http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status, answer = service.handle(self.path, self.headers.get("Authorization"), body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def handle(self, path: str, auth: str | None, body: Any) -> tuple[int, Any]:
        self.attempts += 1
        self.auth_headers.append(auth)
        if auth != f"Bearer {TOKEN}":
            return 401, {"error": "unauthorised"}
        if path == "/v1/rewards" and self.fail_from_step is not None and body["step"] >= self.fail_from_step:
            self.fail_next = 10**9
        if self.fail_next > 0:
            self.fail_next -= 1
            return self.fail_status, {"error": "scoring failed"}
        if path == "/v1/rewards":
            self.reward_requests.append(body)
            rewards = [self.reward(item["problem_id"], item["completion"]) for item in body["items"]]
            return 200, {"rewards": rewards, "traces": [i["completion"] for i in body["items"]], "details": []}
        if path == "/v1/events":
            self.events.append(body)
            return 200, {"ok": True}
        return 404, {"error": path}

    def events_of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]

    def __enter__(self) -> FakeRewardService:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
