/**
 * Run-view benchmark: a synthetic run of ≥ 20,000 rollout groups (80,000
 * traces) is written to events.jsonl progressively by a separate writer
 * process, tailed by the REAL host code (RunTail → RunIndex →
 * RunViewController, the same classes the extension uses) and rendered by
 * the REAL webview bundle (dist/webview/runView.js, strict CSP and all) in
 * headless Chromium, with a fake `acquireVsCodeApi` that forwards messages
 * to the controller in this process.
 *
 * Prints event-to-paint latency (write of a group → a frame painted that
 * shows it: the summary's group count, and the newest row in the list),
 * p50/p95 per run size, the extension-host and webview memory at several run
 * sizes, re-attach time on the finished run, and scroll/filter response
 * times. The last line is JSON.
 *
 *   npm run build && node --expose-gc --import tsx scripts/benchRunView.ts [--groups 20000] [--rate 500]
 *
 * Needs Chromium (Debian package `chromium`: apt-get install chromium).
 * Also exports `openWebviewPage`, the harness the webview unit test uses.
 */
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { RunTail } from '../src/extension/services/runs/runTail';
import { eventLine, syntheticEnded, syntheticGroup, syntheticStarted } from '../src/extension/services/runs/syntheticRun';
import { buildWebviewHtml, makeNonce, type WebviewName } from '../src/extension/views/webviews/html';
import { RunViewController } from '../src/extension/views/webviews/runViewController';

const ROOT = path.resolve(__dirname, '..');
const ORIGIN = 'https://tracelift.test';
export const CHROMIUM = process.env.TRACELIFT_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--enable-precise-memory-info',
];
const now = () => performance.timeOrigin + performance.now();

// ------------------------------------------------------------------ harness

export interface WebviewPage {
  page: Page;
  /** What the host's post() should call: dispatches a message into the page (in order). */
  post(message: unknown): void;
  /** Reloads the page, keeping what the webview stored with setState (like a VS Code window reload). */
  reload(): Promise<void>;
  /** CSP violations and page errors seen so far. */
  problems: string[];
  close(): Promise<void>;
}

