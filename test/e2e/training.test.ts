/**
 * Training from the editor, in the real workbench: "Start Training…" with the
 * CPU recipe (copied into the workspace and opened), its max_steps lowered,
 * "Launch Training" (`tracelift train` as a VS Code task), the run view fills
 * with training groups (rows with their step) while the status bar shows the
 * step, then "Stop Training": the trainer finishes its step, checkpoints, and
 * the run ends `cancelled` — in events.jsonl, the run view and the Runs tree.
 *
 * Real parts throughout: TRL on CPU with the embedded planner, the engine's
 * reward service, the embedded executor. About 3–5 minutes on 2 idle cores
 * (the bounds allow for a machine busy with other training jobs: a step then
 * takes many minutes).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  goToLine,
  hoverText,
  notifications,
  runCommand,
  screenshot,
  screenshotOnFailure,
  startWorkbench,
  traceliftSettings,
  waitFor,
  webviewFrame,
  type Workbench,
} from './harness';
import { frameText, pickExact, QUICK_INPUT, quickTitle, sleep, treeRows, waitForStep, widenSidebar } from './views';

const RECIPE = 'cpu-smollm2';

function lastEvent(runDir: string): { type?: string; status?: string } | null {
  const file = path.join(runDir, 'events.jsonl');
  if (!fs.existsSync(file)) return null;
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
  try {
    return JSON.parse(lines[lines.length - 1] ?? 'null');
  } catch {
    return null; // a line being written
  }
}

function eventsOf(runDir: string): Array<{ type: string; step?: number; status?: string }> {
  return fs
    .readFileSync(path.join(runDir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** What the run wrote so far (event types, the trainer's last lines): for a failure message. */
function runState(runDir: string): string {
  const events = fs.existsSync(path.join(runDir, 'events.jsonl')) ? eventsOf(runDir).map((e) => e.type) : [];
  const log = path.join(runDir, 'trainer.log');
  const tail = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').slice(-1500) : '(no trainer.log)';
  return `events: ${JSON.stringify(events)}; trainer.log ends: ${tail}`;
}

