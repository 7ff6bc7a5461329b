"""The Reason RM scoring server, in the official protocol (docs/official-protocol.md §2.1):

    POST /score  {"items": [{"problem", "reasoning", "task_name"?, "task_type"?}], "max_length"?, "batch_size"?}
              →  {"scores": [s, …], "dimensions": [{name: expected label 0..4, …}, …], "task_name": "…"}
    GET  /health → {"ok": true, "task_name", "dimensions", "queued", "max_batch", "max_queue"}

Every item goes into one queue; a worker takes up to ``max_batch`` items (waiting at most
``max_wait_ms`` for more after the first) and scores them in one forward pass on a thread, so clients
that send one item per request (the official trainers do) are batched together. ``max_length`` cuts
each item's tokens (capped by the server); the request's ``batch_size`` is accepted for compatibility,
the server's batch is its own. More than ``max_queue`` items waiting: 503 with Retry-After. A
malformed body: 400 naming the field. With a token (``--token-env``), /score needs
``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import os
import sys
from collections.abc import Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from ..parent_guard import guard_from_env
from .model import ItemScore, ScoreItem

#: The environment variable the bearer token is read from (never from argv: other users see argv).
TOKEN_ENV = "TRACELIFT_RM_TOKEN"
MAX_ITEMS_PER_REQUEST = 4096
MAX_BODY_BYTES = 64 * 1024 * 1024

ScoreBatch = Callable[[Sequence[ScoreItem]], list[ItemScore]]


class QueueFullError(Exception):
    pass


class _Unauthorized(Exception):
    pass


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    problem: StrictStr
    reasoning: StrictStr
    task_name: StrictStr | None = None
    task_type: StrictStr | None = None


class ScoreRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    items: list[ItemIn] = Field(max_length=MAX_ITEMS_PER_REQUEST)
    max_length: StrictInt | None = Field(default=None, ge=1)
    batch_size: StrictInt | None = Field(default=None, ge=1)


@dataclass
class _Pending:
    item: ScoreItem
    future: asyncio.Future[ItemScore]


class MicroBatcher:
    """Items from any number of requests, scored ``max_batch`` at a time on a worker thread."""

    def __init__(self, score_batch: ScoreBatch, max_batch: int, max_wait_s: float, max_queue: int) -> None:
        self.score_batch = score_batch
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.max_queue = max_queue
        self.queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None

    @property
    def waiting(self) -> int:
        return self.queue.qsize()

    def start(self) -> None:
        self._worker = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)

    async def submit(self, items: Sequence[ScoreItem]) -> list[ItemScore]:
        # Whole requests are refused: half a request scored is no use to the client.
        if self.waiting + len(items) > self.max_queue:
            raise QueueFullError(
                f"RM server busy: {self.waiting} items already waiting, room for {self.max_queue}; retry later"
            )
        loop = asyncio.get_running_loop()
        pending = [_Pending(item, loop.create_future()) for item in items]
        for p in pending:
            self.queue.put_nowait(p)
        return list(await asyncio.gather(*(p.future for p in pending)))

    async def _take_batch(self) -> list[_Pending]:
        batch = [await self.queue.get()]
        deadline = asyncio.get_running_loop().time() + self.max_wait_s
        while len(batch) < self.max_batch:
            if not self.queue.empty():
                batch.append(self.queue.get_nowait())
                continue
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self.queue.get(), left))
            except TimeoutError:
                break
        return batch

    async def _run(self) -> None:
        while True:
            batch = await self._take_batch()
            try:
                # A client that went away leaves its items cancelled: not scored.
                live = [p for p in batch if not p.future.done()]
                results = await asyncio.to_thread(self.score_batch, [p.item for p in live]) if live else []
                if len(results) != len(live):
                    raise RuntimeError(f"the model gave {len(results)} scores for {len(live)} items")
                for p, result in zip(live, results, strict=True):
                    if not p.future.done():
                        p.future.set_result(result)
            except Exception as error:  # noqa: BLE001 — every waiting request gets the error
                for p in batch:
                    if not p.future.done():
                        p.future.set_exception(error)


@dataclass(frozen=True)
class ServerSettings:
    task_name: str
    dimensions: tuple[str, ...]
    #: Token budget when a request gives no max_length, and the most a request may ask for.
    default_max_length: int
    max_length_cap: int
    max_batch: int = 16
    max_wait_ms: float = 5.0
    max_queue: int = 1024
    token: str | None = None


def _field_path(loc: Sequence[Any]) -> str:
    parts = [p for p in loc if p != "body"]
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(body)"


def create_app(score_batch: ScoreBatch, settings: ServerSettings) -> FastAPI:
    batcher = MicroBatcher(score_batch, settings.max_batch, settings.max_wait_ms / 1000.0, settings.max_queue)

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        batcher.start()
        try:
            yield
        finally:
            await batcher.stop()

    app = FastAPI(title="TraceLift Reason RM", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.batcher = batcher

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {"loc": (), "msg": "invalid request"}
        field = _field_path(first.get("loc", ()))
        if first.get("type") == "json_invalid":
            message = f"the body is not valid JSON ({first.get('ctx', {}).get('error', 'parse error')})"
        else:
            message = f"field {field}: {first.get('msg', 'invalid')}"
        return JSONResponse({"error": message, "field": field}, status_code=400)

    @app.middleware("http")
    async def body_limit(request: Request, call_next: Any) -> Any:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
            return JSONResponse({"error": f"body larger than {MAX_BODY_BYTES} bytes"}, status_code=413)
        return await call_next(request)

    def authorize(request: Request) -> None:
        if settings.token is None:
            return
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {settings.token}".encode()):
            raise _Unauthorized()

    @app.exception_handler(_Unauthorized)
    async def unauthorized(_: Request, __: _Unauthorized) -> JSONResponse:
        return JSONResponse(
            {"error": "missing or wrong bearer token"}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
        )

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {
            "ok": True,
            "task_name": settings.task_name,
            "dimensions": list(settings.dimensions),
            "queued": batcher.waiting,
            "max_batch": settings.max_batch,
            "max_queue": settings.max_queue,
        }

    @app.post("/score", dependencies=[Depends(authorize)])
    async def score(body: ScoreRequest) -> JSONResponse:
        max_length = min(body.max_length or settings.default_max_length, settings.max_length_cap)
        items = [
            ScoreItem(it.problem, it.reasoning, it.task_name or settings.task_name, it.task_type, max_length)
            for it in body.items
        ]
        try:
            results = await batcher.submit(items)
        except QueueFullError as error:
            return JSONResponse({"error": str(error)}, status_code=503, headers={"Retry-After": "1"})
        except Exception as error:  # noqa: BLE001 — the model failed: say so, never invent a score
            return JSONResponse({"error": f"scoring failed: {type(error).__name__}: {error}"}, status_code=500)
        return JSONResponse(
            {
                "scores": [r.score for r in results],
                "dimensions": [r.dimensions for r in results],
                "task_name": settings.task_name,
            }
        )

    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tracelift_backend.rm.serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, type=Path, help="a Reason RM directory (rm_config.json)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1…")
    parser.add_argument("--batch-size", type=int, default=16, help="items per forward pass")
    parser.add_argument("--max-wait-ms", type=float, default=5.0, help="wait for more items after the first")
    parser.add_argument("--max-queue", type=int, default=1024, help="items waiting before requests get 503")
    parser.add_argument("--max-length", type=int, default=None, help="token cap per item (default: the model's)")
    parser.add_argument(
        "--token-env", default=TOKEN_ENV, help=f"variable holding the bearer token (default {TOKEN_ENV})"
    )
    ns = parser.parse_args(argv)
    guard_from_env()  # started by the engine: end with it, even after a kill -9
    if min(ns.batch_size, ns.max_queue) < 1 or ns.max_wait_ms < 0:
        parser.error("--batch-size and --max-queue must be at least 1, --max-wait-ms at least 0")
    # Imported here: torch and transformers take seconds; --help does not need them.
    import uvicorn

    from .model import load_reward_model, score_items

    model, tokenizer = load_reward_model(ns.model, device=ns.device)
    spec = model.spec
    positions = getattr(getattr(model.backbone, "config", None), "max_position_embeddings", None)
    cap = ns.max_length or (positions if isinstance(positions, int) else spec.max_length)
    settings = ServerSettings(
        task_name=spec.task_name,
        dimensions=spec.dimensions,
        default_max_length=min(spec.max_length, cap),
        max_length_cap=cap,
        max_batch=ns.batch_size,
        max_wait_ms=ns.max_wait_ms,
        max_queue=ns.max_queue,
        token=os.environ.get(ns.token_env) or None,
    )
    app = create_app(lambda items: score_items(model, tokenizer, items), settings)
    print(
        f"[rm] {spec.task_name} RM from {ns.model} on {model.device}; "
        f"POST http://{ns.host}:{ns.port}/score{' (token required)' if settings.token else ''}",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(app, host=ns.host, port=ns.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
