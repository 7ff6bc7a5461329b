/**
 * The code half of the verifier facade: extract the program from the
 * executor's reply, run it against the problem's tests in the sandbox, and
 * turn the CodeVerdict into the run contract's Verdict.
 */
import type { CodeProblem, CodeVerdict, TestFailure, Verdict } from '../contract';
import { CodeVerifier, extractProgram } from './code';
import type { EngineVerifierOptions } from '.';

export interface CodeSide {
  verify(problem: CodeProblem, output: string): Promise<Verdict>;
  close(): Promise<void>;
}

export async function createCodeSide(opts: EngineVerifierOptions): Promise<CodeSide> {
  const verifier = new CodeVerifier({
    allowUnsandboxed: opts.allowUnsandboxed,
    concurrency: opts.codeConcurrency,
    timeoutS: opts.codeTimeoutS,
    ...(opts.expectedCacheDir ? { expectedCacheDir: opts.expectedCacheDir } : {}),
    onWarning: (m) => (opts.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(m),
  });
  // Fail at the first code problem with install help rather than once per sample.
  await verifier.ready();
  return {
    async verify(problem, output) {
      const program = extractProgram(output, { entryPoint: problem.entry_point ?? undefined });
      const v = await verifier.verify(program, problem.tests);
      return {
        correct: v.passed,
        extracted: null,
        status: v.status,
        tests_passed: v.tests_passed,
        tests_total: v.tests_total,
        detail: v.message ?? null,
        first_failure: firstFailure(v),
      };
    },
    close: () => verifier.close(),
  };
}

/** The first test not passed, in test order, from the verifier's per-test list; null when every test passed or there is none. */
export function firstFailure(v: CodeVerdict): TestFailure | null {
  const t = v.tests?.find((r) => r.status !== 'passed');
  return t ? { index: t.index, status: t.status, message: t.message ?? null } : null;
}
