/**
 * Reward modes of TraceLift, as one pure function.
 *
 * Formulas follow the official code (MasaiahHan/TraceLift; see
 * docs/official-protocol.md §4 for file references):
 *
 *   math  tracelift : 0.5·e2e + 0.5·clamp(rm,0,1)·uplift
 *   code  tracelift : clamp(exec + w·clamp(rm,0,1)·coeff, 0, 1), w = 0.2
 *   exec_only       : math e2e; code exec (shaped, unclamped like the official)
 *
 * and the ablations, which the official code does not implement (our
 * definitions, docs/official-protocol.md §6):
 *
 *   no_uplift       : math 0.5·e2e + 0.5·clamp(rm,0,1); code clamp(exec + w·clamp(rm,0,1), 0, 1)
 *   rm_uplift_only  : math clamp(rm,0,1)·uplift;        code clamp(rm,0,1)·coeff
 *   llm_judge       : tracelift with the judge score in place of the RM score
 *
 * WHERE WE DIFFER FROM THE OFFICIAL CODE (docs/official-protocol.md §5):
 * the official trainer draws 3 fresh no-trace executor samples for every
 * trace. Our executor is frozen, so the no-trace baseline of a problem is
 * estimated once with M samples (default 8) and cached: the reward sees a
 * baseline *rate* b and its sample count M instead of a count out of K.
 *   - math: uplift = clamp(c/k − b, −1, 1), c successes among the k with-trace
 *     samples that produced output.
 *   - code: the utility coefficient compares c with the *expected* no-trace
 *     count b·k: +1 if c > b·k + ε, −1 if c < b·k − ε, otherwise the official
 *     equal-count rule with c (0 if c = 0, 1 if c = k, 0.5 if k = 3 and c = 1,
 *     else c/k). ε = `tieEpsilon` (default 1e-6). With M = 8, k = 3 exact ties
 *     only occur for b ∈ {0, 1}; raise `tieEpsilon` to widen the tie band.
 *
 * The official behaviour is available as options (the `official` protocol
 * preset, src/engine/contract/protocol.ts): `codeOutcome: 'first_failure'`
 * classifies a program by its first failing test; with K fresh no-trace
 * samples per trace (the scorer's per-trace baseline) b·k is the official
 * no-trace count and the coefficient is the official one exactly.
 *
 * A mode that needs a signal the caller does not have (RM score, judge score,
 * code verdict, any valid with-trace sample, a baseline) throws
 * MissingSignalError naming it; it never substitutes 0 or a fallback. Use
 * `missingSignals()` to check before calling.
 */

import {
  CODE_OUTCOME_RULES,
  EXEC_STYLES,
  REWARD_MODE_ENDPOINT,
  REWARD_MODES,
  type CodeOutcomeRule,
  type ExecStyle,
  type RewardMode,
  type TaskKind,
} from '../contract';

export type { CodeOutcomeRule, ExecStyle, RewardMode, TaskKind };

/** Whether a value is one of a described choice's keys (inputs are checked at run time too). */
const isChoice = (choices: Readonly<Record<string, string>>, value: unknown): boolean =>
  typeof value === 'string' && Object.hasOwn(choices, value);

/** The first failing test of a program, in test order. */
export interface TestFailure {
  /** Per-test status of the verifier: failed | syntax_error | runtime_error | timeout | memory | output_limit | sandbox_error. */
  status: string;
  /** Its message; for an exception, "<ExceptionName>: <message>". */
  message?: string | null;
}

/** Summary of a verifier verdict on one program (code tasks). */
export interface ExecVerdictSummary {
  /** All tests passed. */
  passed: boolean;
  /**
   * Verifier status: passed | failed | wrong_answer | timeout | error |
   * compile_error | syntax_error | runtime_error | memory | output_limit |
   * no_tests | … (see classifyVerdict for the mapping).
   */
  status: string;
  testsPassed: number;
  testsTotal: number;
  /** The first failing test; needed by the `first_failure` rule when the summary cannot tell (classifyFirstFailure). */
  firstFailure?: TestFailure | null;
  /** The verifier's message about the first failure (used when exactly one test failed). */
  failureMessage?: string | null;
}

