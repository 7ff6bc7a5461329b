"""TraceLift-Groups files as RM training data: records validated against the contract (file, line and
field named), the rubric domain, the dev split by hash, and one training item per group (a positive
and N negatives, sampled as the official collator does)."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import PreTrainedTokenizerBase

from ..contract import ContractError, validate
from .model import RUBRIC_DIMENSIONS, encode, render_reasoning_text

GROUPS_RECORD = "groups_record"


class GroupsError(ValueError):
    pass


@dataclass(frozen=True)
class Group:
    record: dict[str, Any]
    where: str  # file:line, for messages

    @property
    def problem_id(self) -> str:
        return str(self.record["problem_id"])


def read_groups(paths: Iterable[str | Path]) -> list[Group]:
    groups: list[Group] = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                where = f"{path}:{number}"
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as e:
                    raise GroupsError(f"{where}: not JSON ({e})") from None
                try:
                    validate(GROUPS_RECORD, record)
                except ContractError as e:
                    raise GroupsError(f"{where}: {e.field or '(record)'}: {e.reason}") from None
                groups.append(Group(record, where))
    return groups


def infer_task_name(groups: Sequence[Group]) -> str:
    """The domain whose dimension names the first rubric holds."""
    for group in groups:
        for candidate in [*group.record["positive_pool"], *group.record["negative_bank"]]:
            keys = set((candidate.get("rubric") or {}).keys())
            for name, dims in RUBRIC_DIMENSIONS.items():
                if keys.issuperset(dims):
                    return name
            raise GroupsError(
                f"{group.where}: the rubric keys {sorted(keys)} are neither the math nor the code dimensions; "
                "set task_name in the config"
            )
    raise GroupsError("no candidates with a rubric in the groups")


def check_rubrics(groups: Sequence[Group], dimensions: Sequence[str]) -> None:
    """Every candidate needs a label 0..4 for each dimension and a total in [0, 1]."""
    for group in groups:
        for pool in ("positive_pool", "negative_bank"):
            for i, candidate in enumerate(group.record[pool]):
                rubric = candidate.get("rubric")
                for key in [*dimensions, "total"]:
                    if not isinstance(rubric, Mapping) or not isinstance(rubric.get(key), int | float):
                        raise GroupsError(f"{group.where}: {pool}[{i}].rubric.{key}: a number is required")
                for key in dimensions:
                    if rubric[key] != int(rubric[key]):
                        raise GroupsError(f"{group.where}: {pool}[{i}].rubric.{key}: labels are integers 0..4")


def usable(groups: Sequence[Group]) -> tuple[list[Group], int]:
    """Groups with at least one positive and one negative, and how many were left out."""
    kept = [g for g in groups if g.record["positive_pool"] and g.record["negative_bank"]]
    return kept, len(groups) - len(kept)


def _hash_unit(seed: int, problem_id: str) -> float:
    digest = hashlib.sha256(f"{seed}:{problem_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def dev_split(groups: Sequence[Group], fraction: float, seed: int) -> tuple[list[Group], list[Group]]:
    """(train, dev): a group is dev when the hash of (seed, problem_id) falls under ``fraction``, so a
    problem stays on its side whatever else the files hold. With a fraction above 0 and at least two
    groups, dev holds at least the lowest-hash group (a tiny file still gets an eval)."""
    if fraction <= 0:
        return list(groups), []
    ranked = sorted(groups, key=lambda g: _hash_unit(seed, g.problem_id))
    dev_ids = {g.problem_id for g in ranked if _hash_unit(seed, g.problem_id) < fraction}
    if not dev_ids and len(ranked) >= 2:
        dev_ids = {ranked[0].problem_id}
    train = [g for g in groups if g.problem_id not in dev_ids]
    if not train:
        raise GroupsError(f"dev_fraction {fraction} leaves no group to train on")
    return train, [g for g in groups if g.problem_id in dev_ids]


@dataclass(frozen=True)
class Candidate:
    text: str
    labels: tuple[int, ...]
    gold_total: float
    positive: bool
    kind: str | None


def candidate(group: Group, trace: Mapping[str, Any], task_name: str, dims: Sequence[str], positive: bool) -> Candidate:
    rubric = trace["rubric"]
    return Candidate(
        text=render_reasoning_text(group.record, trace, task_name),
        labels=tuple(int(rubric[d]) for d in dims),
        gold_total=float(rubric["total"]),
        positive=positive,
        kind=None if positive else str(trace.get("negative_kind", "unknown")),
    )


def sample_item(
    group: Group, rng: random.Random, negatives: int, task_name: str, dims: Sequence[str]
) -> list[Candidate]:
    """One positive from the pool and ``negatives`` from the bank (with replacement when it is smaller)."""
    bank = group.record["negative_bank"]
    negs = rng.sample(bank, negatives) if len(bank) >= negatives else [rng.choice(bank) for _ in range(negatives)]
    pos = rng.choice(group.record["positive_pool"])
    return [candidate(group, pos, task_name, dims, True)] + [candidate(group, n, task_name, dims, False) for n in negs]


def eval_item(group: Group, task_name: str, dims: Sequence[str]) -> list[Candidate]:
    """Deterministic for eval: the first positive against every negative of the bank."""
    pos = group.record["positive_pool"][0]
    negs = group.record["negative_bank"]
    return [candidate(group, pos, task_name, dims, True)] + [candidate(group, n, task_name, dims, False) for n in negs]


@dataclass
class Batch:
    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    labels: torch.Tensor
    gold_total: torch.Tensor
    is_positive: torch.Tensor
    group_sizes: list[int]


def collate(items: Sequence[Sequence[Candidate]], tokenizer: PreTrainedTokenizerBase, max_length: int) -> Batch:
    flat = [c for item in items for c in item]
    enc = encode(tokenizer, [c.text for c in flat], [max_length] * len(flat))
    return Batch(
        input_ids=enc["input_ids"],
        attention_mask=enc["attention_mask"],
        labels=torch.tensor([c.labels for c in flat], dtype=torch.long),
        gold_total=torch.tensor([c.gold_total for c in flat], dtype=torch.float32),
        is_positive=torch.tensor([c.positive for c in flat], dtype=torch.bool),
        group_sizes=[len(item) for item in items],
    )
