/**
 * Training-run view benchmark: a synthetic training run — by default 2,000
 * steps × 16 prompts × G=8 completions = 256,000 traces, with step_metrics
 * per step and a checkpoint every 100 — is appended to events.jsonl step by
 * step by a separate writer process, tailed by the REAL host code (RunTail →
 * RunIndex → RunViewController) and rendered by the REAL run-view bundle in
 * headless Chromium (the harness of scripts/benchRunView.ts).
 *
 * Prints event-to-paint latency per step (write of a step's last group →
 * the first painted frame whose figures count it) with p50/p95 per quarter
 * of the run, host heap/RSS and webview heap/DOM nodes at 0/25/50/75/100 %,
 * the time to switch to the group table and to filter by a step on the
 * finished run, and a last JSON line. Goals (issue 9): p95 ≤ 250 ms, host
 * memory ≤ 300 MB.
 *
 *   node esbuild.mjs --webviews-only && node --expose-gc --import tsx scripts/benchTrainView.ts [--steps 2000] [--prompts 16] [--g 8] [--rate 8]
 */
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunTail } from '../src/extension/services/runs/runTail';
import { eventLine, syntheticEnded, syntheticStarted, syntheticTrainingStep } from '../src/extension/services/runs/syntheticRun';
import { RunViewController } from '../src/extension/views/webviews/runViewController';
import { launchChromium, openWebviewPage } from './benchRunView';

const ROOT = path.resolve(__dirname, '..');
const now = () => performance.timeOrigin + performance.now();
const mb = (b: number) => Math.round((b / 1048576) * 10) / 10;
const gc = () => (globalThis as { gc?: () => void }).gc?.();

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

function pctl(xs: number[], p: number): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 10) / 10;
}

// ------------------------------------------------------------------ writer (child process)

