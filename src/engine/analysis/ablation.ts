/**
 * Reward ablations on recorded rollouts: every reward mode applied to the
 * same traces with the engine's reward function (computeReward), from what
 * each sample recorded — no executor call. The modes share every executor
 * sample; only the arithmetic differs. A mode whose signal the run did not
 * record (an RM or judge score) is reported unavailable for those traces,
 * never scored with a stand-in.
 *
 * Then how the modes rank the same traces (Spearman, Kendall τ-b), how often
 * each prefers a perturbed trace over its group's reference (groups-file
 * runs), and the reward variance within groups (GRPO's learning signal: a
 * group whose rewards are all equal teaches nothing).
 */
import { z } from 'zod';
import { REWARD_MODES, type RewardMode, type RolloutGroup, type TraceSample } from '../contract';
import { validAttempts } from '../uplift/baselineCache';
import { execSummary } from '../uplift/scorer';
import { computeReward, missingSignals, type RewardInput, type RewardOptions, type RewardSignal } from '../reward/rewards';
import { kendallTauB, mean, spearman, variance } from './stats';

export const ALL_REWARD_MODES = Object.keys(REWARD_MODES) as RewardMode[];

/** What a run's config.json says about its rewards (eval and training configs alike; read loosely). */
const RunRewardSettingsSchema = z
  .object({
    reward: z
      .object({
        mode: z.string(),
        exec_style: z.enum(['binary', 'pass_rate', 'coderl', 'hybrid']),
        weights: z.object({ math_e2e: z.number(), math_reason: z.number(), code_rm: z.number() }).partial(),
      })
      .partial(),
    protocol: z.object({ code_outcome: z.enum(['summary', 'first_failure']) }).partial(),
  })
  .partial();

export interface RunRewardSettings {
  /** The mode the run scored with, when its config says. */
  recordedMode: string | null;
  options: RewardOptions;
}

/** The reward options a run was scored with, from its config.json. */
export function rewardSettingsOf(config: Record<string, unknown> | null): RunRewardSettings {
  const parsed = RunRewardSettingsSchema.safeParse(config ?? {});
  const c = parsed.success ? parsed.data : {};
  const w = c.reward?.weights;
  return {
    recordedMode: c.reward?.mode ?? null,
    options: {
      ...(c.reward?.exec_style ? { execStyle: c.reward.exec_style } : {}),
      ...(c.protocol?.code_outcome ? { codeOutcome: c.protocol.code_outcome } : {}),
      ...(w?.math_e2e !== undefined ? { mathE2eWeight: w.math_e2e } : {}),
      ...(w?.math_reason !== undefined ? { mathReasonWeight: w.math_reason } : {}),
      ...(w?.code_rm !== undefined ? { codeRmWeight: w.code_rm } : {}),
    },
  };
}

/**
 * The reward input a recorded sample gives for `mode`, or null when it has
 * no e2e term (no with-trace sample, or the extra e2e call, gave output).
 */
export function recordedRewardInput(group: RolloutGroup, sample: TraceSample, mode: RewardMode): RewardInput | null {
  // The e2e program: the extra call's when the run made one, else the first with-trace sample with output.
  const e2eProgram =
    sample.e2e_attempt !== undefined && sample.e2e_attempt !== null ? sample.e2e_attempt : validAttempts(sample.with_trace.attempts)[0];
  if (sample.e2e === null || !e2eProgram || e2eProgram.verdict === null) return null;
  const baseTally = sample.no_trace ? sample.no_trace.tally : group.baseline.tally;
  return {
    mode,
    taskKind: group.task_kind,
    e2e: sample.e2e,
    execVerdict: group.task_kind === 'code' ? execSummary(e2eProgram) : null,
    withTraceSuccesses: sample.with_trace.tally.successes,
    k: sample.with_trace.tally.valid,
    baselineRate: baseTally.rate ?? 0,
    baselineSamples: baseTally.valid,
    rmScore: sample.rm_score,
    judgeScore: sample.judge_score,
  };
}

export type Rescored = { reward: number } | { missing: Array<RewardSignal | 'e2e'> };

/** One recorded trace under one mode. */
export function rescore(group: RolloutGroup, sample: TraceSample, mode: RewardMode, options: RewardOptions): Rescored {
  const input = recordedRewardInput(group, sample, mode);
  if (!input) return { missing: ['e2e'] };
  const missing = missingSignals(input, options);
  if (missing.length) return { missing };
  return { reward: computeReward(input, options).reward };
}

export interface AblatedTrace {
  step: number | null;
  problem_id: string;
  sample_id: string;
  source: string;
  label: string | null;
  /** The reward the run recorded (its own mode), or null. */
  recorded: number | null;
  rewards: Record<RewardMode, number | null>;
}

export interface ModeAvailability {
  mode: RewardMode;
  scored: number;
  unscored: number;
  /** Why traces could not be scored: signal → traces. */
  missing: Record<string, number>;
  available: boolean;
}

export interface ModeCorrelation {
  a: RewardMode;
  b: RewardMode;
  /** Traces both modes scored. */
  n: number;
  spearman: number | null;
  kendall: number | null;
}

