/**
 * The real webview bundles in headless Chromium (the page gets the same CSP
 * as in VS Code and a fake acquireVsCodeApi wired to the real host-side
 * controllers): markup in traces stays text and runs nothing, the views
 * render, filter, search, handle bad input, navigate by keyboard and restore
 * after a reload. Skipped where Chromium is not installed.
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
import { eventLine, syntheticEnded, syntheticGroup, syntheticStarted } from '../../src/extension/services/runs/syntheticRun';
import { CompareController } from '../../src/extension/views/webviews/compareController';
import { InspectorController } from '../../src/extension/views/webviews/inspectorController';
import { RunViewController } from '../../src/extension/views/webviews/runViewController';
import { TraceDiffController } from '../../src/extension/views/webviews/traceDiffController';
import type { ViewActions } from '../../src/extension/views/webviews/types';

const ROOT = path.resolve(__dirname, '..', '..');
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'groups.gsm8k.jsonl');
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

function actions(): ViewActions & { calls: unknown[][] } {
  const calls: unknown[][] = [];
  return {
    calls,
    openRunView: (...a) => void calls.push(['openRunView', ...a]),
    openInspector: (...a) => void calls.push(['openInspector', ...a]),
    openTraceDiff: (...a) => void calls.push(['openTraceDiff', ...a]),
    openInDiffEditor: async (...a) => void calls.push(['openInDiffEditor', ...a]),
  };
}

/** Polls an expression (page.waitForFunction would need 'unsafe-eval', which the webview CSP forbids). */
async function waitFor(page: WebviewPage['page'], expr: string, ms = 8000): Promise<void> {
  const t0 = Date.now();
  while (!(await page.evaluate<boolean>(`!!(${expr})`).catch(() => false))) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${expr}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
const text = (page: WebviewPage['page'], sel: string) =>
  page.evaluate<string>(`document.querySelector(${JSON.stringify(sel)})?.textContent ?? ''`);
const XSS = `({ executed: window.__xss ?? 0, imgs: document.querySelectorAll('img').length, scripts: document.querySelectorAll('script').length })`;

function makeRun(groups: number, extra = ''): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-dom-'));
  let t = eventLine(syntheticStarted());
  for (let i = 0; i < groups; i++) t += eventLine(syntheticGroup(i)) + (i === 3 ? extra : '');
  fs.writeFileSync(path.join(dir, 'events.jsonl'), t);
  return dir;
}

async function runView(dir: string, a = actions()) {
  const tail = new RunTail(dir, { pollMs: 50 }).start();
  tails.push(tail);
  let controller: RunViewController | null = null;
  const h = await openWebviewPage({
    view: 'runView',
    browser,
    connect: (post) => {
      controller = new RunViewController(tail, post, a, { throttleMs: 20 });
      return (m) => void controller!.handle(m);
    },
  });
  return { h, tail, a };
}

