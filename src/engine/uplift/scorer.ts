/**
 * Scoring a rollout group: one problem, several traces.
 *
 * For each trace, K executor samples with the trace; for the problem, the
 * no-trace baseline from the cache or M fresh samples (shared by every trace
 * of the group and by concurrent groups of the same problem). All executor
 * calls of the group go out together, bounded by the client's concurrency.
 * The e2e term comes from the K with-trace samples, never from an extra call.
 *
 * Failed executor calls are recorded on their attempt, excluded from rates
 * and counted; they are never scored as wrong answers.
 */
import type {
  Baseline,
  ExecutorAttempt,
  Problem,
  RewardConfig,
  RolloutGroup,
  Sampling,
  SuccessTally,
  TraceSample,
} from '../contract';
import type { ExecutorClient, Generation } from '../executor/client';
import { executorMessages, type PromptSet } from '../prompts/templates';
import type { OutputVerifier } from '../verify';
import { computeReward, missingSignals, type ExecVerdictSummary, type RewardOptions } from '../reward/rewards';
import { scoreTraces } from '../reward/rmClient';
import type { LlmJudge } from '../reward/judge';
import { baselineKey, validAttempts, type BaselineCache } from './baselineCache';

export interface TraceInput {
  sample_id: string;
  trace: string;
  source: string;
  label?: string | null;
  rubric_total?: number | null;
}

export interface ScorerOptions {
  client: ExecutorClient;
  /** Stable executor identity for the baseline cache (model + serving setup). */
  executorIdentity: string;
  sampling: Sampling;
  prompts: PromptSet;
  verifier: OutputVerifier;
  cache: BaselineCache | null;
  k: number;
  baselineSamples: number;
  reward: RewardConfig;
  rewardOptions?: RewardOptions;
  judge?: LlmJudge | null;
  log?: (line: string) => void;
}

export function tally(attempts: ExecutorAttempt[], requested = attempts.length): SuccessTally {
  const valid = validAttempts(attempts);
  const successes = valid.filter((a) => a.verdict!.correct).length;
  return {
    successes,
    valid: valid.length,
    requested,
    failed: attempts.length - valid.length,
    rate: valid.length ? successes / valid.length : null,
  };
}

export class GroupScorer {
  /** Baselines being sampled right now, so concurrent groups of one problem share them. */
  private readonly inFlight = new Map<string, Promise<Baseline>>();
  generations = 0;

  constructor(readonly opts: ScorerOptions) {}

  async scoreGroup(problem: Problem, traces: TraceInput[], where: { groupIndex: number; step?: number | null }): Promise<RolloutGroup> {
    const baselinePromise = this.baseline(problem);
    const withTracePromises = traces.map((t) => this.attempts(problem, t.trace, this.opts.k));
    const rmPromise = this.rmScores(problem, traces);
    const judgePromise = this.judgeScores(problem, traces);
    const [baseline, withTrace, rm, judge] = await Promise.all([
      baselinePromise,
      Promise.all(withTracePromises),
      rmPromise,
      judgePromise,
    ]);

    const samples = traces.map((t, i) => this.sample(problem, t, withTrace[i]!, baseline, rm[i]!, judge[i]!));
    return {
      time: new Date().toISOString(),
      type: 'rollout_group',
      step: where.step ?? null,
      group_index: where.groupIndex,
      task: problem.task,
      task_kind: problem.kind,
      problem_id: problem.id,
      problem: problem.problem,
      reference: problem.kind === 'math' ? problem.answer : describeTests(problem),
      baseline,
      samples,
    };
  }

  private sample(
    problem: Problem,
    t: TraceInput,
    attempts: ExecutorAttempt[],
    baseline: Baseline,
    rm: { score: number | null; error: string | null },
    judge: { score: number | null; error: string | null },
  ): TraceSample {
    const errors: string[] = [];
    const withTally = tally(attempts, this.opts.k);
    if (withTally.failed) errors.push(`${withTally.failed} of ${withTally.requested} with-trace executor calls failed`);
    if (rm.error) errors.push(rm.error);
    if (judge.error) errors.push(judge.error);
    const baseRate = baseline.tally.rate;
    const uplift = withTally.rate !== null && baseRate !== null ? withTally.rate - baseRate : null;
    const valid = validAttempts(attempts);
    const e2e =
      valid.length === 0 ? null : this.opts.reward.e2e === 'mean' ? withTally.rate : valid[0]!.verdict!.correct ? 1 : 0;

    let reward: TraceSample['reward'] = null;
    if (e2e !== null) {
      const input = {
        mode: this.opts.reward.mode,
        taskKind: problem.kind,
        e2e,
        execVerdict: problem.kind === 'code' ? execSummary(valid[0]!) : null,
        withTraceSuccesses: withTally.successes,
        k: withTally.valid,
        baselineRate: baseRate ?? 0,
        baselineSamples: baseline.tally.valid,
        rmScore: rm.score,
        judgeScore: judge.score,
      };
      const missing = missingSignals(input);
      if (missing.length) {
        errors.push(`reward not computed: missing ${missing.join(', ')}`);
      } else {
        const r = computeReward(input, { execStyle: this.opts.reward.exec_style, ...this.opts.rewardOptions });
        reward = { mode: r.mode, value: r.reward, components: r.components, formula: r.formula };
      }
    } else {
      errors.push('reward not computed: no with-trace sample produced output');
    }

    return {
      sample_id: t.sample_id,
      source: t.source,
      label: t.label ?? null,
      rubric_total: t.rubric_total ?? null,
      trace: t.trace,
      with_trace: { tally: withTally, attempts },
      uplift,
      e2e,
      rm_score: rm.score,
      judge_score: judge.score,
      reward,
      errors,
    };
  }