export interface RewardInput {
  mode: RewardMode;
  taskKind: TaskKind;
  /** End-to-end success in [0,1]: first with-trace sample, or mean of K (caller decides). */
  e2e: number;
  /** Code only: verdict of the e2e program, used for exec shaping. */
  execVerdict?: ExecVerdictSummary | null;
  /** Successes among the with-trace samples that produced output. */
  withTraceSuccesses: number;
  /** With-trace samples that produced output (failed calls excluded). */
  k: number;
  /** No-trace success rate of the problem, in [0,1]. */
  baselineRate: number;
  /** Samples behind baselineRate (0 = no baseline). */
  baselineSamples: number;
  rmScore?: number | null;
  /** LLM-judge score, already normalised to [0,1]. */
  judgeScore?: number | null;
}

export interface RewardOptions {
  /** Code exec shaping; default 'hybrid' (official default). */
  execStyle?: ExecStyle;
  /** Weight of the reason term for code (official --reason_weight); default 0.2. */
  codeRmWeight?: number;
  /** Weight of e2e for math (official --e2e_reward_weight); default 0.5. */
  mathE2eWeight?: number;
  /** Weight of the reason term for math (official --reason_reward_weight); default 0.5. */
  mathReasonWeight?: number;
  /** Half-width of the tie band when comparing c with b·k (code); default 1e-6. */
  tieEpsilon?: number;
  /**
   * Optional override of the equal-count coefficient for given counts c ≥ 1
   * (official --equal_success_coeffs, values clamped to [0,1]; default none).
   */
  equalCountCoeffs?: Readonly<Record<number, number>>;
  /** Code outcome class for coderl/hybrid; default 'summary' (ours), 'first_failure' is the official rule. */
  codeOutcome?: CodeOutcomeRule;
}

export interface RewardBreakdown {
  mode: RewardMode;
  taskKind: TaskKind;
  reward: number;
  /** Flat named terms (e2e, exec, uplift, rm, coeff, judge, …) so a UI can show the arithmetic. */
  components: Record<string, number>;
  /** Human-readable formula with the numbers substituted. */
  formula: string;
}

/** A signal a reward mode needs. */
export type RewardSignal = 'rm' | 'judge' | 'execVerdict' | 'withTrace' | 'baseline' | 'firstFailure';

export class MissingSignalError extends Error {
  readonly signals: RewardSignal[];
  constructor(mode: RewardMode, taskKind: TaskKind, signals: RewardSignal[]) {
    super(
      `reward mode '${mode}' (${taskKind}) needs ${signals.map(describeSignal).join(', ')}, which ${
        signals.length === 1 ? 'is' : 'are'
      } missing`,
    );
    this.name = 'MissingSignalError';
    this.signals = signals;
  }
}

function describeSignal(s: RewardSignal): string {
  switch (s) {
    case 'rm':
      return 'an RM score (rmScore)';
    case 'judge':
      return 'an LLM-judge score (judgeScore)';
    case 'execVerdict':
      return 'the verdict of the e2e program (execVerdict)';
    case 'withTrace':
      return 'at least one with-trace executor sample that produced output (k ≥ 1)';
    case 'baseline':
      return 'a no-trace baseline (baselineSamples ≥ 1)';
    case 'firstFailure':
      return "the e2e program's first failing test (execVerdict.firstFailure), which the official outcome rule reads";
  }
}

export const DEFAULT_REWARD_OPTIONS = {
  execStyle: 'hybrid',
  codeRmWeight: 0.2,
  mathE2eWeight: 0.5,
  mathReasonWeight: 0.5,
  tieEpsilon: 1e-6,
  codeOutcome: 'summary',
} as const satisfies Required<Omit<RewardOptions, 'equalCountCoeffs'>>;

export function clamp(x: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, x));
}

// ---------------------------------------------------------------------------
// Exec shaping (official src/tracelift/reward_utils.py)
// ---------------------------------------------------------------------------

/** Outcome classes of the official classify_execution, plus 'other' for its fallback branch. */
export type ExecOutcome = 'passed' | 'compile_error' | 'runtime_error' | 'timeout' | 'failed_test' | 'no_tests' | 'other';