export interface PerturbedPreference {
  mode: RewardMode;
  /** (reference, perturbed) pairs both scored. */
  pairs: number;
  /** Pairs where the perturbed trace gets the higher reward. */
  prefersPerturbed: number;
  ties: number;
  share: number | null;
  /** The same per negative kind. */
  byKind: Record<string, { pairs: number; prefersPerturbed: number; ties: number }>;
}

export interface GroupVariance {
  mode: RewardMode;
  /** Groups with at least two scored traces. */
  groups: number;
  /** Mean over groups of the population variance of their rewards. */
  meanVariance: number | null;
  /** Share of groups whose rewards are all equal (no GRPO signal). */
  zeroVarianceShare: number | null;
}

export interface AblationResult {
  recordedMode: string | null;
  traces: AblatedTrace[];
  modes: ModeAvailability[];
  correlations: ModeCorrelation[];
  /** Null when the run has no reference/perturbed groups (not a groups-file run). */
  preference: PerturbedPreference[] | null;
  withinGroup: GroupVariance[];
}

/** Every mode on every latest group of a run. */
export function ablate(groups: RolloutGroup[], settings: RunRewardSettings, modes: RewardMode[] = ALL_REWARD_MODES): AblationResult {
  const traces: AblatedTrace[] = [];
  const availability = new Map<RewardMode, ModeAvailability>(
    modes.map((m) => [m, { mode: m, scored: 0, unscored: 0, missing: {}, available: false }]),
  );
  const groupRewards: Array<{ group: RolloutGroup; rows: AblatedTrace[] }> = [];
  for (const group of groups) {
    const rows: AblatedTrace[] = [];
    for (const sample of group.samples) {
      const rewards = {} as Record<RewardMode, number | null>;
      for (const mode of modes) {
        const r = rescore(group, sample, mode, settings.options);
        const a = availability.get(mode)!;
        if ('reward' in r) {
          rewards[mode] = r.reward;
          a.scored++;
        } else {
          rewards[mode] = null;
          a.unscored++;
          for (const s of r.missing) a.missing[s] = (a.missing[s] ?? 0) + 1;
        }
      }
      const row: AblatedTrace = {
        step: group.step,
        problem_id: group.problem_id,
        sample_id: sample.sample_id,
        source: sample.source,
        label: sample.label,
        recorded: sample.reward?.value ?? null,
        rewards,
      };
      rows.push(row);
      traces.push(row);
    }
    groupRewards.push({ group, rows });
  }
  for (const a of availability.values()) a.available = a.scored > 0;

  const usable = modes.filter((m) => availability.get(m)!.available);
  const correlations: ModeCorrelation[] = [];
  for (let i = 0; i < usable.length; i++) {
    for (let j = i + 1; j < usable.length; j++) {
      const a = usable[i]!;
      const b = usable[j]!;
      const both = traces.filter((t) => t.rewards[a] !== null && t.rewards[b] !== null);
      const xs = both.map((t) => t.rewards[a]!);
      const ys = both.map((t) => t.rewards[b]!);
      correlations.push({ a, b, n: both.length, spearman: spearman(xs, ys), kendall: kendallTauB(xs, ys) });
    }
  }

  const isGroupsRun = groupRewards.some(
    ({ rows }) => rows.some((r) => r.source === 'positive') && rows.some((r) => r.source === 'negative'),
  );
  const preference = isGroupsRun
    ? usable.map((mode): PerturbedPreference => {
        const p: PerturbedPreference = { mode, pairs: 0, prefersPerturbed: 0, ties: 0, share: null, byKind: {} };
        for (const { rows } of groupRewards) {
          const reference = rows.find((r) => r.source === 'positive' && r.rewards[mode] !== null);
          if (!reference) continue;
          for (const neg of rows.filter((r) => r.source === 'negative' && r.rewards[mode] !== null)) {
            const kind = (p.byKind[neg.label ?? 'unlabelled'] ??= { pairs: 0, prefersPerturbed: 0, ties: 0 });
            p.pairs++;
            kind.pairs++;
            if (neg.rewards[mode]! > reference.rewards[mode]!) {
              p.prefersPerturbed++;
              kind.prefersPerturbed++;
            } else if (neg.rewards[mode] === reference.rewards[mode]) {
              p.ties++;
              kind.ties++;
            }
          }
        }
        p.share = p.pairs ? p.prefersPerturbed / p.pairs : null;
        return p;
      })
    : null;

  const withinGroup = usable.map((mode): GroupVariance => {
    const variances = groupRewards.flatMap(({ rows }) => {
      const values = rows.flatMap((r) => (r.rewards[mode] === null ? [] : [r.rewards[mode]!]));
      return values.length >= 2 ? [variance(values, 'population')!] : [];
    });
    return {
      mode,
      groups: variances.length,
      meanVariance: mean(variances),
      zeroVarianceShare: variances.length ? variances.filter((v) => v < 1e-12).length / variances.length : null,
    };
  });

  return { recordedMode: settings.recordedMode, traces, modes: [...availability.values()], correlations, preference, withinGroup };
}
