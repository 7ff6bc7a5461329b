/**
 * Hostile data in a REAL VS Code (code-server), one session, steps in order:
 *
 *  1. a groups file whose problem id, negative kind and traces hold a U+202E
 *     right-to-left override, zero-width characters and HTML/script: the
 *     CodeLens (actions first, clickable at a normal editor width), the
 *     hover and the trace diff show them inert and unreversed (⟨U+202E⟩), flagged;
 *  2. a run whose problem id and traces hold the same: the Runs tree shows
 *     "best +0.000 · base 0% · …" unreversed, the problem flagged;
 *  3. a catastrophic regex in the run view's search: the extension host
 *     answers another command meanwhile, and the search reports its timeout.
 *
 * Screenshots: test-results/screenshots/hostile-*.png.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { eventLine, syntheticEnded, syntheticGroup, syntheticStarted } from '../../src/extension/services/runs/syntheticRun';
import {
  goToLine,
  hoverText,
  openFile,
  pickQuickItem,
  runCommand,
  screenshot,
  screenshotOnFailure,
  startWorkbench,
  traceliftSettings,
  waitFor,
  waitForOutput,
  webviewFrame,
  type Workbench,
} from './harness';
import { closeAllEditors, codeLensRows, frameText, treeRow, treeRows, widenSidebar } from './views';

const RLO = '\u202E';
const ZWSP = '\u200B';
const RAW_HIDDEN = /[\u202A-\u202E\u200B-\u200F\u2066\u2067\uFEFF]/;
const FIXTURE_WORKSPACE = path.resolve(__dirname, '..', 'fixtures', 'workspace');

/** The fixture workspace plus a hostile groups file and a hostile run. */
function hostileWorkspace(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-e2e-hostile-'));
  fs.cpSync(FIXTURE_WORKSPACE, dir, { recursive: true });
  const record = JSON.parse(fs.readFileSync(path.join(dir, 'groups', 'gsm8k.groups.jsonl'), 'utf8').split('\n')[0]!) as {
    problem_id: string;
    source: string;
    positive_pool: Array<{ reasoning: string }>;
    negative_bank: Array<{ reasoning: string; negative_kind: string }>;
  };
  record.problem_id = `p${RLO}1-live`;
  record.source = 'gsm8k [run me](command:tracelift.runEval) $(alert)';
  record.positive_pool[0]!.reasoning += ` <script>document.title='pwned'</script><img src=x onerror="document.title='pwned'">`;
  record.negative_bank[0]!.negative_kind = `${RLO}rorre_noitaluclac`;
  record.negative_bank[1]!.reasoning = `${RLO}81 si rewsna eht${ZWSP}`;
  fs.writeFileSync(path.join(dir, 'groups', 'hostile.groups.jsonl'), `${JSON.stringify(record)}\n`);

  const run = path.join(dir, '.tracelift', 'runs', 'hostile-run');
  fs.mkdirSync(run, { recursive: true });
  let events = eventLine(syntheticStarted('hostile'));
  for (let i = 0; i < 3; i++) {
    const g = syntheticGroup(i, { samples: 4, traceChars: 300 });
    g.problem_id = `${RLO}evil-${i}`;
    g.samples[0]!.trace = `${RLO}81 si rewsna eht ${g.samples[0]!.trace}`;
    events += eventLine(g);
  }
  fs.writeFileSync(path.join(run, 'events.jsonl'), events + eventLine(syntheticEnded()));
  return dir;
}