const STATUS_TO_OUTCOME: Record<string, ExecOutcome> = {
  passed: 'passed',
  pass: 'passed',
  ok: 'passed',
  compile_error: 'compile_error',
  syntax_error: 'compile_error',
  indentation_error: 'compile_error',
  runtime_error: 'runtime_error',
  error: 'runtime_error',
  crash: 'runtime_error',
  memory: 'runtime_error',
  memory_limit: 'runtime_error',
  output_limit: 'runtime_error',
  timeout: 'timeout',
  time_limit: 'timeout',
  failed: 'failed_test',
  failed_test: 'failed_test',
  wrong_answer: 'failed_test',
  no_tests: 'no_tests',
};

/**
 * Map a verifier verdict to the official outcome class. `passed: true` wins
 * over the status. Memory / output-limit failures are non-zero exits in the
 * official harness, hence runtime_error. Unknown statuses (e.g. sandbox or
 * harness violations) are 'other', which gets the official fallback values
 * (coderl −1, hybrid bonus 0) — the most punitive class.
 */
export function classifyVerdict(verdict: ExecVerdictSummary): ExecOutcome {
  if (verdict.passed) return 'passed';
  const key = verdict.status.trim().toLowerCase();
  const outcome = STATUS_TO_OUTCOME[key] ?? 'other';
  // A status claiming success without passed=true is not trusted.
  return outcome === 'passed' ? 'failed_test' : outcome;
}

/** Per-test statuses that are a non-zero exit in the official harness (a crash, a limit kill). */
const NONZERO_EXIT_STATUSES = new Set(['runtime_error', 'error', 'crash', 'memory', 'memory_limit', 'output_limit']);

/**
 * Outcome class of one failing test by the official rule (classify_execution
 * in src/tracelift/reward_utils.py): timeout; a non-zero exit whose error
 * names SyntaxError or IndentationError (also one raised at run time, e.g. by
 * eval) is compile_error, any other is runtime_error; a wrong answer is
 * failed_test. A failure of our sandbox or harness has no official
 * counterpart and gets 'other' (the official fallback values).
 */
export function classifyTestFailure(failure: TestFailure): ExecOutcome {
  const status = failure.status.trim().toLowerCase();
  const outcome = STATUS_TO_OUTCOME[status];
  if (outcome === 'timeout' || outcome === 'compile_error' || outcome === 'failed_test') return outcome;
  if (NONZERO_EXIT_STATUSES.has(status)) {
    return /SyntaxError|IndentationError/.test(failure.message ?? '') ? 'compile_error' : 'runtime_error';
  }
  return 'other';
}

/**
 * The official outcome class: passed only with at least one test; no_tests
 * when there are none; otherwise the class of the first failing test.
 * Without `firstFailure` it is inferred where our verifier's summary says
 * it exactly (its aggregate rule: a compile failure fails every test;
 * status "failed" means no test crashed or timed out; with one failing test
 * the summary is that test). Returns null where it cannot be told.
 */
export function classifyFirstFailure(verdict: ExecVerdictSummary): ExecOutcome | null {
  if (!(verdict.testsTotal > 0)) return 'no_tests';
  if (verdict.passed) return 'passed';
  if (verdict.firstFailure) return classifyTestFailure(verdict.firstFailure);
  const status = verdict.status.trim().toLowerCase();
  const summary = STATUS_TO_OUTCOME[status];
  if (summary === 'compile_error' || summary === 'failed_test') return summary;
  if (verdict.testsTotal - verdict.testsPassed === 1) return classifyTestFailure({ status, message: verdict.failureMessage ?? null });
  return null;
}

/** Outcome class under a rule; null only for first_failure when the verdict cannot tell. */
export function classifyExecution(verdict: ExecVerdictSummary, rule: CodeOutcomeRule = 'summary'): ExecOutcome | null {
  return rule === 'first_failure' ? classifyFirstFailure(verdict) : classifyVerdict(verdict);
}

