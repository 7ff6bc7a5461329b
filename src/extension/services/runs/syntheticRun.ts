/**
 * Synthetic run events (deterministic, seeded) for the run-view benchmark,
 * unit tests and the developer "demo run" command. Every event is valid
 * against the run-directory contract; some traces carry markup on purpose so
 * every view can be checked to render it as text.
 */
import type { RolloutGroup, RunEventInput } from '../../../engine/contract';

/** Small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'first compute the total then subtract the eggs she eats and bakes multiply the remainder by the price per egg ' +
  'so the answer follows check units carefully each step adds the previous result divide by two to get half ' +
  'the number of bolts is the sum of blue and white fiber consider edge cases when the list is empty return zero'
).split(' ');

export interface SyntheticOptions {
  seed?: number;
  /** Traces (samples) per group. */
  samples?: number;
  /** With-trace attempts per trace (K). */
  k?: number;
  /** Baseline attempts per problem (M). */
  m?: number;
  /** Approximate characters per trace. */
  traceChars?: number;
  /** Approximate characters per executor output. */
  outputChars?: number;
  tasks?: string[];
  /** Training-style steps: group i gets step floor(i / groupsPerStep); null for eval-style. */
  groupsPerStep?: number | null;
}

function words(r: () => number, chars: number): string {
  let s = '';
  while (s.length < chars) s += (s ? ' ' : '') + WORDS[Math.floor(r() * WORDS.length)];
  return s;
}

const time = (i: number) => new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString();

export function syntheticStarted(runId = 'synthetic', kind: 'eval' | 'train' = 'eval'): RunEventInput {
  return { time: time(0), type: 'run_started', run_id: runId, run_kind: kind, engine_version: 'synthetic', config: { synthetic: true } };
}

export function syntheticEnded(status: 'completed' | 'failed' | 'cancelled' = 'completed'): RunEventInput {
  return { time: time(1), type: 'run_ended', status, message: null };
}

/** One rollout_group event; `i` is the group index (also picks the problem). */
export function syntheticGroup(i: number, opts: SyntheticOptions = {}): RolloutGroup {
  const r = rng((opts.seed ?? 1) * 1_000_003 + i);
  const samples = opts.samples ?? 4;
  const K = opts.k ?? 3;
  const M = opts.m ?? 8;
  const tasks = opts.tasks ?? ['gsm8k', 'math500'];
  const task = tasks[i % tasks.length]!;
  const traceChars = opts.traceChars ?? 300;
  const outputChars = opts.outputChars ?? 120;
  const baseP = r();
  const attempt = (p: number) => {
    const correct = r() < p;
    const failed = r() < 0.01;
    return failed
      ? { output: null, verdict: null, error: 'executor call failed: HTTP 500', finish_reason: null, latency_ms: null }
      : {
          output: words(r, outputChars) + (correct ? ' The answer is 18.' : ' The answer is 17.'),
          verdict: {
            correct,
            extracted: correct ? '18' : '17',
            status: r() < 0.01 ? 'timeout' : correct ? 'ok' : 'wrong_answer',
            tests_passed: null,
            tests_total: null,
            detail: null,
          },
          error: null,
          finish_reason: 'stop',
          latency_ms: Math.round(r() * 900),
        };
  };
  const tally = (atts: ReturnType<typeof attempt>[]) => {
    const valid = atts.filter((a) => a.verdict !== null).length;
    const successes = atts.filter((a) => a.verdict?.correct).length;
    return { successes, valid, requested: atts.length, failed: atts.length - valid, rate: valid ? successes / valid : null };
  };
  const baseAttempts = Array.from({ length: M }, () => attempt(baseP));
  const baseTally = tally(baseAttempts);
  const out: RolloutGroup = {
    time: time(i + 2),
    type: 'rollout_group',
    step: opts.groupsPerStep ? Math.floor(i / opts.groupsPerStep) : null,
    group_index: i,
    task,
    task_kind: 'math',
    problem_id: `${task}/test/${i}`,
    problem: `Problem ${i}: ` + words(r, 160) + '?',
    reference: '18',
    baseline: { tally: baseTally, attempts: baseAttempts, cache_key: `key-${i}`, from_cache: r() < 0.5 },
    samples: [],
  };
  for (let s = 0; s < samples; s++) {
    const p = Math.min(1, Math.max(0, baseP + (r() - 0.4) * 0.8));
    const atts = Array.from({ length: K }, () => attempt(p));
    const t = tally(atts);
    const uplift = t.rate !== null && baseTally.rate !== null ? t.rate - baseTally.rate : null;
    const e2e = atts[0]?.verdict ? (atts[0].verdict.correct ? 1 : 0) : null;
    const rm = Math.round(r() * 1000) / 1000;
    const negative = s > 0 && r() < 0.3;
    const markup = s === samples - 1 && i % 7 === 0;
    out.samples.push({
      sample_id: `${out.problem_id}#${s}`,
      source: negative ? 'negative' : 'planner',
      label: negative ? 'calculation_error' : null,
      rubric_total: negative ? 0.35 : null,
      trace: (markup ? `<img src=x onerror="window.__xss=1"><script>window.__xss=1</script> ` : '') + words(r, traceChars),
      with_trace: { tally: t, attempts: atts },
      uplift,
      e2e,
      rm_score: rm,
      judge_score: null,
      reward:
        e2e === null || uplift === null
          ? null
          : {
              mode: 'tracelift',
              value: 0.5 * e2e + 0.5 * rm * uplift,
              components: { e2e, rm, uplift },
              formula: '0.5·e2e + 0.5·clamp(rm,0,1)·uplift',
            },
      errors: t.failed ? [`${t.failed} executor call(s) failed`] : [],
    });
  }
  return out;
}

