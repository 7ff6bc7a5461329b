/**
 * Between the engine and the judge: the spec a run sends (program, tests
 * minus anything the engine can check itself, limits, a fresh nonce) and the
 * verdict built from the judge's records.
 *
 * The verdict comes only from fd 3 records that carry the run's nonce; the
 * program's stdout/stderr are never parsed for it. A test without a record
 * counts as failed (as timeout when the run was killed at the wall clock).
 * stdio outputs are compared here, outside the sandbox; their expected
 * outputs never enter it.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  CODE_MESSAGE_MAX,
  CODE_STDERR_TAIL_MAX,
  type CodeStatus,
  type CodeTestResult,
  type CodeTests,
  type CodeVerdict,
  type PyValue,
} from '../../contract/codeTests';
import type { HarnessFiles, SandboxResult } from '../../sandbox/runner';
import { sandboxPythonSource, type SandboxPythonFile } from '../../sandbox/pythonSources';
import { compareStdout } from './stdio';

/** Files written into the read-only harness directory (/judge/<id>/ in the sandbox). */
const HARNESS_FILES: readonly SandboxPythonFile[] = ['codec.py', 'judge.py', 'child.py'];

let loaded: HarnessFiles | undefined;

/**
 * The judge, the child and their codec, read from backend/ on first use. The
 * id hashes the bytes of every Python file a run uses (the preamble too), so
 * any change to them changes VERIFIER_VERSION and with it cached verdicts.
 */
function loadHarness(): HarnessFiles {
  if (!loaded) {
    const files: Record<string, string> = {};
    for (const name of HARNESS_FILES) files[name] = sandboxPythonSource(name);
    const hash = createHash('sha256');
    for (const name of [...HARNESS_FILES, 'preamble.py' as const]) {
      hash.update(name).update('\0').update(sandboxPythonSource(name)).update('\0');
    }
    loaded = { id: `h-${hash.digest('hex').slice(0, 16)}`, files };
  }
  return loaded;
}

export const HARNESS: HarnessFiles = {
  get id() {
    return loadHarness().id;
  },
  get files() {
    return loadHarness().files;
  },
};

export interface RunLimits {
  /** Wall-clock budget for the program and all its tests (seconds). */
  timeoutS: number;
  /** Limit for one test (seconds); default: the whole budget. */
  perTestTimeoutS?: number;
  /** Address-space limit of the program's process (MiB); also the sandbox-wide RSS budget. */
  memoryMb: number;
}

export type JudgeMode = 'verify' | 'record';

export interface JudgeContext {
  nonce: string;
  sandboxed: boolean;
  python: string;
  childPath: string;
}

export function newNonce(): string {
  return randomBytes(16).toString('hex');
}

/** Output cap for one stdio case: generous relative to the expected output. */
export function stdioOutputCap(expected: string): number {
  const bytes = Buffer.byteLength(expected, 'utf8');
  return Math.min(16 * 1024 * 1024, Math.max(64 * 1024, 2 * bytes + 64 * 1024));
}

/** Tests as the judge sees them (stdio expected outputs stripped). */
function judgeTests(tests: CodeTests, expected?: PyValue[], timeLimits?: number[]): Record<string, unknown> {
  switch (tests.kind) {
    case 'stdio':
      return { kind: 'stdio', cases: tests.cases.map((c) => ({ input: c.input, max_output: stdioOutputCap(c.output) })) };
    case 'evalplus':
      return {
        kind: 'evalplus',
        entry_point: tests.entry_point,
        inputs: tests.inputs,
        // One JSON text per output: the judge parses each only when its test runs.
        expected_json: (expected ?? tests.expected ?? []).map((e) => JSON.stringify(e)),
        ...(timeLimits ? { time_limits: timeLimits } : {}),
        atol: tests.atol ?? 0,
        oracle: tests.oracle ?? 'exact',
      };
    default:
      return { ...tests };
  }
}

