/**
 * End-to-end harness: a REAL VS Code (code-server 4.100.3 = VS Code 1.100.3)
 * with the packaged extension installed offline, driven by Playwright in
 * Debian's Chromium. See docs/e2e.md.
 *
 *   const wb = await startWorkbench({ name: 'smoke', settings: traceliftSettings() });
 *   t.after(() => wb.close());
 *   await runCommand(wb.page, 'TraceLift: Show Engine Info');
 *   await screenshot(wb.page, 'smoke-engine-info');
 *
 * Every session gets fresh temporary directories (user data, extensions,
 * workspace copy), its own loopback port, and is torn down completely by
 * `close()` (browser, then code-server's whole process tree), also when a
 * test fails or the test process exits early.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Frame, type Page } from 'playwright-core';

export const ROOT = path.resolve(__dirname, '../..');
export const CODE_SERVER_VERSION = '4.100.3';
export const E2E_DIR = process.env.TRACELIFT_E2E_DIR ?? path.join(ROOT, '.e2e');
export const CODE_SERVER_DIR = path.join(E2E_DIR, `code-server-${CODE_SERVER_VERSION}`, 'node_modules', 'code-server');
export const CHROMIUM = process.env.TRACELIFT_CHROMIUM ?? '/usr/bin/chromium';
export const RESULTS_DIR = path.join(ROOT, 'test-results');
export const SCREENSHOT_DIR = path.join(RESULTS_DIR, 'screenshots');
export const LOG_DIR = path.join(RESULTS_DIR, 'logs');
export const FIXTURE_WORKSPACE = path.join(ROOT, 'test', 'fixtures', 'workspace');
export const VSIX = path.join(ROOT, 'tracelift.vsix');
export const EXTENSION_ID = 'tracelift.tracelift-vscode';

/** Launch flags for Chromium in a container without GPU or network. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-dev-shm-usage',
  '--disable-crash-reporter',
];

/** Settings every session starts with; tests add their own on top. */
export const BASE_SETTINGS: Record<string, unknown> = {
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'git.openRepositoryInParentFolders': 'never',
  'chat.commandCenter.enabled': false,
  'window.commandCenter': false,
  'editor.minimap.enabled': false,
};

/** Generous, bounded timeouts (ms). Override per call where a test needs more. */
export const TIMEOUTS = {
  pack: 180_000,
  install: 90_000,
  serverStart: 60_000,
  workbench: 120_000,
  command: 30_000,
  webview: 60_000,
  close: 20_000,
};

/** The repository's settings for the extension: embedded executor, its Python and the benchmark data. */
export function traceliftSettings(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'tracelift.pythonPath': path.join(ROOT, '.venv', 'bin', 'python'),
    'tracelift.embeddedModelPath': path.join(ROOT, 'models', 'SmolLM2-135M-Instruct.Q4_1.gguf'),
    'tracelift.dataDir': process.env.TRACELIFT_DATA_DIR ?? path.resolve(ROOT, '..', 'shared', 'data'),
    ...extra,
  };
}

// ---------------------------------------------------------------------------
// small utilities

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Reject with a message naming `what` when `promise` does not settle within `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${Math.round(ms / 1000)}s: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Poll `check` until it returns a truthy value or `ms` elapses. */
export async function waitFor<T>(check: () => Promise<T> | T, ms: number, what: string, intervalMs = 250): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${Math.round(ms / 1000)}s waiting for ${what}${why}`);
    }
    await sleep(intervalMs);
  }
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'unnamed';
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => {
      req.destroy();
      resolve(0);
    });
  });
}

// ---------------------------------------------------------------------------
// processes: kill a whole tree, even children that started their own group

/** Every descendant pid of `root` (Linux /proc), deepest last. */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …  — comm may contain spaces and parentheses
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      /* process went away */
    }
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift()!;
    for (const c of children.get(pid) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalTree(pid: number, extra: number[], signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal); // the process group (spawned detached)
  } catch {
    /* group gone */
  }
  for (const p of [pid, ...extra]) {
    try {
      process.kill(p, signal);
    } catch {
      /* gone */
    }
  }
}

/** SIGTERM the process group and every descendant of `pid`; SIGKILL what is left after `graceMs`. */
export async function killTree(pid: number, graceMs = 5000): Promise<void> {
  const tree = descendants(pid);
  signalTree(pid, tree, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && [pid, ...tree].some(alive)) await sleep(100);
  const left = [pid, ...tree, ...descendants(pid)].filter(alive);
  if (left.length) signalTree(pid, left, 'SIGKILL');
}