async function writerMain(file: string, steps: number, prompts: number, g: number, rate: number): Promise<void> {
  const times = new Float64Array(steps + 1);
  fs.appendFileSync(file, eventLine(syntheticStarted('bench-train', 'train')));
  const start = now();
  let written = 0;
  while (written < steps) {
    const due = Math.min(steps, Math.floor(((now() - start) / 1000) * rate) + 1);
    if (due > written) {
      let chunk = '';
      for (let s = written + 1; s <= due; s++)
        chunk += syntheticTrainingStep(s, { promptsPerStep: prompts, generations: g, saveSteps: 100 }).map(eventLine).join('');
      fs.appendFileSync(file, chunk);
      const t = now();
      for (let s = written + 1; s <= due; s++) times[s] = t;
      written = due;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  fs.appendFileSync(file, eventLine(syntheticEnded('completed')));
  await new Promise<void>((resolve, reject) =>
    process.send!({ times: Array.from(times) }, undefined, {}, (err) => (err ? reject(err) : resolve())),
  );
}

// ------------------------------------------------------------------ benchmark

interface Probe {
  t: number;
  groups: number;
  step: number;
  nodes: number;
}

/** Page-side: what the view shows now (source text, evaluated in the page). */
const PROBE = `() => {
  const n = (id) => Number((document.getElementById(id)?.textContent ?? '0').replace(/,/g, '')) || 0;
  return { t: performance.timeOrigin + performance.now(), groups: n('fig-groups'), step: n('fig-step'), nodes: document.getElementsByTagName('*').length };
}`;

async function benchMain(): Promise<void> {
  const steps = arg('steps', 2000);
  const prompts = arg('prompts', 16);
  const g = arg('g', 8);
  const rate = arg('rate', 8);
  const groupsPerStep = prompts;
  const traces = steps * prompts * g;
  if (!fs.existsSync(path.join(ROOT, 'dist', 'webview', 'runView.js')))
    throw new Error('dist/webview/runView.js is missing: run `node esbuild.mjs --webviews-only` first');
  if (!(globalThis as { gc?: unknown }).gc) console.log('note: run with node --expose-gc for settled heap figures');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-bench-train-'));
  const file = path.join(dir, 'events.jsonl');
  console.log(`run directory ${dir}: ${steps} steps × ${prompts} prompts × G=${g} = ${traces} traces at ${rate} steps/s`);

  const browser = await launchChromium();
  const tail = new RunTail(dir, { pollMs: 1000 }).start();
  let controller: RunViewController | null = null;
  const probes: Probe[] = [];
  const harness = await openWebviewPage({
    view: 'runView',
    connect: (post) => {
      controller = new RunViewController(tail, post, { openInspector: () => {}, openTraceDiff: () => {} }, { throttleMs: 50 });
      return (m) => void controller!.handle(m);
    },
    probe: PROBE,
    onProbe: (r) => r && probes.push(r as Probe),
    browser,
  });
  const cdp = await harness.page.context().newCDPSession(harness.page);
  await cdp.send('Performance.enable');

  const memory: Array<Record<string, number>> = [];
  const measure = async (label: number) => {
    gc();
    await cdp.send('HeapProfiler.collectGarbage');
    const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
    const metrics = (await cdp.send('Performance.getMetrics')) as { metrics: Array<{ name: string; value: number }> };
    const nodes = metrics.metrics.find((x) => x.name === 'Nodes')?.value ?? 0;
    const mem = process.memoryUsage();
    const row = {
      steps: label,
      indexed_traces: tail.index.rowCount,
      host_heap_mb: mb(mem.heapUsed),
      host_rss_mb: mb(mem.rss),
      host_external_mb: mb(mem.external + mem.arrayBuffers),
      host_index_mb: mb(tail.index.approxBytes()),
      webview_heap_mb: mb(heap.usedSize),
      webview_dom_nodes: nodes,
    };
    memory.push(row);
    console.log(
      `  at step ${label}: host heap ${row.host_heap_mb} MB, RSS ${row.host_rss_mb} MB (index columns ${row.host_index_mb} MB), webview heap ${row.webview_heap_mb} MB, ${nodes} DOM nodes`,
    );
  };
  await new Promise((r) => setTimeout(r, 500));
  await measure(0);

  const sizes = [0.25, 0.5, 0.75, 1].map((f) => Math.round(steps * f));
  // CPU the host thread and the page spent while streaming: what latency becomes on a machine that is not shared.
  const taskSeconds = async () =>
    ((await cdp.send('Performance.getMetrics')) as { metrics: Array<{ name: string; value: number }> }).metrics.find(
      (x) => x.name === 'TaskDuration',
    )?.value ?? 0;
  const cpu0 = process.cpuUsage();
  const page0 = await taskSeconds();
  const child = fork(__filename, ['--writer', file, String(steps), String(prompts), String(g), String(rate)], {
    execArgv: ['--import', 'tsx'],
  });
  const timesP = new Promise<number[]>((resolve, reject) => {
    child.on('message', (m: { times: number[] }) => resolve(m.times));
    child.on('exit', (code) => reject(new Error(`writer exited (${code}) before reporting its write times`)));
  });
  const t0 = now();
  let next = 0;
  while (next < sizes.length) {
    await new Promise((r) => setTimeout(r, 100));
    const shownGroups = probes[probes.length - 1]?.groups ?? 0;
    if (shownGroups >= sizes[next]! * groupsPerStep) await measure(sizes[next++]!);
    if (now() - t0 > Math.max(600_000, (steps / rate) * 6000)) throw new Error('benchmark timed out');
  }
  const times = await timesP;
  child.kill();
  while (tail.index.status !== 'completed') await new Promise((r) => setTimeout(r, 50));
  await tail.whenIdle();
  await new Promise((r) => setTimeout(r, 300));
  const streamSeconds = (now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const hostCpuMsPerStep = Math.round(((cpu.user + cpu.system) / 1000 / steps) * 10) / 10;
  const pageCpuMsPerStep = Math.round((((await taskSeconds()) - page0) * 1000 * 10) / steps) / 10;

  // Event-to-paint per step: from the write of the step to the first frame whose group count includes it.
  const lat: number[] = [];
  const byQuarter = sizes.map(() => [] as number[]);
  let p = 0;
  for (let s = 1; s <= steps; s++) {
    while (p < probes.length && probes[p]!.groups < s * groupsPerStep) p++;
    if (p >= probes.length) break;
    const l = probes[p]!.t - times[s]!;
    lat.push(l);
    byQuarter[sizes.findIndex((x) => s <= x)]!.push(l);
  }
  console.log(
    `streamed ${steps} steps (${tail.index.rowCount} traces, ${mb(tail.index.offset)} MB of events.jsonl) in ${streamSeconds.toFixed(1)} s; ${probes.length} painted updates`,
  );
  const p95 = pctl(lat, 95);
  console.log(
    `CPU per step while streaming: host ${hostCpuMsPerStep} ms (tail, index, controller, and this harness's Playwright client), webview ${pageCpuMsPerStep} ms; load average ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  console.log(
    `event-to-paint (figures count the step): p50 ${pctl(lat, 50)} ms, p95 ${p95} ms, max ${pctl(lat, 100)} ms over ${lat.length} steps`,
  );
  byQuarter.forEach((xs, i) =>
    console.log(`  steps ${i ? sizes[i - 1]! + 1 : 1}–${sizes[i]}: p50 ${pctl(xs, 50)} ms, p95 ${pctl(xs, 95)} ms`),
  );

  // On the finished run: switch to the group table, then filter both tables to one step.
  const page = harness.page;
  const timeUntil = (action: string, done: string) =>
    page.evaluate<number>(`(async () => {
      const start = performance.now();
      (${action})();
      for (;;) {
        await new Promise((r) => requestAnimationFrame(r));
        if (${done}) return performance.now() - start;
        if (performance.now() - start > 30000) return -1;
      }
    })()`);
  const groupsMs = await timeUntil(
    `() => { const m = document.getElementById('view-mode'); m.value = 'groups'; m.dispatchEvent(new Event('change')); }`,
    `document.querySelectorAll('[data-testid=group-row]:not([hidden])').length > 5 && /groups/.test(document.getElementById('row-count').textContent)`,
  );
  const stepMs = await timeUntil(
    `() => { const f = document.getElementById('filter-step'); f.value = '${Math.ceil(steps / 2)}'; f.dispatchEvent(new Event('input')); }`,
    `/^${prompts} of /.test(document.getElementById('row-count').textContent)`,
  );
  console.log(
    `group table on the finished run: ${Math.round(groupsMs)} ms to paint; filter to one step: ${Math.round(stepMs)} ms (includes the field's 400 ms debounce)`,
  );
  await measure(steps);
  const problems = harness.problems;
  if (problems.length) console.log(`page problems:\n  ${problems.slice(0, 10).join('\n  ')}`);
  await harness.close();
  controller!.dispose();
  tail.dispose();
  await browser.close();
  fs.rmSync(dir, { recursive: true, force: true });

  const last = memory[memory.length - 1]!;
  const first = memory.find((m) => m.steps === sizes[0])!;
  const result = {
    bench: 'train-view',
    steps,
    prompts_per_step: prompts,
    generations: g,
    traces,
    rate_steps_per_s: rate,
    stream_seconds: Math.round(streamSeconds * 10) / 10,
    host_cpu_ms_per_step: hostCpuMsPerStep,
    webview_cpu_ms_per_step: pageCpuMsPerStep,
    load_average: os.loadavg().map((x) => Math.round(x * 10) / 10),
    event_to_paint_ms: { p50: pctl(lat, 50), p95, max: pctl(lat, 100), n: lat.length },
    by_quarter: sizes.map((s, i) => ({ up_to_step: s, p50: pctl(byQuarter[i]!, 50), p95: pctl(byQuarter[i]!, 95) })),
    memory,
    group_table_ms: Math.round(groupsMs),
    step_filter_ms: Math.round(stepMs),
    page_problems: problems.length,
    goals: {
      p95_le_250ms: p95 !== null && p95 <= 250,
      host_heap_le_300mb: last.host_heap_mb! <= 300,
      host_rss_le_300mb: last.host_rss_mb! <= 300,
      webview_memory_flat: Math.abs(last.webview_heap_mb! - first.webview_heap_mb!) <= Math.max(5, first.webview_heap_mb! * 0.25),
    },
  };
  console.log(JSON.stringify(result));
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(__filename)) {
  const w = process.argv.indexOf('--writer');
  const main =
    w >= 0
      ? writerMain(
          process.argv[w + 1]!,
          Number(process.argv[w + 2]),
          Number(process.argv[w + 3]),
          Number(process.argv[w + 4]),
          Number(process.argv[w + 5]),
        )
      : benchMain();
  main.then(
    () => process.exit(0),
    (err: Error) => {
      console.error(err.stack ?? err.message);
      process.exit(1);
    },
  );
}