/** One JSON line (with its newline) per event. */
export function eventLine(event: RunEventInput | RolloutGroup): string {
  return JSON.stringify(event) + '\n';
}

// ------------------------------------------------------------------ groups with exact figures

/** One trace of an exact group: its kind and its with-trace count k of K (reward given, or k/K). */
export interface ExactTrace {
  source: string;
  label?: string | null;
  k: number;
  K: number;
  reward?: number | null;
  trace?: string;
}

/**
 * A rollout group whose figures are exactly what is asked: baseline b of
 * M, each trace k of K (uplift = k/K − b/M), rewards given (default: the
 * with-trace rate). For tests that assert numbers.
 */
export function exactGroup(
  i: number,
  o: { problemId?: string; task?: string; step?: number | null; baseline: [number, number]; traces: ExactTrace[] },
): RolloutGroup {
  const attempts = (k: number, n: number) =>
    Array.from({ length: n }, (_, j) => ({
      output: j < k ? 'The answer is 18.' : 'The answer is 17.',
      verdict: { correct: j < k, extracted: j < k ? '18' : '17', status: j < k ? 'ok' : 'wrong_answer', tests_passed: null, tests_total: null, detail: null },
      error: null,
      finish_reason: 'stop',
      latency_ms: 10,
    }));
  const tally = (k: number, n: number) => ({ successes: k, valid: n, requested: n, failed: 0, rate: n ? k / n : null });
  const [b, M] = o.baseline;
  const task = o.task ?? 'gsm8k';
  const problemId = o.problemId ?? `${task}/test/${i}`;
  const baseRate = M ? b / M : null;
  return {
    time: time(i + 2),
    type: 'rollout_group',
    step: o.step ?? null,
    group_index: i,
    task,
    task_kind: 'math',
    problem_id: problemId,
    problem: `Problem ${i}: what is 9 + 9?`,
    reference: '18',
    baseline: { tally: tally(b, M), attempts: attempts(b, M), cache_key: `key-${i}`, from_cache: false },
    samples: o.traces.map((t, s) => {
      const rate = t.K ? t.k / t.K : null;
      const uplift = rate !== null && baseRate !== null ? rate - baseRate : null;
      const reward = t.reward === undefined ? rate : t.reward;
      return {
        sample_id: `${problemId}#${t.source === 'negative' ? 'neg' : t.source === 'positive' ? 'pos' : 's'}${s}`,
        source: t.source,
        label: t.label ?? null,
        rubric_total: null,
        trace: t.trace ?? `trace ${s} of problem ${i}: add nine and nine`,
        with_trace: { tally: tally(t.k, t.K), attempts: attempts(t.k, t.K) },
        uplift,
        e2e: t.K ? (t.k > 0 ? 1 : 0) : null,
        rm_score: null,
        judge_score: null,
        reward: reward === null ? null : { mode: 'exec_only', value: reward, components: { exec: reward }, formula: 'k/K' },
        errors: [],
      };
    }),
  };
}

// ------------------------------------------------------------------ training runs

export interface SyntheticTrainingOptions {
  promptsPerStep?: number;
  /** Completions per prompt (G). */
  generations?: number;
  k?: number;
  m?: number;
  traceChars?: number;
  outputChars?: number;
  /** A checkpoint event every this many steps (0: none). */
  saveSteps?: number;
  seed?: number;
}

/**
 * The events of one training step (numbered from 1, as the reward service
 * writes them): its rollout groups (G planner completions per prompt), then
 * the trainer's step_metrics, then a checkpoint when one is due.
 */
export function syntheticTrainingStep(step: number, o: SyntheticTrainingOptions = {}): Array<RunEventInput | RolloutGroup> {
  const prompts = o.promptsPerStep ?? 16;
  const G = o.generations ?? 8;
  const r = rng((o.seed ?? 7) * 7919 + step);
  const out: Array<RunEventInput | RolloutGroup> = [];
  for (let p = 0; p < prompts; p++) {
    const i = (step - 1) * prompts + p;
    const g = syntheticGroup(i, {
      seed: o.seed ?? 7,
      samples: G,
      k: o.k ?? 2,
      m: o.m ?? 4,
      traceChars: o.traceChars ?? 160,
      outputChars: o.outputChars ?? 40,
      tasks: ['gsm8k'],
    });
    g.step = step;
    g.problem_id = `gsm8k/train/${i % 500}`;
    for (const [s, sample] of g.samples.entries()) {
      sample.sample_id = `${g.problem_id}#s${step}g${s}`;
      sample.source = 'planner';
      sample.label = null;
      sample.rubric_total = null;
    }
    out.push(g);
  }
  const t = (step + 1) * 1000;
  out.push({
    time: time(t),
    type: 'step_metrics',
    step,
    metrics: {
      loss: 0.5 / Math.sqrt(step) + 0.05 * r(),
      kl: 0.001 * step * r(),
      learning_rate: 5e-6,
      completion_length: 80 + 40 * r(),
      time_generation_s: 10 + 5 * r(),
      time_reward_s: 4 + 2 * r(),
      time_update_s: 6 + 2 * r(),
      time_step_s: 22 + 4 * r(),
      executor_generations: prompts * G * ((o.k ?? 2) + 1),
    },
  });
  if (o.saveSteps && step % o.saveSteps === 0) out.push({ time: time(t + 1), type: 'checkpoint', step, path: `checkpoints/checkpoint-${step}` });
  return out;
}