/** Process trees to kill (and temp dirs to remove) synchronously if the test process exits without `close()`. */
const liveServers = new Set<number>();
const liveTmpDirs = new Set<string>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = () => {
    for (const pid of liveServers) signalTree(pid, descendants(pid), 'SIGKILL');
    liveServers.clear();
    for (const dir of liveTmpDirs) fs.rmSync(dir, { recursive: true, force: true });
    liveTmpDirs.clear();
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAll();
      process.exit(128 + (os.constants.signals[sig] ?? 1));
    });
  }
}

// ---------------------------------------------------------------------------
// the .vsix

function newestMtime(p: string): number {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of fs.readdirSync(p)) {
    if (entry === 'node_modules') continue;
    newest = Math.max(newest, newestMtime(path.join(p, entry)));
  }
  return newest;
}

let packed: string | undefined;

/**
 * The packaged extension. `TRACELIFT_VSIX=path` uses that file as is. Otherwise
 * `tracelift.vsix` at the repository root is reused when it is newer than every
 * source that goes into it, and rebuilt with `npm run package` when not (or
 * always with `TRACELIFT_E2E_REPACK=1`). Packs at most once per test process.
 */
export function ensureVsix(): string {
  if (process.env.TRACELIFT_VSIX) {
    const file = path.resolve(process.env.TRACELIFT_VSIX);
    if (!fs.existsSync(file)) throw new Error(`TRACELIFT_VSIX=${file} does not exist`);
    return file;
  }
  if (packed) return packed;
  const inputs = [
    'src',
    'webview',
    'media',
    'backend/tracelift_backend',
    'recipes',
    'package.json',
    'esbuild.mjs',
    '.vscodeignore',
    'README.md',
  ];
  const newestInput = Math.max(...inputs.map((p) => newestMtime(path.join(ROOT, p))));
  const vsixTime = fs.existsSync(VSIX) ? fs.statSync(VSIX).mtimeMs : 0;
  if (process.env.TRACELIFT_E2E_REPACK === '1' || vsixTime <= newestInput) {
    const started = Date.now();
    const res = spawnSync('npm', ['run', 'package'], { cwd: ROOT, encoding: 'utf8', timeout: TIMEOUTS.pack });
    if (res.status !== 0 || !fs.existsSync(VSIX)) {
      throw new Error(`npm run package failed (status ${res.status}, ${res.error?.message ?? ''}):\n${res.stdout}\n${res.stderr}`);
    }
    console.log(`[e2e] packed tracelift.vsix in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  }
  packed = VSIX;
  return VSIX;
}

// ---------------------------------------------------------------------------
// code-server

export function codeServerEntry(): string {
  const entry = path.join(CODE_SERVER_DIR, 'out', 'node', 'entry.js');
  if (!fs.existsSync(entry) || !fs.existsSync(path.join(E2E_DIR, `code-server-${CODE_SERVER_VERSION}`, '.setup-complete'))) {
    throw new Error(`code-server ${CODE_SERVER_VERSION} is not installed at ${CODE_SERVER_DIR}: run \`bash scripts/setup-e2e.sh\``);
  }
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: run \`bash scripts/setup-e2e.sh\` (as root it installs Debian's chromium)`);
  }
  return entry;
}

/** Install a .vsix offline into `extensionsDir` with code-server's CLI. */
export function installExtension(vsix: string, userDataDir: string, extensionsDir: string, configFile: string): string {
  const res = spawnSync(
    process.execPath,
    [
      codeServerEntry(),
      '--config',
      configFile,
      '--user-data-dir',
      userDataDir,
      '--extensions-dir',
      extensionsDir,
      '--install-extension',
      vsix,
      '--force',
    ],
    { encoding: 'utf8', timeout: TIMEOUTS.install },
  );
  const out = `${res.stdout}\n${res.stderr}`;
  if (res.status !== 0 || !/successfully installed/i.test(out)) {
    throw new Error(`installing ${path.basename(vsix)} failed (status ${res.status}, ${res.error?.message ?? ''}):\n${out}`);
  }
  return out;
}