export function buildJudgeSpec(
  program: string,
  tests: CodeTests,
  mode: JudgeMode,
  limits: RunLimits,
  ctx: JudgeContext,
  expected?: PyValue[],
  timeLimits?: number[],
): string {
  return JSON.stringify({
    nonce: ctx.nonce,
    sandboxed: ctx.sandboxed,
    python: ctx.python,
    child: ctx.childPath,
    program,
    mode,
    tests: judgeTests(tests, expected, timeLimits),
    limits: {
      timeout_s: limits.timeoutS,
      per_test_s: limits.perTestTimeoutS ?? limits.timeoutS,
      memory_mb: limits.memoryMb,
    },
  });
}

/** Number of tests known before running (humaneval: counted by the judge, 1 until it says). */
export function staticTestCount(tests: CodeTests): number {
  switch (tests.kind) {
    case 'humaneval':
      return 1;
    case 'asserts':
      return tests.asserts.length;
    case 'stdio':
    case 'functional':
      return tests.cases.length;
    case 'evalplus':
      return tests.inputs.length;
  }
}

export interface JudgeRecord {
  t: string;
  [key: string]: unknown;
}

export interface ParsedChannel {
  records: JudgeRecord[];
  /** Lines without the run's nonce or not JSON (a forgery attempt or corruption). */
  rejected: number;
}

export function parseChannel(channel: Buffer, nonce: string): ParsedChannel {
  const records: JudgeRecord[] = [];
  let rejected = 0;
  for (const line of channel.toString('utf8').split('\n')) {
    if (!line.trim()) continue;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      rejected++;
      continue;
    }
    if (typeof obj !== 'object' || obj === null || (obj as { n?: unknown }).n !== nonce || typeof (obj as { t?: unknown }).t !== 'string') {
      rejected++;
      continue;
    }
    records.push(obj as JudgeRecord);
  }
  return { records, rejected };
}

const clip = (s: string, n = CODE_MESSAGE_MAX) => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);
const tail = (s: string, n = CODE_STDERR_TAIL_MAX) => (s.length <= n ? s : s.slice(s.length - n));

const ERRORISH: readonly CodeStatus[] = ['timeout', 'memory', 'output_limit', 'runtime_error', 'sandbox_error'];
const TEST_STATUSES = new Set<string>(['passed', 'failed', 'syntax_error', 'runtime_error', 'timeout', 'memory', 'output_limit']);

/** Overall status from per-test results (see CodeVerdictSchema.status). */
export function aggregateStatus(results: readonly CodeTestResult[]): CodeStatus {
  if (results.some((r) => r.status === 'syntax_error')) return 'syntax_error';
  if (results.length > 0 && results.every((r) => r.status === 'passed')) return 'passed';
  const firstError = results.find((r) => ERRORISH.includes(r.status));
  return firstError ? firstError.status : 'failed';
}

export interface VerdictInput {
  tests: CodeTests;
  run: SandboxResult;
  nonce: string;
}

