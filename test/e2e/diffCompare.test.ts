/**
 * The trace diff and Compare Runs in a REAL VS Code (code-server), over a
 * workspace built here:
 *
 *  1. a groups file measured by a "Measure Uplift" run whose origin names
 *     another path (the workspace moved since) but the file's content hash:
 *     the group diff shows each side's measured uplift and reward, the
 *     reference side, and flags the negative that beat its reference;
 *  2. two runs of the same problems with K = 3 and K = 5: Compare Runs warns
 *     that K differs and shows the paired mean deltas with 95 % intervals.
 *
 * Screenshots: test-results/screenshots/diffCompare-*.png.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EvalConfigSchema, RolloutGroupSchema } from '../../src/engine/contract';
import {
  openFile,
  runCommand,
  screenshot,
  screenshotOnFailure,
  startWorkbench,
  traceliftSettings,
  webviewFrame,
  type Workbench,
} from './harness';
import { clickCodeLens, frameText, pickExact } from './views';

const GROUPS_FIXTURE = path.resolve(__dirname, '..', 'fixtures', 'groups.gsm8k.jsonl');
const PROBLEM = 'math_gsm8k_000000';
const MEASURED_RUN = 'uplift-math_gsm8k_000000';

const tally = (successes: number, valid: number) => ({ successes, valid, requested: valid, failed: 0, rate: successes / valid });
const line = (v: unknown) => JSON.stringify(v) + '\n';
const started = (runId: string) => ({
  time: '2026-01-01T00:00:00.000Z',
  type: 'run_started',
  run_id: runId,
  run_kind: 'eval',
  engine_version: 'e2e',
  config: {},
});
const ended = { time: '2026-01-01T00:01:00.000Z', type: 'run_ended', status: 'completed', message: null };

/** A rollout group: one trace per [sampleId, source, label, k of K] against a baseline of b of M. */
function group(problemId: string, index: number, K: number, b: number, M: number, traces: Array<[string, string, string | null, number]>) {
  return RolloutGroupSchema.parse({
    time: '2026-01-01T00:00:30.000Z',
    type: 'rollout_group',
    group_index: index,
    task: 'gsm8k',
    task_kind: 'math',
    problem_id: problemId,
    problem: 'How many?',
    reference: '18',
    baseline: { tally: tally(b, M), attempts: [], cache_key: 'e2e', from_cache: false },
    samples: traces.map(([id, source, label, k]) => ({
      sample_id: `${problemId}#${id}`,
      source,
      label,
      trace: `trace ${id}`,
      with_trace: { tally: tally(k, K), attempts: [] },
      uplift: k / K - b / M,
      e2e: k > 0 ? 1 : 0,
      reward: { mode: 'exec_only', value: k / K, components: { e2e: k / K }, formula: 'e2e' },
    })),
  });
}

function evalConfig(k: number) {
  return EvalConfigSchema.parse({
    task: 'gsm8k',
    split: 'test',
    k,
    baseline_samples: 8,
    trace_source: { kind: 'reference' },
    executor: { base_url: 'http://127.0.0.1:8012/v1', model: 'smollm2-135m' },
    executor_sampling: {},
    reward: { mode: 'exec_only' },
    prompt_version: 'v1',
    data_dir: 'data',
    cache_dir: 'cache',
  });
}

/** The workspace: a groups file, a run that measured its record 0 (origin keyed by content, old path), two runs to compare. */
function buildWorkspace(): string {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-e2e-diffcmp-ws-'));
  const groupsFile = path.join(ws, 'groups', 'gsm8k.groups.jsonl');
  fs.mkdirSync(path.dirname(groupsFile), { recursive: true });
  fs.copyFileSync(GROUPS_FIXTURE, groupsFile);
  const runs = path.join(ws, '.tracelift', 'runs');

  const measured = path.join(runs, MEASURED_RUN);
  fs.mkdirSync(measured, { recursive: true });
  fs.writeFileSync(path.join(measured, 'group.jsonl'), fs.readFileSync(GROUPS_FIXTURE, 'utf8').split('\n')[0] + '\n');
  fs.writeFileSync(
    path.join(measured, 'tracelift-origin.json'),
    JSON.stringify({
      groups_file: '/a/workspace/that/moved/groups/gsm8k.groups.jsonl',
      groups_sha256: createHash('sha256').update(fs.readFileSync(groupsFile)).digest('hex'),
      record_index: 0,
      problem_id: PROBLEM,
    }),
  );
  // Reference 1/3 vs baseline 2/8 (+0.083); calculation_error 3/3 (+0.750: beats the reference); incomplete_reasoning 0/3.
  fs.writeFileSync(
    path.join(measured, 'events.jsonl'),
    line(started('measured')) +
      line(
        group(PROBLEM, 0, 3, 2, 8, [
          ['pos0', 'positive', null, 1],
          ['neg0', 'negative', 'calculation_error', 3],
          ['neg1', 'negative', 'incomplete_reasoning', 0],
        ]),
      ) +
      line(ended),
  );

  for (const [name, K, ks] of [
    ['run-k3', 3, [0, 1, 3]],
    ['run-k5', 5, [2, 3, 5]],
  ] as const) {
    const dir = path.join(runs, name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(evalConfig(K)));
    fs.writeFileSync(
      path.join(dir, 'events.jsonl'),
      line(started(name)) +
        ks.map((k, i) => line(group(`p${i + 1}`, i, K, 2, 8, [['reference', 'reference', null, k]]))).join('') +
        line(ended),
    );
  }
  return ws;
}

