/**
 * Helpers the e2e test files share to read and work the workbench's views:
 * quick picks, CodeLens rows, end-of-line decorations, tree rows, webview text.
 */
import type { Frame, Locator, Page } from 'playwright-core';
import { runCommand, viewRows, waitFor } from './harness';

export const QUICK_INPUT = '.quick-input-widget';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Rows (label text) the open palette / quick pick shows now. */
export async function quickRows(page: Page): Promise<string[]> {
  return (await page.locator(`${QUICK_INPUT} .monaco-list-row .label-name`).allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim());
}

/** The title of the open quick input (quick pick or input box). */
export async function quickTitle(page: Page): Promise<string> {
  const title = page.locator(`${QUICK_INPUT} .quick-input-title`).first();
  return ((await title.textContent({ timeout: 1000 }).catch(() => '')) ?? '').trim();
}

/** Wait until the open quick input's title contains `step` (e.g. "(3/6)"). */
export async function waitForStep(page: Page, step: string, timeout = 60_000): Promise<void> {
  await waitFor(
    async () => (await page.locator(QUICK_INPUT).isVisible()) && (await quickTitle(page)).includes(step),
    timeout,
    `the quick input titled "… ${step}" (title now: "${await quickTitle(page)}")`,
  );
}

/** Answer a step of a quick pick: narrow by typing, click the row whose label is exactly `label`. */
export async function pickExact(page: Page, label: string, timeout = 30_000): Promise<void> {
  const input = page.locator(`${QUICK_INPUT} input`).first();
  await input.fill(label);
  const row = page
    .locator(`${QUICK_INPUT} .monaco-list-row`)
    .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRe(label)}\\s*$`) }) })
    .first();
  await row.waitFor({ state: 'visible', timeout }).catch(async (err) => {
    throw new Error(`${(err as Error).message}; the quick pick offered: ${JSON.stringify(await quickRows(page))}`);
  });
  await row.click();
}

/** Answer an input box step: replace its value and press Enter. */
export async function typeAnswer(page: Page, text: string): Promise<void> {
  const input = page.locator(`${QUICK_INPUT} input`).first();
  await input.fill(text);
  await sleep(200); // let validateInput run
  await page.keyboard.press('Enter');
}

export function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The CodeLens rows of the active editor, top to bottom, each as its text and its y. */
export async function codeLensRows(page: Page): Promise<Array<{ text: string; y: number; index: number }>> {
  const lenses = page.locator('.editor-group-container.active .monaco-editor .codelens-decoration');
  const n = await lenses.count();
  const out: Array<{ text: string; y: number; index: number }> = [];
  for (let i = 0; i < n; i++) {
    const el = lenses.nth(i);
    const box = await el.boundingBox().catch(() => null);
    const text = ((await el.textContent().catch(() => '')) ?? '')
      .replace(/\u00a0/g, ' ')
      .replace(/\s+/g, ' ')
      .trim();
    if (box && text) out.push({ text, y: box.y, index: i });
  }
  return out.sort((a, b) => a.y - b.y);
}

/** Click the CodeLens command `title` on the `nth` CodeLens row from the top of the active editor. */
export async function clickCodeLens(page: Page, title: string, nth = 0): Promise<void> {
  const rows = await waitFor(
    async () => {
      const r = await codeLensRows(page);
      return r.length > nth && r[nth]!.text.includes(title) ? r : undefined;
    },
    60_000,
    `a CodeLens row #${nth} with "${title}"`,
  );
  const lens = page.locator('.editor-group-container.active .monaco-editor .codelens-decoration').nth(rows[nth]!.index);
  await lens.locator('a', { hasText: title }).first().click();
}

/**
 * Texts of end-of-line decorations in the active editor: VS Code renders
 * `after.contentText` as CSS generated content (::after), not as DOM text.
 */
export async function afterDecorations(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const d = (globalThis as any).document;
    const win = globalThis as any;
    const out: string[] = [];
    for (const el of Array.from(d.querySelectorAll('.editor-group-container.active .monaco-editor .view-lines span')) as any[]) {
      const c = win.getComputedStyle(el, '::after').content as string;
      if (c && c !== 'none' && c !== 'normal' && c.length > 2) out.push(c.replace(/^"|"$/g, '').replace(/\\"/g, '"'));
    }
    return out;
  });
}

