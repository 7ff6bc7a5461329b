"""HTTP client of the engine's reward service (src/engine/train/rewardService.ts).

Requests carry the run's bearer token. A request that never reached the service (connection
refused or reset while connecting) or got a 5xx answer is tried again a bounded number of times;
anything else that goes wrong raises ``RewardServiceError``: a failed service must stop training,
never turn into rewards.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

URL_ENV = "TRACELIFT_REWARD_URL"
TOKEN_ENV = "TRACELIFT_REWARD_TOKEN"


class RewardServiceError(RuntimeError):
    """The reward service could not be reached or refused a request."""


@dataclass(frozen=True)
class RewardServiceClient:
    base_url: str
    token: str
    #: Tries of one request in all (the first and the retries).
    attempts: int = 6
    #: Seconds before the first retry; doubled each time (0.5+1+2+4+8 s over 6 attempts).
    backoff_s: float = 0.5
    #: Seconds to wait for an answer: scoring a batch runs K executor calls per trace (minutes on a CPU executor).
    timeout_s: float = 3600.0

    @classmethod
    def from_env(cls, env: os._Environ[str] | dict[str, str] | None = None) -> RewardServiceClient:
        env = os.environ if env is None else env
        url, token = env.get(URL_ENV), env.get(TOKEN_ENV)
        if not url or not token:
            missing = " and ".join(name for name, value in ((URL_ENV, url), (TOKEN_ENV, token)) if not value)
            raise RewardServiceError(
                f"{missing} not set: the trainer is started by `tracelift train`, which runs the reward service"
            )
        return cls(base_url=url.rstrip("/"), token=token)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``body`` as JSON to ``path``; the JSON answer (an object)."""
        data = json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")
        url = self.base_url + path
        last_failure = ""
        for attempt in range(self.attempts):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            request = urllib.request.Request(
                url,
                data=data,
                method="POST",
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"},
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    answer = json.loads(response.read())
            except urllib.error.HTTPError as e:
                detail = _error_text(e)
                if e.code >= 500:
                    last_failure = f"HTTP {e.code}: {detail}"
                    continue
                raise RewardServiceError(f"reward service refused POST {path}: HTTP {e.code}: {detail}") from None
            except urllib.error.URLError as e:
                # urllib wraps in URLError only what fails before the request is sent (connecting,
                # sending): retried. A failure while waiting for the answer is not (below): the
                # service may have scored the batch already.
                last_failure = f"cannot connect ({e.reason})"
                continue
            except (ConnectionError, TimeoutError) as e:
                raise RewardServiceError(f"reward service POST {path} failed: {e!r}") from None
            except json.JSONDecodeError as e:
                raise RewardServiceError(f"reward service POST {path}: answer is not JSON ({e})") from None
            if not isinstance(answer, dict):
                raise RewardServiceError(f"reward service POST {path}: answer is not a JSON object")
            return answer
        raise RewardServiceError(
            f"reward service at {self.base_url} failed POST {path} {self.attempts} times; last: {last_failure}"
        )


def _error_text(error: urllib.error.HTTPError) -> str:
    try:
        text = error.read().decode("utf-8", "replace")
    except OSError:
        text = ""
    return text[:500] or (error.reason or "")
