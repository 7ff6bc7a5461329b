/**
 * The run view in a REAL VS Code (code-server), one session, steps in order,
 * on two run directories built here:
 *
 *  1. an eval of a groups file where a perturbed trace beats its reference:
 *     the view opens on the group table (column headers), the group is
 *     flagged "negative beats reference" (and only it, with the filter), it
 *     expands to its traces with Δ vs the reference, the per-kind table shows
 *     n and means with their intervals, and the histogram carries counts;
 *  2. a training run of 3 steps (2 prompts × G=4, step_metrics, a
 *     checkpoint at step 2): the reward/uplift curves with their bands, the
 *     loss/KL lines, the step-time stack and the checkpoint marker render;
 *  3. the Runs tree names the negative that scored a problem's best uplift.
 *
 * Screenshots: test-results/screenshots/runview-*.png.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  eventLine,
  exactGroup,
  syntheticEnded,
  syntheticStarted,
  syntheticTrainingStep,
} from '../../src/extension/services/runs/syntheticRun';
import {
  pickQuickItem,
  runCommand,
  screenshot,
  screenshotOnFailure,
  startWorkbench,
  traceliftSettings,
  waitFor,
  webviewFrame,
  type Workbench,
} from './harness';
import { closeAllEditors, frameText, treeRow, treeRows, widenSidebar } from './views';

const FIXTURE_WORKSPACE = path.resolve(__dirname, '..', 'fixtures', 'workspace');

/** The fixture workspace plus a groups-file eval (p-beaten: a negative above its reference) and a 3-step training run. */
function workspaceWithRuns(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-e2e-runview-'));
  fs.cpSync(FIXTURE_WORKSPACE, dir, { recursive: true });
  const runs = path.join(dir, '.tracelift', 'runs');

  const evalRun = path.join(runs, 'groups-eval');
  fs.mkdirSync(evalRun, { recursive: true });
  // Baseline 2/4 in both. p-beaten: reference 2/4 (uplift 0), arithmetic_error 4/4 (+0.5, Δ +0.5), missing_condition 1/4 (Δ −0.25).
  // p-fine: reference 4/4 (+0.5), arithmetic_error 1/4 (Δ −0.75), missing_condition 2/4 (Δ −0.5).
  const group = (i: number, id: string, ref: number, arith: number, missing: number) =>
    exactGroup(i, {
      problemId: id,
      baseline: [2, 4],
      traces: [
        { source: 'positive', label: 'reference', k: ref, K: 4 },
        { source: 'negative', label: 'arithmetic_error', k: arith, K: 4 },
        { source: 'negative', label: 'missing_condition', k: missing, K: 4 },
      ],
    });
  fs.writeFileSync(
    path.join(evalRun, 'events.jsonl'),
    eventLine(syntheticStarted('groups-eval')) +
      eventLine(group(0, 'p-beaten', 2, 4, 1)) +
      eventLine(group(1, 'p-fine', 4, 1, 2)) +
      eventLine(syntheticEnded()),
  );

  const trainRun = path.join(runs, 'train-3steps');
  fs.mkdirSync(trainRun, { recursive: true });
  let lines = eventLine(syntheticStarted('train-3steps', 'train'));
  for (let s = 1; s <= 3; s++)
    lines += syntheticTrainingStep(s, { promptsPerStep: 2, generations: 4, saveSteps: 2 }).map(eventLine).join('');
  fs.writeFileSync(path.join(trainRun, 'events.jsonl'), lines + eventLine(syntheticEnded()));
  return dir;
}

const count = (frame: Awaited<ReturnType<typeof webviewFrame>>, sel: string) =>
  frame.evaluate(`document.querySelectorAll(${JSON.stringify(sel)}).length`) as Promise<number>;