export interface WorkbenchOptions {
  /** Names the session's log folder (test-results/logs/<name>/). */
  name: string;
  /** User settings on top of BASE_SETTINGS. */
  settings?: Record<string, unknown>;
  /** Folder copied to a temp dir and opened (default test/fixtures/workspace); `null`: open no folder. */
  workspace?: string | null;
  /** Extra environment for code-server and so the extension host. */
  env?: Record<string, string>;
  /** Variables removed from the environment code-server inherits (a "fresh machine" test drops TRACELIFT_*). */
  unsetEnv?: string[];
  /** Install the packaged extension (default true). */
  installExtension?: boolean;
  viewport?: { width: number; height: number };
  /** Keep the temp dirs after close (also TRACELIFT_E2E_KEEP=1). */
  keep?: boolean;
}

export interface Workbench {
  page: Page;
  browser: Browser;
  context: BrowserContext;
  url: string;
  port: number;
  /** The session's temp dir: user-data/, extensions/, workspace/, config.yaml. */
  tmpDir: string;
  /** The workspace copy that is open in the workbench ('' when none). */
  workspaceDir: string;
  userDataDir: string;
  extensionsDir: string;
  logDir: string;
  /** code-server's stdout/stderr so far. */
  serverLog(): string;
  /** Browser console messages and page errors so far. */
  consoleLog(): string[];
  /** Tear everything down; safe to call twice; never throws. */
  close(): Promise<void>;
}

/**
 * Start code-server on a free loopback port with the extension installed into
 * a fresh extensions dir, open the (copied) fixture workspace in Chromium and
 * wait for the workbench. Cleans up after itself if any step fails.
 */