describe('e2e training: Start, Launch, Stop in code-server', { timeout: 2_700_000 }, () => {
  let wb: Workbench | undefined;

  before(
    async () => {
      wb = await startWorkbench({ name: 'training', settings: traceliftSettings() });
    },
    { timeout: 360_000 },
  );

  after(
    async () => {
      await wb?.close();
    },
    { timeout: 60_000 },
  );

  test(
    'Start Training with the CPU recipe, the live view fills with training groups, Stop Training ends the run cancelled',
    { timeout: 2_400_000 },
    async () => {
      const { page, workspaceDir } = wb!;
      await screenshotOnFailure(page, 'training', async () => {
        // 1. Start Training…: the recipe is copied into the workspace and opened for editing.
        await runCommand(page, 'TraceLift: Start Training…');
        await waitForStep(page, '(1/2)');
        await pickExact(page, RECIPE);
        const config = path.join(workspaceDir, '.tracelift', 'train', `${RECIPE}.json`);
        await waitFor(() => fs.existsSync(config), 30_000, `the copied config ${config}`);
        await page
          .locator('.tabs-container .tab', { hasText: `${RECIPE}.json` })
          .first()
          .waitFor({ state: 'visible', timeout: 30_000 });
        const copied = JSON.parse(fs.readFileSync(config, 'utf8'));
        assert.equal(copied.planner.model, 'embedded');
        assert.equal(copied.$schema, undefined, 'the relative schema link is dropped (jsonValidation covers the copy)');
        await waitFor(
          async () => (await notifications(page)).some((n) => n.includes('edit the config')),
          30_000,
          'the "edit the config, then launch it" notification',
        );
        await screenshot(page, 'training-config-opened');

        // Edited on disk; the editor follows the file.
        // A short, light run: the user lowers max_steps and the per-step work (shorter traces, fewer executor samples).
        copied.max_steps = 3;
        copied.max_completion_length = 48;
        copied.k = 1;
        copied.baseline_samples = 2;
        const text = JSON.stringify(copied, null, 2) + '\n';
        fs.writeFileSync(config, text);
        await sleep(1000);
        // The package's jsonValidation gives the copy the training config's schema: its field descriptions show on hover.
        const line = text.split('\n').findIndex((l) => l.includes('"max_steps"')) + 1;
        await goToLine(page, line, 6);
        const hover = await hoverText(page, 60_000);
        assert.match(hover, /--max-steps/, `hover over "max_steps": ${hover}`);
        await page.keyboard.press('Escape');

        // 2. Launch Training on the active config: the run directory is asked (the default accepted).
        await runCommand(page, 'TraceLift: Launch Training');
        await waitFor(
          async () => (await page.locator(QUICK_INPUT).isVisible()) && (await quickTitle(page)).includes('run directory'),
          30_000,
          'the run directory input',
        );
        const proposed = await page.locator(`${QUICK_INPUT} input`).first().inputValue();
        const runsDir = path.join(workspaceDir, '.tracelift', 'runs');
        assert.ok(proposed.startsWith(path.join(runsDir, `train-${RECIPE}-`)), `proposed run directory: ${proposed}`);
        await page.keyboard.press('Enter');
        await page.locator(QUICK_INPUT).waitFor({ state: 'hidden', timeout: 10_000 });
        const runDir = proposed;
        const runName = path.basename(runDir);

        // The task terminal shows the launcher's log.
        await page
          .locator('.part.panel .terminal-tab, .part.panel .single-terminal-tab, .part.panel .tabs-list .monaco-list-row', {
            hasText: new RegExp(`train ${runName.slice(0, 12)}`),
          })
          .first()
          .waitFor({ state: 'attached', timeout: 60_000 })
          .catch(() => {}); // the terminal's tab label differs between layouts; the run files below are what counts

        // 3. The run view opens once the launcher wrote the run, and fills with training groups.
        await page
          .locator('.tabs-container .tab', { hasText: `Run: ${runName}` })
          .first()
          .waitFor({ state: 'visible', timeout: 120_000 });
        const frame = await webviewFrame(page, new RegExp(`Run: ${runName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
        await frame.locator('#run-status').waitFor({ state: 'attached', timeout: 30_000 });
        const statusBar: string[] = [];
        const stepCells = await waitFor(
          async () => {
            const sb = (
              await page
                .locator('.part.statusbar .statusbar-item', { hasText: /step \d+\/3/ })
                .allInnerTexts()
                .catch(() => [])
            ).map((s) => s.trim());
            for (const s of sb) if (!statusBar.includes(s)) statusBar.push(s);
            const last = lastEvent(runDir);
            if (last?.type === 'run_ended') throw new Error(`the run ended before any group showed: ${JSON.stringify(last)}`);
            const cells = (await frame.locator('[data-testid="run-row"] [data-field="task"]').allTextContents()).map((t) => t.trim());
            return cells.some((c) => /step \d+/.test(c)) ? cells : undefined;
          },
          1_500_000,
          'rows of training groups (with their step) in the run view',
          1000,
        ).catch((err) => {
          throw new Error(`${(err as Error).message}; ${runState(runDir)}`);
        });
        assert.ok(
          stepCells.every((c) => /^gsm8k · step \d+$/.test(c)),
          `row task cells: ${JSON.stringify(stepCells)}`,
        );
        assert.match(await frameText(frame, '#run-status'), /live/);
        await screenshot(page, 'training-run-view-live');
        assert.ok(
          statusBar.some((s) => /step \d+\/3/.test(s)),
          `status bar while training: ${JSON.stringify(statusBar)}`,
        );

        // 4. Stop Training: graceful — the trainer finishes its step, saves a checkpoint, the run ends cancelled.
        await runCommand(page, 'TraceLift: Stop Training');
        await waitFor(
          async () => (await notifications(page)).some((n) => /stopping .* after the current step/.test(n)),
          30_000,
          'the "stopping … after the current step…" progress',
        );
        const ended = await waitFor(
          () => {
            const last = lastEvent(runDir);
            return last?.type === 'run_ended' ? last : undefined;
          },
          420_000,
          'run_ended in events.jsonl',
          1000,
        ).catch((err) => {
          throw new Error(`${(err as Error).message}; ${runState(runDir)}`);
        });
        assert.equal(ended.status, 'cancelled', JSON.stringify(ended));
        const events = eventsOf(runDir);
        assert.ok(
          events.some((e) => e.type === 'checkpoint'),
          `a checkpoint was saved on the way out: ${JSON.stringify(events.map((e) => e.type))}`,
        );
        const lastStep = Math.max(...events.filter((e) => e.type === 'step_metrics').map((e) => e.step ?? 0));
        assert.ok(lastStep >= 1 && lastStep < 3, `stopped before max_steps: last step ${lastStep}`);

        // The run view and the Runs tree say so.
        await waitFor(async () => (await frameText(frame, '#run-status')) === 'cancelled', 60_000, 'the run view status "cancelled"');
        await waitFor(
          async () => (await notifications(page)).some((n) => n.includes(`training ${runName} stopped`)),
          60_000,
          'the "training … stopped" notification',
        );
        const icon = page.locator('.part.activitybar .action-item [aria-label^="TraceLift"]').first();
        await icon.click();
        await widenSidebar(page, 640).catch(() => {});
        const rows = await waitFor(
          async () => {
            const r = await treeRows(page, 'Runs').catch(() => [] as string[]);
            return r.some((x) => x.startsWith(runName) && x.includes('cancelled')) ? r : undefined;
          },
          60_000,
          `the Runs view to show ${runName} cancelled`,
        );
        assert.ok(rows.length >= 1);
        await screenshot(page, 'training-stopped');
      });
    },
  );
});