function passRate(v: ExecVerdictSummary): number {
  if (!(v.testsTotal > 0)) return 0;
  return clamp(v.testsPassed / v.testsTotal, 0, 1);
}

/**
 * Shaped exec reward of one program (official exec_reward). Under the
 * official rule a program passes only with at least one test, as
 * `execution_ok` in the official harness.
 */
export function shapeExecReward(verdict: ExecVerdictSummary, style: ExecStyle, rule: CodeOutcomeRule = 'summary'): number {
  const official = rule === 'first_failure';
  const allPassed = official ? verdict.passed && verdict.testsTotal > 0 : verdict.passed;
  const outcomeOf = (): ExecOutcome => {
    const outcome = classifyExecution(verdict, rule);
    if (outcome === null) throw new Error("the 'first_failure' outcome rule needs this verdict's first failing test (firstFailure)");
    return outcome;
  };
  switch (style) {
    case 'binary':
      return allPassed ? 1 : 0;
    case 'pass_rate':
      return !official && verdict.passed && !(verdict.testsTotal > 0) ? 1 : passRate(verdict);
    case 'coderl': {
      switch (outcomeOf()) {
        case 'passed':
          return 1;
        case 'compile_error':
          return -1;
        case 'runtime_error':
        case 'timeout':
          return -0.6;
        case 'failed_test':
          return -0.3;
        default:
          return -1;
      }
    }
    case 'hybrid': {
      const outcome = outcomeOf();
      const rate = !official && verdict.passed && !(verdict.testsTotal > 0) ? 1 : passRate(verdict);
      let bonus = 0;
      if (outcome === 'passed' || outcome === 'failed_test') bonus = 0.2;
      else if (outcome === 'runtime_error' || outcome === 'timeout') bonus = 0.05;
      return 0.8 * rate + bonus;
    }
    default: {
      const never: never = style;
      throw new Error(`unknown exec reward style: ${String(never)}`);
    }
  }
}

// ---------------------------------------------------------------------------
// Uplift / utility coefficient
// ---------------------------------------------------------------------------

/**
 * Official equal-count coefficient (code.py equal_success_coeff) for c
 * successes out of k when with-trace and no-trace counts are equal.
 */
export function equalCountCoeff(c: number, k: number, overrides?: Readonly<Record<number, number>>): number {
  if (c <= 0) return 0;
  const o = overrides?.[c];
  if (o !== undefined) return clamp(o, 0, 1);
  if (c >= k) return 1;
  if (k === 3 && c === 1) return 0.5;
  return c / k;
}

/**
 * Utility coefficient for code: compare c with the expected no-trace count
 * b·k (our cached-baseline adaptation of the official count comparison).
 */
export function utilityCoeff(
  c: number,
  k: number,
  baselineRate: number,
  tieEpsilon: number = DEFAULT_REWARD_OPTIONS.tieEpsilon,
  overrides?: Readonly<Record<number, number>>,
): number {
  const expected = baselineRate * k;
  if (c > expected + tieEpsilon) return 1;
  if (c < expected - tieEpsilon) return -1;
  return equalCountCoeff(c, k, overrides);
}

/**
 * The official coefficient in expectation when the no-trace count is not
 * observed but drawn: E[coeff(c, C_b)] with C_b ~ Binomial(k, b), the
 * official estimator (k fresh no-trace samples per trace) for a problem
 * whose no-trace success rate is b. Compare with utilityCoeff(c, k, b),
 * which our cached baseline uses (docs/official-protocol.md §5 tabulates both).
 */
export function officialExpectedCoeff(c: number, k: number, b: number, overrides?: Readonly<Record<number, number>>): number {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  if (!Number.isInteger(c) || c < 0 || c > k) throw new RangeError(`c must be an integer in [0, ${k}], got ${c}`);
  if (!(b >= 0 && b <= 1)) throw new RangeError(`b must be in [0,1], got ${b}`);
  let expected = 0;
  let choose = 1; // C(k, j), updated as j grows
  for (let j = 0; j <= k; j++) {
    if (j > 0) choose = (choose * (k - j + 1)) / j;
    const p = choose * b ** j * (1 - b) ** (k - j);
    const coeff = c > j ? 1 : c < j ? -1 : equalCountCoeff(c, k, overrides);
    expected += p * coeff;
  }
  return expected;
}