  /** The problem's no-trace baseline: cached, topped up, or sampled. */
  baseline(problem: Problem): Promise<Baseline> {
    const o = this.opts;
    const key = baselineKey({
      executor: o.executorIdentity,
      api: o.client.endpoint.api,
      sampling: o.sampling,
      prompt_version: o.prompts.version,
      verifier_version: o.verifier.version,
      task: problem.task,
      problem_id: problem.id,
      problem: problem.problem,
      reference: problem.kind === 'math' ? problem.answer : JSON.stringify(problem.tests),
    });
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const work = (async (): Promise<Baseline> => {
      const cached = o.cache?.get(key);
      const have = cached ? validAttempts(cached.attempts) : [];
      if (have.length >= o.baselineSamples) {
        if (o.cache) o.cache.hits++;
        return { tally: tally(have), attempts: have, cache_key: key, from_cache: true };
      }
      if (o.cache) o.cache.misses++;
      const fresh = await this.attempts(problem, null, o.baselineSamples - have.length);
      const attempts = [...have, ...fresh];
      const good = validAttempts(attempts);
      // Only complete baselines are cached; one with failed calls is re-sampled next time.
      if (o.cache && good.length >= o.baselineSamples) {
        o.cache.put({ key, problem_id: problem.id, attempts: good, created: new Date().toISOString() });
      }
      return { tally: tally(attempts, o.baselineSamples), attempts, cache_key: key, from_cache: false };
    })();
    this.inFlight.set(key, work);
    work.finally(() => this.inFlight.delete(key)).catch(() => {});
    return work;
  }

  /** n executor samples for problem (+ trace), each verified. */
  private async attempts(problem: Problem, trace: string | null, n: number): Promise<ExecutorAttempt[]> {
    if (n <= 0) return [];
    const messages = executorMessages(this.opts.prompts, problem.kind, problem.problem, trace);
    const gens = await this.opts.client.sample(messages, this.opts.sampling, n);
    this.generations += gens.filter((g) => g.error === null).length;
    return Promise.all(gens.map((g) => this.verifyGeneration(problem, g)));
  }

  private async verifyGeneration(problem: Problem, g: Generation): Promise<ExecutorAttempt> {
    const base = { output: g.text, finish_reason: g.finish_reason, latency_ms: Math.round(g.latency_ms) };
    if (g.error !== null || g.text === null) return { ...base, verdict: null, error: g.error ?? 'no output' };
    try {
      return { ...base, verdict: await this.opts.verifier.verify(problem, g.text), error: null };
    } catch (err) {
      // A verifier that could not run is an error of the attempt, not a wrong answer.
      return { ...base, verdict: null, error: `verifier: ${(err as Error).message}` };
    }
  }

  private async rmScores(problem: Problem, traces: TraceInput[]): Promise<{ score: number | null; error: string | null }[]> {
    const url = this.opts.reward.rm_url;
    if (!url) return traces.map(() => ({ score: null, error: null }));
    try {
      const scores = await scoreTraces(
        url,
        traces.map((t) => ({ problem: problem.problem, reasoning: t.trace, taskName: problem.kind, taskType: problem.task })),
      );
      return scores.map((score) => ({ score, error: null }));
    } catch (err) {
      return traces.map(() => ({ score: null, error: `RM scoring failed: ${(err as Error).message}` }));
    }
  }

  private async judgeScores(problem: Problem, traces: TraceInput[]): Promise<{ score: number | null; error: string | null }[]> {
    const judge = this.opts.judge;
    if (!judge) return traces.map(() => ({ score: null, error: null }));
    return Promise.all(traces.map((t) => judge.score(problem.problem, t.trace)));
  }
}

function execSummary(attempt: ExecutorAttempt): ExecVerdictSummary {
  const v = attempt.verdict!;
  return {
    passed: v.correct,
    status: v.status ?? (v.correct ? 'passed' : 'failed'),
    testsPassed: v.tests_passed ?? (v.correct ? 1 : 0),
    testsTotal: v.tests_total ?? 1,
  };
}

function describeTests(problem: Extract<Problem, { kind: 'code' }>): string {
  const t = problem.tests as { kind: string; cases?: unknown[]; asserts?: unknown[] };
  const count = t.cases?.length ?? t.asserts?.length;
  return `${t.kind} tests${count !== undefined ? ` (${count})` : ''}`;
}
