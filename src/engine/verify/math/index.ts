/**
 * Math answer verification: GSM8K-style numbers in pure TypeScript, MATH500
 * LaTeX answers through the math-verify Python worker (started lazily).
 */
import { MathVerifyWorker, type MathVerifyWorkerOptions } from './mathVerifyWorker';
import { isPlainNumber, verifyNumeric } from './numeric';

export { extractNumericAnswer, isPlainNumber, numericAnswersEqual, verifyNumeric, NUMERIC_REL_TOL, type NumericVerdict } from './numeric';
export {
  MathVerifyWorker,
  MathVerifyUnavailableError,
  MathVerifyWorkerError,
  SETUP_HINT,
  type MathVerifyResult,
  type MathVerifyWorkerOptions,
} from './mathVerifyWorker';
export { findRepoRoot, resolvePython } from './python';

export interface MathVerifyItem {
  prediction: string;
  reference: string;
  /** gsm8k | gsm_hard | svamp | math500 | latex | …; absent: guessed from the reference. */
  task?: string;
}

export interface MathVerdict {
  correct: boolean;
  extracted: string | null;
  /** The item could not be checked (worker crash or timeout, unparseable reference): never correct. */
  error?: string;
  /** The final answer offered alternatives ("18 or 19") where one value was asked for: never correct. */
  hedged?: true;
}

/**
 * Changes whenever a math verdict can change for the same prediction and
 * reference; part of the engine's verifier version, hence of baseline cache keys.
 * v2: bare LaTeX answers read like the reference, hedged answers refused,
 * exact (rational) numeric comparison with float renderings recovered.
 */
export const MATH_VERIFIER_VERSION = 'math/v2';

export type MathRoute = 'numeric' | 'latex';

/** Tasks whose answers are LaTeX (checked by math-verify). */
export const LATEX_TASKS: ReadonlySet<string> = new Set(['math500', 'math', 'latex', 'math-500', 'math_500']);
/** Tasks known to have plain numeric answers. Unknown tasks are treated as numeric too. */
export const NUMERIC_TASKS: ReadonlySet<string> = new Set(['gsm8k', 'gsm_hard', 'gsm-hard', 'gsmhard', 'svamp', 'numeric']);

/** Which checker an item goes to. */
export function routeTask(task: string | undefined, reference: string): MathRoute {
  const t = task?.trim().toLowerCase();
  if (t) return LATEX_TASKS.has(t) ? 'latex' : 'numeric';
  return isPlainNumber(reference) ? 'numeric' : 'latex';
}

export interface MathVerifierOptions {
  pythonPath?: string;
  /** Number of Python workers LaTeX items are spread over (default 1). */
  workers?: number;
  /** Passed to each MathVerifyWorker. */
  worker?: Omit<MathVerifyWorkerOptions, 'pythonPath'>;
}

export class MathVerifier {
  private readonly opts: MathVerifierOptions;
  private workers: MathVerifyWorker[] = [];
  private closed = false;

  constructor(opts: MathVerifierOptions = {}) {
    this.opts = opts;
  }

  /**
   * Verifies each item. Per-item problems (unparseable LaTeX, a math-verify
   * timeout) come back as `{correct: false, error}`; the promise rejects only
   * when LaTeX checking is impossible as a whole (python or math-verify
   * missing: `MathVerifyUnavailableError`; the worker crash-looping), so
   * that a broken set-up is never mistaken for wrong answers.
   */
  async verify(items: readonly MathVerifyItem[]): Promise<MathVerdict[]> {
    if (this.closed) throw new Error('MathVerifier is closed');
    return Promise.all(
      items.map(async (item): Promise<MathVerdict> => {
        const prediction = typeof item.prediction === 'string' ? item.prediction : String(item.prediction ?? '');
        const reference = typeof item.reference === 'string' ? item.reference : String(item.reference ?? '');
        if (routeTask(item.task, reference) === 'numeric') {
          return verifyNumeric(prediction, reference);
        }
        const r = await this.pickWorker().verify(prediction, reference);
        const verdict: MathVerdict = { correct: r.correct && r.error === null, extracted: r.extracted };
        if (r.error !== null) verdict.error = r.error;
        if (r.hedged) verdict.hedged = true;
        return verdict;
      }),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    const ws = this.workers;
    this.workers = [];
    await Promise.all(ws.map((w) => w.close()));
  }

  private pickWorker(): MathVerifyWorker {
    const max = Math.max(1, Math.floor(this.opts.workers ?? 1));
    if (this.workers.length < max) {
      const idle = this.workers.find((w) => w.pendingCount === 0);
      if (idle) return idle;
      const w = new MathVerifyWorker({ ...this.opts.worker, pythonPath: this.opts.pythonPath });
      this.workers.push(w);
      return w;
    }
    let best = this.workers[0]!;
    for (const w of this.workers) if (w.pendingCount < best.pendingCount) best = w;
    return best;
  }
}