export async function startWorkbench(opts: WorkbenchOptions): Promise<Workbench> {
  const entry = codeServerEntry();
  installExitHook();
  const name = safeName(opts.name);
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), `tl-e2e-${name}-`));
  const keep = opts.keep || process.env.TRACELIFT_E2E_KEEP === '1';
  if (!keep) liveTmpDirs.add(tmpDir);
  const userDataDir = path.join(tmpDir, 'user-data');
  const extensionsDir = path.join(tmpDir, 'extensions');
  const configFile = path.join(tmpDir, 'config.yaml');
  const logDir = path.join(LOG_DIR, name);
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  fs.rmSync(logDir, { recursive: true, force: true });
  fs.mkdirSync(logDir, { recursive: true });
  // code-server otherwise writes a default config (with a password) into ~/.config.
  fs.writeFileSync(configFile, 'auth: none\ncert: false\n');
  fs.writeFileSync(
    path.join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({ ...BASE_SETTINGS, ...(opts.settings ?? {}) }, null, 2),
  );
  // code-server is a remote window: machine-scoped settings (tracelift.pythonPath…) belong in the
  // remote's Machine settings. From User settings alone they were seen at first, then lost once a
  // task's terminal had started (observed: Start RM Server after an RM training task).
  fs.mkdirSync(path.join(userDataDir, 'Machine'), { recursive: true });
  fs.writeFileSync(
    path.join(userDataDir, 'Machine', 'settings.json'),
    JSON.stringify(Object.fromEntries(Object.entries(opts.settings ?? {}).filter(([k]) => k.startsWith('tracelift.'))), null, 2),
  );

  let workspaceDir = '';
  if (opts.workspace !== null) {
    workspaceDir = path.join(tmpDir, 'workspace');
    fs.cpSync(opts.workspace ?? FIXTURE_WORKSPACE, workspaceDir, { recursive: true });
  }

  let server: ChildProcess | undefined;
  let browser: Browser | undefined;
  let serverOut = '';
  const consoleLines: string[] = [];
  let closed = false;

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    try {
      if (browser) await withTimeout(browser.close(), TIMEOUTS.close, 'closing Chromium');
    } catch (err) {
      console.error(`[e2e] ${String(err)}`);
    }
    if (server?.pid) {
      await killTree(server.pid);
      liveServers.delete(server.pid);
    }
    try {
      fs.writeFileSync(path.join(logDir, 'code-server.log'), serverOut);
      fs.writeFileSync(path.join(logDir, 'browser-console.log'), consoleLines.join('\n') + '\n');
      const vscodeLogs = path.join(userDataDir, 'logs');
      if (fs.existsSync(vscodeLogs)) fs.cpSync(vscodeLogs, path.join(logDir, 'vscode'), { recursive: true });
    } catch (err) {
      console.error(`[e2e] saving logs: ${String(err)}`);
    }
    if (!keep) {
      fs.rmSync(tmpDir, { recursive: true, force: true, maxRetries: 3 });
      liveTmpDirs.delete(tmpDir);
    }
  };

  try {
    if (opts.installExtension !== false) {
      const out = installExtension(ensureVsix(), userDataDir, extensionsDir, configFile);
      fs.writeFileSync(path.join(logDir, 'install-extension.log'), out);
    }

    const port = await freePort();
    const args = [
      entry,
      '--config',
      configFile,
      '--auth',
      'none',
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-getting-started-override',
      '--ignore-last-opened',
      '--user-data-dir',
      userDataDir,
      '--extensions-dir',
      extensionsDir,
    ];
    if (workspaceDir) args.push(workspaceDir);
    server = spawn(process.execPath, args, {
      cwd: workspaceDir || tmpDir,
      detached: true, // its own process group, so teardown reaches every child
      stdio: ['ignore', 'pipe', 'pipe'],
      env: serverEnv(opts),
    });
    if (server.pid) liveServers.add(server.pid);
    server.stdout!.on('data', (d) => (serverOut += d));
    server.stderr!.on('data', (d) => (serverOut += d));
    let exited: string | undefined;
    server.on('exit', (code, signal) => (exited = `code-server exited (code ${code}, signal ${signal})`));

    const url = `http://127.0.0.1:${port}/`;
    await waitFor(
      async () => {
        if (exited) throw new Error(`${exited}:\n${serverOut}`);
        return (await httpStatus(`${url}healthz`)) === 200;
      },
      TIMEOUTS.serverStart,
      `code-server on port ${port} (log so far:\n${serverOut.slice(-2000)})`,
    ).catch((err) => {
      throw new Error(`${err.message}\n--- code-server log ---\n${serverOut.slice(-4000)}`);
    });

    browser = await withTimeout(
      chromium.launch({
        executablePath: CHROMIUM,
        args: CHROMIUM_ARGS,
        headless: true,
        // Chromium keeps crash reports and caches under XDG dirs: keep them in the session's temp dir, not in $HOME.
        env: { ...process.env, XDG_CONFIG_HOME: path.join(tmpDir, 'xdg-config'), XDG_CACHE_HOME: path.join(tmpDir, 'xdg-cache') } as Record<
          string,
          string
        >,
      }),
      TIMEOUTS.serverStart,
      `launching Chromium (${CHROMIUM})`,
    );
    const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1600, height: 1000 } });
    // tsx compiles test code with esbuild's keepNames, which wraps named functions
    // in `__name(...)`; a function handed to page/frame.evaluate then fails with
    // "__name is not defined" in the browser. Define it in every page and frame.
    await context.addInitScript('globalThis.__name = globalThis.__name || ((fn) => fn);');
    const page = await context.newPage();
    page.setDefaultTimeout(TIMEOUTS.command);
    page.on('console', (msg) => consoleLines.push(`[${msg.type()}] ${msg.text()}`));
    page.on('pageerror', (err) => consoleLines.push(`[pageerror] ${err.message}`));

    const target = workspaceDir ? `${url}?folder=${encodeURIComponent(workspaceDir)}` : url;
    await page.goto(target, { waitUntil: 'domcontentloaded', timeout: TIMEOUTS.workbench });
    await waitForWorkbench(page);

    return {
      page,
      browser,
      context,
      url: target,
      port,
      tmpDir,
      workspaceDir,
      userDataDir,
      extensionsDir,
      logDir,
      serverLog: () => serverOut,
      consoleLog: () => [...consoleLines],
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

function serverEnv(opts: WorkbenchOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...(opts.env ?? {}) };
  for (const name of opts.unsetEnv ?? []) delete env[name];
  return env;
}

/** Wait until the workbench is up: the shell, the activity bar and the status bar. */
export async function waitForWorkbench(page: Page, timeout = TIMEOUTS.workbench): Promise<void> {
  try {
    await page.locator('.monaco-workbench').first().waitFor({ state: 'visible', timeout });
    await page.locator('.monaco-workbench .part.activitybar').first().waitFor({ state: 'visible', timeout });
    await page.locator('.monaco-workbench .part.statusbar').first().waitFor({ state: 'visible', timeout });
  } catch (err) {
    throw new Error(`the VS Code workbench did not appear within ${timeout / 1000}s: ${(err as Error).message}`, { cause: err });
  }
}

