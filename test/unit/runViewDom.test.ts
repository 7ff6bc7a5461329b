/**
 * The run view's group table, per-kind table and charts in headless
 * Chromium (the real bundle under the real CSP, wired to the real
 * controller): a groups-file run whose negative beats its reference opens
 * on the group table with the badge, expands a group to its traces with Δ,
 * shows the per-kind table with intervals; a training run draws its step
 * curves, checkpoints and step-time stack; an eval draws no training chart
 * and its histogram carries counts. Skipped where Chromium is not installed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { CHROMIUM, launchChromium, openWebviewPage, type WebviewPage } from '../../scripts/benchRunView';
import { RunTail } from '../../src/extension/services/runs/runTail';
import {
  eventLine,
  exactGroup,
  syntheticEnded,
  syntheticStarted,
  syntheticTrainingStep,
} from '../../src/extension/services/runs/syntheticRun';
import { RunViewController } from '../../src/extension/views/webviews/runViewController';

const ROOT = path.resolve(__dirname, '..', '..');
const skip = fs.existsSync(CHROMIUM) ? false : `Chromium not installed at ${CHROMIUM}`;
let browser: Browser;
const tails: RunTail[] = [];

before(async () => {
  if (skip) return;
  execFileSync(process.execPath, ['esbuild.mjs', '--webviews-only'], { cwd: ROOT, stdio: 'ignore' });
  browser = await launchChromium();
});
after(async () => {
  for (const t of tails) t.dispose();
  await browser?.close();
});

async function waitFor(page: WebviewPage['page'], expr: string, ms = 8000): Promise<void> {
  const t0 = Date.now();
  while (!(await page.evaluate<boolean>(`!!(${expr})`).catch(() => false))) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${expr}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
const texts = (page: WebviewPage['page'], sel: string) =>
  page.evaluate<string[]>(`[...document.querySelectorAll(${JSON.stringify(sel)})].map((e) => e.textContent.trim())`);

function runDir(lines: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-runview-'));
  fs.writeFileSync(path.join(dir, 'events.jsonl'), lines);
  return dir;
}

async function open(dir: string) {
  const tail = new RunTail(dir, { pollMs: 50 }).start();
  tails.push(tail);
  let controller: RunViewController | null = null;
  const h = await openWebviewPage({
    view: 'runView',
    browser,
    connect: (post) => {
      controller = new RunViewController(tail, post, { openInspector: () => {}, openTraceDiff: () => {} }, { throttleMs: 20 });
      return (m) => void controller!.handle(m);
    },
  });
  return h;
}

test(
  'a groups-file run: group table with headers, the "negative beats reference" badge, expansion with Δ, per-kind table',
  { skip },
  async () => {
    const g = (i: number, id: string, ref: number, neg: number) =>
      exactGroup(i, {
        problemId: id,
        baseline: [2, 4],
        traces: [
          { source: 'positive', label: 'reference', k: ref, K: 4 },
          { source: 'negative', label: 'arithmetic_error', k: neg, K: 4 },
        ],
      });
    const dir = runDir(
      eventLine(syntheticStarted('groups')) +
        eventLine(g(0, 'p-beaten', 2, 4)) +
        eventLine(g(1, 'p-fine', 4, 1)) +
        eventLine(syntheticEnded()),
    );
    const h = await open(dir);
    const page = h.page;
    try {
      await waitFor(page, `document.querySelectorAll('[data-testid=group-row]:not([hidden])').length === 2`);
      assert.equal(await page.evaluate(`document.getElementById('list').hidden`), true, 'the sample table is hidden');
      const headers = await texts(page, '#group-columns [role=columnheader]');
      assert.deepEqual(headers.slice(1, 4), ['problem / trace', 'step · task / kind', 'traces / source']);
      assert.ok(headers.includes('Δ vs ref') && headers.includes('baseline'), JSON.stringify(headers));
      const badges = await page.evaluate<string[]>(
        `[...document.querySelectorAll('[data-testid=group-row]')].filter((r) => r.querySelector('[data-testid=beats-flag]')).map((r) => r.querySelector('[data-field=problem]').textContent)`,
      );
      assert.deepEqual(badges, ['p-beaten']);
      assert.match(await page.evaluate<string>(`document.getElementById('fig-beats').textContent`), /^1$/);
      // Expand p-beaten: its reference (Δ +0.000) and the negative (Δ +0.500, flagged).
      await page.evaluate(
        `[...document.querySelectorAll('[data-testid=group-row]')].find((r) => r.querySelector('[data-field=problem]').textContent === 'p-beaten').click()`,
      );
      await waitFor(page, `document.querySelectorAll('[data-testid=group-sample-row]:not([hidden])').length === 2`);
      assert.deepEqual(await texts(page, '[data-testid=group-sample-row]:not([hidden]) [data-field=delta]'), ['Δ 0.000', 'Δ +0.500']);
      assert.equal(await page.evaluate(`document.querySelectorAll('[data-testid=group-sample-row] [data-testid=beats-flag]').length`), 1);
      // Filter: only groups where a negative beats the reference.
      await page.evaluate(
        `(() => { const c = document.getElementById('filter-beats'); c.checked = true; c.dispatchEvent(new Event('change')); })()`,
      );
      await waitFor(page, `/^1 of 2 groups/.test(document.getElementById('row-count').textContent)`);
      // Per-kind table: reference n 2 (uplift 0 and +0.5), arithmetic_error n 2 (Δ +0.5 and −0.75: mean −0.125 ± t·se).
      const kinds = await page.evaluate<string[][]>(
        `[...document.querySelectorAll('[data-testid=kind-row]')].map((r) => [...r.children].map((c) => c.textContent))`,
      );
      const arith = kinds.find((r) => r[0] === 'arithmetic_error')!;
      assert.equal(arith[1], '2');
      assert.match(arith[3]!, /^−0\.125 ± \d+\.\d{3}$/);
      assert.equal(arith[5], '1');
      // The eval draws its uplift distribution with counts, and no training chart.
      assert.equal(await page.evaluate(`document.getElementById('train-charts').hidden`), true);
      const counts = await texts(page, '#uplift-histogram text.count');
      assert.equal(
        counts.map(Number).reduce((a, b) => a + b, 0),
        4,
      );
      assert.deepEqual(h.problems, []);
    } finally {
      await h.close();
    }
  },
);

test('a training run: step curves with bands, checkpoint markers, step-time stack; rows filterable by step', { skip }, async () => {
  let lines = eventLine(syntheticStarted('train', 'train'));
  for (let s = 1; s <= 3; s++)
    lines += syntheticTrainingStep(s, { promptsPerStep: 2, generations: 4, saveSteps: 2 }).map(eventLine).join('');
  const h = await open(runDir(lines));
  const page = h.page;
  try {
    await waitFor(
      page,
      `document.getElementById('train-charts') && !document.getElementById('train-charts').hidden && document.querySelector('#chart-reward polyline')`,
    );
    assert.equal(await page.evaluate(`document.querySelectorAll('#chart-reward polygon.band').length`), 1, 'a 95% band');
    assert.deepEqual(await page.evaluate(`[...document.querySelectorAll('#chart-reward line.marker')].map((l) => l.dataset.step)`), ['2']);
    assert.equal(await page.evaluate(`document.querySelectorAll('#chart-time rect.seg').length`), 9, '3 steps × generation/reward/update');
    assert.ok(await page.evaluate(`document.querySelectorAll('#chart-loss polyline').length === 2`), 'loss and KL');
    assert.equal(await page.evaluate(`document.getElementById('fig-step').textContent`), '3');
    // Samples of step 2 only (8 traces).
    await page.evaluate(
      `(() => { const f = document.getElementById('filter-step'); f.value = '2'; f.dispatchEvent(new Event('input')); })()`,
    );
    await waitFor(page, `/^8 of 24 samples/.test(document.getElementById('row-count').textContent)`);
    const tasks = await texts(page, '[data-testid=run-row]:not([hidden]) [data-field=task]');
    assert.ok(tasks.length > 0 && tasks.every((t) => t === 'gsm8k · step 2'), JSON.stringify(tasks));
    assert.deepEqual(h.problems, []);
  } finally {
    await h.close();
  }
});