describe('e2e: measured uplift in the trace diff, configuration warnings in Compare Runs', { timeout: 600_000 }, () => {
  let wb: Workbench | undefined;
  let workspace = '';

  before(
    async () => {
      workspace = buildWorkspace();
      wb = await startWorkbench({ name: 'diffCompare', workspace, settings: traceliftSettings() });
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
    'the group diff shows each side measured (found by content after a move) and flags the negative that beat its reference',
    { timeout: 180_000 },
    async () => {
      const { page } = wb!;
      await screenshotOnFailure(page, 'diffCompare-diff', async () => {
        await openFile(page, 'groups/gsm8k.groups.jsonl');
        await clickCodeLens(page, 'Diff vs reference', 0);
        const frame = await webviewFrame(page, /Diff: gsm8k\.groups\.jsonl #0/);
        const calc = frame.locator('[data-testid="diff-pair"][data-kind="calculation_error"]');
        await calc.locator('[data-testid="measured"]').waitFor({ state: 'attached', timeout: 60_000 });

        assert.match(await frameText(frame, '[data-testid="diff-subtitle"]'), new RegExp(`uplift measured by ${MEASURED_RUN}`));
        assert.match(await frameText(calc, '[data-testid="measured-left"] [data-field="withTrace"]'), /^1\/3 = 33%$/);
        assert.match(await frameText(calc, '[data-testid="measured-left"] [data-field="baseline"]'), /^2\/8 = 25%$/);
        assert.match(await frameText(calc, '[data-testid="measured-left"] [data-field="uplift"]'), /^\+0\.083 \[−0\.\d\d, \+0\.\d\d\]$/);
        assert.match(await frameText(calc, '[data-testid="measured-right"] [data-field="uplift"]'), /^\+0\.750 \[\+0\.\d\d, \+0\.\d\d\]$/);
        assert.equal(await frameText(calc, '[data-testid="measured-right"] [data-field="reward"]'), '1.000');
        assert.equal(await frameText(calc, '[data-testid="measured-right"] [data-field="run"]'), MEASURED_RUN);
        assert.equal(await calc.locator('[data-testid="measured-left"]').getAttribute('data-role'), 'reference');
        assert.equal(await frameText(calc, '[data-testid="diff-left-title"] [data-testid="reference-badge"]'), 'reference');
        assert.match(await frameText(calc, '[data-testid="beats-reference"]'), /Negative beats reference.*\+0\.750.*\+0\.083/);
        assert.equal(await calc.getAttribute('data-beats'), 'yes');

        const incomplete = frame.locator('[data-testid="diff-pair"][data-kind="incomplete_reasoning"]');
        assert.match(await frameText(incomplete, '[data-testid="measured-right"] [data-field="uplift"]'), /^−0\.250/);
        assert.equal(await incomplete.locator('[data-testid="beats-reference"]').count(), 0);
        const irrelevant = frame.locator('[data-testid="diff-pair"][data-kind="irrelevant"]');
        assert.equal(await irrelevant.locator('[data-testid="measured-right"]').getAttribute('data-measured'), 'no');
        await calc.scrollIntoViewIfNeeded();
        await screenshot(page, 'diffCompare-diff-measured');
      });
    },
  );

  test('Compare Runs warns that K differs and shows paired mean deltas with their intervals', { timeout: 180_000 }, async () => {
    const { page } = wb!;
    await screenshotOnFailure(page, 'diffCompare-compare', async () => {
      await runCommand(page, 'TraceLift: Compare Two Runs…');
      await pickExact(page, 'run-k3');
      await pickExact(page, 'run-k5');
      const frame = await webviewFrame(page, /Compare: run-k3 ↔ run-k5/);
      const warning = frame.locator('[data-testid="cmp-config-warning"]');
      await warning.waitFor({ state: 'attached', timeout: 60_000 });
      const items = (await warning.locator('li').allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim());
      assert.deepEqual(items, ['K (with-trace samples per trace): A 3 · B 5']);
      assert.equal(await warning.locator('li').first().getAttribute('data-field'), 'k');
      const deltas = await frameText(frame, '#cmp-deltas');
      assert.match(deltas, /^3 problem\(s\) in both runs, 0 only in A, 0 only in B/);
      // With-trace success: 0, 1/3, 1 against 2/5, 3/5, 1: differences +0.4, +0.267, 0.
      assert.match(deltas, /mean Δ success \+0\.222 \(95% CI −0\.\d{3} … \+0\.\d{3}, SE 0\.\d{3}, paired over 3 problem\(s\)\)/);
      await screenshot(page, 'diffCompare-compare-warning');
    });
  });
});