// ---------------------------------------------------------------------------
// driving the workbench

const QUICK_INPUT = '.quick-input-widget';

/** Open the command palette (F1) and wait for its input box. */
export async function openPalette(page: Page): Promise<void> {
  const widget = page.locator(QUICK_INPUT);
  for (let attempt = 0; attempt < 3; attempt++) {
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    try {
      await widget.locator('input').first().waitFor({ state: 'visible', timeout: 5000 });
      return;
    } catch {
      // focus may still be outside the workbench (e.g. right after load): click a neutral spot and retry
      await page
        .locator('.monaco-workbench .part.statusbar')
        .first()
        .click({ position: { x: 5, y: 5 } })
        .catch(() => {});
    }
  }
  throw new Error('the command palette (F1) did not open');
}

/**
 * Run a command from the palette by its "Category: Title" label, e.g.
 * `TraceLift: Show Engine Info`. Waits for the matching row (so a command
 * that is not registered fails with the rows that were offered) and presses Enter.
 */
export async function runCommand(page: Page, label: string, timeout = TIMEOUTS.command): Promise<void> {
  await openPalette(page);
  const input = page.locator(`${QUICK_INPUT} input`).first();
  await input.fill(`>${label}`);
  const rows = page.locator(`${QUICK_INPUT} .monaco-list-row`);
  let index: number;
  let lastFill = Date.now();
  try {
    index = await waitFor(
      async () => {
        const labels = (await rows.locator('.label-name').allTextContents()).map((l) => l.trim());
        const i = labels.indexOf(label);
        if (i >= 0) return i + 1; // +1: 0 would read as "not yet"
        // Commands contributed by extensions can register after the palette opened: re-query now and then.
        if (Date.now() - lastFill > 3000) {
          await input.fill('>');
          await input.fill(`>${label}`);
          lastFill = Date.now();
        }
        return undefined;
      },
      timeout,
      `"${label}" in the command palette`,
    );
  } catch (err) {
    const offered = await rows
      .locator('.label-name')
      .allTextContents()
      .catch(() => []);
    await page.keyboard.press('Escape');
    throw new Error(`${(err as Error).message}; the palette offered: ${JSON.stringify(offered.slice(0, 10))}`, { cause: err });
  }
  if (index === 1) await page.keyboard.press('Enter');
  else await rows.nth(index - 1).click();
  await page
    .locator(QUICK_INPUT)
    .waitFor({ state: 'hidden', timeout: 10_000 })
    .catch(() => {});
}

/** Answer an open quick pick (after a command that asks) by choosing the entry with this label. */
export async function pickQuickItem(page: Page, label: string | RegExp, timeout = TIMEOUTS.command): Promise<void> {
  const row = page.locator(`${QUICK_INPUT} .monaco-list-row`).filter({ hasText: label }).first();
  await row.waitFor({ state: 'visible', timeout });
  await row.click();
}

/** Type into an open input box (showInputBox / quick pick filter) and press Enter. */
export async function answerInput(page: Page, text: string, timeout = TIMEOUTS.command): Promise<void> {
  const input = page.locator(`${QUICK_INPUT} input`).first();
  await input.waitFor({ state: 'visible', timeout });
  await input.fill(text);
  await page.keyboard.press('Enter');
}

/** Open a workspace file by its path relative to the workspace root (Quick Open, Ctrl+P). */
export async function openFile(page: Page, relPath: string, timeout = TIMEOUTS.command): Promise<void> {
  await openPalette(page);
  const input = page.locator(`${QUICK_INPUT} input`).first();
  await input.fill(relPath);
  const base = path.basename(relPath);
  const row = page.locator(`${QUICK_INPUT} .monaco-list-row`).filter({ hasText: base }).first();
  await row.waitFor({ state: 'visible', timeout });
  await page.keyboard.press('Enter');
  await page
    .locator(`.tabs-container .tab[data-resource-name="${base}"], .tabs-container .tab:has-text("${base}")`)
    .first()
    .waitFor({ state: 'visible', timeout });
}

/**
 * A webview's content frame. VS Code puts each webview in `iframe.webview.ready`,
 * whose own `iframe#active-frame` holds the extension's HTML; this returns that
 * inner frame once its document has a body.
 *
 * `titleOrIndex`:
 *  - a string (substring) or RegExp matched against the title of what shows the
 *    webview: the active editor tab of a group (`aria-label`, e.g. "Preview README.md"),
 *    an expanded view pane's header (a WebviewView in the side bar or panel), or a
 *    side bar / panel title; the visible webview lying over that area is chosen.
 *    (The outer iframe's `title` attribute is also tried; VS Code 1.100 leaves it empty.)
 *  - a number: the index among the visible webviews, in DOM order.
 */
