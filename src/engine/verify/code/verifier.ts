/**
 * CodeVerifier: runs a program against its tests in the sandbox and returns a
 * CodeVerdict. One sandbox run per program (all its tests), many runs in
 * parallel (bounded by the runner's concurrency, default: CPU count).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CodeTests, CodeVerdict, EvalPlusTests, PyValue } from '../../contract/codeTests';
import { defaultCacheDir, EXPECTED_OUTPUTS_SUBDIR } from '../../contract/config';
import { SandboxRunner, type SandboxInfo, type SandboxOptions, type SandboxResult } from '../../sandbox/runner';
import { HARNESS, type JudgeMode, type RunLimits, buildJudgeSpec, buildVerdict, newNonce, recordedValues } from './harness';

export interface CodeVerifierOptions extends SandboxOptions {
  /** Share a runner (and its concurrency limit) between verifiers. */
  runner?: SandboxRunner;
  /** Default budget per program (seconds). Default 10; EvalPlus tests get more per input. */
  timeoutS?: number;
  /** Default per-test limit (seconds). Default: the whole budget. */
  perTestTimeoutS?: number;
  /** Address space of the program's process, MiB. Default 1024. */
  memoryMb?: number;
  /**
   * Where reference outputs (EvalPlus expected outputs) are cached on disk.
   * Default: $TRACELIFT_CACHE_DIR (or ~/.cache/tracelift)/expected-outputs; null: memory only.
   */
  expectedCacheDir?: string | null;
}

/** Bump when the typed-JSON encoding or the record protocol changes. */
export const EXPECTED_CACHE_VERSION = 'expected/v2';

export function defaultExpectedCacheDir(): string {
  return path.join(defaultCacheDir(), EXPECTED_OUTPUTS_SUBDIR);
}

export interface VerifyOptions {
  timeoutS?: number;
  perTestTimeoutS?: number;
  memoryMb?: number;
}

export interface BatchItem extends VerifyOptions {
  program: string;
  tests: CodeTests;
}

export interface ExpectedOutputs {
  /** One value per input; undefined where the reference failed. */
  outputs: (PyValue | undefined)[];
  /** The reference's time per input (ms), for EvalPlus-style time limits. */
  refMs?: number[];
  failures: { index: number; message: string }[];
}

/** EvalPlus's per-input limits: max(min_time_limit, factor × reference time). */
export const EVALPLUS_MIN_TIME_LIMIT_S = 1.0;
export const EVALPLUS_TIME_FACTOR = 4.0;

export class CodeVerifier {
  readonly runner: SandboxRunner;
  private readonly ownsRunner: boolean;
  private readonly expectedCache = new Map<string, Promise<ExpectedOutputs>>();

  constructor(private readonly opts: CodeVerifierOptions = {}) {
    this.runner = opts.runner ?? new SandboxRunner(opts);
    this.ownsRunner = !opts.runner;
  }

  /** Probes the sandbox (once). Throws SandboxUnavailableError with install help. */
  ready(): Promise<SandboxInfo> {
    return this.runner.info();
  }

  /** Default budget: 10 s (or the configured one); more for many EvalPlus inputs or stdin cases (≤ 120 s). */
  defaultTimeoutFor(tests: CodeTests): number {
    const base = this.opts.timeoutS ?? 10;
    if (tests.kind === 'evalplus') return base + 0.02 * tests.inputs.length;
    if (tests.kind === 'stdio' || tests.kind === 'functional') return Math.min(120, Math.max(base, 2 + 1 * tests.cases.length));
    return base;
  }

  private limitsFor(tests: CodeTests, o: VerifyOptions): RunLimits {
    const timeoutS = o.timeoutS ?? this.defaultTimeoutFor(tests);
    // LiveCodeBench gives each stdin/functional test 6 s.
    const perTest =
      o.perTestTimeoutS ?? this.opts.perTestTimeoutS ?? (tests.kind === 'stdio' || tests.kind === 'functional' ? 6 : undefined);
    return {
      timeoutS,
      ...(perTest !== undefined ? { perTestTimeoutS: Math.min(perTest, timeoutS) } : {}),
      // EvalPlus allows 4 GiB; its extreme inputs need it.
      memoryMb: o.memoryMb ?? this.opts.memoryMb ?? (tests.kind === 'evalplus' ? 4096 : 1024),
    };
  }