export function buildVerdict({ tests, run, nonce }: VerdictInput): CodeVerdict {
  const { records } = parseChannel(run.channel, nonce);
  const hello = records.some((r) => r.t === 'hello');
  const end = records.find((r) => r.t === 'end');
  const meta = records.find((r) => r.t === 'meta');
  const compile = records.find((r) => r.t === 'compile_error');
  const abort = records.find((r) => r.t === 'abort');
  const judgeError = records.find((r) => r.t === 'judge_error');
  let total = typeof meta?.total === 'number' && Number.isInteger(meta.total) && meta.total >= 0 ? meta.total : staticTestCount(tests);
  if (total === 0) total = staticTestCount(tests);

  const results: (CodeTestResult | undefined)[] = new Array(total).fill(undefined);
  for (const r of records) {
    if ((r.t !== 'test' && r.t !== 'case') || typeof r.i !== 'number' || !Number.isInteger(r.i) || r.i < 0 || r.i >= total) continue;
    if (results[r.i]) continue; // first record wins
    const ms = typeof r.ms === 'number' ? r.ms : undefined;
    let status: CodeStatus;
    let message = typeof r.msg === 'string' ? r.msg : undefined;
    if (r.t === 'case') {
      if (tests.kind !== 'stdio') continue;
      if (r.status === 'ok') {
        const expected = tests.cases[r.i]!.output;
        const m = compareStdout(typeof r.stdout === 'string' ? r.stdout : '', expected);
        status = m.ok ? 'passed' : 'failed';
        message = m.reason;
      } else {
        status = TEST_STATUSES.has(String(r.status)) ? (r.status as CodeStatus) : 'runtime_error';
      }
    } else {
      status = TEST_STATUSES.has(String(r.status)) ? (r.status as CodeStatus) : 'runtime_error';
    }
    results[r.i] = { index: r.i, status, ...(message ? { message: clip(message) } : {}), ...(ms !== undefined ? { duration_ms: ms } : {}) };
  }

  // Tests without a record.
  let missing: { status: CodeStatus; message: string };
  if (compile) missing = { status: 'syntax_error', message: String(compile.msg ?? 'syntax error') };
  else if (run.timedOut) missing = { status: 'timeout', message: 'killed at the wall-clock limit' };
  else if (run.channelOverflow) missing = { status: 'output_limit', message: 'result channel overflow' };
  else if (abort)
    missing = {
      status: TEST_STATUSES.has(String(abort.status)) ? (abort.status as CodeStatus) : 'runtime_error',
      message: String(abort.msg ?? ''),
    };
  else if (judgeError) missing = { status: 'sandbox_error', message: `harness error: ${String(judgeError.msg ?? '')}` };
  else if (!hello) missing = { status: 'sandbox_error', message: sandboxFailure(run) };
  else if (!end) missing = { status: 'runtime_error', message: 'the test harness was terminated (by the program?)' };
  else missing = { status: 'runtime_error', message: 'no result for this test' };
  const filled: CodeTestResult[] = results.map((r, i) => r ?? { index: i, status: missing.status, message: clip(missing.message) });

  const status = aggregateStatus(filled);
  const passedCount = filled.filter((r) => r.status === 'passed').length;
  const firstBad = filled.find((r) => r.status !== 'passed');
  const stderr = typeof end?.stderr === 'string' ? end.stderr : '';
  const verdict: CodeVerdict = {
    passed: status === 'passed',
    status,
    tests_passed: passedCount,
    tests_total: total,
    tests: filled,
    duration_ms: Math.max(0, Math.round(run.durationMs)),
    sandboxed: run.sandboxed,
  };
  if (firstBad?.message) verdict.message = clip(`test ${firstBad.index}: ${firstBad.message}`);
  else if (firstBad) verdict.message = clip(`test ${firstBad.index}: ${firstBad.status}`);
  if (stderr) verdict.stderr_tail = tail(stderr);
  return verdict;
}

function sandboxFailure(run: SandboxResult): string {
  if (run.spawnError) return `could not start the sandbox: ${run.spawnError}`;
  const err = run.stderr.trim().split('\n').slice(-3).join(' | ');
  return `the sandbox did not start the harness (exit ${run.exitCode ?? run.signal ?? '?'})${err ? `: ${err}` : ''}`;
}

/** Values reported by a record-mode run (reference outputs), by input index. */
export function recordedValues(
  run: SandboxResult,
  nonce: string,
  count: number,
): { values: (PyValue | undefined)[]; ms: number[]; errors: Map<number, string> } {
  const { records } = parseChannel(run.channel, nonce);
  const values: (PyValue | undefined)[] = new Array(count).fill(undefined);
  const ms: number[] = new Array(count).fill(0);
  const errors = new Map<number, string>();
  for (const r of records) {
    if (typeof r.i !== 'number' || r.i < 0 || r.i >= count) continue;
    if (r.t === 'test' && typeof r.ms === 'number') ms[r.i] = r.ms;
    if (r.t === 'value' && 'v' in r) values[r.i] = r.v as PyValue;
    else if (r.t === 'value_error') errors.set(r.i, String(r.msg ?? 'unstorable value'));
    else if (r.t === 'test' && r.status !== 'passed') errors.set(r.i, `${String(r.status)}: ${String(r.msg ?? '')}`);
  }
  for (const r of records) {
    if (r.t === 'compile_error' || r.t === 'judge_error' || r.t === 'abort') {
      for (let i = 0; i < count; i++) if (values[i] === undefined && !errors.has(i)) errors.set(i, `${r.t}: ${String(r.msg ?? '')}`);
    }
  }
  if (run.timedOut) for (let i = 0; i < count; i++) if (values[i] === undefined && !errors.has(i)) errors.set(i, 'timeout');
  return { values, ms, errors };
}
