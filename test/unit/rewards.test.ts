import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  classifyExecution,
  classifyFirstFailure,
  classifyTestFailure,
  classifyVerdict,
  computeReward,
  equalCountCoeff,
  MissingSignalError,
  missingSignals,
  officialExpectedCoeff,
  shapeExecReward,
  toRewardBreakdownRecord,
  utilityCoeff,
  type ExecVerdictSummary,
  type RewardInput,
} from '../../src/engine/reward/rewards';

const close = (actual: number, expected: number, msg?: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${msg ?? ''} expected ${expected}, got ${actual}`);

const v = (status: string, testsPassed: number, testsTotal: number, passed = false): ExecVerdictSummary => ({
  passed,
  status,
  testsPassed,
  testsTotal,
});
const PASS = v('passed', 4, 4, true);
const FAIL_2_OF_4 = v('failed', 2, 4);
const SYNTAX = v('compile_error', 0, 4);
const RUNTIME = v('runtime_error', 1, 4);
const TIMEOUT = v('timeout', 0, 4);

function math(over: Partial<RewardInput>): RewardInput {
  return {
    mode: 'tracelift',
    taskKind: 'math',
    e2e: 1,
    withTraceSuccesses: 2,
    k: 3,
    baselineRate: 0.25,
    baselineSamples: 8,
    rmScore: 0.8,
    ...over,
  };
}
function code(over: Partial<RewardInput>): RewardInput {
  return {
    mode: 'tracelift',
    taskKind: 'code',
    e2e: 1,
    execVerdict: PASS,
    withTraceSuccesses: 2,
    k: 3,
    baselineRate: 0.25,
    baselineSamples: 8,
    rmScore: 0.8,
    ...over,
  };
}

describe('shapeExecReward', () => {
  test('binary', () => {
    assert.equal(shapeExecReward(PASS, 'binary'), 1);
    assert.equal(shapeExecReward(FAIL_2_OF_4, 'binary'), 0);
    assert.equal(shapeExecReward(SYNTAX, 'binary'), 0);
  });
  test('pass_rate', () => {
    assert.equal(shapeExecReward(PASS, 'pass_rate'), 1);
    assert.equal(shapeExecReward(FAIL_2_OF_4, 'pass_rate'), 0.5);
    assert.equal(shapeExecReward(v('failed', 0, 0), 'pass_rate'), 0);
  });
  test('coderl: 1 / -1 / -0.6 / -0.6 / -0.3 / -1', () => {
    assert.equal(shapeExecReward(PASS, 'coderl'), 1);
    assert.equal(shapeExecReward(SYNTAX, 'coderl'), -1);
    assert.equal(shapeExecReward(RUNTIME, 'coderl'), -0.6);
    assert.equal(shapeExecReward(TIMEOUT, 'coderl'), -0.6);
    assert.equal(shapeExecReward(FAIL_2_OF_4, 'coderl'), -0.3);
    assert.equal(shapeExecReward(v('no_tests', 0, 0), 'coderl'), -1);
    assert.equal(shapeExecReward(v('sandbox_violation', 0, 4), 'coderl'), -1);
  });
  test('hybrid: 0.8·pass_rate + bonus', () => {
    close(shapeExecReward(PASS, 'hybrid'), 1.0);
    close(shapeExecReward(FAIL_2_OF_4, 'hybrid'), 0.8 * 0.5 + 0.2);
    close(shapeExecReward(RUNTIME, 'hybrid'), 0.8 * 0.25 + 0.05);
    close(shapeExecReward(TIMEOUT, 'hybrid'), 0.05);
    close(shapeExecReward(SYNTAX, 'hybrid'), 0);
    close(shapeExecReward(v('mystery', 1, 4), 'hybrid'), 0.2);
  });
  test('classifyVerdict mapping', () => {
    assert.equal(classifyVerdict(v('memory', 0, 1)), 'runtime_error');
    assert.equal(classifyVerdict(v('output_limit', 0, 1)), 'runtime_error');
    assert.equal(classifyVerdict(v('error', 0, 1)), 'runtime_error');
    assert.equal(classifyVerdict(v('syntax_error', 0, 1)), 'compile_error');
    assert.equal(classifyVerdict(v('wrong_answer', 0, 1)), 'failed_test');
    // a "passed" status without passed=true is not trusted
    assert.equal(classifyVerdict(v('passed', 3, 4, false)), 'failed_test');
    assert.equal(classifyVerdict(v('weird', 0, 1)), 'other');
  });
});

describe('equal-count rule', () => {
  test('every branch', () => {
    assert.equal(equalCountCoeff(0, 3), 0);
    assert.equal(equalCountCoeff(3, 3), 1);
    assert.equal(equalCountCoeff(1, 3), 0.5);
    close(equalCountCoeff(2, 3), 2 / 3);
    assert.equal(equalCountCoeff(1, 4), 0.25);
    assert.equal(equalCountCoeff(4, 4), 1);
    assert.equal(equalCountCoeff(2, 4, { 2: 0.9 }), 0.9);
    assert.equal(equalCountCoeff(2, 4, { 2: 7 }), 1);
    assert.equal(equalCountCoeff(0, 4, { 0: 0.9 }), 0);
  });
  test('utilityCoeff compares c with b·k', () => {
    assert.equal(utilityCoeff(2, 3, 0.5), 1); // 2 > 1.5
    assert.equal(utilityCoeff(1, 3, 0.5), -1); // 1 < 1.5
    assert.equal(utilityCoeff(0, 3, 0), 0); // tie at 0
    assert.equal(utilityCoeff(3, 3, 1), 1); // tie at K
    assert.equal(utilityCoeff(1, 3, 1 / 3), 0.5); // tie, K=3 c=1
    close(utilityCoeff(2, 3, 2 / 3), 2 / 3); // tie, c/K
    assert.equal(utilityCoeff(1, 4, 0.25), 0.25); // tie, c/K with K=4
    assert.equal(utilityCoeff(1, 3, 0.375), -1); // 1 < 1.125
    assert.equal(utilityCoeff(1, 3, 0.375, 0.5), 0.5); // widened tie band
  });
});

describe('computeReward — math', () => {
  test('tracelift: 0.5·e2e + 0.5·rm·uplift', () => {
    const b = computeReward(math({}));
    // uplift = 2/3 − 0.25
    const uplift = 2 / 3 - 0.25;
    close(b.reward, 0.5 + 0.5 * 0.8 * uplift);
    close(b.components.uplift!, uplift);
    assert.equal(b.components.rm, 0.8);
    assert.equal(b.components.e2e, 1);
    assert.match(b.formula, /0\.5·e2e \+ 0\.5·clamp\(rm,0,1\)·uplift/);
    assert.match(b.formula, /= 0\.6667$|0\.6667 \(uplift/);
  });
  test('tracelift: negative uplift', () => {
    const b = computeReward(math({ e2e: 0, withTraceSuccesses: 0, baselineRate: 0.75 }));
    close(b.components.uplift!, -0.75);
    close(b.reward, 0.5 * 0.8 * -0.75);
    assert.ok(b.formula.includes('(-0.75)'));
  });
  test('tracelift: rm clamped to [0,1]', () => {
    close(computeReward(math({ rmScore: 1.7 })).reward, 0.5 + 0.5 * 1 * (2 / 3 - 0.25));
    close(computeReward(math({ rmScore: -0.3 })).reward, 0.5);
    assert.equal(computeReward(math({ rmScore: 1.7 })).components.rm, 1.7); // raw kept for display
  });
  test('tracelift: extremes', () => {
    close(computeReward(math({ e2e: 1, withTraceSuccesses: 3, baselineRate: 0, rmScore: 1 })).reward, 1);
    close(computeReward(math({ e2e: 0, withTraceSuccesses: 0, baselineRate: 1, rmScore: 1 })).reward, -0.5);
  });
  test('exec_only: e2e', () => {
    const b = computeReward(math({ mode: 'exec_only', e2e: 0.5, rmScore: null, baselineSamples: 0, k: 0, withTraceSuccesses: 0 }));
    assert.equal(b.reward, 0.5);
    assert.equal(b.formula, 'reward = e2e = 0.5');
  });
  test('no_uplift: 0.5·e2e + 0.5·rm, needs no samples', () => {
    const b = computeReward(math({ mode: 'no_uplift', e2e: 0, k: 0, withTraceSuccesses: 0, baselineSamples: 0 }));
    close(b.reward, 0.4);
    assert.equal(b.components.uplift, undefined);
  });
  test('rm_uplift_only: rm·uplift', () => {
    close(computeReward(math({ mode: 'rm_uplift_only' })).reward, 0.8 * (2 / 3 - 0.25));
    close(computeReward(math({ mode: 'rm_uplift_only', withTraceSuccesses: 0, baselineRate: 0.5 })).reward, -0.4);
  });
  test('llm_judge: judge replaces rm', () => {
    const b = computeReward(math({ mode: 'llm_judge', rmScore: null, judgeScore: 0.99 }));
    close(b.reward, 0.5 + 0.5 * 0.99 * (2 / 3 - 0.25));
    assert.equal(b.components.judge, 0.99);
    assert.equal(b.components.rm, undefined);
    assert.match(b.formula, /clamp\(judge,0,1\)/);
  });
  test('custom weights', () => {
    close(computeReward(math({}), { mathE2eWeight: 1, mathReasonWeight: 1 }).reward, 1 + 0.8 * (2 / 3 - 0.25));
  });
  test('k counts only samples that produced output', () => {
    // 1 of 2 valid samples succeeded (third call failed) → rate 0.5
    close(computeReward(math({ withTraceSuccesses: 1, k: 2, baselineRate: 0 })).components.uplift!, 0.5);
  });
});

describe('computeReward — code', () => {
  test('tracelift: coeff +1 (c > b·K)', () => {
    const b = computeReward(code({ execVerdict: FAIL_2_OF_4 }), { execStyle: 'pass_rate' });
    assert.equal(b.components.coeff, 1);
    close(b.reward, 0.5 + 0.2 * 0.8);
    close(b.components.expectedBaselineSuccesses!, 0.75);
  });
  test('tracelift: coeff −1 (c < b·K)', () => {
    const b = computeReward(code({ execVerdict: FAIL_2_OF_4, withTraceSuccesses: 1, baselineRate: 0.5 }), {
      execStyle: 'pass_rate',
    });
    assert.equal(b.components.coeff, -1);
    close(b.reward, 0.5 - 0.16);
  });
  test('tracelift: equal counts, every branch', () => {
    const at = (c: number, k: number, rate: number) =>
      computeReward(code({ execVerdict: FAIL_2_OF_4, withTraceSuccesses: c, k, baselineRate: rate, rmScore: 1 }), {
        execStyle: 'pass_rate',
      });
    let b = at(0, 3, 0);
    assert.equal(b.components.coeff, 0);
    close(b.reward, 0.5);
    b = at(3, 3, 1);
    assert.equal(b.components.coeff, 1);
    close(b.reward, 0.7);
    b = at(1, 3, 1 / 3);
    assert.equal(b.components.coeff, 0.5); // K=3, c=1
    close(b.reward, 0.6);
    b = at(2, 3, 2 / 3);
    close(b.components.coeff!, 2 / 3);
    close(b.reward, 0.5 + 0.2 * (2 / 3));
    b = at(3, 4, 0.75);
    assert.equal(b.components.coeff, 0.75);
  });
  test('tracelift: clamp to [0,1]', () => {
    close(computeReward(code({ rmScore: 1, withTraceSuccesses: 3, baselineRate: 0 }), { execStyle: 'binary' }).reward, 1);
    close(computeReward(code({ execVerdict: SYNTAX, withTraceSuccesses: 0, baselineRate: 0.5 }), { execStyle: 'coderl' }).reward, 0);
    close(computeReward(code({ execVerdict: SYNTAX, withTraceSuccesses: 0, baselineRate: 0.5 }), { execStyle: 'binary' }).reward, 0);
  });
  test('tracelift: default style hybrid, default w = 0.2', () => {
    const b = computeReward(code({ execVerdict: FAIL_2_OF_4 }));
    close(b.components.exec!, 0.6);
    close(b.reward, 0.6 + 0.2 * 0.8 * 1);
    assert.equal(b.components.w, 0.2);
    assert.match(b.formula, /clamp\(exec \+ 0\.2·clamp\(rm,0,1\)·coeff, 0, 1\) = clamp\(0\.6 \+ 0\.2·0\.8·1, 0, 1\) = 0\.76/);
  });
  test('exec_only: shaped exec, unclamped', () => {
    const b = computeReward(code({ mode: 'exec_only', execVerdict: RUNTIME, rmScore: null }), { execStyle: 'coderl' });
    assert.equal(b.reward, -0.6);
  });
  test('no_uplift: coeff fixed at +1', () => {
    const b = computeReward(code({ mode: 'no_uplift', execVerdict: FAIL_2_OF_4, k: 0, withTraceSuccesses: 0, baselineSamples: 0 }), {
      execStyle: 'binary',
    });
    close(b.reward, 0.16);
    assert.equal(b.components.coeff, undefined);
  });
  test('rm_uplift_only: rm·coeff, negatives survive, needs no verdict', () => {
    const b = computeReward(code({ mode: 'rm_uplift_only', execVerdict: null, withTraceSuccesses: 0, baselineRate: 0.5 }));
    close(b.reward, -0.8);
    assert.equal(b.components.exec, undefined);
  });
  test('llm_judge', () => {
    const b = computeReward(code({ mode: 'llm_judge', rmScore: null, judgeScore: 0.5 }), { execStyle: 'binary' });
    close(b.reward, 1); // 1 + 0.2·0.5·1 clamped
    const b2 = computeReward(code({ mode: 'llm_judge', execVerdict: FAIL_2_OF_4, rmScore: null, judgeScore: 0.5 }), {
      execStyle: 'binary',
    });
    close(b2.reward, 0.1);
  });
  test('codeRmWeight option', () => {
    close(computeReward(code({ execVerdict: FAIL_2_OF_4 }), { execStyle: 'binary', codeRmWeight: 0.5 }).reward, 0.4);
  });
});

describe('missing signals and validation', () => {
  test('missing RM throws naming rm', () => {
    assert.throws(
      () => computeReward(math({ rmScore: null })),
      (e: unknown) => e instanceof MissingSignalError && e.signals.includes('rm') && /rmScore/.test(e.message),
    );
  });
  test('missing judge', () => {
    assert.deepEqual(missingSignals(math({ mode: 'llm_judge', judgeScore: undefined })), ['judge']);
  });
  test('missing code verdict', () => {
    assert.deepEqual(missingSignals(code({ execVerdict: undefined })), ['execVerdict']);
    assert.throws(() => computeReward(code({ execVerdict: undefined })), MissingSignalError);
  });
  test('no valid with-trace sample / no baseline', () => {
    assert.deepEqual(missingSignals(math({ k: 0, withTraceSuccesses: 0, baselineSamples: 0 })), ['withTrace', 'baseline']);
    assert.deepEqual(missingSignals(math({ mode: 'exec_only', k: 0, withTraceSuccesses: 0, rmScore: null })), []);
  });
  test('invalid numbers', () => {
    assert.throws(() => computeReward(math({ e2e: Number.NaN })), RangeError);
    assert.throws(() => computeReward(math({ e2e: 1.5 })), RangeError);
    assert.throws(() => computeReward(math({ withTraceSuccesses: 4 })), RangeError);
    assert.throws(() => computeReward(math({ withTraceSuccesses: 1.5 })), RangeError);
    assert.throws(() => computeReward(math({ baselineRate: -0.1 })), RangeError);
    assert.throws(() => computeReward(math({ rmScore: Number.POSITIVE_INFINITY })), RangeError);
    assert.throws(() => computeReward(math({ mode: 'bogus' as never })), RangeError);
  });
  test('record shape for the run contract', () => {
    const r = toRewardBreakdownRecord(computeReward(math({})));
    assert.equal(r.mode, 'tracelift');
    assert.equal(typeof r.value, 'number');
    assert.ok(Object.values(r.components).every((x) => Number.isFinite(x)));
  });
});

describe('official outcome rule (first failing test)', () => {
  // Each case: what our verifier reports, the official class, our summary class.
  const withFirst = (status: string, passed: number, total: number, first: { status: string; message?: string }) => ({
    ...v(status, passed, total),
    firstFailure: first,
  });

  test('a wrong answer before a crash is failed_test (ours: runtime_error)', () => {
    // Test 0 wrong output, test 1 crashes: our aggregate status is the first error-like test.
    const verdict = withFirst('runtime_error', 2, 4, { status: 'failed', message: 'expected 3, got 4' });
    assert.equal(classifyExecution(verdict, 'summary'), 'runtime_error');
    assert.equal(classifyExecution(verdict, 'first_failure'), 'failed_test');
    close(shapeExecReward(verdict, 'coderl', 'first_failure'), -0.3);
    close(shapeExecReward(verdict, 'coderl', 'summary'), -0.6);
    close(shapeExecReward(verdict, 'hybrid', 'first_failure'), 0.8 * 0.5 + 0.2);
    close(shapeExecReward(verdict, 'hybrid', 'summary'), 0.8 * 0.5 + 0.05);
  });

  test('zero tests is no_tests (ours: failed_test)', () => {
    const verdict = v('failed', 0, 0);
    assert.equal(classifyExecution(verdict, 'summary'), 'failed_test');
    assert.equal(classifyExecution(verdict, 'first_failure'), 'no_tests');
    close(shapeExecReward(verdict, 'coderl', 'first_failure'), -1);
    close(shapeExecReward(verdict, 'hybrid', 'first_failure'), 0);
    close(shapeExecReward(verdict, 'hybrid', 'summary'), 0.2);
    // Even a verdict claiming success is not ok without a test (official execution_ok).
    assert.equal(shapeExecReward(v('passed', 0, 0, true), 'binary', 'first_failure'), 0);
    assert.equal(shapeExecReward(v('passed', 0, 0, true), 'binary', 'summary'), 1);
  });

  test('a SyntaxError raised at run time is compile_error (ours: runtime_error)', () => {
    const verdict = withFirst('runtime_error', 0, 3, {
      status: 'runtime_error',
      message: 'SyntaxError: invalid syntax (<string>, line 1)',
    });
    assert.equal(classifyExecution(verdict, 'summary'), 'runtime_error');
    assert.equal(classifyExecution(verdict, 'first_failure'), 'compile_error');
    close(shapeExecReward(verdict, 'coderl', 'first_failure'), -1);
    close(shapeExecReward(verdict, 'hybrid', 'first_failure'), 0);
    assert.equal(classifyTestFailure({ status: 'runtime_error', message: 'IndentationError: unexpected indent' }), 'compile_error');
    // TabError names neither: the official substring test calls it a runtime error.
    assert.equal(classifyTestFailure({ status: 'runtime_error', message: 'TabError: inconsistent use of tabs' }), 'runtime_error');
  });

  test('per-test statuses map as non-zero exits, timeouts and wrong answers', () => {
    assert.equal(classifyTestFailure({ status: 'timeout' }), 'timeout');
    assert.equal(classifyTestFailure({ status: 'memory', message: 'MemoryError' }), 'runtime_error');
    assert.equal(classifyTestFailure({ status: 'output_limit' }), 'runtime_error');
    assert.equal(classifyTestFailure({ status: 'syntax_error', message: 'SyntaxError: x' }), 'compile_error');
    assert.equal(classifyTestFailure({ status: 'failed', message: 'SyntaxError in the expected text' }), 'failed_test');
    assert.equal(classifyTestFailure({ status: 'sandbox_error' }), 'other');
  });

  test('without the first failure it is inferred only where the summary says it exactly', () => {
    assert.equal(classifyFirstFailure(v('passed', 4, 4, true)), 'passed');
    assert.equal(classifyFirstFailure(v('syntax_error', 0, 4)), 'compile_error');
    assert.equal(classifyFirstFailure(v('failed', 1, 4)), 'failed_test');
    // One failing test: the summary is that test, its message decides.
    assert.equal(classifyFirstFailure({ ...v('runtime_error', 3, 4), failureMessage: 'test 2: SyntaxError: bad' }), 'compile_error');
    assert.equal(classifyFirstFailure({ ...v('runtime_error', 3, 4), failureMessage: 'test 2: ZeroDivisionError: x' }), 'runtime_error');
    assert.equal(classifyFirstFailure(v('timeout', 3, 4)), 'timeout');
    // Several failures, the first error-like: a wrong answer may come first.
    assert.equal(classifyFirstFailure(v('runtime_error', 1, 4)), null);
    assert.equal(classifyFirstFailure(v('timeout', 0, 2)), null);
  });

  test('computeReward reports the missing first failure instead of guessing', () => {
    const input = code({ execVerdict: v('runtime_error', 1, 4) });
    assert.deepEqual(missingSignals(input, { execStyle: 'hybrid', codeOutcome: 'first_failure' }), ['firstFailure']);
    assert.deepEqual(missingSignals(input, { execStyle: 'hybrid' }), []);
    // binary and pass_rate do not read the outcome class.
    assert.deepEqual(missingSignals(input, { execStyle: 'pass_rate', codeOutcome: 'first_failure' }), []);
    assert.throws(
      () => computeReward(input, { execStyle: 'coderl', codeOutcome: 'first_failure' }),
      (e: unknown) => e instanceof MissingSignalError && e.signals.includes('firstFailure'),
    );
    const known = code({ execVerdict: { ...v('runtime_error', 1, 4), firstFailure: { status: 'failed' } }, withTraceSuccesses: 3 });
    const r = computeReward(known, { execStyle: 'coderl', codeOutcome: 'first_failure' });
    // exec −0.3 (failed_test), coeff +1 (3 > 0.25·3): clamp(−0.3 + 0.2·0.8·1, 0, 1) = 0
    close(r.components.exec!, -0.3);
    close(r.reward, 0);
    assert.throws(() => computeReward(known, { codeOutcome: 'bogus' as never }), RangeError);
  });
});

describe('official expected coefficient vs the cached-baseline coefficient', () => {
  test('closed forms', () => {
    for (const b of [0, 1 / 8, 0.5, 7 / 8, 1]) {
      close(officialExpectedCoeff(3, 3, b), 1, `c=3 b=${b}`);
      close(officialExpectedCoeff(0, 3, b), -(1 - (1 - b) ** 3), `c=0 b=${b}`);
    }
    // c=1, b=3/8: P(C_b=0)=125/512 → +1, P(1)=225/512 → 0.5, P(≥2)=162/512 → −1.
    close(officialExpectedCoeff(1, 3, 3 / 8), (125 + 112.5 - 162) / 512);
    // c=2, b=6/8: P(≤1)=10/64 → +1, P(2)=27/64 → 2/3, P(3)=27/64 → −1.
    close(officialExpectedCoeff(2, 3, 6 / 8), 1 / 64);
  });

  test('the two cells where the signs disagree (docs/official-protocol.md §5)', () => {
    assert.ok(officialExpectedCoeff(1, 3, 3 / 8) > 0);
    assert.equal(utilityCoeff(1, 3, 3 / 8), -1);
    assert.ok(officialExpectedCoeff(2, 3, 6 / 8) > 0);
    assert.equal(utilityCoeff(2, 3, 6 / 8), -1);
  });

  test('with an integer no-trace count the cached rule is the official rule', () => {
    // Per-trace baseline: b = c_b / 3, so b·k = c_b and every tie falls on the equal-count rule.
    for (let cw = 0; cw <= 3; cw++) {
      for (let cb = 0; cb <= 3; cb++) {
        const official = cw > cb ? 1 : cw < cb ? -1 : equalCountCoeff(cw, 3);
        assert.equal(utilityCoeff(cw, 3, cb / 3), official, `c_w=${cw} c_b=${cb}`);
      }
    }
  });

  test('rejects out-of-range arguments', () => {
    assert.throws(() => officialExpectedCoeff(4, 3, 0.5), RangeError);
    assert.throws(() => officialExpectedCoeff(1, 0, 0.5), RangeError);
    assert.throws(() => officialExpectedCoeff(1, 3, 1.5), RangeError);
  });
});
