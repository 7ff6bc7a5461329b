/**
 * Feature tests in a REAL VS Code (code-server 4.100.3), one session shared by
 * the steps below (they run in order; each leaves the workbench usable):
 *
 *  1. the TraceLift commands in the palette, under the "TraceLift" category;
 *  2. the TraceLift activity-bar container: Runs (fixture run → problems →
 *     samples) and Trace & Data Files (groups files with counts, the malformed one flagged);
 *  3. annotations of a groups file: end-of-line text, CodeLens row, hover breakdown;
 *  4. the group trace diff from the "Diff vs reference" CodeLens, with the
 *     HTML/script trace rendered as literal text;
 *  5. the inspector from the "Inspect" CodeLens of the fixture run's samples.jsonl;
 *  6. "Run Eval on Workspace…" on the embedded executor (gsm8k, reference
 *     traces, K=1, M=2, limit 2): the run view fills live, then the run ends;
 *  7. a window reload restores that run view with its rows.
 *
 * Screenshots: test-results/screenshots/features-*.png (failure-features-*.png on failure).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  goToLine,
  hoverText,
  notifications,
  openFile,
  openPalette,
  reloadWindow,
  screenshot,
  screenshotOnFailure,
  startWorkbench,
  traceliftSettings,
  waitFor,
  webviewFrame,
  type Workbench,
} from './harness';
import {
  afterDecorations,
  clickCodeLens,
  closeAllEditors,
  codeLensRows,
  escapeRe,
  frameText,
  QUICK_INPUT,
  quickRows,
  runEvalFromPalette,
  sleep,
  treeRow,
  treeRows,
  widenSidebar,
} from './views';

const FIXTURE_RUN = 'gsm8k-reference-3';

// ---------------------------------------------------------------------------

describe('e2e features: TraceLift in code-server', { timeout: 900_000 }, () => {
  let wb: Workbench | undefined;
  /** Name of the run directory the live-eval step created (for the reload step). */
  let liveRunName: string | undefined;

  before(
    async () => {
      wb = await startWorkbench({
        name: 'features',
        // A fresh baseline cache: the eval step then really runs the baseline
        // samples, so its groups arrive one by one while the run view watches.
        settings: traceliftSettings({ 'tracelift.cacheDir': '${workspaceFolder}/.e2e-baseline-cache' }),
      });
    },
    { timeout: 360_000 },
  );

  after(
    async () => {
      await wb?.close();
    },
    { timeout: 60_000 },
  );

  test('1. the TraceLift commands are in the palette under the "TraceLift" category', { timeout: 120_000 }, async () => {
    const { page } = wb!;
    await screenshotOnFailure(page, 'features-palette', async () => {
      const expected = [
        'TraceLift: Run Eval on Workspace…',
        'TraceLift: Open Run…',
        'TraceLift: Inspect Sample…',
        'TraceLift: Diff Two Traces…',
        'TraceLift: Diff Group vs Reference…',
        'TraceLift: Measure Uplift of a Group…',
        'TraceLift: Set API Key…',
        'TraceLift: Show Log',
        'TraceLift: Show Engine Info',
        'TraceLift: Refresh Explorer',
      ];
      // Context actions of tree nodes are hidden from the palette (`when: false`).
      // Compare Two Runs is enabled only with two runs (the fixture has one), Cancel Running Eval only while one runs.
      const hidden = [
        'TraceLift: Compare Two Runs…',
        'TraceLift: Cancel Running Eval',
        'TraceLift: Copy Path',
        'TraceLift: Reveal in Explorer',
        'TraceLift: Show More Problems',
        'TraceLift: Diff Sample vs Reference Trace',
        'TraceLift: Open File',
        'TraceLift: Check Again',
        'TraceLift: Fix',
      ];
      await openPalette(page);
      const input = page.locator(`${QUICK_INPUT} input`).first();
      // One label at a time: the palette draws only the rows that fit, and TraceLift has more commands than that.
      const offeredFor = async (label: string): Promise<string[]> => {
        await input.fill('>');
        await input.fill(`>${label}`);
        await sleep(300);
        return quickRows(page);
      };
      let offered: string[] = [];
      await waitFor(
        async () => {
          offered = await offeredFor('TraceLift: Run Eval on Workspace…');
          return offered.includes('TraceLift: Run Eval on Workspace…');
        },
        60_000,
        'the extension commands to register',
        500,
      );
      for (const e of expected) {
        offered = await offeredFor(e);
        assert.ok(offered.includes(e), `"${e}" is in the palette; offered: ${JSON.stringify(offered)}`);
      }
      for (const h of hidden) {
        offered = await offeredFor(h);
        assert.ok(!offered.includes(h), `"${h}" should be hidden from the palette; offered: ${JSON.stringify(offered)}`);
      }
      await offeredFor('TraceLift:');
      await screenshot(page, 'features-palette');
      await page.keyboard.press('Escape');
    });
  });

  test('2. the TraceLift activity-bar container: Runs and Trace & Data Files', { timeout: 180_000 }, async () => {
    const { page } = wb!;
    await screenshotOnFailure(page, 'features-explorer', async () => {
      const icon = page
        .locator(
          '.part.activitybar .action-item a.action-label[aria-label^="TraceLift"], .part.activitybar .action-item [aria-label^="TraceLift"]',
        )
        .first();
      await icon.waitFor({ state: 'visible', timeout: 60_000 });
      await icon.click();
      await page
        .locator('.part.sidebar .composite.title h2', { hasText: /TraceLift/i })
        .first()
        .waitFor({ state: 'visible', timeout: 30_000 });
      await widenSidebar(page, 640).catch(() => {});

      // Runs: the fixture run with its status and counts.
      const runRows = await waitFor(
        async () => {
          const rows = await treeRows(page, 'Runs').catch(() => [] as string[]);
          return rows.some((r) => r.startsWith(FIXTURE_RUN)) ? rows : undefined;
        },
        60_000,
        `the Runs view to list ${FIXTURE_RUN}`,
      );
      const runRow = runRows.find((r) => r.startsWith(FIXTURE_RUN))!;
      assert.match(runRow, /completed/, `run row: ${runRow}`);
      assert.match(runRow, /3 problems/, `run row: ${runRow}`);
      assert.match(runRow, /gsm8k/, `run row: ${runRow}`);

      // Expand the run → its three problems.
      await treeRow(page, 'Runs', new RegExp(`^\\s*${escapeRe(FIXTURE_RUN)}`)).click();
      const expanded = await waitFor(
        async () => {
          const rows = await treeRows(page, 'Runs');
          return ['gsm8k/test/0', 'gsm8k/test/1', 'gsm8k/test/2'].every((p) => rows.some((r) => r.startsWith(p))) ? rows : undefined;
        },
        30_000,
        'the fixture run to expand to gsm8k/test/0..2',
      );
      const problemRow = expanded.find((r) => r.startsWith('gsm8k/test/0'))!;
      assert.match(problemRow, /1 trace/, `problem row: ${problemRow}`);

      // Expand a problem → its sample "reference" with uplift · reward · k/K.
      await treeRow(page, 'Runs', /^\s*gsm8k\/test\/0/).click();
      let runsNow: string[] = [];
      const isSample = (r: string) => /^reference uplift\b/.test(r);
      const withSample = await waitFor(
        async () => {
          runsNow = await treeRows(page, 'Runs');
          return runsNow.some(isSample) ? runsNow : undefined;
        },
        30_000,
        'the problem gsm8k/test/0 to expand to its sample "reference"',
      ).catch((err) => {
        throw new Error(`${(err as Error).message}; rows: ${JSON.stringify(runsNow)}`);
      });
      const sampleRow = withSample.find(isSample)!;
      assert.match(sampleRow, /uplift [+]?0\.000/, `sample row: ${sampleRow}`);
      assert.match(sampleRow, /reward 0\.000/, `sample row: ${sampleRow}`);
      assert.match(sampleRow, /0\/3/, `sample row: ${sampleRow}`);
      await screenshot(page, 'features-runs-view');

      // Trace & Data Files: the groups files by schema, with counts; the malformed one flagged.
      const dataRows = await waitFor(
        async () => {
          const rows = await treeRows(page, 'Trace & Data Files').catch(() => [] as string[]);
          return rows.some((r) => r.startsWith('broken.groups.jsonl')) && rows.some((r) => r.startsWith('gsm8k.groups.jsonl'))
            ? rows
            : undefined;
        },
        60_000,
        'the Trace & Data Files view to list the fixture groups files',
      );
      const groupsCat = dataRows.find((r) => r.startsWith('Groups files'));
      assert.equal(groupsCat, 'Groups files 2', `rows: ${JSON.stringify(dataRows)}`);
      const good = dataRows.find((r) => r.startsWith('gsm8k.groups.jsonl'))!;
      assert.match(good, /3 records · 11 traces/, `gsm8k.groups.jsonl row: ${good}`);
      assert.doesNotMatch(good, /malformed/, `gsm8k.groups.jsonl row: ${good}`);
      const broken = dataRows.find((r) => r.startsWith('broken.groups.jsonl'))!;
      assert.match(broken, /2 records · 6 traces · 1 malformed/, `broken.groups.jsonl row: ${broken}`);
      assert.ok(
        dataRows.some((r) => /^gsm8k\.traces\.jsonl\b.*4 records/.test(r)),
        `traces file row missing: ${JSON.stringify(dataRows)}`,
      );
      // The run's own files are not listed here (they live under the runs folder).
      assert.ok(!dataRows.some((r) => r.startsWith('samples.jsonl')), `run files listed: ${JSON.stringify(dataRows)}`);

      // The malformed file has a warning icon (the good one not) and expands to the offending line.
      const brokenRow = treeRow(page, 'Trace & Data Files', /^\s*broken\.groups\.jsonl/);
      assert.equal(await brokenRow.locator('.codicon-warning').count(), 1, 'warning icon on broken.groups.jsonl');
      assert.equal(
        await treeRow(page, 'Trace & Data Files', /^\s*gsm8k\.groups\.jsonl/)
          .locator('.codicon-warning')
          .count(),
        0,
        'no warning icon on gsm8k.groups.jsonl',
      );
      await brokenRow.locator('.monaco-tl-twistie').click();
      const issueRows = await waitFor(
        async () => {
          const rows = await treeRows(page, 'Trace & Data Files');
          return rows.some((r) => /^line 2\b/.test(r)) ? rows : undefined;
        },
        30_000,
        'broken.groups.jsonl to expand to its malformed line 2',
      );
      assert.ok(issueRows.filter((r) => /^line \d+/.test(r)).length === 1, `issue rows: ${JSON.stringify(issueRows)}`);
      await screenshot(page, 'features-data-files-view');
    });
  });

  test('3. annotations of a groups file: end-of-line text, CodeLens, hover breakdown', { timeout: 180_000 }, async () => {
    const { page } = wb!;
    await screenshotOnFailure(page, 'features-annotations', async () => {
      await closeAllEditors(page);
      await openFile(page, 'groups/gsm8k.groups.jsonl');

      // CodeLens rows: the two actions first (within reach in a narrow editor), then a short summary; one row per record.
      const lenses = await waitFor(
        async () => {
          const rows = await codeLensRows(page);
          return rows.length >= 3 && rows.every((r) => r.text.includes('Diff vs reference')) ? rows : undefined;
        },
        60_000,
        'a CodeLens row on each of the 3 records of gsm8k.groups.jsonl',
      );
      assert.equal(lenses.length, 3, `CodeLens rows: ${JSON.stringify(lenses.map((l) => l.text))}`);
      const first = lenses[0]!.text;
      assert.match(first, /^Diff vs reference\s*\|\s*Measure uplift\s*\|\s*2 pos · 3 neg · not measured$/, first);
      assert.match(lenses[1]!.text, /^Diff vs reference\s*\|\s*Measure uplift\s*\|\s*1 pos · 2 neg/, lenses[1]!.text);

      // End-of-line decorations carry the full summary: kinds and rubric totals.
      const eol = await waitFor(
        async () => {
          const texts = await afterDecorations(page);
          return texts.some((t) => t.includes('2 pos · 3 neg')) ? texts : undefined;
        },
        30_000,
        'an end-of-line decoration "2 pos · 3 neg …" on line 1',
      );
      assert.ok(
        eol.some((t) =>
          /2 pos · 3 neg \(calculation_error, incomplete_reasoning, irrelevant\) · rubric 1\.00 1\.00 \| 0\.55 0\.50 0\.00/.test(t),
        ),
        `end-of-line decorations: ${JSON.stringify(eol)}`,
      );
      assert.ok(
        eol.some((t) => /1 pos · 2 neg \(misread_problem/.test(t)),
        `end-of-line decorations: ${JSON.stringify(eol)}`,
      );
      await screenshot(page, 'features-annotations-codelens');

      // Hover on record 1: the rubric breakdown of each trace with its negative_kind.
      await goToLine(page, 1, 3);
      const hover = await waitFor(
        async () => {
          const text = await hoverText(page, 30_000);
          return /negative_kind|negative \d/.test(text) ? text : undefined;
        },
        60_000,
        'the TraceLift hover of record 1',
      );
      assert.match(hover, /math_gsm8k_000000/, hover);
      assert.match(hover, /negative 0: calculation_error/, hover);
      assert.match(hover, /negative 2: irrelevant/, hover);
      assert.match(hover, /total 0\.55/, hover);
      assert.match(hover, /calculation_correctness 0/, hover);
      assert.match(hover, /Measure uplift/, hover);
      await screenshot(page, 'features-annotations-hover');
      await page.keyboard.press('Escape');
    });
  });

  test('4. the group trace diff from the "Diff vs reference" CodeLens; HTML shows as text', { timeout: 180_000 }, async () => {
    const { page } = wb!;
    await screenshotOnFailure(page, 'features-trace-diff', async () => {
      if (!(await page.locator('.tabs-container .tab.active', { hasText: 'gsm8k.groups.jsonl' }).count())) {
        await closeAllEditors(page);
        await openFile(page, 'groups/gsm8k.groups.jsonl');
      }
      await clickCodeLens(page, 'Diff vs reference', 0);
      await page
        .locator('.tabs-container .tab.active', { hasText: 'Diff: gsm8k.groups.jsonl #0' })
        .waitFor({ state: 'visible', timeout: 30_000 });
      const frame = await webviewFrame(page, /Diff: gsm8k\.groups\.jsonl #0/);
      await frame.locator('[data-testid="diff-pair"]').first().waitFor({ state: 'attached', timeout: 60_000 });

      assert.equal(await frameText(frame, '[data-testid="diff-title"]'), 'math_gsm8k_000000: reference vs perturbed traces');
      // One pair per negative, plus one for the second positive: reference vs each perturbation.
      const kinds = (await frame.locator('[data-testid="negative-kind"]').allTextContents()).map((t) => t.trim());
      assert.deepEqual(kinds, ['calculation_error', 'incomplete_reasoning', 'irrelevant', 'positive']);
      // The left side is the reference: its title, then a "reference" badge.
      const leftTitles = (await frame.locator('[data-testid="diff-left-title"]').allTextContents()).map((t) => t.trim());
      assert.ok(
        leftTitles.every((t) => t === 'math_gsm8k_000000 · reference (positive_pool[0]) reference'),
        `left titles: ${JSON.stringify(leftTitles)}`,
      );
      assert.equal(await frame.locator('[data-testid="diff-left-title"] [data-testid="reference-badge"]').count(), 4);
      assert.equal(await frame.locator('[data-testid="diff-right-title"] [data-testid="reference-badge"]').count(), 0);
      const rightTitles = (await frame.locator('[data-testid="diff-right-title"]').allTextContents()).map((t) => t.trim());
      assert.equal(rightTitles[0], 'math_gsm8k_000000 · negative_bank[0] (calculation_error)');
      // The first pair highlights the changed numbers (19 for 16, 6 for 3).
      const firstPair = frame.locator('[data-testid="diff-pair"]').first();
      const inserted = (await firstPair.locator('[data-testid="diff-right"] ins').allTextContents()).join(' ');
      assert.match(inserted, /19/, `inserted segments of pair 1: ${inserted}`);
      const deleted = (await firstPair.locator('[data-testid="diff-left"] del').allTextContents()).join(' ');
      assert.match(deleted, /16/, `deleted segments of pair 1: ${deleted}`);
      assert.match(await frameText(firstPair, '[data-testid="rubric"]'), /0\.55/);
      await screenshot(page, 'features-trace-diff');

      // The HTML/script trace: present as characters, no element made from it.
      const htmlPair = frame.locator('[data-testid="diff-pair"][data-kind="irrelevant"]');
      assert.equal(await htmlPair.count(), 1);
      const htmlText = (await htmlPair.locator('[data-testid="diff-right"]').textContent()) ?? '';
      assert.ok(htmlText.includes('<img src=x onerror=alert(1)>'), `right side text: ${htmlText}`);
      assert.ok(htmlText.includes("<script>document.title='pwned';alert('x')</script>"), `right side text: ${htmlText}`);
      await htmlPair.scrollIntoViewIfNeeded();
      await screenshot(page, 'features-trace-diff-html');
      const dom = await frame.evaluate(() => {
        const d = (globalThis as any).document;
        const scripts = Array.from(d.querySelectorAll('script')) as any[];
        return {
          imgs: d.querySelectorAll('img').length,
          imgX: d.querySelectorAll('img[src="x"]').length,
          onerror: d.querySelectorAll('[onerror]').length,
          scripts: scripts.map((s) => ({ src: s.getAttribute('src') ?? '', text: s.textContent ?? '' })),
          title: d.title as string,
        };
      });
      assert.equal(dom.imgs, 0, 'no <img> element in the diff webview');
      assert.equal(dom.imgX, 0);
      assert.equal(dom.onerror, 0, 'no element with an onerror attribute');
      // Scripts: the view's bundle and the one VS Code injects (acquireVsCodeApi); none from the data.
      const summary = dom.scripts.map((s) => s.src || s.text.slice(0, 80).replace(/\s+/g, ' '));
      assert.equal(dom.scripts.filter((s) => /traceDiff\.js/.test(s.src)).length, 1, `script elements: ${JSON.stringify(summary)}`);
      assert.ok(
        dom.scripts.every((s) => /traceDiff\.js/.test(s.src) || (!s.src && s.text.includes('acquireVsCodeApi'))),
        `script elements: ${JSON.stringify(summary)}`,
      );
      assert.ok(!dom.scripts.some((s) => /pwned|alert\(1\)|alert\('x'\)/.test(s.text)), 'no script element from the data');
      assert.notEqual(dom.title, 'pwned', 'the trace script did not run');
    });
  });

  test('5. the inspector on a sample of the fixture run (the "Inspect" CodeLens of samples.jsonl)', { timeout: 180_000 }, async () => {
    const { page } = wb!;
    await screenshotOnFailure(page, 'features-inspector', async () => {
      await closeAllEditors(page);
      await openFile(page, `.tracelift/runs/${FIXTURE_RUN}/samples.jsonl`);
      const lenses = await waitFor(
        async () => {
          const rows = await codeLensRows(page);
          return rows.length >= 3 && rows.every((r) => r.text.includes('Inspect')) ? rows : undefined;
        },
        60_000,
        'an "Inspect" CodeLens on each row of samples.jsonl',
      );
      assert.equal(lenses.length, 3, `CodeLens rows: ${JSON.stringify(lenses.map((l) => l.text))}`);
      // The action first, then a short summary.
      assert.match(lenses[0]!.text, /^Inspect\s*\|\s*uplift [+]?0\.000 · reward 0\.000 · 0\/3 vs base 0% of 4$/, lenses[0]!.text);
      await screenshot(page, 'features-samples-codelens');

      await clickCodeLens(page, 'Inspect', 0);
      await page
        .locator('.tabs-container .tab', { hasText: 'Inspect: gsm8k/test/0#reference' })
        .first()
        .waitFor({ state: 'visible', timeout: 30_000 });
      const frame = await webviewFrame(page, /Inspect: gsm8k\/test\/0#reference/);
      await frame.locator('#insp-title').waitFor({ state: 'attached', timeout: 60_000 });

      assert.equal(await frameText(frame, '#insp-title'), 'gsm8k/test/0 · gsm8k/test/0#reference');
      // The trace.
      assert.match(await frameText(frame, '#insp-trace-text'), /^Janet sells 16 - 3 - 4 = 9 duck eggs a day\. She makes 9 \* 2 = \$18/);
      // The arithmetic: uplift = k/K − b/M, reward formula and components.
      assert.equal(await frameText(frame, '[data-testid="uplift-arith"]'), 'uplift = k/K − b/M = 0/3 − 0/4 = 0.000 − 0.000 = 0.000');
      assert.equal(await frameText(frame, '[data-testid="reward-arith"]'), 'reward (exec_only) = reward = e2e = 0 = 0.0000');
      const components = (await frame.locator('[data-testid="reward-components"] tbody tr').allInnerTexts()).map((t) =>
        t.replace(/\s+/g, ' ').trim(),
      );
      assert.deepEqual(components, ['e2e 0.0000', 'reward 0.0000']);
      // The executor outputs: K=3 with the trace, M=4 without (the problem's baseline).
      const withAttempts = frame.locator('#insp-with [data-testid="attempt"]');
      const baseAttempts = frame.locator('#insp-baseline [data-testid="attempt"]');
      assert.equal(await withAttempts.count(), 3);
      assert.equal(await baseAttempts.count(), 4);
      assert.match(await frameText(frame, '#insp-with-h'), /0\/3 correct/);
      assert.match(await frameText(frame, '#insp-baseline-h'), /0\/4 correct/);
      const outputs = (await frame.locator('#insp-with [data-testid="attempt-output"]').allTextContents()).map((t) => t.trim());
      assert.equal(outputs.length, 3, 'one executor output per with-trace attempt');
      assert.ok(
        outputs.every((o) => o.length > 0),
        `with-trace outputs: ${JSON.stringify(outputs.map((o) => o.slice(0, 60)))}`,
      );
      const heading = (await withAttempts.first().getAttribute('heading')) ?? '';
      assert.match(heading, /^#1 ✗ wrong/, `first attempt heading: ${heading}`);
      await screenshot(page, 'features-inspector');
      await frame.locator('#insp-with').scrollIntoViewIfNeeded();
      await screenshot(page, 'features-inspector-outputs');
    });
  });

  test(
    '6. "Run Eval on Workspace…" on the embedded executor: the run view fills live, then the run ends',
    { timeout: 420_000 },
    async () => {
      const { page, workspaceDir } = wb!;
      await screenshotOnFailure(page, 'features-live-eval', async () => {
        await closeAllEditors(page);
        const runsDir = path.join(workspaceDir, '.tracelift', 'runs');
        const before = new Set(fs.readdirSync(runsDir));

        await runEvalFromPalette(
          page,
          { problems: 'gsm8k / test', traces: 'Reference traces', executor: 'Embedded executor', k: 1, m: 2, limit: 2 },
          () => screenshot(page, 'features-eval-limit-step'),
        );

        // The run view opens once the embedded executor is up and the run has started.
        const tab = page.locator('.tabs-container .tab', { hasText: /Run: gsm8k-\d/ }).first();
        await tab.waitFor({ state: 'visible', timeout: 180_000 });
        liveRunName = ((await tab.textContent()) ?? '')
          .replace(/^.*Run: /, '')
          .trim()
          .split(/\s/)[0];
        const created = fs.readdirSync(runsDir).filter((d) => !before.has(d));
        assert.ok(liveRunName && created.includes(liveRunName), `run view of ${liveRunName}; new run dirs: ${JSON.stringify(created)}`);
        const frame = await webviewFrame(page, /Run: gsm8k-\d/);
        await frame.locator('#run-status').waitFor({ state: 'attached', timeout: 30_000 });

        // Record every change of the status badge and the row count, in the webview itself
        // (a MutationObserver misses no state that was rendered, however short).
        await frame.evaluate(`(() => {
        const snap = () => ({
          t: Date.now(),
          status: (document.getElementById('run-status')?.textContent || '').trim(),
          count: (document.getElementById('row-count')?.textContent || '').trim(),
          rows: document.querySelectorAll('[data-testid="run-row"]').length,
          groups: (document.getElementById('fig-groups')?.textContent || '').trim(),
        });
        const tl = (globalThis.__tlTimeline = [snap()]);
        const obs = new MutationObserver(() => {
          const s = snap();
          const last = tl[tl.length - 1];
          if (s.status !== last.status || s.count !== last.count || s.rows !== last.rows || s.groups !== last.groups) tl.push(s);
        });
        obs.observe(document.body, { subtree: true, childList: true, characterData: true });
      })()`);

        type Snap = { t: number; status: string; count: string; rows: number; groups: string };
        const statusBar: string[] = [];
        let timeline: Snap[] = [];
        let shotLive = false;
        await waitFor(
          async () => {
            timeline = (await frame.evaluate('globalThis.__tlTimeline || []')) as Snap[];
            const sb = (
              await page
                .locator('.part.statusbar .statusbar-item', { hasText: 'TraceLift:' })
                .allInnerTexts()
                .catch(() => [])
            ).map((s) => s.trim());
            for (const s of sb) if (!statusBar.includes(s)) statusBar.push(s);
            const last = timeline[timeline.length - 1];
            if (!shotLive && last && last.status.includes('live') && last.rows >= 1) {
              shotLive = true;
              await screenshot(page, 'features-run-view-live');
            }
            return last && last.status === 'completed' && last.rows >= 2;
          },
          300_000,
          `the run ${liveRunName} to complete with 2 rows in the run view`,
          500,
        ).catch((err) => {
          throw new Error(`${(err as Error).message}; timeline: ${JSON.stringify(timeline)}`);
        });
        const samplesOf = (s: Snap) => Number(/^(\d+)/.exec(s.count)?.[1] ?? (s.rows ? s.rows : 0));
        const liveEmpty = timeline.findIndex((s) => s.status.includes('live') && samplesOf(s) === 0 && s.rows === 0);
        const liveFilled = timeline.findIndex((s, i) => i > liveEmpty && s.status.includes('live') && s.rows >= 1 && samplesOf(s) >= 1);
        const ended = timeline.findIndex((s, i) => i > liveFilled && s.status === 'completed');
        const tlText = JSON.stringify(timeline.map((s) => [s.t - timeline[0]!.t, s.status, s.count, s.rows, s.groups]));
        assert.ok(liveEmpty >= 0, `the run view showed the live run with 0 rows first; timeline: ${tlText}`);
        assert.ok(liveFilled > liveEmpty, `rows arrived while the run was live; timeline: ${tlText}`);
        assert.ok(ended > liveFilled, `then the run ended (completed); timeline: ${tlText}`);
        console.log(`[features] run view timeline (ms, status, count, rows, groups): ${tlText}`);

        assert.equal(await frameText(frame, '#row-count'), '2 of 2 samples');
        assert.equal(await frame.locator('[data-testid="run-row"]').count(), 2);
        assert.equal(await frameText(frame, '#fig-groups'), '2');
        assert.equal(await frameText(frame, '#fig-traces'), '2');
        const problems = (await frame.locator('[data-testid="run-row"] [data-field="problem"]').allTextContents())
          .map((t) => t.trim())
          .sort();
        assert.deepEqual(problems, ['gsm8k/test/0', 'gsm8k/test/1']);
        const kK = (await frame.locator('[data-testid="run-row"] [data-field="kK"]').allTextContents()).map((t) => t.trim());
        assert.ok(
          kK.every((t) => /^k\/K \d\/1\b/.test(t)),
          `k/K cells (K=1): ${JSON.stringify(kK)}`,
        );
        const base = (await frame.locator('[data-testid="run-row"] [data-field="baseline"]').allTextContents()).map((t) => t.trim());
        assert.ok(
          base.every((t) => /^base \d\/2 /.test(t)),
          `baseline cells (M=2): ${JSON.stringify(base)}`,
        );
        assert.ok(
          statusBar.some((s) => s.includes(liveRunName!)),
          `status bar while live: ${JSON.stringify(statusBar)}`,
        );
        await screenshot(page, 'features-run-view-done');

        // The run directory was written by the engine, and the final message says so.
        const summary = JSON.parse(fs.readFileSync(path.join(runsDir, liveRunName!, 'summary.json'), 'utf8'));
        assert.equal(summary.status, 'completed');
        assert.equal(summary.micro.problems, 2);
        assert.equal(summary.micro.traces, 2);
        const done = await waitFor(
          async () => (await notifications(page)).find((n) => /eval gsm8k\/test completed/.test(n)),
          30_000,
          'the "eval gsm8k/test completed" notification',
        );
        assert.match(done, /2 problems, 2 traces/, done);

        // With a second run, "Compare Two Runs…" is enabled (it was hidden from the palette in step 1).
        await openPalette(page);
        const input = page.locator(`${QUICK_INPUT} input`).first();
        await waitFor(
          async () => {
            await input.fill('>TraceLift: Compare');
            await sleep(300);
            return (await quickRows(page)).includes('TraceLift: Compare Two Runs…');
          },
          30_000,
          '"TraceLift: Compare Two Runs…" in the palette once there are two runs',
        );
        await page.keyboard.press('Escape');
      });
    },
  );

  test('7. after a window reload the run view is restored with its rows', { timeout: 240_000 }, async () => {
    const { page } = wb!;
    await screenshotOnFailure(page, 'features-reload', async () => {
      assert.ok(liveRunName, 'needs the run of the previous step ("Run Eval on Workspace…")');
      await reloadWindow(page);
      await page
        .locator('.tabs-container .tab', { hasText: `Run: ${liveRunName}` })
        .first()
        .waitFor({ state: 'visible', timeout: 60_000 });
      const frame = await webviewFrame(page, new RegExp(`Run: ${escapeRe(liveRunName!)}`), 90_000);
      await waitFor(
        async () =>
          (await frame.locator('[data-testid="run-row"]').count()) === 2 && (await frameText(frame, '#run-status')) === 'completed',
        60_000,
        'the restored run view to show the completed run with 2 rows',
      );
      assert.equal(await frameText(frame, '#row-count'), '2 of 2 samples');
      assert.ok((await frameText(frame, '#run-path')).endsWith(liveRunName!), `run path: ${await frameText(frame, '#run-path')}`);
      assert.equal(await frameText(frame, '#fig-groups'), '2');
      const problems = (await frame.locator('[data-testid="run-row"] [data-field="problem"]').allTextContents())
        .map((t) => t.trim())
        .sort();
      assert.deepEqual(problems, ['gsm8k/test/0', 'gsm8k/test/1']);
      await screenshot(page, 'features-run-view-restored');
    });
  });
});
