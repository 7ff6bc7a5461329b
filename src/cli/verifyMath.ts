/**
 * `tracelift verify math FILE.jsonl`: checks model answers against references.
 *
 * Input, one JSON object a line (blank lines ignored):
 *   {"id": string|number, "prediction": string, "reference": string|number, "task"?: string}
 * Output, one JSON line per valid input line, in input order:
 *   {"id", "correct", "extracted"} (+ "error" when the checker reported one)
 *
 * A malformed line is reported on stderr as `FILE:LINE: ...` naming the field,
 * skipped, and makes the exit code 1. Exit code 2: LaTeX checking was needed
 * but python / math-verify is not set up (those items are output with
 * `correct: false` and the error).
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { MathVerifier, MathVerifyUnavailableError, type MathVerdict } from '../engine/verify/math/index';

export const VerifyMathLineSchema = z.object({
  id: z.union([z.string(), z.number()]),
  prediction: z.string(),
  reference: z.union([z.string(), z.number().transform((n) => String(n))]),
  task: z.string().optional(),
});
export type VerifyMathLine = z.infer<typeof VerifyMathLineSchema>;

export interface VerifyMathOptions {
  python?: string;
}

async function readInput(file: string): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    return Buffer.concat(chunks).toString('utf8');
  }
  return readFile(file, 'utf8');
}

function describeIssue(issue: z.ZodError['issues'][number]): string {
  const field = issue.path.length > 0 ? issue.path.map(String).join('.') : '(line)';
  return `field "${field}": ${issue.message}`;
}

function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve) => {
    if (stream.write(text)) resolve();
    else stream.once('drain', () => resolve());
  });
}

/** Runs the command; returns the process exit code (0 ok, 1 malformed input, 2 set-up missing). */
export async function runVerifyMath(
  file: string,
  opts: VerifyMathOptions,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  let text: string;
  try {
    text = await readInput(file);
  } catch (e) {
    err.write(`${file}: cannot read: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }

  let exitCode = 0;
  const items: VerifyMathLine[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    if (raw.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (e) {
      err.write(`${file}:${lineNo}: invalid JSON (${e instanceof Error ? e.message : String(e)}); line skipped\n`);
      exitCode = 1;
      return;
    }
    const parsed = VerifyMathLineSchema.safeParse(json);
    if (!parsed.success) {
      const detail = parsed.error.issues.map(describeIssue).join('; ');
      err.write(`${file}:${lineNo}: ${detail}; line skipped\n`);
      exitCode = 1;
      return;
    }
    items.push(parsed.data);
  });

  const verifier = new MathVerifier(opts.python !== undefined ? { pythonPath: opts.python } : {});
  let unavailable: string | null = null;
  try {
    const verdicts = await Promise.all(
      items.map(async (item): Promise<MathVerdict> => {
        try {
          const [v] = await verifier.verify([
            item.task !== undefined
              ? { prediction: item.prediction, reference: item.reference, task: item.task }
              : { prediction: item.prediction, reference: item.reference },
          ]);
          return v ?? { correct: false, extracted: null, error: 'no verdict' };
        } catch (e) {
          const msg = e instanceof Error ? e.message : String(e);
          if (e instanceof MathVerifyUnavailableError) unavailable = msg;
          return { correct: false, extracted: null, error: msg };
        }
      }),
    );
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const v = verdicts[i]!;
      const row: Record<string, unknown> = { id: item.id, correct: v.correct, extracted: v.extracted };
      if (v.error !== undefined) row.error = v.error;
      await write(out, JSON.stringify(row) + '\n');
    }
  } finally {
    await verifier.close();
  }
  if (unavailable !== null) {
    err.write(`tracelift verify math: ${unavailable}\n`);
    return 2;
  }
  return exitCode;
}