export interface HarnessOptions {
  view: WebviewName;
  /**
   * Connects the host side: gets the function that delivers messages into the
   * page (the controller's post) and returns what receives the page's messages
   * (the controller's handle). Called before the page loads.
   */
  connect(post: (message: unknown) => void): (message: unknown) => void;
  /** Source of a page-side function run in the first frame painted after host messages (bench probes). */
  probe?: string;
  onProbe?(result: unknown): void;
  width?: number;
  height?: number;
  browser?: Browser;
}

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (Debian: apt-get install chromium)`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** Loads a built webview bundle in a page that behaves like a VS Code webview (same CSP, fake acquireVsCodeApi). */
export async function openWebviewPage(o: HarnessOptions): Promise<WebviewPage> {
  const ownBrowser = !o.browser;
  const browser = o.browser ?? (await launchChromium());
  const page = await browser.newPage({ viewport: { width: o.width ?? 1200, height: o.height ?? 800 } });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  let state: unknown = undefined;
  const html = () =>
    buildWebviewHtml({
      view: o.view,
      cspSource: ORIGIN,
      nonce: makeNonce(),
      scriptUri: `${ORIGIN}/dist/webview/${o.view}.js`,
      styleUri: `${ORIGIN}/media/webview.css`,
      title: o.view,
    });
  await page.route(`${ORIGIN}/**`, async (route) => {
    const url = new URL(route.request().url());
    if (url.pathname === '/index.html') return route.fulfill({ status: 200, contentType: 'text/html', body: html() });
    const file = path.join(ROOT, url.pathname);
    const allowed = [path.join(ROOT, 'dist', 'webview'), path.join(ROOT, 'media')].some((d) => file.startsWith(d + path.sep));
    if (!allowed || !fs.existsSync(file)) return route.fulfill({ status: 404, body: 'not found' });
    const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : 'application/octet-stream';
    return route.fulfill({ status: 200, contentType: type, body: fs.readFileSync(file) });
  });
  let toHost: (message: unknown) => void = () => {};
  await page.exposeFunction('__tlToHost', (json: string) => toHost(JSON.parse(json)));
  await page.exposeFunction('__tlSetState', (json: string) => {
    state = JSON.parse(json);
  });
  // Page-side code is passed as source text (tsx-compiled functions may reference helpers the page lacks).
  if (o.probe) await page.exposeFunction('__tlProbe', (json: string) => o.onProbe?.(JSON.parse(json)));
  const installApi = (initial: unknown) =>
    page.addInitScript({
      content: `(() => {
        let s = ${JSON.stringify(initial ?? null)};
        window.acquireVsCodeApi = () => ({
          postMessage: (m) => window.__tlToHost(JSON.stringify(m)),
          getState: () => s,
          setState: (x) => { s = x; window.__tlSetState(JSON.stringify(x)); },
        });
        ${
          o.probe
            ? `// After host messages, once the next frame has been painted, report what the view shows.
        let queued = false;
        window.addEventListener('message', () => {
          if (queued) return;
          queued = true;
          requestAnimationFrame(() => setTimeout(() => { queued = false; window.__tlProbe(JSON.stringify((${o.probe})())); }, 0));
        });`
            : ''
        }
      })();`,
    });
  await installApi(undefined);

  // Host → page: in order, batched while a dispatch is in flight.
  const queue: unknown[] = [];
  let flushing = false;
  const flush = async () => {
    flushing = true;
    while (queue.length) {
      const batch = queue.splice(0);
      try {
        await page.evaluate(`for (const m of ${JSON.stringify(batch)}) window.dispatchEvent(new MessageEvent('message', { data: m }));`);
      } catch (e) {
        if (!/closed|Target|destroyed|navigat/i.test((e as Error).message)) problems.push(`post: ${(e as Error).message}`);
      }
    }
    flushing = false;
  };
  const post = (message: unknown) => {
    queue.push(message);
    if (!flushing) void flush();
  };
  toHost = o.connect(post);
  await page.goto(`${ORIGIN}/index.html`);
  return {
    page,
    post,
    problems,
    reload: async () => {
      await installApi(state);
      await page.reload();
    },
    close: async () => {
      await page.close();
      if (ownBrowser) await browser.close();
    },
  };
}

// ------------------------------------------------------------------ writer (child process)

async function writerMain(file: string, groups: number, rate: number): Promise<void> {
  const times = new Float64Array(groups);
  fs.appendFileSync(file, eventLine(syntheticStarted('bench')));
  const start = now();
  let written = 0;
  while (written < groups) {
    const due = Math.min(groups, Math.floor(((now() - start) / 1000) * rate) + 1);
    if (due > written) {
      let chunk = '';
      for (let g = written; g < due; g++) chunk += eventLine(syntheticGroup(g));
      fs.appendFileSync(file, chunk);
      const t = now();
      for (let g = written; g < due; g++) times[g] = t;
      written = due;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  fs.appendFileSync(file, eventLine(syntheticEnded('completed')));
  // Wait until the message is handed over: exiting right after send() can drop it.
  await new Promise<void>((resolve, reject) =>
    process.send!({ times: Array.from(times) }, undefined, {}, (err) => (err ? reject(err) : resolve())),
  );
}

// ------------------------------------------------------------------ benchmark

function pctl(xs: number[], p: number): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 10) / 10;
}
const mb = (b: number) => Math.round((b / 1048576) * 10) / 10;
const gc = () => (globalThis as { gc?: () => void }).gc?.();

interface Probe {
  t: number;
  groups: number;
  maxRow: number;
  nodes: number;
  rowEls: number;
}

/** Page-side: what the view shows now (source text, evaluated in the page). */
const PROBE = `() => {
  const groups = Number((document.getElementById('fig-groups')?.textContent ?? '0').replace(/,/g, '')) || 0;
  let maxRow = -1;
  let rowEls = 0;
  for (const el of document.querySelectorAll('[data-row-id]')) {
    rowEls++;
    if (!el.hidden) maxRow = Math.max(maxRow, Number(el.dataset.rowId));
  }
  return { t: performance.timeOrigin + performance.now(), groups, maxRow, nodes: document.getElementsByTagName('*').length, rowEls };
}`;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

