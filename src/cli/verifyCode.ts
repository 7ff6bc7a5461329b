/**
 * `tracelift verify code FILE.jsonl`: input lines {"id","program","tests","timeout_s"?},
 * output one JSON line per valid input, in input order, on `out`:
 * {"id","passed","status","tests_passed","tests_total","message"?,"duration_ms"}.
 * A malformed line is reported on stderr (file, line number, field) and
 * skipped; the exit code is then 1. No sandbox (and no opt-in): exit 2.
 */
import * as fs from 'node:fs';
import { VerifyCodeLineSchema, type VerifyCodeLine, type VerifyCodeResult } from '../engine/contract/codeTests';
import { SandboxUnavailableError } from '../engine/sandbox/detect';
import { CodeVerifier } from '../engine/verify/code/verifier';

export interface VerifyCodeCliOptions {
  allowUnsandboxed?: boolean;
  concurrency?: number;
  /** Where errors and warnings go (default process.stderr). */
  err?: NodeJS.WritableStream;
}

function issueText(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `field "${i.path.length ? i.path.map(String).join('.') : '(line)'}": ${i.message}`)
    .join('; ');
}

export async function runVerifyCode(file: string, opts: VerifyCodeCliOptions, out: NodeJS.WritableStream): Promise<number> {
  const err = opts.err ?? process.stderr;
  let text: string;
  try {
    text = file === '-' ? fs.readFileSync(0, 'utf8') : fs.readFileSync(file, 'utf8');
  } catch (e) {
    err.write(`${file}: cannot read: ${(e as Error).message}\n`);
    return 1;
  }
  let bad = 0;
  const items: VerifyCodeLine[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (!raw) continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      err.write(`${file}:${i + 1}: invalid JSON (${(e as Error).message})\n`);
      bad++;
      continue;
    }
    const parsed = VerifyCodeLineSchema.safeParse(value);
    if (!parsed.success) {
      err.write(`${file}:${i + 1}: ${issueText(parsed.error)}\n`);
      bad++;
      continue;
    }
    items.push(parsed.data);
  }

  const verifier = new CodeVerifier({
    allowUnsandboxed: opts.allowUnsandboxed,
    ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
    onWarning: (m) => err.write(`warning: ${m}\n`),
  });
  try {
    try {
      await verifier.ready();
    } catch (e) {
      if (e instanceof SandboxUnavailableError) {
        err.write(`${e.message}\n`);
        return 2;
      }
      throw e;
    }
    // Stream results in input order as they complete.
    const done: (VerifyCodeResult | undefined)[] = new Array(items.length).fill(undefined);
    let next = 0;
    const emit = (i: number, r: VerifyCodeResult) => {
      done[i] = r;
      while (next < items.length && done[next] !== undefined) {
        out.write(`${JSON.stringify(done[next])}\n`);
        done[next] = undefined;
        next++;
      }
    };
    await Promise.all(
      items.map(async (item, i) => {
        let r: VerifyCodeResult;
        try {
          const v = await verifier.verify(item.program, item.tests, item.timeout_s !== undefined ? { timeoutS: item.timeout_s } : {});
          r = {
            id: item.id,
            passed: v.passed,
            status: v.status,
            tests_passed: v.tests_passed,
            tests_total: v.tests_total,
            ...(v.message ? { message: v.message } : {}),
            duration_ms: v.duration_ms,
          };
        } catch (e) {
          r = {
            id: item.id,
            passed: false,
            status: 'sandbox_error',
            tests_passed: 0,
            tests_total: 0,
            message: String((e as Error).message).slice(0, 500),
            duration_ms: 0,
          };
        }
        emit(i, r);
      }),
    );
  } finally {
    await verifier.close();
  }
  return bad > 0 ? 1 : 0;
}
