"""Dev metrics of an RM (the official eval's, plus per negative kind): the score against the gold total
(MAE, RMSE), the positive above each negative (pair accuracy, overall and per ``negative_kind``) and
above all of them (group accuracy). A tie counts as wrong, as in the official eval."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ScoredCandidate:
    score: float
    gold_total: float
    positive: bool
    kind: str | None


def dev_metrics(groups: Sequence[Sequence[ScoredCandidate]], prefix: str = "dev_") -> dict[str, float]:
    errors: list[float] = []
    pairs: list[bool] = []
    by_kind: dict[str, list[bool]] = defaultdict(list)
    group_hits: list[bool] = []
    for group in groups:
        errors.extend(c.score - c.gold_total for c in group)
        pos = [c for c in group if c.positive]
        negs = [c for c in group if not c.positive]
        if len(pos) != 1 or not negs:
            continue
        for n in negs:
            hit = pos[0].score > n.score
            pairs.append(hit)
            by_kind[n.kind or "unknown"].append(hit)
        group_hits.append(pos[0].score > max(n.score for n in negs))
    out: dict[str, float] = {f"{prefix}groups": float(len(groups))}
    if errors:
        out[f"{prefix}total_mae"] = sum(abs(e) for e in errors) / len(errors)
        out[f"{prefix}total_rmse"] = math.sqrt(sum(e * e for e in errors) / len(errors))
    if pairs:
        out[f"{prefix}pair_accuracy"] = sum(pairs) / len(pairs)
        out[f"{prefix}group_accuracy"] = sum(group_hits) / len(group_hits)
    for kind, hits in sorted(by_kind.items()):
        out[f"{prefix}pair_accuracy/{kind}"] = sum(hits) / len(hits)
        out[f"{prefix}pairs/{kind}"] = float(len(hits))
    return out
