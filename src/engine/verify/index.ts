/**
 * One verifier facade for every task: math outputs go to the math verifier
 * (numeric in TS, LaTeX through math-verify), code outputs to the sandboxed
 * code verifier. Its version string is part of baseline cache keys.
 */
import type { Problem, Verdict } from '../contract';
import { MathVerifier, MATH_VERIFIER_VERSION } from './math';
import { HARNESS } from './code/harness';

/**
 * Changes whenever a verifier's judgement can change: invalidates cached baselines.
 * Computed on first use: the code harness id hashes the sandbox's Python files,
 * which are read from backend/ only when something asks.
 */
export function verifierVersion(): string {
  return `verifiers/v1+${MATH_VERIFIER_VERSION}+${HARNESS.id}`;
}

export interface OutputVerifier {
  readonly version: string;
  verify(problem: Problem, output: string): Promise<Verdict>;
  close(): Promise<void>;
}

export interface EngineVerifierOptions {
  pythonPath?: string;
  /** Code tasks: run without bubblewrap (warns on every run). */
  allowUnsandboxed?: boolean;
  codeConcurrency?: number;
  codeTimeoutS?: number;
  /** Where EvalPlus expected outputs (from canonical solutions) are cached. */
  expectedCacheDir?: string;
  log?: (line: string) => void;
}

export class EngineVerifier implements OutputVerifier {
  get version(): string {
    return verifierVersion();
  }
  private math: MathVerifier | null = null;
  private code: CodeSideLike | null = null;

  constructor(private readonly opts: EngineVerifierOptions = {}) {}

  async verify(problem: Problem, output: string): Promise<Verdict> {
    if (problem.kind === 'math') {
      this.math ??= new MathVerifier({ pythonPath: this.opts.pythonPath });
      const [result] = await this.math.verify([{ prediction: output, reference: problem.answer, task: problem.task }]);
      if (!result) throw new Error('math verifier returned no result');
      return {
        correct: result.correct,
        extracted: result.extracted ?? null,
        // A worker crash or timeout is an error, never a wrong (or right) answer.
        status: result.error ? 'error' : result.correct ? 'correct' : 'wrong',
        tests_passed: null,
        tests_total: null,
        detail: result.error ?? null,
      };
    }
    this.code ??= await loadCodeSide(this.opts);
    return this.code.verify(problem, output);
  }

  async close(): Promise<void> {
    await this.math?.close();
    await this.code?.close();
  }
}

interface CodeSideLike {
  verify(problem: Extract<Problem, { kind: 'code' }>, output: string): Promise<Verdict>;
  close(): Promise<void>;
}

async function loadCodeSide(opts: EngineVerifierOptions): Promise<CodeSideLike> {
  const { createCodeSide } = await import('./codeSide');
  return createCodeSide(opts);
}
