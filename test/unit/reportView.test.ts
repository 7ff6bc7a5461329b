/**
 * The editor's report: its data are the same analyses and charts as
 * `tracelift report` (reportViewData vs writeReport), computed on a worker
 * thread; the real report bundle in headless Chromium under the webviews'
 * CSP draws the Vega charts with the expression interpreter (no eval), a
 * hovered point shows its sample as text and a click opens the inspector
 * (only for the report's own runs). Chromium parts skip where it is missing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { CHROMIUM, launchChromium, openWebviewPage, type WebviewPage } from '../../scripts/benchRunView';
import { samplePoints } from '../../src/engine/report/charts';
import { writeReport } from '../../src/engine/report/report';
import { reportViewData } from '../../src/engine/report/reportView';
import { SUITE_FILES, suiteOfRuns, suiteRunDir } from '../../src/engine/suite/runSuite';
import { eventLine, syntheticGroup, syntheticStarted } from '../../src/extension/services/runs/syntheticRun';
import { ReportController } from '../../src/extension/views/webviews/reportController';
import { computeReport } from '../../src/extension/views/webviews/reportThread';
import type { WebviewName } from '../../src/extension/views/webviews/html';

const ROOT = path.resolve(__dirname, '..', '..');

/** A synthetic eval run: `groups` problems, 4 traces each with K = 3. */
function makeRun(groups: number, traceText?: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-report-'));
  let t = eventLine(syntheticStarted());
  for (let i = 0; i < groups; i++) {
    const g = syntheticGroup(i, { traceChars: 100 + 40 * i });
    if (traceText) g.samples[0]!.trace = traceText;
    t += eventLine(g);
  }
  fs.writeFileSync(path.join(dir, 'events.jsonl'), t);
  return dir;
}

test('the report view shows the charts tracelift report writes, and one point per scored sample', async () => {
  const dir = makeRun(6);
  const data = reportViewData([dir]);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-report-out-'));
  const written = await writeReport([dir], out);
  const svgs = written.files.filter((f) => f.endsWith('.svg')).sort();
  assert.deepEqual(data.charts.map((c) => c.file).sort(), svgs, 'the same charts as the SVG files');
  assert.ok(svgs.length >= 3, 'K stability, sign agreement and trace length at least');
  assert.equal(data.runs[0]!.traces, written.runs[0]!.traces);
  assert.equal(data.runs[0]!.meanUplift, written.runs[0]!.meanUplift);
  const scored = written.runs[0]!.traces;
  assert.equal(data.samples?.total, scored);
  assert.equal(data.samples?.shown, scored);
  assert.equal(data.suite, null, 'a lone eval is no suite');
  assert.ok(data.notes.some((n) => /no training run/.test(n)));
});

test('runs of one suite bring the suite table; the same runs elsewhere do not', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-report-suite-'));
  const runDirs = ['gsm8k', 'svamp'].map((task, t) => {
    const dir = suiteRunDir(out, task, 'planner');
    fs.mkdirSync(dir, { recursive: true });
    let text = eventLine(syntheticStarted());
    for (let i = 0; i < 4; i++) text += eventLine({ ...syntheticGroup(i + 10 * t), task });
    fs.writeFileSync(path.join(dir, 'events.jsonl'), text);
    return dir;
  });
  const manifest = {
    tasks: ['gsm8k', 'svamp'],
    limit: 4,
    planners: [{ name: 'planner', description: 'the executor', identity: 'x' }],
    executor: { identity: 'x', model: 'm', origin: 'embedded' },
    k: 3,
    baseline_samples: 8,
    runs: [],
    updated: 'now',
  };
  fs.writeFileSync(path.join(out, SUITE_FILES.manifest), JSON.stringify(manifest));
  assert.equal(suiteOfRuns(runDirs)?.outDir, path.resolve(out));
  const data = reportViewData(runDirs);
  assert.deepEqual(
    data.suite?.rows.map((r) => [r.label, r.without.n]),
    [
      ['gsm8k', 4],
      ['svamp', 4],
      ['micro:math', 8],
    ],
  );
  assert.equal(suiteOfRuns([...runDirs, makeRun(1)]), null, 'a run outside the suite');
});