/** textContent of the first element matching `selector` in a webview frame ('' when none). */
export async function frameText(frame: Frame | Locator, selector: string): Promise<string> {
  const el = frame.locator(selector).first();
  if (!(await el.count())) return '';
  return ((await el.textContent()) ?? '').replace(/\s+/g, ' ').trim();
}

/**
 * Rows of a tree view as "label description" (the harness's viewRows joins
 * the two without a space when both fit).
 */
export async function treeRows(page: Page, viewTitle: string): Promise<string[]> {
  await viewRows(page, viewTitle); // waits for the pane
  const pane = page
    .locator('.pane')
    .filter({ has: page.locator('.pane-header .title', { hasText: new RegExp(escapeRe(viewTitle), 'i') }) })
    .first();
  const rows = pane.locator('.pane-body .monaco-list-row');
  const out: string[] = [];
  for (let i = 0; i < (await rows.count()); i++) {
    const row = rows.nth(i);
    const label = (
      (await row
        .locator('.label-name')
        .first()
        .textContent()
        .catch(() => '')) ?? ''
    ).trim();
    const desc = (await row.locator('.label-description').count())
      ? ((await row.locator('.label-description').first().textContent()) ?? '').trim()
      : '';
    out.push(`${label} ${desc}`.replace(/\s+/g, ' ').trim());
  }
  return out;
}

/** A tree view pane's row, found by the start of its text. */
export function treeRow(page: Page, viewTitle: string, rowText: string | RegExp) {
  const pane = page
    .locator('.pane')
    .filter({ has: page.locator('.pane-header .title', { hasText: new RegExp(escapeRe(viewTitle), 'i') }) })
    .first();
  return pane.locator('.pane-body .monaco-list-row').filter({ hasText: rowText }).first();
}

/** Drag the side bar's sash so the tree descriptions (counts) fit in the screenshots. Best effort. */
export async function widenSidebar(page: Page, width: number): Promise<void> {
  const bar = await page.locator('.part.sidebar').first().boundingBox();
  if (!bar || bar.width >= width) return;
  const edge = bar.x + bar.width;
  const sashes = page.locator('.monaco-sash.vertical');
  for (let i = 0; i < (await sashes.count()); i++) {
    const b = await sashes
      .nth(i)
      .boundingBox()
      .catch(() => null);
    if (!b || Math.abs(b.x + b.width / 2 - edge) > 4 || b.height < bar.height / 2) continue;
    await page.mouse.move(b.x + b.width / 2, bar.y + bar.height / 2);
    await page.mouse.down();
    await page.mouse.move(bar.x + width, bar.y + bar.height / 2, { steps: 8 });
    await page.mouse.up();
    return;
  }
}

/** Close every editor so the next step starts from an empty editor area. */
export async function closeAllEditors(page: Page): Promise<void> {
  await runCommand(page, 'View: Close All Editors');
  await waitFor(async () => (await page.locator('.tabs-container .tab').count()) === 0, 15_000, 'all editors closed');
}

/**
 * "Run Eval on Workspace…" answered: a benchmark (e.g. "gsm8k / test"), a trace source, the executor,
 * K, M and the problem limit. `beforeLimit` runs while the last question is open (a screenshot).
 */
export async function runEvalFromPalette(
  page: Page,
  a: { problems: string; traces: string; executor: string; k: number; m: number; limit: number },
  beforeLimit?: () => Promise<unknown>,
): Promise<void> {
  await runCommand(page, 'TraceLift: Run Eval on Workspace…');
  await waitForStep(page, '(1/6)');
  await pickExact(page, a.problems);
  await waitForStep(page, '(2/6)');
  await pickExact(page, a.traces);
  await waitForStep(page, '(3/6)');
  await pickExact(page, a.executor);
  await waitForStep(page, '(4/6)');
  await typeAnswer(page, String(a.k));
  await waitForStep(page, '(5/6)');
  await typeAnswer(page, String(a.m));
  await waitForStep(page, '(6/6)');
  await beforeLimit?.();
  await typeAnswer(page, String(a.limit));
  await page.locator(QUICK_INPUT).waitFor({ state: 'hidden', timeout: 10_000 });
}