describe('e2e hostile data: inert, unreversed, flagged; a host that never freezes', { timeout: 600_000 }, () => {
  let wb: Workbench | undefined;
  let workspace = '';

  before(
    async () => {
      workspace = hostileWorkspace();
      // A normal laptop window: the editor is what is left beside the side bar.
      wb = await startWorkbench({ name: 'hostile', workspace, settings: traceliftSettings(), viewport: { width: 1280, height: 800 } });
    },
    { timeout: 360_000 },
  );

  after(
    async () => {
      await wb?.close();
      if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
    },
    { timeout: 60_000 },
  );

  test(
    '1. a hostile groups file: CodeLens actions first and clickable, hover and diff inert and unreversed',
    { timeout: 240_000 },
    async () => {
      const { page } = wb!;
      await screenshotOnFailure(page, 'hostile-groups', async () => {
        await closeAllEditors(page);
        await openFile(page, 'groups/hostile.groups.jsonl');
        const rows = await waitFor(
          async () => {
            const r = await codeLensRows(page);
            return r.length && r[0]!.text.includes('Diff vs reference') ? r : undefined;
          },
          60_000,
          'the CodeLens row of hostile.groups.jsonl',
        );
        const lensText = rows[0]!.text;
        assert.match(lensText, /^Diff vs reference\s*\|\s*Measure uplift\s*\|\s*⚠ hidden chars · 2 pos · 3 neg/, lensText);
        assert.ok(!RAW_HIDDEN.test(lensText), `no raw bidi/zero-width character in the lens: ${JSON.stringify(lensText)}`);

        // The first action lies within the editor at this width, and a click on it opens the diff.
        const lens = page.locator('.editor-group-container.active .monaco-editor .codelens-decoration').nth(rows[0]!.index);
        const action = lens.locator('a', { hasText: 'Diff vs reference' }).first();
        const box = await action.boundingBox();
        const editor = await page.locator('.editor-group-container.active .monaco-editor').first().boundingBox();
        assert.ok(box && editor, 'the lens and the editor have boxes');
        assert.ok(
          box!.x >= editor!.x && box!.x + box!.width <= editor!.x + editor!.width,
          `the action is inside the editor (${JSON.stringify({ box, editor })})`,
        );
        await screenshot(page, 'hostile-codelens');

        // Hover: the override shown as ⟨U+202E⟩, links and icons inert.
        await goToLine(page, 1, 3);
        const hover = await waitFor(
          async () => {
            const t = await hoverText(page, 30_000);
            return /Group/.test(t) ? t : undefined;
          },
          60_000,
          'the TraceLift hover of the hostile record',
        );
        assert.match(hover, /Group p⟨U\+202E⟩1-live/, hover);
        assert.match(hover, /negative 0: ⟨U\+202E⟩rorre_noitaluclac/, hover);
        assert.match(hover, /invisible or reordering characters/, hover);
        assert.ok(!RAW_HIDDEN.test(hover), `no raw bidi character in the hover: ${JSON.stringify(hover)}`);
        assert.equal(
          await page.locator('.monaco-hover a[href^="command:"], .monaco-hover a[data-href^="command:"]').count(),
          0,
          'no command link in the hover',
        );
        await screenshot(page, 'hostile-hover');
        await page.keyboard.press('Escape');

        await action.click();
        await page
          .locator('.tabs-container .tab.active', { hasText: 'Diff: hostile.groups.jsonl #0' })
          .waitFor({ state: 'visible', timeout: 30_000 });
        const frame = await webviewFrame(page, /Diff: hostile\.groups\.jsonl #0/);
        await frame.locator('[data-testid="diff-pair"]').first().waitFor({ state: 'attached', timeout: 60_000 });
        const kinds = (await frame.locator('[data-testid="negative-kind"]').allTextContents()).map((t) => t.trim());
        assert.equal(kinds[0], '⟨U+202E⟩rorre_noitaluclac', `kinds: ${JSON.stringify(kinds)}`);
        const reversed = await frameText(frame.locator('[data-testid="diff-pair"]').nth(1), '[data-testid="diff-right"]');
        assert.equal(reversed, '⟨U+202E⟩81 si rewsna eht⟨U+200B⟩');
        assert.ok((await frame.locator('[data-testid="hidden-flag"]').count()) >= 2, 'the title and the reversed trace are flagged');
        const body = await frame.evaluate(`document.body.textContent + '|' + document.title`);
        assert.ok(
          !RAW_HIDDEN.test(String(body).replace(/\u2068[^\u2069]*\u2069/g, '')),
          'no raw bidi or zero-width character in the diff view',
        );
        const dom = (await frame.evaluate(`({ imgs: document.querySelectorAll('img').length, title: document.title })`)) as {
          imgs: number;
          title: string;
        };
        assert.equal(dom.imgs, 0, 'no <img> from the data');
        assert.notEqual(dom.title, 'pwned');
        await screenshot(page, 'hostile-diff');
      });
    },
  );

  test('2. a hostile run in the Runs tree: figures unreversed, the problem flagged', { timeout: 180_000 }, async () => {
    const { page } = wb!;
    await screenshotOnFailure(page, 'hostile-runs-tree', async () => {
      const icon = page
        .locator(
          '.part.activitybar .action-item a.action-label[aria-label^="TraceLift"], .part.activitybar .action-item [aria-label^="TraceLift"]',
        )
        .first();
      await icon.click();
      await widenSidebar(page, 560).catch(() => {});
      const run = treeRow(page, 'Runs', /^\s*hostile-run/);
      await run.waitFor({ state: 'visible', timeout: 60_000 });
      await run.locator('.monaco-tl-twistie').click();
      const rows = await waitFor(
        async () => {
          const r = await treeRows(page, 'Runs');
          return r.some((x) => x.startsWith('⟨U+202E⟩evil-0')) ? r : undefined;
        },
        60_000,
        'the hostile run expanded',
      );
      const problem = rows.find((x) => x.startsWith('⟨U+202E⟩evil-0'))!;
      assert.match(problem, /^⟨U\+202E⟩evil-0 4 traces · base \d+% · best [+−]\d\.\d{3} · ⚠ hidden chars$/, problem);
      for (const r of rows) assert.ok(!RAW_HIDDEN.test(r), `no raw bidi character in the tree: ${JSON.stringify(r)}`);
      await screenshot(page, 'hostile-runs-tree');
    });
  });

  test(
    '3. a catastrophic regex in the run view: the host answers Show Engine Info meanwhile; the search times out',
    { timeout: 180_000 },
    async () => {
      const { page } = wb!;
      await screenshotOnFailure(page, 'hostile-search', async () => {
        await closeAllEditors(page);
        await runCommand(page, 'TraceLift: Open Run…');
        await pickQuickItem(page, 'hostile-run');
        const frame = await webviewFrame(page, /Run: hostile-run/);
        await frame.locator('[data-testid="run-row"]').first().waitFor({ state: 'attached', timeout: 60_000 });
        // (.+)+ before a string no trace holds backtracks without end on a 300-character trace.
        await frame.evaluate(
          `(() => { const f = document.getElementById('filter-search'); f.value = '(.+)+QQQ'; f.dispatchEvent(new Event('input')); })()`,
        );
        await waitFor(
          async () => (await frame.evaluate(`document.getElementById('search-status').dataset.state`)) === 'scanning',
          15_000,
          'the search to start',
        );
        const t0 = Date.now();
        await runCommand(page, 'TraceLift: Show Engine Info');
        await waitForOutput(page, /TraceLift engine \S+; tasks:/, 20_000);
        const answeredMs = Date.now() - t0;
        assert.ok(answeredMs < 20_000, `Show Engine Info answered in ${answeredMs} ms while the search ran`);
        const status = await waitFor(
          async () => {
            const state = await frame.evaluate(`document.getElementById('search-status').dataset.state`);
            return state === 'timeout' ? frameText(frame, '#search-status') : undefined;
          },
          60_000,
          'the search to report its timeout',
        );
        assert.match(status, /search timed out after 5 s/, status);
        await screenshot(page, 'hostile-search-timeout');
      });
    },
  );
});
