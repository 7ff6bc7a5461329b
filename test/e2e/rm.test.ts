/**
 * The Reason RM in a REAL VS Code (code-server): one session, steps in order.
 *
 *  1. the inspector shows the RM's five rubric dimensions of a sample scored
 *     with an RM (a copy of the fixture run whose samples carry rm_score and
 *     rm_dimensions, as `eval --rm-model` writes them);
 *  2. "Score Groups File with RM…" on the open groups file against an RM
 *     server (a small official-protocol server in this test process) →
 *     progress, then every record's annotation shows RM vs gold totals;
 *  3. "Train Reason RM…" on the workspace's groups file with the embedded CPU
 *     recipe: a real `rm train` task whose run completes, then "Start RM
 *     Server…" on that run: the real server answers, "Use for Evals" sets
 *     tracelift.rmUrl, "Stop RM Server" ends it.
 *
 * Screenshots: test-results/screenshots/rm-*.png (failure-rm-*.png on failure).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  notifications,
  openFile,
  runCommand,
  screenshot,
  screenshotOnFailure,
  startWorkbench,
  traceliftSettings,
  waitFor,
  webviewFrame,
  type Workbench,
} from './harness';
import { startFakeRm } from '../helpers/fakeRm';
import { afterDecorations, clickCodeLens, closeAllEditors, codeLensRows, frameText, pickExact, QUICK_INPUT, typeAnswer } from './views';

const ROOT = path.resolve(__dirname, '../..');
const FIXTURE_WORKSPACE = path.join(ROOT, 'test', 'fixtures', 'workspace');
const RUN = 'gsm8k-reference-3';
const SCORED_RUN = 'gsm8k-rm-scored';
const MATH_DIMS = ['problem_understanding', 'solution_strategy', 'step_coherence', 'calculation_correctness', 'answer_support'];

/** The dimensions a sample gets: distinct per sample so the view cannot show another's. */
const dimsFor = (i: number) => Object.fromEntries(MATH_DIMS.map((d, j) => [d, Number(((i + j) % 5).toFixed(1))]));