  private async runJudge(
    program: string,
    tests: CodeTests,
    mode: JudgeMode,
    limits: RunLimits,
    expected?: PyValue[],
    timeLimits?: number[],
  ): Promise<{ run: SandboxResult; nonce: string }> {
    const info = await this.runner.info();
    const nonce = newNonce();
    const childPath = await this.runner.harnessPath(HARNESS, 'child.py');
    const spec = buildJudgeSpec(
      program,
      tests,
      mode,
      limits,
      { nonce, sandboxed: info.sandboxed, python: info.python, childPath },
      expected,
      timeLimits,
    );
    const memBytes = limits.memoryMb * 1024 * 1024;
    const run = await this.runner.run({
      harness: HARNESS,
      script: 'judge.py',
      stdin: spec,
      limits: {
        nproc: 64,
        nofile: 512,
        fsize: 16 * 1024 * 1024,
        core: 0,
        as: Math.max(2 * 1024 * 1024 * 1024, 2 * memBytes + 512 * 1024 * 1024),
        cpu: Math.ceil(limits.timeoutS) + 10,
      },
      wallTimeoutMs: Math.ceil((limits.timeoutS * 1.25 + 5) * 1000),
      maxChannelBytes: 256 * 1024 * 1024,
    });
    return { run, nonce };
  }

  /** Verify one program. Throws SandboxUnavailableError when there is no sandbox (and no opt-in). */
  async verify(program: string, tests: CodeTests, o: VerifyOptions = {}): Promise<CodeVerdict> {
    let expected: PyValue[] | undefined;
    let timeLimits: number[] | undefined;
    let limits = this.limitsFor(tests, o);
    if (tests.kind === 'evalplus' && tests.expected === undefined) {
      const ref = await this.expectedFor(tests);
      if (ref.failures.length === tests.inputs.length) {
        const f = ref.failures[0]!;
        return sandboxErrorVerdict(tests.inputs.length, `reference failed on every input (first: ${f.message})`);
      }
      let refMs = ref.refMs;
      if (ref.failures.length) {
        // Inputs on which the reference itself fails (e.g. outputs beyond the
        // harness limits) are left out, as EvalPlus's NoExtreme sets do.
        const keep = ref.outputs.map((out) => out !== undefined);
        tests = { ...tests, inputs: tests.inputs.filter((_, i) => keep[i]) };
        expected = ref.outputs.filter((_, i) => keep[i]) as PyValue[];
        refMs = refMs?.filter((_, i) => keep[i]);
      } else {
        expected = ref.outputs as PyValue[];
      }
      if (refMs && o.perTestTimeoutS === undefined) {
        // As EvalPlus: per input max(1 s, 4 × reference time); budget = their sum (≤ 60 s) + 2 s.
        timeLimits = refMs.map((ms) => Math.max(EVALPLUS_MIN_TIME_LIMIT_S, (EVALPLUS_TIME_FACTOR * ms) / 1000));
        if (o.timeoutS === undefined) {
          const sum = timeLimits.reduce((a, b) => a + b, 0);
          limits = { ...limits, timeoutS: Math.max(limits.timeoutS, Math.min(60, sum) + 2) };
        }
      }
    }
    const { run, nonce } = await this.runJudge(program, tests, 'verify', limits, expected, timeLimits);
    return buildVerdict({ tests, run, nonce });
  }

  /** Verify many programs in parallel; results in input order. */
  async verifyBatch(items: readonly BatchItem[], onResult?: (index: number, verdict: CodeVerdict) => void): Promise<CodeVerdict[]> {
    return Promise.all(
      items.map(async (item, i) => {
        const v = await this.verify(item.program, item.tests, item);
        onResult?.(i, v);
        return v;
      }),
    );
  }

  /**
   * Expected outputs of an EvalPlus test set: run the trusted reference on
   * every input in the sandbox (cached in memory by content).
   */
  expectedFor(
    tests: Pick<EvalPlusTests, 'entry_point' | 'inputs' | 'oracle'> & { reference?: string },
    o: VerifyOptions = {},
  ): Promise<ExpectedOutputs> {
    if (tests.reference === undefined) return Promise.reject(new Error('no reference program to compute expected outputs'));
    return this.computeExpected(tests.reference, tests, o);
  }

