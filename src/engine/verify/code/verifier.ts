/**
 * CodeVerifier: runs a program against its tests in the sandbox and returns a
 * CodeVerdict. One sandbox run per program (all its tests), many runs in
 * parallel (bounded by the runner's concurrency, default: CPU count).
 */
import { createHash } from 'node:crypto';
import type { CodeTests, CodeVerdict, EvalPlusTests, PyValue } from '../../contract/codeTests';
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
  failures: { index: number; message: string }[];
}

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

  defaultTimeoutFor(tests: CodeTests): number {
    const base = this.opts.timeoutS ?? 10;
    if (tests.kind === 'evalplus') return base + 0.02 * tests.inputs.length;
    if (tests.kind === 'stdio' || tests.kind === 'functional') return Math.max(base, 2 + 1 * tests.cases.length);
    return base;
  }

  private limitsFor(tests: CodeTests, o: VerifyOptions): RunLimits {
    const timeoutS = o.timeoutS ?? this.defaultTimeoutFor(tests);
    const perTest = o.perTestTimeoutS ?? this.opts.perTestTimeoutS;
    return {
      timeoutS,
      ...(perTest !== undefined ? { perTestTimeoutS: Math.min(perTest, timeoutS) } : {}),
      memoryMb: o.memoryMb ?? this.opts.memoryMb ?? 1024,
    };
  }

  private async runJudge(
    program: string,
    tests: CodeTests,
    mode: JudgeMode,
    limits: RunLimits,
    expected?: PyValue[],
  ): Promise<{ run: SandboxResult; nonce: string }> {
    const info = await this.runner.info();
    const nonce = newNonce();
    const childPath = await this.runner.harnessPath(HARNESS, 'child.py');
    const spec = buildJudgeSpec(program, tests, mode, limits, { nonce, sandboxed: info.sandboxed, python: info.python, childPath }, expected);
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
    if (tests.kind === 'evalplus' && tests.expected === undefined) {
      const ref = await this.expectedFor(tests);
      if (ref.failures.length) {
        const f = ref.failures[0]!;
        return sandboxErrorVerdict(tests.inputs.length, `reference failed on input ${f.index}: ${f.message}`);
      }
      expected = ref.outputs as PyValue[];
    }
    const limits = this.limitsFor(tests, o);
    const { run, nonce } = await this.runJudge(program, tests, 'verify', limits, expected);
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
  expectedFor(tests: Pick<EvalPlusTests, 'entry_point' | 'inputs' | 'oracle'> & { reference?: string }, o: VerifyOptions = {}): Promise<ExpectedOutputs> {
    if (tests.reference === undefined) return Promise.reject(new Error('no reference program to compute expected outputs'));
    return this.computeExpected(tests.reference, tests, o);
  }

  computeExpected(
    reference: string,
    tests: Pick<EvalPlusTests, 'entry_point' | 'inputs' | 'oracle'>,
    o: VerifyOptions = {},
  ): Promise<ExpectedOutputs> {
    const key = createHash('sha256')
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
      p = this.recordOutputs(reference, tests, o);
      this.expectedCache.set(key, p);
      p.catch(() => this.expectedCache.delete(key));
    }
    return p;
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
      memoryMb: o.memoryMb ?? this.opts.memoryMb ?? 2048,
    };
    const { run, nonce } = await this.runJudge(reference, full, 'record', limits);
    const { values, errors } = recordedValues(run, nonce, tests.inputs.length);
    const failures: { index: number; message: string }[] = [];
    for (let i = 0; i < values.length; i++) {
      if (values[i] === undefined) failures.push({ index: i, message: errors.get(i) ?? (run.stderr.trim().slice(-300) || 'no output recorded') });
    }
    return { outputs: values, failures };
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