/** The fixture workspace plus a copy of its run whose samples carry RM scores and dimensions. */
function workspaceWithRmRun(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-e2e-rm-ws-'));
  fs.cpSync(FIXTURE_WORKSPACE, dir, { recursive: true });
  const src = path.join(dir, '.tracelift', 'runs', RUN);
  const dst = path.join(dir, '.tracelift', 'runs', SCORED_RUN);
  fs.cpSync(src, dst, { recursive: true });
  let n = 0;
  const events = fs
    .readFileSync(path.join(dst, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const e = JSON.parse(line) as { type: string; samples?: Record<string, unknown>[] };
      if (e.type === 'rollout_group') for (const s of e.samples!) Object.assign(s, { rm_score: 0.6, rm_dimensions: dimsFor(n++) });
      return JSON.stringify(e);
    });
  fs.writeFileSync(path.join(dst, 'events.jsonl'), events.join('\n') + '\n');
  n = 0;
  const samples = fs
    .readFileSync(path.join(dst, 'samples.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.stringify({ ...JSON.parse(line), rm_score: 0.6, rm_dimensions: dimsFor(n++) }));
  fs.writeFileSync(path.join(dst, 'samples.jsonl'), samples.join('\n') + '\n');
  return dir;
}

/** An official-protocol RM: score = min(1, length / 200), every dimension 4 × that. */
const startLengthRm = () =>
  startFakeRm(
    (reasoning) => Math.min(1, reasoning.length / 200),
    (s) => Object.fromEntries(MATH_DIMS.map((d) => [d, 4 * s])),
  );

describe('e2e: the Reason RM in code-server', { timeout: 900_000 }, () => {
  let wb: Workbench | undefined;
  let rm: Awaited<ReturnType<typeof startLengthRm>> | undefined;
  const workspace = workspaceWithRmRun();

  before(
    async () => {
      rm = await startLengthRm();
      wb = await startWorkbench({ name: 'rm', workspace, settings: traceliftSettings() });
    },
    { timeout: 360_000 },
  );

  after(
    async () => {
      await wb?.close();
      await rm?.close();
      fs.rmSync(workspace, { recursive: true, force: true });
    },
    { timeout: 60_000 },
  );

  test('1. the inspector shows the RM rubric dimensions of an RM-scored sample', { timeout: 180_000 }, async () => {
    const { page } = wb!;
    await screenshotOnFailure(page, 'rm-inspector', async () => {
      await closeAllEditors(page);
      await openFile(page, `.tracelift/runs/${SCORED_RUN}/samples.jsonl`);
      await waitFor(
        async () => ((await codeLensRows(page)).some((r) => r.text.includes('Inspect')) ? true : undefined),
        60_000,
        'an "Inspect" CodeLens on samples.jsonl',
      );
      await clickCodeLens(page, 'Inspect', 1);
      const frame = await webviewFrame(page, /Inspect: gsm8k\/test\/1#reference/);
      await frame.locator('[data-testid="rm-dimensions"]').waitFor({ state: 'attached', timeout: 60_000 });
      const rows = (await frame.locator('[data-testid="rm-dimensions"] tbody tr').allInnerTexts()).map((t) =>
        t.replace(/\s+/g, ' ').trim(),
      );
      const expected = dimsFor(1);
      assert.deepEqual(
        rows,
        MATH_DIMS.map((d) => `${d.replace(/_/g, ' ')} ${expected[d]!.toFixed(2)}`),
      );
      const mean = Object.values(expected).reduce((a, b) => a + b, 0) / 5 / 4;
      assert.match(
        await frameText(frame, '[data-testid="rm-derived"]'),
        new RegExp(`derived = mean label / 4 = ${mean.toFixed(3)}; score = .* = 0\\.600`),
      );
      await screenshot(page, 'rm-inspector');
    });
  });

  test('2. Score Groups File with RM…: progress, then RM vs gold totals on every record', { timeout: 240_000 }, async () => {
    const { page } = wb!;
    await screenshotOnFailure(page, 'rm-score-groups', async () => {
      await closeAllEditors(page);
      await openFile(page, 'groups/gsm8k.groups.jsonl');
      await waitFor(async () => ((await codeLensRows(page)).length >= 3 ? true : undefined), 60_000, 'the groups file annotated');
      assert.ok(!(await afterDecorations(page)).some((t) => t.includes('RM/gold')), 'no RM scores before scoring');

      await runCommand(page, 'TraceLift: Score Groups File with RM…');
      // No RM server of this window and no tracelift.rmUrl: straight to the URL box.
      await typeAnswer(page, rm!.url);
      await waitFor(
        async () => (await notifications(page)).find((n) => /traces scored/.test(n)),
        120_000,
        'the "traces scored" notification',
      );
      const eol = await waitFor(
        async () => {
          const texts = await afterDecorations(page);
          return texts.filter((t) => t.includes('RM/gold')).length >= 3 ? texts : undefined;
        },
        60_000,
        'RM/gold on the 3 records',
      );
      // Record 1: 2 positives, 3 negatives; the reference's RM score is min(1, len/200) next to its gold total 1.00.
      assert.ok(
        eol.some((t) => /RM\/gold \d\.\d\d\/1\.00 \d\.\d\d\/1\.00 \| \d\.\d\d\/0\.55 \d\.\d\d\/0\.50 \d\.\d\d\/0\.00/.test(t)),
        `end-of-line decorations: ${JSON.stringify(eol)}`,
      );
      const scoredOnce = rm!.scored();
      assert.ok(scoredOnce >= 10, `the RM scored every trace (${scoredOnce})`);
      // The scores are a file in the workspace, keyed by the groups file's content.
      const scoresDir = path.join(wb!.workspaceDir, '.tracelift', 'rm-scores');
      assert.equal(fs.readdirSync(scoresDir).filter((f) => f.startsWith('gsm8k.groups-') && f.endsWith('.rm-scores.jsonl')).length, 1);
      await screenshot(page, 'rm-score-groups');
    });
  });

  test('3. Train Reason RM… then Start RM Server… on the trained run, Use for Evals, Stop RM Server', { timeout: 600_000 }, async () => {
    const { page } = wb!;
    await screenshotOnFailure(page, 'rm-train-serve', async () => {
      await closeAllEditors(page);
      const runsDir = path.join(wb!.workspaceDir, '.tracelift', 'runs');
      const before = new Set(fs.readdirSync(runsDir));
      await runCommand(page, 'TraceLift: Train Reason RM…');
      // Groups files: a multi-select pick; the valid one is ticked and accepted.
      const input = page.locator(`${QUICK_INPUT} input`).first();
      await input.fill('gsm8k.groups');
      await page.locator(`${QUICK_INPUT} .monaco-list-row`, { hasText: 'gsm8k.groups.jsonl' }).first().click();
      await page.keyboard.press('Enter');
      await pickExact(page, 'cpu-smollm2');
      const runDir = await waitFor(
        () => {
          const added = fs.readdirSync(runsDir).filter((d) => !before.has(d) && d.startsWith('rm-'));
          return added.length === 1 ? path.join(runsDir, added[0]!) : undefined;
        },
        60_000,
        'the RM training run directory',
      );
      // The run trains to its end (2 epochs of the 3 groups on the CPU).
      const ended = await waitFor(
        () => {
          const file = path.join(runDir, 'events.jsonl');
          if (!fs.existsSync(file)) return undefined;
          const last = fs.readFileSync(file, 'utf8').trim().split('\n').at(-1)!;
          const e = JSON.parse(last) as { type: string; status?: string };
          return e.type === 'run_ended' ? e : undefined;
        },
        480_000,
        'the RM training run to end',
        2000,
      );
      assert.equal(ended.status, 'completed');
      assert.ok(fs.existsSync(path.join(runDir, 'model', 'rm_config.json')), 'the trained RM is in model/');
      await waitFor(
        async () => (await notifications(page)).some((n) => /RM training rm-.* completed/.test(n)),
        60_000,
        'the "RM training … completed" notification',
      );
      await screenshot(page, 'rm-trained');

      await runCommand(page, 'TraceLift: Start RM Server…');
      await pickExact(page, path.basename(runDir));
      const ready = page.locator('.notifications-toasts .notification-list-item', { hasText: 'Reason RM server ready at' }).first();
      await ready.waitFor({ state: 'visible', timeout: 300_000 });
      const url = /http:\/\/127\.0\.0\.1:\d+\/score/.exec((await ready.textContent()) ?? '')?.[0];
      assert.ok(url, 'the notification names the scoring URL');
      // The real server scores a trace.
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ items: [{ problem: 'Ann has 3 apples and buys 2. How many?', reasoning: '3 + 2 = 5' }] }),
      });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { scores: number[] };
      assert.ok(body.scores[0]! >= 0 && body.scores[0]! <= 1, `score ${body.scores[0]}`);
      await ready.getByRole('button', { name: 'Use for Evals in This Workspace' }).click();
      await waitFor(
        () => {
          const file = path.join(wb!.workspaceDir, '.vscode', 'settings.json');
          return fs.existsSync(file) && fs.readFileSync(file, 'utf8').includes(url) ? true : undefined;
        },
        30_000,
        'tracelift.rmUrl in the workspace settings',
      );

      await runCommand(page, 'TraceLift: Stop RM Server');
      await waitFor(
        async () => {
          try {
            await fetch(url.replace('/score', '/health'), { signal: AbortSignal.timeout(1000) });
            return undefined;
          } catch {
            return true;
          }
        },
        60_000,
        'the RM server to stop',
      );
    });
  });
});
