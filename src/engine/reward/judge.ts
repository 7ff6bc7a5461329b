/**
 * LLM-as-judge score of a trace, through the same executor client (any
 * OpenAI-compatible endpoint) with the versioned rubric prompt. The paper
 * found such scores saturated (573/600 above 0.95); the mode exists as the
 * ablation it reports.
 */
import type { Sampling } from '../contract';
import type { ExecutorClient } from '../executor/client';
import { judgeMessages, type PromptSet } from '../prompts/templates';
import type { TruncationLimits } from '../prompts/truncate';

/** Reads "Score: 7", "7/10", "rubric_score": 7 … and normalises a 0–10 score to [0,1]. */
export function parseJudgeScore(text: string): number | null {
  const patterns = [
    /"(?:rubric_score|total_score|score)"\s*:\s*(-?\d+(?:\.\d+)?)/i,
    /score\s*[:=]?\s*(-?\d+(?:\.\d+)?)/i,
    /(-?\d+(?:\.\d+)?)\s*\/\s*10\b/,
    /^\s*(-?\d+(?:\.\d+)?)\s*$/,
  ];
  for (const re of patterns) {
    const m = re.exec(text);
    if (m) {
      const value = Number(m[1]);
      if (Number.isFinite(value)) return Math.min(1, Math.max(0, value / 10));
    }
  }
  return null;
}

export class LlmJudge {
  constructor(
    private readonly client: ExecutorClient,
    private readonly prompts: PromptSet,
    private readonly sampling: Sampling,
  ) {}

  /**
   * Score in [0,1], or an error message when the call failed or the reply had
   * no score. Problem and trace are cut to `truncation` (the protocol's
   * budgets) first, so a 5 MB trace never reaches the judge whole.
   */
  async score(
    problem: string,
    trace: string,
    truncation: TruncationLimits | null = null,
  ): Promise<{ score: number | null; error: string | null }> {
    const [gen] = await this.client.sample(judgeMessages(this.prompts, problem, trace, { truncation }), this.sampling, 1);
    if (!gen || gen.error !== null || gen.text === null) return { score: null, error: `judge call failed: ${gen?.error ?? 'no output'}` };
    const score = parseJudgeScore(gen.text);
    return score === null ? { score: null, error: `judge reply had no score: ${gen.text.slice(0, 200)}` } : { score, error: null };
  }
}