export async function webviewFrame(page: Page, titleOrIndex: string | RegExp | number = 0, timeout = TIMEOUTS.webview): Promise<Frame> {
  const matcher =
    typeof titleOrIndex === 'number'
      ? { kind: 'index' as const, index: titleOrIndex }
      : titleOrIndex instanceof RegExp
        ? { kind: 're' as const, source: titleOrIndex.source, flags: titleOrIndex.flags }
        : { kind: 'text' as const, text: titleOrIndex };
  return waitFor(
    async () => {
      // Runs in the page (written against `any`: the tsconfig has no DOM lib).
      const index = await page.evaluate((mt) => {
        const d = (globalThis as any).document;
        const win = globalThis as any;
        const re = mt.kind === 're' ? new RegExp(mt.source!, mt.flags) : null;
        const m = (s: string | null | undefined): boolean =>
          s != null && s !== '' && (re ? re.test(s) : mt.kind === 'text' && s.includes(mt.text!));
        const visible: { el: any; i: number; r: any }[] = [];
        Array.from(d.querySelectorAll('iframe.webview.ready')).forEach((el: any, i: number) => {
          const r = el.getBoundingClientRect();
          if (r.width > 0 && r.height > 0 && win.getComputedStyle(el).visibility !== 'hidden') visible.push({ el, i, r });
        });
        if (mt.kind === 'index') return visible[mt.index!]?.i ?? -1;
        const boxes: any[] = [];
        for (const tab of Array.from(d.querySelectorAll('.tabs-container .tab.active')) as any[]) {
          if (!m(tab.getAttribute('aria-label')) && !m(tab.textContent)) continue;
          const editor = tab.closest('.editor-group-container')?.querySelector('.editor-container');
          if (editor) boxes.push(editor.getBoundingClientRect());
        }
        for (const pane of Array.from(d.querySelectorAll('.pane')) as any[]) {
          const header = pane.querySelector('.pane-header');
          if (!header || header.getAttribute('aria-expanded') !== 'true') continue;
          if (!m(header.querySelector('.title')?.textContent) && !m(header.getAttribute('aria-label'))) continue;
          const body = pane.querySelector('.pane-body');
          if (body) boxes.push(body.getBoundingClientRect());
        }
        for (const part of Array.from(d.querySelectorAll('.part.sidebar, .part.panel, .part.auxiliarybar')) as any[]) {
          if (!m(part.querySelector('.composite.title h2')?.textContent)) continue;
          const content = part.querySelector('.content');
          if (content) boxes.push(content.getBoundingClientRect());
        }
        for (const v of visible) {
          if (m(v.el.getAttribute('title'))) return v.i;
          const cx = v.r.left + v.r.width / 2;
          const cy = v.r.top + v.r.height / 2;
          if (boxes.some((b) => cx >= b.left && cx <= b.right && cy >= b.top && cy <= b.bottom)) return v.i;
        }
        return -1;
      }, matcher);
      if (index < 0) return undefined;
      const outer = await page.locator('iframe.webview.ready').nth(index).elementHandle();
      const outerFrame = await outer?.contentFrame();
      if (!outerFrame) return undefined;
      const inner = await outerFrame.waitForSelector('iframe#active-frame', { timeout: 2000 }).catch(() => null);
      const frame = await inner?.contentFrame();
      if (!frame) return undefined;
      // (a string: the tsconfig has no DOM lib)
      const ready = await frame.evaluate("document.readyState !== 'loading' && !!document.body").catch(() => false);
      return ready ? frame : undefined;
    },
    timeout,
    `webview ${typeof titleOrIndex === 'number' ? `#${titleOrIndex}` : String(titleOrIndex)} (its content two iframes deep)`,
  );
}

/** Text of the Output panel's visible editor (after a command showed its channel). */
export async function outputPanelText(page: Page, timeout = TIMEOUTS.command): Promise<string> {
  const lines = page
    .locator('.part.panel .output .monaco-editor .view-lines, .part.panel [id="workbench.panel.output"] .view-lines')
    .first();
  await lines.waitFor({ state: 'visible', timeout });
  // Monaco renders spaces as nbsp.
  return ((await lines.innerText()) ?? '').replace(/\u00a0/g, ' ');
}

