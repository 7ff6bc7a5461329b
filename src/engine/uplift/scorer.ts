/**
 * Scoring a rollout group: one problem, several traces.
 *
 * For each trace, K executor samples with the trace; for the problem, the
 * no-trace baseline from the cache or M fresh samples (shared by every trace
 * of the group and by concurrent groups of the same problem). All executor
 * calls of the group go out together, bounded by the client's concurrency.
 * By default the e2e term comes from the K with-trace samples (no extra call).
 *
 * The official protocol (options.protocol, src/engine/contract/protocol.ts)
 * changes three things here: `baseline: per_trace` draws K fresh no-trace
 * samples for every trace instead (the group's baseline record then pools
 * them); `e2e_source: extra_call` spends one more with-trace call per trace
 * on e2e (and on the code verdict that is shaped); `code_outcome:
 * first_failure` classifies programs by their first failing test. Problems
 * and traces are cut to the protocol's budgets before prompting.
 *
 * Failed executor calls are recorded on their attempt, excluded from rates
 * and counted; they are never scored as wrong answers.
 */
import {
  TRACELIFT_PROTOCOL,
  type Baseline,
  type ExecutorAttempt,
  type Problem,
  type Protocol,
  type RewardConfig,
  type RolloutGroup,
  type Sampling,
  type SuccessTally,
  type TraceSample,
  type Verdict,
} from '../contract';
import type { ExecutorClient, Generation } from '../executor/client';
import { executorMessages, type PromptSet } from '../prompts/templates';
import { wouldTruncate } from '../prompts/truncate';
import type { OutputVerifier } from '../verify';
import { computeReward, missingSignals, type ExecVerdictSummary, type RewardOptions, type TestFailure } from '../reward/rewards';
import { scoreTracesDetailed, type RmDimensions } from '../reward/rmClient';
import type { RmEndpoint } from '../rm/rmModel';
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
  /**
   * Where the RM is reached when the engine serves it (reward.rm_model): the
   * per-process URL and token the config does not record. Default: reward.rm_url.
   */
  rmEndpoint?: RmEndpoint | null;
  rewardOptions?: RewardOptions;
  judge?: LlmJudge | null;
  log?: (line: string) => void;
  /**
   * The protocol knobs applied here: baseline estimator, e2e source,
   * truncation, empty-trace prompt, code outcome rule. Default: ours
   * (TRACELIFT_PROTOCOL). `prompts` stays the caller's choice (PROMPT_SETS[protocol.prompt_set]).
   */
  protocol?: Protocol;
}