describe('e2e run view: the group table, its flag and per-kind figures; training curves', { timeout: 600_000 }, () => {
  let wb: Workbench | undefined;
  let workspace = '';

  before(
    async () => {
      workspace = workspaceWithRuns();
      wb = await startWorkbench({ name: 'runview', workspace, settings: traceliftSettings(), viewport: { width: 1400, height: 1000 } });
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
    '1. groups-file eval: headers, "negative beats reference", expansion with Δ, per-kind table, counted histogram',
    { timeout: 180_000 },
    async () => {
      const { page } = wb!;
      await screenshotOnFailure(page, 'runview-groups', async () => {
        await closeAllEditors(page);
        await runCommand(page, 'TraceLift: Open Run…');
        await pickQuickItem(page, 'groups-eval');
        const frame = await webviewFrame(page, /Run: groups-eval/);
        // A run with perturbed traces opens on the group table.
        await waitFor(async () => (await count(frame, '[data-testid=group-row]:not([hidden])')) === 2, 60_000, 'the two group rows');
        const headers = (await frame.locator('#group-columns [role=columnheader]').allTextContents()).map((t) => t.trim());
        for (const h of ['problem / trace', 'with k/K', 'baseline', 'uplift', 'Δ vs ref', 'reward', 'flags'])
          assert.ok(headers.includes(h), `header "${h}" in ${JSON.stringify(headers)}`);

        // The flag is on p-beaten only.
        const flagged = (await frame.evaluate(
          `[...document.querySelectorAll('[data-testid=group-row]:not([hidden])')].filter((r) => r.querySelector('[data-testid=beats-flag]')).map((r) => r.querySelector('[data-field=problem]').textContent)`,
        )) as string[];
        assert.deepEqual(flagged, ['p-beaten']);
        assert.equal(await frameText(frame, '#fig-beats'), '1');
        assert.match(await frameText(frame, '#fig-uplift'), /^[+−]\d\.\d{3} ± \d\.\d{3}$/, 'the mean uplift carries its interval');

        // Expand p-beaten: reference Δ 0, arithmetic_error Δ +0.500 (flagged), missing_condition Δ −0.250.
        await frame.locator('[data-testid=group-row]', { hasText: 'p-beaten' }).first().click();
        await waitFor(
          async () => (await count(frame, '[data-testid=group-sample-row]:not([hidden])')) === 3,
          30_000,
          'the expanded traces',
        );
        const deltas = (await frame.locator('[data-testid=group-sample-row]:not([hidden]) [data-field=delta]').allTextContents()).map((t) =>
          t.trim(),
        );
        assert.deepEqual(deltas, ['Δ 0.000', 'Δ +0.500', 'Δ −0.250']);
        assert.equal(await count(frame, '[data-testid=group-sample-row] [data-testid=beats-flag]'), 1);

        // Per kind: arithmetic_error n 2, uplift +0.5 and −0.25 → mean +0.125, Δ +0.5 and −0.75 → mean −0.125, 1 beat the reference.
        const kinds = (await frame.evaluate(
          `Object.fromEntries([...document.querySelectorAll('[data-testid=kind-row]')].map((r) => [r.dataset.kind, [...r.children].map((c) => c.textContent)]))`,
        )) as Record<string, string[]>;
        assert.deepEqual(Object.keys(kinds).sort(), ['arithmetic_error', 'missing_condition', 'reference']);
        assert.equal(kinds.arithmetic_error![1], '2');
        assert.match(kinds.arithmetic_error![2]!, /^\+0\.125 ± \d+\.\d{3}$/);
        assert.match(kinds.arithmetic_error![3]!, /^−0\.125 ± \d+\.\d{3}$/);
        assert.equal(kinds.arithmetic_error![5], '1');
        assert.equal(kinds.missing_condition![5], '0');

        // The eval's uplift distribution has its counts (6 traces) and no training chart.
        const histCounts = (await frame.locator('#uplift-histogram text.count').allTextContents()).map(Number);
        assert.equal(
          histCounts.reduce((a, b) => a + b, 0),
          6,
        );
        assert.equal(await frame.evaluate(`document.getElementById('train-charts').hidden`), true);

        // The filter keeps the flagged group only.
        await frame.evaluate(
          `(() => { const c = document.getElementById('filter-beats'); c.checked = true; c.dispatchEvent(new Event('change')); })()`,
        );
        await waitFor(async () => /^1 of 2 groups/.test(await frameText(frame, '#row-count')), 30_000, 'the filtered count');
        await screenshot(page, 'runview-groups');
      });
    },
  );

  test('2. a 3-step training run: reward/uplift bands, loss/KL, step-time stack, checkpoint marker', { timeout: 180_000 }, async () => {
    const { page } = wb!;
    await screenshotOnFailure(page, 'runview-train', async () => {
      await closeAllEditors(page);
      await runCommand(page, 'TraceLift: Open Run…');
      await pickQuickItem(page, 'train-3steps');
      const frame = await webviewFrame(page, /Run: train-3steps/);
      await waitFor(
        async () =>
          (await frame.evaluate(
            `!document.getElementById('train-charts').hidden && !!document.querySelector('#chart-reward polyline')`,
          )) as boolean,
        60_000,
        'the training charts',
      );
      assert.equal(await count(frame, '#chart-reward polygon.band'), 1, 'the reward band');
      assert.equal(await count(frame, '#chart-uplift polygon.band'), 2, 'uplift and with-trace bands');
      assert.deepEqual(await frame.evaluate(`[...document.querySelectorAll('#chart-reward line.marker')].map((l) => l.dataset.step)`), [
        '2',
      ]);
      assert.equal(await count(frame, '#chart-loss polyline'), 2, 'loss and KL');
      assert.equal(await count(frame, '#chart-time rect.seg'), 9, '3 steps × generation / reward / update');
      assert.equal(await frameText(frame, '#fig-step'), '3');
      assert.equal(await frameText(frame, '#fig-groups'), '6');
      await screenshot(page, 'runview-train');
    });
  });

  test('3. the Runs tree names the negative behind a best uplift', { timeout: 180_000 }, async () => {
    const { page } = wb!;
    await screenshotOnFailure(page, 'runview-tree', async () => {
      const icon = page
        .locator(
          '.part.activitybar .action-item a.action-label[aria-label^="TraceLift"], .part.activitybar .action-item [aria-label^="TraceLift"]',
        )
        .first();
      await icon.click();
      await widenSidebar(page, 600).catch(() => {});
      const run = treeRow(page, 'Runs', /^\s*groups-eval/);
      await run.waitFor({ state: 'visible', timeout: 60_000 });
      await run.locator('.monaco-tl-twistie').click();
      const rows = await waitFor(
        async () => {
          const r = await treeRows(page, 'Runs');
          return r.some((x) => x.startsWith('p-beaten')) ? r : undefined;
        },
        60_000,
        'the groups-eval run expanded',
      );
      const beaten = rows.find((x) => x.startsWith('p-beaten'))!;
      assert.match(beaten, /best \+0\.500 by negative arithmetic_error · 1 negative > reference/, beaten);
      await screenshot(page, 'runview-tree');
    });
  });
});