/** Wait until the Output panel shows text matching `pattern`; returns the panel text. */
export async function waitForOutput(page: Page, pattern: RegExp, timeout = TIMEOUTS.command): Promise<string> {
  return waitFor(
    async () => {
      const text = await outputPanelText(page, 2000).catch(() => '');
      return pattern.test(text) ? text : undefined;
    },
    timeout,
    `Output panel text matching ${pattern}`,
  );
}

/** Notification toasts currently shown (their messages). */
export async function notifications(page: Page): Promise<string[]> {
  return page.locator('.notifications-toasts .notification-list-item-message').allTextContents();
}

/** Save a screenshot of the page to test-results/screenshots/<name>.png; returns the path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${safeName(name)}.png`);
  await page.screenshot({ path: file, timeout: 30_000 });
  return file;
}

/** Reload the window (Developer: Reload Window) and wait for the workbench again. */
export async function reloadWindow(page: Page, timeout = TIMEOUTS.workbench): Promise<void> {
  const navigated = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame(), timeout });
  await runCommand(page, 'Developer: Reload Window');
  await navigated;
  await page.waitForLoadState('domcontentloaded', { timeout });
  await waitForWorkbench(page, timeout);
}

/**
 * Run `fn`; when it throws, save a screenshot named `failure-<name>` (and say
 * where) before rethrowing, so a failed run leaves a picture of the workbench.
 */
export async function screenshotOnFailure<T>(page: Page | undefined, name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (page && !page.isClosed()) {
      const file = await screenshot(page, `failure-${name}`).catch(() => undefined);
      if (file && err instanceof Error) err.message += `\n(screenshot: ${path.relative(ROOT, file)})`;
    }
    throw err;
  }
}

/**
 * Move the cursor of the active text editor to `line` (1-based), optionally
 * `column` (Go to Line), and wait until the status bar shows it. Retries while
 * the editor that was just opened is not yet the active one.
 */
export async function goToLine(page: Page, line: number, column?: number, timeout = TIMEOUTS.command): Promise<void> {
  const want = column ? `Ln ${line}, Col ${column}` : `Ln ${line},`;
  const status = page.locator('.statusbar-item[id="status.editor.selection"]');
  await waitFor(
    async () => {
      await openPalette(page);
      const input = page.locator(`${QUICK_INPUT} input`).first();
      await input.fill(column ? `:${line}:${column}` : `:${line}`);
      await sleep(300);
      await page.keyboard.press('Enter');
      await page
        .locator(QUICK_INPUT)
        .waitFor({ state: 'hidden', timeout: 5_000 })
        .catch(() => {});
      const shown = await status.innerText({ timeout: 2_000 }).catch(() => '');
      if (shown.includes(want)) return true;
      await sleep(500);
      return false;
    },
    timeout,
    `the cursor at ${want} (Go to Line)`,
    0,
  );
}

/**
 * Show the editor hover at the cursor (command "Show or Focus Hover") and
 * return its text once it has some; asks again every few seconds, since a
 * hover provider (e.g. a language server) may still be starting. Put the
 * cursor first with `goToLine`.
 */
export async function hoverText(page: Page, timeout = TIMEOUTS.command): Promise<string> {
  const hover = page.locator('.monaco-hover:not(.hidden)');
  let asked = 0;
  return waitFor(
    async () => {
      if (Date.now() - asked > 4000) {
        await runCommand(page, 'Show or Focus Hover');
        asked = Date.now();
      }
      const texts = (await hover.allInnerTexts()).map((t) => t.trim()).filter(Boolean);
      return texts.length ? texts.join('\n') : undefined;
    },
    timeout,
    'an editor hover with text',
    500,
  );
}

/**
 * Rows (their text) of a view in the side bar or panel, e.g. a tree contributed by
 * the extension, found by the view's header title (case-insensitive substring).
 */
export async function viewRows(page: Page, viewTitle: string): Promise<string[]> {
  const pane = page
    .locator('.pane')
    .filter({ has: page.locator('.pane-header .title', { hasText: new RegExp(viewTitle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i') }) })
    .first();
  await pane.waitFor({ state: 'visible' });
  return (await pane.locator('.pane-body .monaco-list-row').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
}