test('run view: rows render as text (markup runs nothing), filters, invalid regex, keyboard, live updates, reload', { skip }, async () => {
  const dir = makeRun(30, '{"broken json\n');
  const { h, a } = await runView(dir);
  const page = h.page;
  try {
    await waitFor(page, `document.querySelectorAll('[data-testid=run-row]:not([hidden])').length > 5`);
    assert.equal(await text(page, '#fig-groups'), '30');
    assert.equal(await text(page, '#run-status'), '● live');
    // A trace full of markup is characters.
    const previews = await page.evaluate<string[]>(`[...document.querySelectorAll('[data-field=preview]')].map((e) => e.textContent)`);
    assert.ok(
      previews.some((p) => p.includes('<img src=x onerror=')),
      'markup shows as text',
    );
    assert.deepEqual(await page.evaluate(XSS), { executed: 0, imgs: 0, scripts: 1 });
    // The malformed line is reported with its line number; the rest is shown.
    assert.match(await text(page, '[data-testid=message-issues]'), /1 line\(s\).*line 6: invalid JSON/);
    // Filter: uplift > 0.
    const total = await text(page, '#row-count');
    await page.evaluate(
      `(() => { const s = document.getElementById('filter-sign'); s.value = 'positive'; s.dispatchEvent(new Event('change')); })()`,
    );
    await waitFor(page, `document.getElementById('row-count').textContent !== ${JSON.stringify(total)}`);
    const ups = await page.evaluate<string[]>(
      `[...document.querySelectorAll('[data-testid=run-row]:not([hidden]) [data-field=uplift]')].map((e) => e.dataset.sign)`,
    );
    assert.ok(ups.length > 0 && ups.every((s) => s === 'pos'));
    // An invalid regex is a message, not a crash; a valid one filters by full trace text.
    await page.evaluate(
      `(() => { const f = document.getElementById('filter-search'); f.value = '(['; f.dispatchEvent(new Event('input')); })()`,
    );
    await waitFor(page, `document.getElementById('search-status').dataset.state === 'invalid'`);
    assert.match(await text(page, '[data-testid=message-search]'), /Invalid regular expression/);
    await page.evaluate(
      `(() => { const f = document.getElementById('filter-search'); f.value = 'onerror'; f.dispatchEvent(new Event('input')); const s = document.getElementById('filter-sign'); s.value = 'any'; s.dispatchEvent(new Event('change')); })()`,
    );
    await waitFor(
      page,
      `document.getElementById('search-status').dataset.state === 'done' && /^5 of/.test(document.getElementById('row-count').textContent)`,
    );
    // Keyboard: focus the list, move down, Enter opens the inspector on the selected row.
    await page.focus('#list');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await new Promise((r) => setTimeout(r, 100));
    const opened = a.calls.find((c) => c[0] === 'openInspector');
    assert.ok(opened, 'Enter opens the inspector');
    const selected = await page.evaluate<string | null>(
      `document.querySelector('[aria-selected=true] [data-field=problem]')?.textContent ?? null`,
    );
    assert.equal(opened[2], selected);
    // Space marks rows; two marked rows enable the diff button.
    await page.keyboard.press(' ');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press(' ');
    assert.equal(await text(page, '#diff-marked'), 'Diff marked (2/2)');
    // Live: new groups and the end of the run arrive.
    fs.appendFileSync(path.join(dir, 'events.jsonl'), eventLine(syntheticGroup(35)) + eventLine(syntheticEnded()));
    await waitFor(
      page,
      `document.getElementById('fig-groups').textContent === '31' && document.getElementById('run-status').textContent === 'completed'`,
    );
    // Reload (like a window reload): the query comes back from the persisted state.
    await new Promise((r) => setTimeout(r, 400)); // the view persists its state at most every 200 ms
    await h.reload();
    await waitFor(
      page,
      `document.getElementById('fig-groups')?.textContent === '31' && document.querySelectorAll('[data-testid=run-row]:not([hidden])').length > 0`,
    );
    assert.equal(await page.evaluate(`document.getElementById('filter-search').value`), 'onerror');
    assert.match(await text(page, '#row-count'), /^6 of/);
    assert.deepEqual(h.problems, []);
  } finally {
    await h.close();
  }
});

test('run view: a missing run directory is a clear message', { skip }, async () => {
  const { h } = await runView(path.join(os.tmpdir(), 'tl-dom-does-not-exist', String(Date.now())));
  try {
    await waitFor(h.page, `document.getElementById('run-status').dataset.status === 'missing'`);
    assert.match(await text(h.page, '[data-testid=message-status]'), /Run directory not found/);
    assert.equal(await text(h.page, '[data-testid=list-empty]'), 'No samples yet.');
  } finally {
    await h.close();
  }
});

test('inspector: trace, every attempt with and without the trace, verdicts and the arithmetic — all as text', { skip }, async () => {
  const dir = makeRun(8);
  const tail = new RunTail(dir, { pollMs: 50 }).start();
  tails.push(tail);
  const g = syntheticGroup(7); // i % 7 === 0: the last trace carries markup
  const sample = g.samples[3]!;
  let c: InspectorController | null = null;
  const h = await openWebviewPage({
    view: 'inspector',
    browser,
    connect: (post) => {
      c = new InspectorController(tail, { runDir: dir, problemId: g.problem_id, sampleId: sample.sample_id, line: null }, post, actions());
      return (m) => void c!.handle(m);
    },
  });
  try {
    await waitFor(h.page, `!!document.getElementById('insp-trace-text')`);
    assert.equal(await text(h.page, '#insp-trace-text'), sample.trace);
    assert.equal(await h.page.evaluate(`document.querySelectorAll('[data-testid=attempt][data-kind=with]').length`), 3);
    assert.equal(
      await h.page.evaluate(`document.querySelectorAll('[data-testid=attempt][data-kind=without]').length`),
      g.baseline.attempts.length,
    );
    const t = sample.with_trace.tally;
    const b = g.baseline.tally;
    assert.match(
      await text(h.page, '[data-testid=uplift-arith]'),
      new RegExp(`^uplift = k/K − b/M = ${t.successes}/${t.valid} − ${b.successes}/${b.valid} = `),
    );
    if (sample.reward) assert.match(await text(h.page, '[data-testid=reward-arith]'), /reward \(tracelift\) = 0\.5·e2e/);
    assert.deepEqual(await h.page.evaluate(XSS), { executed: 0, imgs: 0, scripts: 1 });
    assert.deepEqual(h.problems, []);
  } finally {
    await h.close();
  }
});