  computeExpected(
    reference: string,
    tests: Pick<EvalPlusTests, 'entry_point' | 'inputs' | 'oracle'>,
    o: VerifyOptions = {},
  ): Promise<ExpectedOutputs> {
    const key = createHash('sha256')
      .update(EXPECTED_CACHE_VERSION)
      .update('\0')
      .update(reference)
      .update('\0')
      .update(tests.entry_point)
      .update('\0')
      .update(tests.oracle ?? 'exact')
      .update('\0')
      .update(JSON.stringify(tests.inputs))
      .digest('hex');
    let p = this.expectedCache.get(key);
    if (!p) {
      p = this.cachedOrRecorded(key, reference, tests, o);
      this.expectedCache.set(key, p);
      p.catch(() => this.expectedCache.delete(key));
    }
    return p;
  }

  private cacheFile(key: string): string | null {
    const dir = this.opts.expectedCacheDir === undefined ? defaultExpectedCacheDir() : this.opts.expectedCacheDir;
    return dir ? path.join(dir, `${key}.json`) : null;
  }

  private async cachedOrRecorded(
    key: string,
    reference: string,
    tests: Pick<EvalPlusTests, 'entry_point' | 'inputs' | 'oracle'>,
    o: VerifyOptions,
  ): Promise<ExpectedOutputs> {
    const file = this.cacheFile(key);
    if (file) {
      try {
        const cached = JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: string; outputs?: unknown[]; ref_ms?: unknown };
        if (cached.version === EXPECTED_CACHE_VERSION && Array.isArray(cached.outputs) && cached.outputs.length === tests.inputs.length) {
          const refMs =
            Array.isArray(cached.ref_ms) && cached.ref_ms.length === tests.inputs.length ? (cached.ref_ms as number[]) : undefined;
          return { outputs: cached.outputs as PyValue[], ...(refMs ? { refMs } : {}), failures: [] };
        }
      } catch {
        /* not cached yet */
      }
    }
    const out = await this.recordOutputs(reference, tests, o);
    // Only complete results are cached: a failure may be a loaded machine's timeout.
    if (file && out.failures.length === 0) {
      try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(
          tmp,
          JSON.stringify({ version: EXPECTED_CACHE_VERSION, entry_point: tests.entry_point, outputs: out.outputs, ref_ms: out.refMs }),
        );
        fs.renameSync(tmp, file);
      } catch {
        /* the cache is an optimisation */
      }
    }
    return out;
  }

  private async recordOutputs(
    reference: string,
    tests: Pick<EvalPlusTests, 'entry_point' | 'inputs' | 'oracle'>,
    o: VerifyOptions,
  ): Promise<ExpectedOutputs> {
    const full: CodeTests = {
      kind: 'evalplus',
      entry_point: tests.entry_point,
      inputs: tests.inputs,
      expected: new Array(tests.inputs.length).fill(null),
      ...(tests.oracle ? { oracle: tests.oracle } : {}),
    };
    const limits: RunLimits = {
      timeoutS: o.timeoutS ?? 60 + 0.05 * tests.inputs.length,
      ...(o.perTestTimeoutS !== undefined ? { perTestTimeoutS: o.perTestTimeoutS } : { perTestTimeoutS: 30 }),
      memoryMb: o.memoryMb ?? 4096,
    };
    const { run, nonce } = await this.runJudge(reference, full, 'record', limits);
    const { values, ms, errors } = recordedValues(run, nonce, tests.inputs.length);
    const failures: { index: number; message: string }[] = [];
    for (let i = 0; i < values.length; i++) {
      if (values[i] === undefined)
        failures.push({ index: i, message: errors.get(i) ?? (run.stderr.trim().slice(-300) || 'no output recorded') });
    }
    return { outputs: values, refMs: ms, failures };
  }

  async close(): Promise<void> {
    if (this.ownsRunner) await this.runner.close();
  }
}

function sandboxErrorVerdict(total: number, message: string): CodeVerdict {
  return {
    passed: false,
    status: 'sandbox_error',
    tests_passed: 0,
    tests_total: total,
    message: message.slice(0, 500),
    duration_ms: 0,
    sandboxed: true,
  };
}
