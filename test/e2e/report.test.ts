/**
 * The report view and the Testing view in a REAL VS Code (code-server):
 *
 *  1. Open Report on a fixture run draws its charts (Vega in the webview
 *     under the CSP); hovering a sample shows its trace as text, clicking it
 *     opens the inspector on that sample;
 *  2. the Testing view lists the benchmarks; running one gsm8k problem (the
 *     embedded executor plans and executes) fills its result.
 *
 * Screenshots: test-results/screenshots/report-*.png.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { eventLine, syntheticEnded, syntheticGroup, syntheticStarted } from '../../src/extension/services/runs/syntheticRun';
import { runCommand, screenshot, screenshotOnFailure, startWorkbench, traceliftSettings, webviewFrame, type Workbench } from './harness';
import { QUICK_INPUT, sleep } from './views';

const RUN = 'report-fixture';

function buildWorkspace(): string {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-e2e-report-ws-'));
  const dir = path.join(ws, '.tracelift', 'runs', RUN);
  fs.mkdirSync(dir, { recursive: true });
  let t = eventLine(syntheticStarted());
  for (let i = 0; i < 6; i++) t += eventLine(syntheticGroup(i, { traceChars: 80 + 50 * i, tasks: ['gsm8k'] }));
  fs.writeFileSync(path.join(dir, 'events.jsonl'), t + eventLine(syntheticEnded()));
  return ws;
}

describe('e2e: Open Report and the Testing view', { timeout: 900_000 }, () => {
  let wb: Workbench | undefined;
  let workspace = '';

  before(
    async () => {
      workspace = buildWorkspace();
      wb = await startWorkbench({ name: 'report', workspace, settings: traceliftSettings() });
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

  test('Open Report on a run draws its charts; hover shows a sample, a click opens it in the inspector', { timeout: 240_000 }, async () => {
    const { page } = wb!;
    await screenshotOnFailure(page, 'report-view', async () => {
      await runCommand(page, 'TraceLift: Open Report');
      const input = page.locator(`${QUICK_INPUT} input`).first();
      await input.fill(RUN);
      await page.locator(`${QUICK_INPUT} .monaco-list-row`).filter({ hasText: RUN }).first().click();
      await page.keyboard.press('Enter');
      const frame = await webviewFrame(page, /Report: report-fixture/);
      await frame.locator('[data-testid="report-chart"] svg path').first().waitFor({ state: 'attached', timeout: 60_000 });
      assert.ok((await frame.locator('[data-testid="report-chart"] svg').count()) >= 3, 'the K, sign and length charts');
      assert.match(await frame.locator('[data-testid="report-runs-table"]').innerText(), new RegExp(RUN));
      const point = frame.locator('[data-testid="report-sample-chart"] g.mark-symbol path').first();
      await point.hover({ force: true });
      await frame.locator('[data-testid="report-sample-text"]').waitFor({ state: 'visible', timeout: 10_000 });
      const head = await frame.locator('[data-testid="report-sample-head"]').innerText();
      const sampleId = /sample (\S+)/.exec(head)?.[1];
      assert.ok(sampleId, `the hover names its sample: ${head}`);
      await screenshot(page, 'report-view-hover');
      await point.click({ force: true });
      const inspector = await webviewFrame(page, /Inspect: /);
      await inspector.locator('body').waitFor({ state: 'attached' });
      await screenshot(page, 'report-view-inspector');
    });
  });

  test('the Testing view lists the benchmarks; running one problem fills its result', { timeout: 600_000 }, async () => {
    const { page } = wb!;
    await screenshotOnFailure(page, 'report-testing', async () => {
      await runCommand(page, 'Testing: Focus on Test Explorer View');
      const rows = page.locator('.test-explorer .monaco-list-row');
      await rows.filter({ hasText: 'gsm8k' }).first().waitFor({ state: 'visible', timeout: 60_000 });
      const names = (await rows.allInnerTexts()).join(' ');
      for (const b of ['gsm8k', 'math500', 'humaneval']) assert.match(names, new RegExp(b), `${b} listed`);
      const gsm = rows.filter({ hasText: 'gsm8k' }).first();
      await gsm.click();
      await page.keyboard.press('ArrowRight');
      const problem = rows.filter({ hasText: '#1' }).first();
      await problem.waitFor({ state: 'visible', timeout: 60_000 });
      await problem.hover();
      await problem.locator('.codicon-testing-run-icon').first().click();
      await screenshot(page, 'report-testing-running');
      const done = problem.locator('.codicon-testing-passed-icon, .codicon-testing-failed-icon, .codicon-testing-error-icon');
      for (let t = 0; t < 480 && !(await done.count()); t++) await sleep(1000);
      assert.ok(await done.count(), 'the problem has a result');
      assert.equal(await problem.locator('.codicon-testing-error-icon').count(), 0, 'it ran (passed or failed, not errored)');
      await screenshot(page, 'report-testing-result');
      const runDirs = fs.readdirSync(path.join(wb!.workspaceDir, '.tracelift', 'runs')).filter((d) => d.startsWith('test-gsm8k'));
      assert.equal(runDirs.length, 1, 'the test wrote one normal run directory');
    });
  });
});