/** A scored trace: with what the official protocol adds (e2e_attempt, no_trace) set or null. */
export type ScoredTraceSample = TraceSample;

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

  readonly protocol: Protocol;

  constructor(readonly opts: ScorerOptions) {
    this.protocol = opts.protocol ?? TRACELIFT_PROTOCOL;
  }

  async scoreGroup(problem: Problem, traces: TraceInput[], where: { groupIndex: number; step?: number | null }): Promise<RolloutGroup> {
    const k = this.opts.k;
    const perTrace = this.protocol.baseline === 'per_trace';
    // Per-trace baselines: K fresh no-trace samples for every trace. All of
    // them share one prompt, so they travel as one batch (distinct samples
    // even under a fixed seed) and are dealt out K per trace.
    const baselinePromise = perTrace
      ? this.attempts(problem, null, k * traces.length).then((all) => this.pooledBaseline(problem, all, k * traces.length))
      : this.baseline(problem);
    const withTracePromises = traces.map((t) => this.attempts(problem, t.trace, k));
    const e2ePromises = this.protocol.e2e_source === 'extra_call' ? traces.map((t) => this.attempts(problem, t.trace, 1)) : [];
    const rmPromise = this.rmScores(problem, traces);
    const judgePromise = this.judgeScores(problem, traces);
    const [baseline, withTrace, e2eCalls, rm, judge] = await Promise.all([
      baselinePromise,
      Promise.all(withTracePromises),
      Promise.all(e2ePromises),
      rmPromise,
      judgePromise,
    ]);

    const samples = traces.map((t, i) => {
      const noTrace = perTrace ? baseline.attempts.slice(i * k, (i + 1) * k) : null;
      const e2eAttempt = this.protocol.e2e_source === 'extra_call' ? (e2eCalls[i]![0] ?? null) : undefined;
      return this.sample(problem, t, withTrace[i]!, baseline, rm[i]!, judge[i]!, noTrace, e2eAttempt);
    });
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
    rm: { score: number | null; dimensions: RmDimensions | null; error: string | null },
    judge: { score: number | null; error: string | null },
    /** This trace's own no-trace attempts (per-trace baseline), or null for the problem's baseline. */
    noTraceAttempts: ExecutorAttempt[] | null,
    /** The extra e2e call's attempt (null when it was not answered), or undefined when e2e comes from the K samples. */
    e2eAttempt: ExecutorAttempt | null | undefined,
  ): ScoredTraceSample {
    const errors: string[] = [];
    const withTally = tally(attempts, this.opts.k);
    if (withTally.failed) errors.push(`${withTally.failed} of ${withTally.requested} with-trace executor calls failed`);
    const noTrace = noTraceAttempts ? { tally: tally(noTraceAttempts, this.opts.k), attempts: noTraceAttempts } : null;
    if (noTrace?.tally.failed) errors.push(`${noTrace.tally.failed} of ${noTrace.tally.requested} no-trace executor calls failed`);
    if (rm.error) errors.push(rm.error);
    if (judge.error) errors.push(judge.error);
    const baseTally = noTrace ? noTrace.tally : baseline.tally;
    const baseRate = baseTally.rate;
    const uplift = withTally.rate !== null && baseRate !== null ? withTally.rate - baseRate : null;
    const valid = validAttempts(attempts);

    // The e2e sample: the extra call, or the first (or mean) of the K.
    let e2e: number | null;
    let e2eProgram: ExecutorAttempt | null;
    if (e2eAttempt !== undefined) {
      const answered = e2eAttempt !== null && e2eAttempt.verdict !== null;
      if (!answered) errors.push(`the e2e executor call failed: ${e2eAttempt?.error ?? 'no output'}`);
      e2eProgram = answered ? e2eAttempt : null;
      e2e = e2eProgram ? (e2eProgram.verdict!.correct ? 1 : 0) : null;
    } else {
      e2eProgram = valid[0] ?? null;
      e2e = valid.length === 0 ? null : this.opts.reward.e2e === 'mean' ? withTally.rate : valid[0]!.verdict!.correct ? 1 : 0;
    }

    let reward: TraceSample['reward'] = null;
    if (e2e !== null && e2eProgram !== null) {
      const input = {
        mode: this.opts.reward.mode,
        taskKind: problem.kind,
        e2e,
        execVerdict: problem.kind === 'code' ? execSummary(e2eProgram) : null,
        withTraceSuccesses: withTally.successes,
        k: withTally.valid,
        baselineRate: baseRate ?? 0,
        baselineSamples: baseTally.valid,
        rmScore: rm.score,
        judgeScore: judge.score,
      };
      const options: RewardOptions = {
        execStyle: this.opts.reward.exec_style,
        codeOutcome: this.protocol.code_outcome,
        ...this.opts.rewardOptions,
      };
      const missing = missingSignals(input, options);
      if (missing.length) {
        errors.push(`reward not computed: missing ${missing.join(', ')}`);
      } else {
        const r = computeReward(input, options);
        reward = { mode: r.mode, value: r.reward, components: r.components, formula: r.formula };
      }
    } else if (e2eAttempt !== undefined) {
      errors.push('reward not computed: the e2e executor call produced no output');
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
      ...(rm.dimensions ? { rm_dimensions: rm.dimensions } : {}),
      judge_score: judge.score,
      reward,
      errors,
      e2e_attempt: e2eAttempt ?? null,
      no_trace: noTrace,
    };
  }

  /**
   * What the no-trace prompt is built from, for the cache key: the prompt
   * set's version, plus the problem budget when it cuts this problem and the
   * completions rendering when it is not ours (both change the prompt).
   * Keys of uncut problems under our rendering are those of before.
   */
  private promptIdentity(problem: Problem): string {
    const parts = [this.opts.prompts.version];
    const limit = this.protocol.truncation[problem.kind].problem;
    if (wouldTruncate(problem.problem, limit)) parts.push(`problem<=${limit}`);
    if (this.opts.client.endpoint.api === 'completions' && this.protocol.completion_prompt !== 'tracelift') {
      parts.push(`render=${this.protocol.completion_prompt}`);
    }
    return parts.join('+');
  }

  /** Cache key of the problem's no-trace baseline under this executor, sampling, prompts and verifier. */
  baselineKeyFor(problem: Problem): string {
    const o = this.opts;
    return baselineKey({
      executor: o.executorIdentity,
      api: o.client.endpoint.api,
      sampling: o.sampling,
      prompt_version: this.promptIdentity(problem),
      verifier_version: o.verifier.version,
      task: problem.task,
      problem_id: problem.id,
      problem: problem.problem,
      reference: problem.kind === 'math' ? problem.answer : JSON.stringify(problem.tests),
    });
  }

  /** The group's record of per-trace baselines: every trace's fresh no-trace samples pooled (never cached). */
  private pooledBaseline(problem: Problem, attempts: ExecutorAttempt[], requested: number): Baseline {
    return { tally: tally(attempts, requested), attempts, cache_key: this.baselineKeyFor(problem), from_cache: false };
  }

  /** The problem's no-trace baseline: cached, topped up, or sampled. */
  baseline(problem: Problem): Promise<Baseline> {
    const o = this.opts;
    const key = this.baselineKeyFor(problem);
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
    const messages = executorMessages(this.opts.prompts, problem.kind, problem.problem, trace, {
      truncation: this.protocol.truncation[problem.kind],
      emptyTraceAsNoTrace: this.protocol.empty_trace[problem.kind] === 'no_trace_prompt',
    });
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

  private async rmScores(
    problem: Problem,
    traces: TraceInput[],
  ): Promise<{ score: number | null; dimensions: RmDimensions | null; error: string | null }[]> {
    const endpoint = this.opts.rmEndpoint ?? (this.opts.reward.rm_url ? { url: this.opts.reward.rm_url, apiKey: null } : null);
    if (!endpoint) return traces.map(() => ({ score: null, dimensions: null, error: null }));
    try {
      const scores = await scoreTracesDetailed(
        endpoint.url,
        traces.map((t) => ({ problem: problem.problem, reasoning: t.trace, taskName: problem.kind, taskType: problem.task })),
        { apiKey: endpoint.apiKey },
      );
      return scores.map((s) => ({ score: s.score, dimensions: s.dimensions, error: null }));
    } catch (err) {
      // Never an invented score: the sample says the RM failed and its reward is not computed.
      return traces.map(() => ({ score: null, dimensions: null, error: `RM scoring failed: ${(err as Error).message}` }));
    }
  }

  private async judgeScores(problem: Problem, traces: TraceInput[]): Promise<{ score: number | null; error: string | null }[]> {
    const judge = this.opts.judge;
    if (!judge) return traces.map(() => ({ score: null, error: null }));
    const truncation = this.protocol.truncation[problem.kind];
    return Promise.all(traces.map((t) => judge.score(problem.problem, t.trace, truncation)));
  }
}

/** A code verdict as the reward function reads it (also used to re-score recorded rollouts: analysis/ablation.ts). */
export function execSummary(attempt: ExecutorAttempt): ExecVerdictSummary {
  const v = attempt.verdict!;
  return {
    passed: v.correct,
    status: v.status ?? (v.correct ? 'passed' : 'failed'),
    testsPassed: v.tests_passed ?? (v.correct ? 1 : 0),
    testsTotal: v.tests_total ?? 1,
    firstFailure: firstFailureOf(v),
    failureMessage: v.detail,
  };
}

/** The first failing test the code verifier recorded; without it the official rule infers it where the summary can tell. */
function firstFailureOf(v: Verdict): TestFailure | null {
  return v.first_failure ?? null;
}

function describeTests(problem: Extract<Problem, { kind: 'code' }>): string {
  const t = problem.tests as { kind: string; cases?: unknown[]; asserts?: unknown[] };
  const count = t.cases?.length ?? t.asserts?.length;
  return `${t.kind} tests${count !== undefined ? ` (${count})` : ''}`;
}
