"""The Reason RM model: the official text rendering, the score formula and losses on hand-computed
values, a forward pass on a tiny random backbone, and save/load giving the same scores."""

from __future__ import annotations

import math

import pytest
import torch
from rm_tiny import save_tiny_base

from tracelift_backend.rm.losses import (
    LossWeights,
    dimension_loss,
    negneg_loss,
    posneg_loss,
    rm_loss,
    total_loss,
)
from tracelift_backend.rm.model import (
    RUBRIC_DIMENSIONS,
    RmSpec,
    ScoreItem,
    build_reward_model,
    last_token_states,
    load_reward_model,
    render_reasoning_text,
    rm_score,
    save_reward_model,
    score_items,
)

LORA = {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": "all-linear"}


def test_render_matches_the_official_format():
    group = {"problem": "  Add 2 and 3.\n", "task_type": "math", "source": "gsm8k"}
    text = render_reasoning_text(group, {"reasoning": "\n2 + 3 = 5 "}, "math")
    assert text == (
        "<task>math</task>\n<type>math</type>\n<problem>\nAdd 2 and 3.\n</problem>\n"
        "<reasoning>\n2 + 3 = 5\n</reasoning>"
    )


def test_render_type_fallbacks_and_tests_block():
    code = {"problem": "Sum a list.", "metadata": {"task_type": "algorithm"}, "tests": " assert f([1]) == 1 "}
    assert render_reasoning_text(code, {"reasoning": "loop"}, "code") == (
        "<task>code</task>\n<type>algorithm</type>\n<problem>\nSum a list.\n</problem>\n"
        "<tests>\nassert f([1]) == 1\n</tests>\n<reasoning>\nloop\n</reasoning>"
    )
    # No task_type anywhere: the source, else "unknown"; a task_type of "" is kept (only None falls back).
    assert "<type>codeforces</type>" in render_reasoning_text({"problem": "p", "source": "codeforces"}, {}, "code")
    assert "<type>unknown</type>" in render_reasoning_text({"problem": "p"}, {"reasoning": "r"}, "code")
    assert "<type></type>" in render_reasoning_text({"problem": "p", "task_type": "", "source": "s"}, {}, "code")


def test_score_formula_by_hand():
    # dim 0: uniform → E = 2; dim 1: all mass on label 4 → E = 4; derived = (2 + 4) / 2 / 4 = 0.75.
    logits = torch.tensor([[[0.0] * 5, [-50.0, -50.0, -50.0, -50.0, 50.0]]])
    out = rm_score(logits, torch.tensor([0.0]))
    assert out.expected[0].tolist() == pytest.approx([2.0, 4.0])
    assert out.derived.item() == pytest.approx(0.75)
    assert out.total_head.item() == pytest.approx(0.5)
    assert out.score.item() == pytest.approx(0.625)
    out = rm_score(logits, torch.tensor([math.log(3.0)]))  # sigmoid = 0.75
    assert out.score.item() == pytest.approx(0.75)


def test_last_token_pooling_reads_the_last_real_token():
    hidden = torch.arange(2 * 4 * 1, dtype=torch.float32).view(2, 4, 1)
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 1, 1]])
    assert last_token_states(hidden, mask).view(-1).tolist() == [2.0, 7.0]


def test_dimension_loss_is_a_sum_over_dimensions():
    logits = torch.zeros(1, 2, 5)
    assert dimension_loss(logits, torch.tensor([[0, 3]])).item() == pytest.approx(2 * math.log(5))


def test_total_loss_huber():
    assert total_loss(torch.tensor([0.8, 0.5]), torch.tensor([0.2, 0.5])).item() == pytest.approx(0.09)
    assert total_loss(torch.tensor([3.0]), torch.tensor([0.0]), delta=1.0).item() == pytest.approx(2.5)


def test_posneg_loss_mean_per_group_then_over_groups():
    scores = torch.tensor([0.9, 0.4, 0.9, 0.2, 0.7])
    pos = torch.tensor([True, False, False, False, True])
    g1 = (math.log1p(math.exp(-0.5)) + math.log(2)) / 2
    g2 = math.log1p(math.exp(-0.5))
    assert posneg_loss(scores, pos, [3, 2]).item() == pytest.approx((g1 + g2) / 2)
    with pytest.raises(ValueError, match="exactly one positive"):
        posneg_loss(scores, torch.tensor([True, True, False, False, True]), [3, 2])


def test_negneg_loss_only_pairs_past_the_margin():
    scores = torch.tensor([0.9, 0.3, 0.6, 0.1])
    gold = torch.tensor([1.0, 0.5, 0.2, 0.45])
    pos = torch.tensor([True, False, False, False])
    # (a, b): gap 0.3 → a better: −log σ(0.3 − 0.6); (a, c): gap 0.05 skipped; (b, c): c better: −log σ(0.1 − 0.6).
    expected = (math.log1p(math.exp(0.3)) + math.log1p(math.exp(0.5))) / 2
    assert negneg_loss(scores, gold, pos, [4], margin=0.15).item() == pytest.approx(expected)
    assert negneg_loss(scores, gold, pos, [4], margin=0.5).item() == 0.0


def test_combined_loss_weights():
    logits = torch.zeros(2, 5, 5)
    out = rm_score(logits, torch.zeros(2))  # score 0.5 each; total head 0.5
    labels = torch.zeros(2, 5, dtype=torch.long)
    gold = torch.tensor([1.0, 0.0])
    parts = rm_loss(out, labels, gold, torch.tensor([True, False]), [2], LossWeights())
    assert parts.dim.item() == pytest.approx(5 * math.log(5))
    assert parts.total_head.item() == pytest.approx(0.125)
    assert parts.posneg.item() == pytest.approx(math.log(2))
    assert parts.total.item() == pytest.approx(5 * math.log(5) + 0.5 * 0.125 + 0.7 * math.log(2))


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory):
    return save_tiny_base(tmp_path_factory.mktemp("tiny-base"))


@pytest.mark.parametrize("lora", [LORA, None], ids=["lora", "full"])
def test_forward_scores_in_range_and_reload_identical(tiny_base, tmp_path, lora):
    spec = RmSpec(str(tiny_base), None, "code", RUBRIC_DIMENSIONS["code"], lora is not None, max_length=64)
    model, tokenizer = build_reward_model(spec, lora)
    torch.manual_seed(1)
    with torch.no_grad():  # as training would: move what is trained (heads, LoRA B is zero at start)
        for p in model.parameters():
            if p.requires_grad:
                p.add_(0.05 * torch.randn_like(p))
    model.eval()
    items = [
        ScoreItem("Sum a list.", "Loop and add.", "code", None, 64),
        ScoreItem("x" * 500, "y", "code", "algorithm", 16),  # cut to 16 tokens
        ScoreItem("p", "", "code", None, 64),
    ]
    first = score_items(model, tokenizer, items)
    assert len(first) == 3
    for s in first:
        assert 0.0 <= s.score <= 1.0
        assert list(s.dimensions) == list(RUBRIC_DIMENSIONS["code"])
        assert all(0.0 <= v <= 4.0 for v in s.dimensions.values())
    # Batched and alone agree (padding does not leak into the pooled state).
    alone = score_items(model, tokenizer, items[2:])
    assert alone[0].score == pytest.approx(first[2].score, abs=1e-5)
    save_reward_model(model, tokenizer, tmp_path / "rm")
    loaded, tok2 = load_reward_model(tmp_path / "rm", device="cpu")
    again = score_items(loaded, tok2, items)
    assert [s.score for s in again] == pytest.approx([s.score for s in first], abs=1e-5)