// ---------------------------------------------------------------------------
// computeReward
// ---------------------------------------------------------------------------

function needsRm(mode: RewardMode): boolean {
  return REWARD_MODE_ENDPOINT[mode] === 'rm';
}
function needsUplift(mode: RewardMode): boolean {
  return mode === 'tracelift' || mode === 'rm_uplift_only' || mode === 'llm_judge';
}
function needsExec(mode: RewardMode, kind: TaskKind): boolean {
  return kind === 'code' && mode !== 'rm_uplift_only';
}

/** Signals `input.mode` needs that `input` lacks. Empty when computeReward can run with these options. */
export function missingSignals(input: RewardInput, options: RewardOptions = {}): RewardSignal[] {
  const out: RewardSignal[] = [];
  if (needsExec(input.mode, input.taskKind)) {
    if (!input.execVerdict) out.push('execVerdict');
    else {
      const style = options.execStyle ?? DEFAULT_REWARD_OPTIONS.execStyle;
      const shapedByOutcome = style === 'coderl' || style === 'hybrid';
      if (shapedByOutcome && classifyExecution(input.execVerdict, options.codeOutcome ?? 'summary') === null) out.push('firstFailure');
    }
  }
  if (needsRm(input.mode) && (input.rmScore === undefined || input.rmScore === null)) out.push('rm');
  if (input.mode === 'llm_judge' && (input.judgeScore === undefined || input.judgeScore === null)) out.push('judge');
  if (needsUplift(input.mode)) {
    if (!(input.k >= 1)) out.push('withTrace');
    if (!(input.baselineSamples >= 1)) out.push('baseline');
  }
  return out;
}

function assertFinite(name: string, x: unknown): asserts x is number {
  if (typeof x !== 'number' || !Number.isFinite(x)) {
    throw new RangeError(`reward input ${name} must be a finite number, got ${String(x)}`);
  }
}

function validate(input: RewardInput, opts: typeof DEFAULT_REWARD_OPTIONS): void {
  if (!isChoice(REWARD_MODES, input.mode)) throw new RangeError(`unknown reward mode: ${String(input.mode)}`);
  if (input.taskKind !== 'math' && input.taskKind !== 'code') {
    throw new RangeError(`unknown task kind: ${String(input.taskKind)}`);
  }
  if (!isChoice(EXEC_STYLES, opts.execStyle)) throw new RangeError(`unknown exec reward style: ${String(opts.execStyle)}`);
  if (!isChoice(CODE_OUTCOME_RULES, opts.codeOutcome)) throw new RangeError(`unknown code outcome rule: ${String(opts.codeOutcome)}`);
  assertFinite('e2e', input.e2e);
  if (input.e2e < 0 || input.e2e > 1) throw new RangeError(`reward input e2e must be in [0,1], got ${input.e2e}`);
  assertFinite('k', input.k);
  assertFinite('withTraceSuccesses', input.withTraceSuccesses);
  if (!Number.isInteger(input.k) || input.k < 0) throw new RangeError(`reward input k must be a non-negative integer, got ${input.k}`);
  if (!Number.isInteger(input.withTraceSuccesses) || input.withTraceSuccesses < 0 || input.withTraceSuccesses > input.k) {
    throw new RangeError(`reward input withTraceSuccesses must be an integer in [0, k=${input.k}], got ${input.withTraceSuccesses}`);
  }
  assertFinite('baselineSamples', input.baselineSamples);
  if (input.baselineSamples < 0) throw new RangeError(`reward input baselineSamples must be ≥ 0, got ${input.baselineSamples}`);
  assertFinite('baselineRate', input.baselineRate);
  if (input.baselineRate < 0 || input.baselineRate > 1) {
    throw new RangeError(`reward input baselineRate must be in [0,1], got ${input.baselineRate}`);
  }
  if (input.rmScore !== undefined && input.rmScore !== null) assertFinite('rmScore', input.rmScore);
  if (input.judgeScore !== undefined && input.judgeScore !== null) assertFinite('judgeScore', input.judgeScore);
  if (input.execVerdict) {
    assertFinite('execVerdict.testsPassed', input.execVerdict.testsPassed);
    assertFinite('execVerdict.testsTotal', input.execVerdict.testsTotal);
  }
  for (const [name, w] of [
    ['codeRmWeight', opts.codeRmWeight],
    ['mathE2eWeight', opts.mathE2eWeight],
    ['mathReasonWeight', opts.mathReasonWeight],
    ['tieEpsilon', opts.tieEpsilon],
  ] as const) {
    assertFinite(name, w);
    if (w < 0) throw new RangeError(`reward option ${name} must be ≥ 0, got ${w}`);
  }
}