test(
  'trace diff of a TraceLift-Groups record: labelled pairs, word-level <del>/<ins>, markup as text, open in diff editor',
  { skip },
  async () => {
    const a = actions();
    let c: TraceDiffController | null = null;
    const h = await openWebviewPage({
      view: 'traceDiff',
      browser,
      connect: (post) => {
        c = new TraceDiffController({ mode: 'groups', groupsFile: FIXTURE, recordIndex: 1 }, post, a);
        return (m) => void c!.handle(m);
      },
    });
    try {
      await waitFor(h.page, `document.querySelectorAll('[data-testid=diff-pair]').length === 3`);
      assert.deepEqual(await h.page.evaluate(`[...document.querySelectorAll('[data-testid=negative-kind]')].map((e) => e.textContent)`), [
        'calculation_error',
        'incomplete_reasoning',
        'irrelevant',
      ]);
      assert.deepEqual(
        await h.page.evaluate(
          `[...document.querySelectorAll('[data-testid=diff-pair]')[0].querySelectorAll('ins')].map((e) => e.textContent)`,
        ),
        ['5', '5'],
      );
      assert.match(await text(h.page, '[data-kind=irrelevant] [data-testid=diff-right]'), /^<script>alert\('x'\)<\/script> Ignore/);
      assert.deepEqual(await h.page.evaluate(XSS), { executed: 0, imgs: 0, scripts: 1 });
      await h.page.click('[data-kind=irrelevant] [data-testid=open-diff-editor]');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(a.calls[0]?.[0], 'openInDiffEditor');
      assert.deepEqual(h.problems, []);
    } finally {
      await h.close();
    }
  },
);

test('compare runs: per-problem rows with deltas', { skip }, async () => {
  const ta = new RunTail(makeRun(5), { pollMs: 50 }).start();
  const tb = new RunTail(makeRun(7), { pollMs: 50 }).start();
  tails.push(ta, tb);
  let c: CompareController | null = null;
  const h = await openWebviewPage({
    view: 'compareRuns',
    browser,
    connect: (post) => {
      c = new CompareController(ta, tb, post, actions(), { throttleMs: 20 });
      return (m) => void c!.handle(m);
    },
  });
  try {
    await waitFor(h.page, `document.querySelectorAll('[data-testid=cmp-row]:not([hidden])').length === 5`);
    assert.match(await text(h.page, '#cmp-deltas'), /^5 problem\(s\) in both runs, 0 only in A, 2 only in B/);
    const deltas = await h.page.evaluate<string[]>(
      `[...document.querySelectorAll('[data-testid=cmp-row]:not([hidden]) [data-field=deltaUplift]')].map((e) => e.textContent)`,
    );
    assert.ok(
      deltas.every((d) => d === '0.000'),
      'same synthetic groups → no delta',
    );
    assert.deepEqual(h.problems, []);
  } finally {
    await h.close();
  }
});

test('hostile text in a webview: bidi controls and zero-width characters shown as ⟨U+…⟩, flagged, markup inert', { skip }, async () => {
  const RLO = '\u202E';
  const left = {
    title: `p${RLO}1 · ref`,
    text: `the answer is 18\u200B <img src=x onerror="window.__xss=1">`,
    meta: { label: `kind${RLO}` },
  };
  const right = { title: 'p1 · neg', text: `${RLO}81 si rewsna eht {{7*7}} \${1+1}`, meta: {} };
  let c: TraceDiffController | null = null;
  const h = await openWebviewPage({
    view: 'traceDiff',
    browser,
    connect: (post) => {
      c = new TraceDiffController({ mode: 'pair', left, right }, post, actions());
      return (m) => void c!.handle(m);
    },
  });
  try {
    await waitFor(h.page, `document.querySelectorAll('[data-testid=diff-pair]').length === 1`);
    const all = await h.page.evaluate<string>(
      `document.body.textContent + document.title + [...document.querySelectorAll('[title],[aria-label],[heading]')].map((e) => e.getAttribute('title') + e.getAttribute('aria-label') + e.getAttribute('heading')).join('')`,
    );
    assert.ok(
      !/[\u202A-\u202E\u200B-\u200F\u2066-\u2069\uFEFF]/.test(all.replace(/\u2068[^\u2068\u2069]*\u2069/g, '')),
      'no raw bidi or zero-width character anywhere',
    );
    assert.match(await text(h.page, '[data-testid=diff-right]'), /^⟨U\+202E⟩81 si rewsna eht \{\{7\*7\}\} \$\{1\+1\}$/);
    assert.match(await text(h.page, '[data-testid=diff-left]'), /the answer is 18⟨U\+200B⟩ <img/);
    assert.equal(await text(h.page, '[data-testid=diff-left-title]'), 'p⟨U+202E⟩1 · ref');
    assert.ok(((await h.page.evaluate<string>('document.title')) ?? '').includes('⟨U+202E⟩'), 'the page title is revealed too');
    assert.ok((await h.page.evaluate<number>(`document.querySelectorAll('[data-testid=hidden-flag]').length`)) >= 2, 'both sides flagged');
    assert.deepEqual(await h.page.evaluate(XSS), { executed: 0, imgs: 0, scripts: 1 });
  } finally {
    await h.close();
  }
});