test('sample points are thinned evenly to the bound, keeping where each came from', () => {
  const dir = makeRun(10);
  const groups = Array.from({ length: 10 }, (_, i) => syntheticGroup(i));
  const all = samplePoints([{ dir, name: 'r', groups }], 1000);
  const n = groups.reduce((s, g) => s + g.samples.filter((x) => x.uplift !== null).length, 0);
  assert.equal(all.length, n);
  const few = samplePoints([{ dir, name: 'r', groups }], 7);
  assert.equal(few.length, 7);
  assert.deepEqual(few[0], all[0]);
  for (const p of few) assert.ok(all.some((a) => a.sampleId === p.sampleId && a.problemId === p.problemId && a.y === p.y));
});

test('the report is computed on a worker thread; a missing run is reported, not thrown at the host', async () => {
  const dir = makeRun(3);
  const data = await computeReport([dir]).result;
  assert.equal(data.runs[0]!.groups, 3);
  const missing = path.join(os.tmpdir(), `tl-no-such-run-${process.pid}`);
  const empty = await computeReport([missing]).result.catch((e: Error) => e);
  if (empty instanceof Error) assert.match(empty.message, /./);
  else assert.equal(empty.runs[0]!.traces, 0);
});

/** Polls an expression in the page (CDP evaluation: the page's CSP forbids Playwright's string predicates). */
async function waitFor(page: WebviewPage['page'], expr: string, ms = 15000): Promise<void> {
  const t0 = Date.now();
  while (!(await page.evaluate<boolean>(`!!(${expr})`).catch(() => false))) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${expr}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const skip = fs.existsSync(CHROMIUM) ? false : `Chromium not installed at ${CHROMIUM}`;
let browser: Browser;
before(async () => {
  if (skip) return;
  execFileSync(process.execPath, ['esbuild.mjs', '--webviews-only'], { cwd: ROOT, stdio: 'ignore' });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

test('report webview: Vega charts under the CSP, hover shows the sample as text, click opens the inspector', { skip }, async () => {
  const hostile = '<img src=x onerror="window.__xss=1"> the trace {{7*7}}';
  const dir = makeRun(5, hostile);
  const calls: unknown[][] = [];
  const h = await openWebviewPage({
    // The shell is the same for every view; html.ts's WebviewName does not list the report yet.
    view: 'report' as WebviewName,
    browser,
    connect: (post) => {
      const c = new ReportController(
        { runDirs: [dir] },
        post,
        { openInspector: (...args: unknown[]) => void calls.push(args) },
        (dirs) => ({ result: Promise.resolve(reportViewData(dirs)), cancel: () => {} }),
      );
      return (m) => void c.handle(m);
    },
  });
  try {
    const page = h.page;
    await waitFor(page, `document.querySelectorAll('[data-testid=report-chart] svg path').length > 0`);
    await waitFor(page, `document.querySelectorAll('[data-testid=report-sample-chart] svg path').length > 5`);
    const charts = await page.evaluate<number>(`document.querySelectorAll('[data-testid=report-chart] svg').length`);
    assert.ok(charts >= 3, `${charts} charts drawn`);
    // Every point of the sample chart is a path in the mark's group; hover and click the one of the hostile trace.
    const points = page.locator('[data-testid=report-sample-chart] g.mark-symbol path');
    const n = await points.count();
    assert.ok(n >= 5, `${n} points`);
    let hit = -1;
    for (let i = 0; i < n && hit < 0; i++) {
      await points.nth(i).hover({ force: true });
      const shown = await page.evaluate<string>(`document.querySelector('[data-testid=report-sample-text]')?.textContent ?? ''`);
      if (shown.startsWith('<img')) hit = i;
    }
    assert.ok(hit >= 0, 'hovering a point shows its trace');
    assert.equal(await page.evaluate(`document.querySelectorAll('#report-sample img').length`), 0, 'the trace is text, not markup');
    assert.equal(await page.evaluate(`window.__xss`), undefined);
    await points.nth(hit).click({ force: true });
    for (let t = 0; t < 100 && !calls.length; t++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(calls.length, 1, 'the click opened the inspector');
    assert.equal(calls[0]![0], path.resolve(dir));
    assert.deepEqual(h.problems, [], 'no CSP violation or page error');
  } finally {
    await h.close();
  }
});

test('the report controller opens samples of its own runs only', async () => {
  const posted: unknown[] = [];
  const calls: unknown[][] = [];
  const c = new ReportController(
    { runDirs: ['/runs/a'] },
    (m) => posted.push(m),
    { openInspector: (...args: unknown[]) => void calls.push(args) },
    () => ({ result: new Promise(() => {}), cancel: () => {} }),
  );
  await c.handle({ kind: 'request', id: 1, method: 'openSample', params: { runDir: '/elsewhere', problemId: 'p', sampleId: 's' } });
  await c.handle({ kind: 'request', id: 2, method: 'openSample', params: { runDir: '/runs/a', problemId: 'p', sampleId: 's' } });
  assert.deepEqual(
    posted.map((m) => (m as { ok: boolean }).ok),
    [false, true],
  );
  assert.deepEqual(calls, [[path.resolve('/runs/a'), 'p', 's', null]]);
});

test('the report controller computes again when its runs change, after the computation in flight', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-report-live-'));
  try {
    fs.writeFileSync(path.join(dir, 'samples.jsonl'), '{}\n');
    const posted: Array<{ kind: string; method?: string; params?: unknown }> = [];
    const runs: Array<{ resolve: (d: unknown) => void; cancelled: boolean }> = [];
    const c = new ReportController(
      { runDirs: [dir] },
      (m) => posted.push(m as { kind: string; method?: string; params?: unknown }),
      { openInspector: () => {} },
      () => {
        const entry = { resolve: (_: unknown) => {}, cancelled: false };
        const result = new Promise<never>((resolve) => (entry.resolve = resolve as (d: unknown) => void));
        runs.push(entry);
        return { result, cancel: () => void (entry.cancelled = true) };
      },
    );
    const reports = () => posted.filter((m) => m.method === 'report').map((m) => m.params);
    const settle = () => new Promise((r) => setTimeout(r, 10));
    await c.handle({ kind: 'notify', method: 'ready', params: { protocol: 1 } });
    assert.equal(runs.length, 1);
    assert.equal(c.checkForChanges(), false, 'nothing changed: no new computation');
    // A live run writes while the report is computed: the computation is not cancelled (it would never finish).
    fs.appendFileSync(path.join(dir, 'samples.jsonl'), '{"more":1}\n');
    assert.equal(c.checkForChanges(), true);
    assert.equal(runs.length, 1, 'queued, not started beside the one in flight');
    assert.equal(runs[0]!.cancelled, false);
    runs[0]!.resolve({ first: true });
    await settle();
    assert.deepEqual(reports(), [{ first: true }], 'the first result is drawn');
    assert.equal(runs.length, 2, 'then the report is computed again for the change');
    runs[1]!.resolve({ second: true });
    await settle();
    assert.deepEqual(reports(), [{ first: true }, { second: true }]);
    assert.equal(c.checkForChanges(), false);
    // Nothing in flight: a change starts a computation at once.
    fs.appendFileSync(path.join(dir, 'samples.jsonl'), '{"more":2}\n');
    assert.equal(c.checkForChanges(), true);
    assert.equal(runs.length, 3);
    c.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
