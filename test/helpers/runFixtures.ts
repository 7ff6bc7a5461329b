/** Small, valid run records for tests of readers (explorer, annotations). */
import { RolloutGroupSchema, type RolloutGroup } from '../../src/engine/contract';

/** A success tally as the scorer writes it (no failed calls). */
export const tally = (successes: number, valid: number) => ({
  successes,
  valid,
  requested: valid,
  failed: 0,
  rate: valid ? successes / valid : null,
});

/** A rollout group of one problem: a reference trace (uplift +1/3) and a perturbed one (uplift −1/3). */
export function rolloutGroup(problemId: string, groupIndex = 0): RolloutGroup {
  const sample = (id: string, source: string, label: string | null, k: number, uplift: number) => ({
    sample_id: `${problemId}#${id}`,
    source,
    label,
    rubric_total: source === 'negative' ? 0.35 : 1,
    trace: `trace ${id} <b>bold</b>`,
    with_trace: { tally: tally(k, 3), attempts: [] },
    uplift,
    e2e: k > 0 ? 1 : 0,
    reward: { mode: 'exec_only', value: k > 0 ? 1 : 0, components: { e2e: k > 0 ? 1 : 0 }, formula: 'e2e' },
    errors: [],
  });
  return RolloutGroupSchema.parse({
    time: '2026-01-01T00:00:00.000Z',
    type: 'rollout_group',
    group_index: groupIndex,
    task: 'gsm8k',
    task_kind: 'math',
    problem_id: problemId,
    problem: 'What is 1+1?',
    reference: '2',
    baseline: { tally: tally(1, 3), attempts: [], cache_key: 'k', from_cache: false },
    samples: [sample('pos0', 'positive', 'reference', 2, 1 / 3), sample('neg0', 'negative', 'calculation_error', 0, -1 / 3)],
  });
}