async function benchMain(): Promise<void> {
  const groups = arg('groups', 20000);
  const rate = arg('rate', 500);
  const samples = 4;
  const sizes = [0.25, 0.5, 0.75, 1].map((f) => Math.round(groups * f));
  if (!fs.existsSync(path.join(ROOT, 'dist', 'webview', 'runView.js')))
    throw new Error('dist/webview/runView.js is missing: run `npm run build` first');
  if (!(globalThis as { gc?: unknown }).gc) console.log('note: run with node --expose-gc for settled heap figures');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-bench-run-'));
  const file = path.join(dir, 'events.jsonl');
  console.log(`run directory ${dir}: ${groups} groups × ${samples} traces at ${rate} groups/s`);

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

  const memory: Array<Record<string, number>> = [];
  const measure = async (label: number) => {
    gc();
    await cdp.send('HeapProfiler.collectGarbage');
    const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
    const metrics = (await cdp.send('Performance.getMetrics')) as { metrics: Array<{ name: string; value: number }> };
    const m = (n: string) => metrics.metrics.find((x) => x.name === n)?.value ?? 0;
    const pm = probes[probes.length - 1];
    const row = {
      groups: label,
      indexed_groups: tail.index.groupCount,
      host_heap_mb: mb(process.memoryUsage().heapUsed),
      host_rss_mb: mb(process.memoryUsage().rss),
      host_index_mb: mb(tail.index.approxBytes()),
      webview_heap_mb: mb(heap.usedSize),
      webview_dom_nodes: m('Nodes'),
      webview_row_elements: pm?.rowEls ?? 0,
    };
    memory.push(row);
    console.log(
      `  at ${label} groups: host heap ${row.host_heap_mb} MB (index ${row.host_index_mb} MB), webview heap ${row.webview_heap_mb} MB, ${row.webview_dom_nodes} DOM nodes, ${row.webview_row_elements} row elements`,
    );
  };
  await cdp.send('Performance.enable');
  await new Promise((r) => setTimeout(r, 500));
  await measure(0);

  // Start the writer and watch sizes.
  const child = fork(__filename, ['--writer', file, String(groups), String(rate)], { execArgv: ['--import', 'tsx'] });
  const timesP = new Promise<number[]>((resolve, reject) => {
    child.on('message', (m: { times: number[] }) => resolve(m.times));
    child.on('exit', (code) => reject(new Error(`writer exited (${code}) before reporting its write times`)));
  });
  const t0 = now();
  let nextSize = 0;
  while (nextSize < sizes.length) {
    await new Promise((r) => setTimeout(r, 100));
    const shown = probes[probes.length - 1]?.groups ?? 0;
    if (shown >= sizes[nextSize]!) await measure(sizes[nextSize++]!);
    if (now() - t0 > Math.max(300_000, (groups / rate) * 4000)) throw new Error('benchmark timed out');
  }
  const state = () =>
    `status ${tail.index.status}, ${tail.index.groupCount} groups indexed, offset ${tail.index.offset}, pending ${tail.index.pendingBytes} bytes, ${probes.length} paints (last shows ${probes[probes.length - 1]?.groups ?? 0} groups)`;
  const phase = async <T>(what: string, p: Promise<T>, ms = 120_000): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const t = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out ${what}: ${state()}`)), ms)));
    try {
      return await Promise.race([p, t]);
    } finally {
      clearTimeout(timer);
    }
  };
  const times = await phase('waiting for the writer', timesP);
  child.kill();
  // Wait for the end of the run to be indexed and painted.
  await phase(
    'waiting for run_ended',
    (async () => {
      while (tail.index.status !== 'completed') await new Promise((r) => setTimeout(r, 50));
      await tail.whenIdle();
    })(),
  );
  await new Promise((r) => setTimeout(r, 300));
  const streamSeconds = (now() - t0) / 1000;

  // Event-to-paint: each group, from its write to the first painted frame whose summary counts it.
  const lat: number[] = [];
  const bySize = sizes.map(() => [] as number[]);
  let p = 0;
  for (let g = 0; g < groups; g++) {
    while (p < probes.length && probes[p]!.groups < g + 1) p++;
    if (p >= probes.length) break;
    const l = probes[p]!.t - times[g]!;
    lat.push(l);
    bySize[sizes.findIndex((s) => g < s)]!.push(l);
  }
  // Newest row: each time a newer row became visible at the top, from its group's write.
  const rowLat: number[] = [];
  let maxSeen = -1;
  for (const pr of probes) {
    if (pr.maxRow > maxSeen) {
      maxSeen = pr.maxRow;
      const g = Math.floor(pr.maxRow / samples);
      if (times[g]) rowLat.push(pr.t - times[g]!);
    }
  }
  console.log(
    `streamed ${groups} groups (${tail.index.rowCount} traces, ${mb(tail.index.offset)} MB of events.jsonl) in ${streamSeconds.toFixed(1)} s; ${probes.length} painted updates`,
  );
  console.log(
    `event-to-paint (summary counts the group): p50 ${pctl(lat, 50)} ms, p95 ${pctl(lat, 95)} ms, max ${pctl(lat, 100)} ms over ${lat.length} groups`,
  );
  console.log(
    `event-to-paint (newest row visible in the list): p50 ${pctl(rowLat, 50)} ms, p95 ${pctl(rowLat, 95)} ms over ${rowLat.length} updates`,
  );
  bySize.forEach((xs, i) => console.log(`  groups ${i ? sizes[i - 1] : 0}–${sizes[i]}: p50 ${pctl(xs, 50)} ms, p95 ${pctl(xs, 95)} ms`));

  // Range queries on the finished run: jump-scrolls, then a sort and a regex search.
  const page = harness.page;
  const scrollLat: number[] = [];
  for (let i = 0; i < 15; i++) {
    const frac = ((i * 7919) % 100) / 100;
    const ms = await phase(
      'jump-scrolling',
      page.evaluate<number>(`(async () => {
      const list = document.getElementById('list');
      const start = performance.now();
      list.scrollTop = Math.floor(${frac} * (list.scrollHeight - list.clientHeight));
      const want = Math.floor(list.scrollTop / 52);
      for (;;) {
        await new Promise((r) => requestAnimationFrame(r));
        const el = document.querySelector('[data-index="' + want + '"]');
        if (el && !el.hidden && el.querySelector('[data-field=problem]')?.textContent) return performance.now() - start;
        if (performance.now() - start > 5000) return -1;
      }
    })()`),
    );
    scrollLat.push(ms);
  }
  console.log(`jump-scroll to an unloaded range → rows painted: p50 ${pctl(scrollLat, 50)} ms, p95 ${pctl(scrollLat, 95)} ms`);
  const timeQuery = (fn: string) =>
    page.evaluate<number>(`(async () => {
      const before = document.getElementById('row-count').textContent;
      const start = performance.now();
      (${fn})();
      for (;;) {
        await new Promise((r) => requestAnimationFrame(r));
        const status = document.getElementById('search-status').dataset.state;
        if (document.getElementById('row-count').textContent !== before && status !== 'scanning') return performance.now() - start;
        if (performance.now() - start > 30000) return -1;
      }
    })()`);
  const sortMs = await phase(
    'timing a filter and sort',
    timeQuery(
      `() => { const s = document.getElementById('filter-sign'); s.value = 'positive'; s.dispatchEvent(new Event('change')); const k = document.getElementById('sort-key'); k.value = 'uplift'; k.dispatchEvent(new Event('change')); }`,
    ),
  );
  const searchMs = await phase(
    'timing a regex search',
    timeQuery(
      `() => { const s = document.getElementById('filter-sign'); s.value = 'any'; s.dispatchEvent(new Event('change')); const f = document.getElementById('filter-search'); f.value = 'onerror|bolts of'; f.dispatchEvent(new Event('input')); }`,
    ),
  );
  console.log(
    `filter "uplift > 0" + sort by uplift over ${tail.index.rowCount} rows: ${Math.round(sortMs)} ms; regex search over all full traces (read back from disk): ${Math.round(searchMs)} ms`,
  );
  const xss = await page.evaluate<{ executed: number; imgs: number; scripts: number }>(
    `({ executed: window.__xss ?? 0, imgs: document.querySelectorAll('img').length, scripts: document.querySelectorAll('script').length })`,
  );
  console.log(
    `markup in traces: ${xss.executed ? 'EXECUTED' : 'not executed'}, <img> elements ${xss.imgs}, <script> elements ${xss.scripts} (the bundle's own)`,
  );
  await measure(groups);

  // Re-attach: a fresh tail and a fresh webview on the finished run.
  await harness.close();
  controller!.dispose();
  tail.dispose();
  gc();
  const t1 = now();
  const tail2 = new RunTail(dir, { pollMs: 0 }).start();
  let firstFull = 0;
  let c2: RunViewController | null = null;
  const h2 = await openWebviewPage({
    view: 'runView',
    connect: (post) => {
      c2 = new RunViewController(tail2, post, { openInspector: () => {}, openTraceDiff: () => {} }, { throttleMs: 50 });
      return (m) => void c2!.handle(m);
    },
    probe: PROBE,
    onProbe: (r) => {
      const pr = r as Probe;
      if (!firstFull && pr.groups >= groups && pr.maxRow >= 0) firstFull = pr.t;
    },
    browser,
  });
  while (!firstFull && now() - t1 < 120_000) await new Promise((r) => setTimeout(r, 20));
  const reattachMs = Math.round(firstFull - t1);
  console.log(`re-attach to the finished run (index ${groups} groups from disk + load the view + first full paint): ${reattachMs} ms`);
  const problems = [...harness.problems, ...h2.problems];
  if (problems.length) console.log(`page problems:\n  ${problems.slice(0, 10).join('\n  ')}`);
  await h2.close();
  c2!.dispose();
  tail2.dispose();
  await browser.close();
  fs.rmSync(dir, { recursive: true, force: true });

  const first = memory.find((m) => m.groups === sizes[0])!;
  const last = memory.find((m) => m.groups === sizes[sizes.length - 1])!;
  const p95 = pctl(lat, 95);
  const result = {
    bench: 'run-view',
    groups,
    traces: groups * samples,
    rate_groups_per_s: rate,
    stream_seconds: Math.round(streamSeconds * 10) / 10,
    event_to_paint_ms: { p50: pctl(lat, 50), p95, max: pctl(lat, 100), n: lat.length },
    newest_row_to_paint_ms: { p50: pctl(rowLat, 50), p95: pctl(rowLat, 95), n: rowLat.length },
    by_size: sizes.map((s, i) => ({ up_to_groups: s, p50: pctl(bySize[i]!, 50), p95: pctl(bySize[i]!, 95) })),
    memory,
    webview_heap_growth_mb: Math.round((last.webview_heap_mb! - first.webview_heap_mb!) * 10) / 10,
    host_index_bytes_per_trace: Math.round((last.host_index_mb! * 1048576) / (groups * samples)),
    jump_scroll_ms: { p50: pctl(scrollLat, 50), p95: pctl(scrollLat, 95) },
    filter_sort_ms: Math.round(sortMs),
    regex_search_ms: Math.round(searchMs),
    reattach_ms: reattachMs,
    markup_executed: xss.executed !== 0 || xss.imgs !== 0,
    page_problems: problems.length,
    goals: {
      p95_le_250ms: p95 !== null && p95 <= 250,
      webview_memory_flat: Math.abs(last.webview_heap_mb! - first.webview_heap_mb!) <= Math.max(5, first.webview_heap_mb! * 0.25),
    },
  };
  console.log(JSON.stringify(result));
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(__filename)) {
  const w = process.argv.indexOf('--writer');
  const main = w >= 0 ? writerMain(process.argv[w + 1]!, Number(process.argv[w + 2]), Number(process.argv[w + 3])) : benchMain();
  main.then(
    () => process.exit(0),
    (err: Error) => {
      console.error(err.stack ?? err.message);
      process.exit(1);
    },
  );
}
