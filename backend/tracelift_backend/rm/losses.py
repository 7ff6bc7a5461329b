"""The RM's training losses (docs/official-protocol.md §2.4). A batch holds whole groups, one after
the other: ``group_sizes`` says how many candidates each has, and exactly one of each group's
candidates is the positive (``is_positive``).

    L = w_dim · L_dim + w_total · L_total + w_posneg · L_posneg + w_negneg · L_negneg
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .model import RewardOutput


@dataclass(frozen=True)
class LossWeights:
    dim: float = 1.0
    total: float = 0.5
    posneg: float = 0.7
    negneg: float = 0.0
    #: Negative pairs whose gold totals differ by less than this are not ranked.
    negneg_margin: float = 0.15
    huber_delta: float = 1.0


def dimension_loss(dimension_logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Sum over dimensions of the batch-mean cross-entropy ([B, D, 5] logits, [B, D] labels 0..4)."""
    return sum(F.cross_entropy(dimension_logits[:, d], labels[:, d]) for d in range(labels.shape[1]))


def total_loss(total_head: torch.Tensor, gold_total: torch.Tensor, delta: float = 1.0) -> torch.Tensor:
    """Huber between the total head's sigmoid and the gold total."""
    return F.huber_loss(total_head, gold_total, delta=delta)


def _groups(group_sizes: Sequence[int]) -> list[slice]:
    out, start = [], 0
    for size in group_sizes:
        out.append(slice(start, start + size))
        start += size
    return out


def posneg_loss(scores: torch.Tensor, is_positive: torch.Tensor, group_sizes: Sequence[int]) -> torch.Tensor:
    """Mean over groups of the group's mean −log σ(s_pos − s_neg)."""
    losses = []
    for g in _groups(group_sizes):
        s, pos = scores[g], is_positive[g]
        if int(pos.sum()) != 1:
            raise ValueError("each group must hold exactly one positive")
        if (~pos).any():
            losses.append(-F.logsigmoid(s[pos][0] - s[~pos]).mean())
    return torch.stack(losses).mean() if losses else scores.new_zeros(())


def negneg_loss(
    scores: torch.Tensor,
    gold_total: torch.Tensor,
    is_positive: torch.Tensor,
    group_sizes: Sequence[int],
    margin: float = 0.15,
) -> torch.Tensor:
    """Mean over the pairs of negatives of one group whose gold totals differ by at least ``margin`` of
    −log σ(s_better − s_worse)."""
    losses = []
    for g in _groups(group_sizes):
        s, gold = scores[g][~is_positive[g]], gold_total[g][~is_positive[g]]
        for i in range(len(s)):
            for j in range(i + 1, len(s)):
                gap = float(gold[i] - gold[j])
                if abs(gap) < margin:
                    continue
                better, worse = (i, j) if gap > 0 else (j, i)
                losses.append(-F.logsigmoid(s[better] - s[worse]))
    return torch.stack(losses).mean() if losses else scores.new_zeros(())


@dataclass
class LossParts:
    total: torch.Tensor
    dim: torch.Tensor
    total_head: torch.Tensor
    posneg: torch.Tensor
    negneg: torch.Tensor

    def floats(self) -> dict[str, float]:
        parts = (self.total, self.dim, self.total_head, self.posneg, self.negneg)
        names = ("loss", "loss_dim", "loss_total", "loss_posneg", "loss_negneg")
        return {name: float(part.detach()) for name, part in zip(names, parts, strict=True)}


def rm_loss(
    out: RewardOutput,
    labels: torch.Tensor,
    gold_total: torch.Tensor,
    is_positive: torch.Tensor,
    group_sizes: Sequence[int],
    weights: LossWeights,
) -> LossParts:
    dim = dimension_loss(out.dimension_logits, labels)
    tot = total_loss(out.total_head, gold_total, weights.huber_delta)
    pn = posneg_loss(out.score, is_positive, group_sizes)
    # Skipped when its weight is 0 (the default): O(negatives²) per group for nothing.
    nn_ = (
        negneg_loss(out.score, gold_total, is_positive, group_sizes, weights.negneg_margin)
        if weights.negneg
        else out.score.new_zeros(())
    )
    combined = weights.dim * dim + weights.total * tot + weights.posneg * pn + weights.negneg * nn_
    return LossParts(combined, dim, tot, pn, nn_)