/** Format a number for formulas: up to 4 decimals, no trailing zeros, no "-0". */
export function fmt(x: number): string {
  const r = Math.round(x * 10_000) / 10_000;
  return String(Object.is(r, -0) ? 0 : r);
}

/** Wrap negative numbers in parentheses inside a product. */
function fp(x: number): string {
  const s = fmt(x);
  return s.startsWith('-') ? `(${s})` : s;
}

/**
 * Compute the reward of one trace. Pure; throws MissingSignalError when the
 * mode needs a signal the input lacks, RangeError on invalid numbers.
 */
export function computeReward(input: RewardInput, options: RewardOptions = {}): RewardBreakdown {
  const opts = {
    execStyle: options.execStyle ?? DEFAULT_REWARD_OPTIONS.execStyle,
    codeRmWeight: options.codeRmWeight ?? DEFAULT_REWARD_OPTIONS.codeRmWeight,
    mathE2eWeight: options.mathE2eWeight ?? DEFAULT_REWARD_OPTIONS.mathE2eWeight,
    mathReasonWeight: options.mathReasonWeight ?? DEFAULT_REWARD_OPTIONS.mathReasonWeight,
    tieEpsilon: options.tieEpsilon ?? DEFAULT_REWARD_OPTIONS.tieEpsilon,
    codeOutcome: options.codeOutcome ?? DEFAULT_REWARD_OPTIONS.codeOutcome,
  } as typeof DEFAULT_REWARD_OPTIONS;
  validate(input, opts);
  const missing = missingSignals(input, opts);
  if (missing.length > 0) throw new MissingSignalError(input.mode, input.taskKind, missing);

  const { mode, taskKind } = input;
  const c: Record<string, number> = { e2e: input.e2e };

  // The reason score: RM, or the judge in llm_judge mode.
  const scoreName = mode === 'llm_judge' ? 'judge' : 'rm';
  let score = 0;
  if (mode === 'llm_judge') {
    c.judge = input.judgeScore as number;
    score = clamp(c.judge, 0, 1);
  } else if (needsRm(mode)) {
    c.rm = input.rmScore as number;
    score = clamp(c.rm, 0, 1);
  }
  if (input.rmScore !== undefined && input.rmScore !== null && c.rm === undefined) c.rm = input.rmScore;
  if (input.judgeScore !== undefined && input.judgeScore !== null && c.judge === undefined) c.judge = input.judgeScore;
  const scoreTerm = `clamp(${scoreName},0,1)`;

  if (needsUplift(mode)) {
    c.withTraceSuccesses = input.withTraceSuccesses;
    c.k = input.k;
    c.withTraceRate = input.withTraceSuccesses / input.k;
    c.baselineRate = input.baselineRate;
    c.baselineSamples = input.baselineSamples;
  }

  let reward: number;
  let formula: string;

  if (taskKind === 'math') {
    const we = opts.mathE2eWeight;
    const wr = opts.mathReasonWeight;
    let uplift = 0;
    if (needsUplift(mode)) {
      uplift = clamp((c.withTraceRate as number) - input.baselineRate, -1, 1);
      c.uplift = uplift;
    }
    switch (mode) {
      case 'exec_only':
        reward = input.e2e;
        formula = `reward = e2e = ${fmt(reward)}`;
        break;
      case 'no_uplift':
        c.wE2e = we;
        c.wReason = wr;
        reward = we * input.e2e + wr * score;
        formula = `reward = ${fmt(we)}·e2e + ${fmt(wr)}·${scoreTerm} = ${fmt(we)}·${fp(input.e2e)} + ${fmt(wr)}·${fp(score)} = ${fmt(reward)}`;
        break;
      case 'rm_uplift_only':
        reward = score * uplift;
        formula = `reward = ${scoreTerm}·uplift = ${fp(score)}·${fp(uplift)} = ${fmt(reward)} (uplift = ${fmt(c.withTraceSuccesses as number)}/${fmt(input.k)} − ${fmt(input.baselineRate)})`;
        break;
      case 'tracelift':
      case 'llm_judge':
        c.wE2e = we;
        c.wReason = wr;
        reward = we * input.e2e + wr * score * uplift;
        formula = `reward = ${fmt(we)}·e2e + ${fmt(wr)}·${scoreTerm}·uplift = ${fmt(we)}·${fp(input.e2e)} + ${fmt(wr)}·${fp(score)}·${fp(uplift)} = ${fmt(reward)} (uplift = ${fmt(c.withTraceSuccesses as number)}/${fmt(input.k)} − ${fmt(input.baselineRate)})`;
        break;
      default: {
        const never: never = mode;
        throw new RangeError(`unknown reward mode: ${String(never)}`);
      }
    }
  } else {
    const w = opts.codeRmWeight;
    let exec = 0;
    if (needsExec(mode, taskKind)) {
      exec = shapeExecReward(input.execVerdict as ExecVerdictSummary, opts.execStyle, opts.codeOutcome);
      c.exec = exec;
    }
    let coeff = 0;
    if (needsUplift(mode)) {
      const expected = input.baselineRate * input.k;
      coeff = utilityCoeff(input.withTraceSuccesses, input.k, input.baselineRate, opts.tieEpsilon, options.equalCountCoeffs);
      c.expectedBaselineSuccesses = expected;
      c.coeff = coeff;
      // Logged by the official code (strict_uplift), not used in the reward.
      c.uplift = clamp((input.withTraceSuccesses - expected) / input.k, -1, 1);
    }
    const coeffNote = needsUplift(mode)
      ? ` (coeff: c=${fmt(input.withTraceSuccesses)} vs b·K=${fmt(input.baselineRate)}·${fmt(input.k)}=${fmt(input.baselineRate * input.k)})`
      : '';
    switch (mode) {
      case 'exec_only':
        reward = exec;
        formula = `reward = exec[${opts.execStyle}] = ${fmt(reward)}`;
        break;
      case 'no_uplift': {
        c.w = w;
        const raw = exec + w * score;
        reward = clamp(raw, 0, 1);
        formula = `reward = clamp(exec + ${fmt(w)}·${scoreTerm}, 0, 1) = clamp(${fp(exec)} + ${fmt(w)}·${fp(score)}, 0, 1) = ${fmt(reward)}`;
        break;
      }
      case 'rm_uplift_only':
        reward = score * coeff;
        formula = `reward = ${scoreTerm}·coeff = ${fp(score)}·${fp(coeff)} = ${fmt(reward)}${coeffNote}`;
        break;
      case 'tracelift':
      case 'llm_judge': {
        c.w = w;
        const raw = exec + w * score * coeff;
        reward = clamp(raw, 0, 1);
        formula = `reward = clamp(exec + ${fmt(w)}·${scoreTerm}·coeff, 0, 1) = clamp(${fp(exec)} + ${fmt(w)}·${fp(score)}·${fp(coeff)}, 0, 1) = ${fmt(reward)}${coeffNote}`;
        break;
      }
      default: {
        const never: never = mode;
        throw new RangeError(`unknown reward mode: ${String(never)}`);
      }
    }
  }

  c.reward = reward;
  return { mode, taskKind, reward, components: c, formula };
}

/** The run-contract shape (RewardBreakdownSchema in src/engine/contract/events.ts). */
export function toRewardBreakdownRecord(b: RewardBreakdown): {
  mode: string;
  value: number;
  components: Record<string, number>;
  formula: string;
} {
  return { mode: b.mode, value: b.reward, components: { ...b.components }, formula: b.formula };
}
