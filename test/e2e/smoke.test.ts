/**
 * Smoke test of the e2e harness in a REAL VS Code (code-server 4.100.3):
 * the packaged extension installs offline and activates, its command runs
 * from the palette, a webview's content is reachable two frames deep, an
 * editor hover can be read, and the window survives a reload. Screenshots: test-results/screenshots/smoke-*.png.
 *
 * Needs `bash scripts/setup-e2e.sh` once (code-server + Chromium); packs
 * tracelift.vsix when it is missing or older than the sources.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  EXTENSION_ID,
  goToLine,
  hoverText,
  openFile,
  reloadWindow,
  runCommand,
  screenshot,
  screenshotOnFailure,
  startWorkbench,
  traceliftSettings,
  waitForOutput,
  webviewFrame,
  type Workbench,
} from './harness';

describe('e2e smoke: TraceLift in code-server', { timeout: 600_000 }, () => {
  let wb: Workbench | undefined;

  before(
    async () => {
      wb = await startWorkbench({ name: 'smoke', settings: traceliftSettings() });
    },
    { timeout: 360_000 },
  );

  after(
    async () => {
      await wb?.close();
    },
    { timeout: 60_000 },
  );

  test('the workbench loads with the extension installed', { timeout: 120_000 }, async () => {
    const { page, extensionsDir, workspaceDir } = wb!;
    await screenshotOnFailure(page, 'smoke-workbench', async () => {
      const installed = fs.readdirSync(extensionsDir).filter((d) => d.toLowerCase().startsWith(EXTENSION_ID));
      assert.equal(installed.length, 1, `extension folder in ${extensionsDir}: ${fs.readdirSync(extensionsDir).join(', ')}`);
      assert.ok(fs.existsSync(path.join(extensionsDir, installed[0]!, 'dist', 'extension.js')), 'the .vsix carries dist/extension.js');
      await page.locator('.monaco-workbench').waitFor({ state: 'visible' });
      // The fixture workspace is open: its folder name heads the Explorer.
      await runCommand(page, 'View: Show Explorer');
      await page.locator('.explorer-folders-view, .explorer-viewlet').first().waitFor({ state: 'visible' });
      await page.locator('.monaco-list-row', { hasText: 'groups' }).first().waitFor({ state: 'visible' });
      assert.ok(fs.existsSync(path.join(workspaceDir, '.tracelift', 'runs', 'gsm8k-reference-3', 'events.jsonl')));
      await screenshot(page, 'smoke-workbench');
    });
  });

  test('"TraceLift: Show Engine Info" runs from the palette', { timeout: 120_000 }, async () => {
    const { page } = wb!;
    await screenshotOnFailure(page, 'smoke-engine-info', async () => {
      await runCommand(page, 'TraceLift: Show Engine Info');
      const text = await waitForOutput(page, /TraceLift engine \S+; tasks: .*gsm8k/, 60_000);
      assert.match(text, /TraceLift engine/);
      await screenshot(page, 'smoke-engine-info');
    });
  });

  test('a webview is reachable two frames deep (Markdown preview of the fixture README)', { timeout: 120_000 }, async () => {
    const { page } = wb!;
    await screenshotOnFailure(page, 'smoke-webview', async () => {
      await openFile(page, 'README.md');
      await runCommand(page, 'Markdown: Open Preview');
      const frame = await webviewFrame(page, /README/);
      await frame.getByText('E2E_FIXTURE_MARKER', { exact: false }).first().waitFor({ state: 'visible', timeout: 60_000 });
      // The HTML in the README's table is inside backticks: it renders as text, no <img> element appears.
      assert.equal(await frame.locator('img[src="x"]').count(), 0);
      await screenshot(page, 'smoke-webview');
    });
  });

  test('an editor hover is readable (user settings.json, JSON language server)', { timeout: 120_000 }, async () => {
    const { page } = wb!;
    await screenshotOnFailure(page, 'smoke-hover', async () => {
      await runCommand(page, 'Preferences: Open User Settings (JSON)');
      await page.locator('.tabs-container .tab.active', { hasText: 'settings.json' }).waitFor({ state: 'visible' });
      await goToLine(page, 2, 8); // "security.workspace.trust.enabled"
      const text = await hoverText(page, 60_000);
      assert.match(text, /trust/i);
      await screenshot(page, 'smoke-hover');
    });
  });

  test('the window reloads and the extension still answers', { timeout: 180_000 }, async () => {
    const { page } = wb!;
    await screenshotOnFailure(page, 'smoke-reload', async () => {
      await reloadWindow(page);
      await runCommand(page, 'TraceLift: Show Engine Info');
      await waitForOutput(page, /TraceLift engine/, 60_000);
      await screenshot(page, 'smoke-after-reload');
    });
  });
});
