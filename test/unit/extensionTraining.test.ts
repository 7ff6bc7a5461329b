/**
 * The pure parts of the editor's training commands: recipes on offer and
 * their copies, the config check naming the field, the `tracelift train`
 * command line, and the status bar's progress read from events.jsonl.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunEvent } from '../../src/engine/contract';
import {
  checkTrainConfigText,
  copyRecipe,
  defaultTrainRunName,
  listRecipes,
  trainCommandLine,
  trainEnv,
  uniqueConfigPath,
} from '../../src/extension/services/trainingLaunch';
import {
  emptyProgress,
  etaSeconds,
  foldTrainingEvent,
  formatDuration,
  TrainingProgressReader,
  trainingStatusText,
} from '../../src/extension/services/trainingProgress';
import { rolloutGroup } from '../helpers/runFixtures';

const ROOT = path.resolve(__dirname, '../..');
const RECIPES = path.join(ROOT, 'recipes');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tl-ext-train-'));
const cpuRecipe = () => JSON.parse(fs.readFileSync(path.join(RECIPES, 'cpu-smollm2.json'), 'utf8')) as Record<string, unknown>;

// ------------------------------------------------------------------ recipes

test('listRecipes: workspace recipes first, then bundled ones; the same file twice is listed once; descriptions made safe', () => {
  const ws = tmp();
  fs.writeFileSync(path.join(ws, 'mine.json'), JSON.stringify({ description: 'evil\u202Etxt.exe $(alert) line\nbreak', max_steps: 1 }));
  fs.writeFileSync(path.join(ws, 'broken.json'), '{ not json');
  fs.writeFileSync(path.join(ws, 'notes.txt'), 'not a recipe');
  const list = listRecipes([
    { dir: ws, origin: 'workspace' },
    { dir: path.join(ws, 'missing'), origin: 'workspace' },
    { dir: RECIPES, origin: 'bundled' },
    { dir: RECIPES, origin: 'bundled' }, // the workspace is the extension's repository
  ]);
  const names = list.map((r) => `${r.origin}:${r.name}`);
  assert.deepEqual(names.slice(0, 2), ['workspace:broken', 'workspace:mine']);
  const bundled = fs
    .readdirSync(RECIPES)
    .filter((n) => n.endsWith('.json'))
    .sort();
  assert.deepEqual(
    names.slice(2),
    bundled.map((n) => `bundled:${n.slice(0, -5)}`),
  );
  const mine = list.find((r) => r.name === 'mine')!;
  assert.ok(mine.description.includes('⟨U+202E⟩'), mine.description);
  assert.ok(!mine.description.includes('\n') && !mine.description.includes('$(alert)'), mine.description);
  assert.equal(list.find((r) => r.name === 'broken')!.description, '');
  assert.match(list.find((r) => r.name === 'cpu-smollm2')!.description, /SmolLM2/);
});

test('uniqueConfigPath: the name, then -2, -3… for names taken; odd characters replaced', () => {
  const taken = new Set(['/w/a.json', '/w/a-2.json']);
  assert.equal(
    uniqueConfigPath('/w', 'b', (p) => taken.has(p)),
    path.join('/w', 'b.json'),
  );
  assert.equal(
    uniqueConfigPath('/w', 'a', (p) => taken.has(p)),
    path.join('/w', 'a-3.json'),
  );
  assert.equal(
    uniqueConfigPath('/w', '../x y', () => false),
    path.join('/w', '..-x-y.json'),
  );
});

test('copyRecipe: never overwrites, drops the relative $schema link, keeps every other field', () => {
  const dir = path.join(tmp(), '.tracelift', 'train');
  const recipe = path.join(RECIPES, 'cpu-smollm2.json');
  const first = copyRecipe(recipe, dir);
  fs.writeFileSync(first, '{"edited": true}');
  const second = copyRecipe(recipe, dir);
  assert.equal(path.basename(first), 'cpu-smollm2.json');
  assert.equal(path.basename(second), 'cpu-smollm2-2.json');
  assert.equal(fs.readFileSync(first, 'utf8'), '{"edited": true}', 'the first copy is left as edited');
  const copied = JSON.parse(fs.readFileSync(second, 'utf8')) as Record<string, unknown>;
  const { $schema, ...rest } = cpuRecipe();
  assert.ok($schema, 'the recipe links its schema');
  assert.equal(copied.$schema, undefined);
  assert.deepEqual(copied, rest);
  assert.ok(checkTrainConfigText(fs.readFileSync(second, 'utf8')).ok, 'the copy is a valid config');
});

// ------------------------------------------------------------------ config check

test('checkTrainConfigText: every bundled recipe passes', () => {
  for (const n of fs.readdirSync(RECIPES).filter((f) => f.endsWith('.json'))) {
    const check = checkTrainConfigText(fs.readFileSync(path.join(RECIPES, n), 'utf8'));
    assert.ok(check.ok, `${n}: ${check.ok ? '' : check.message}`);
  }
});

test('checkTrainConfigText: the field of the first problem is named', () => {
  const withChange = (change: (c: Record<string, unknown>) => void) => {
    const c = cpuRecipe();
    change(c);
    return checkTrainConfigText(JSON.stringify(c));
  };
  const cases: Array<[string, (c: Record<string, unknown>) => void, string]> = [
    ['G below 2', (c) => (c.num_generations = 1), 'num_generations'],
    ['misspelt key', (c) => (c.max_step = 3), 'max_step'],
    ['nested misspelt key', (c) => ((c.lora as Record<string, unknown>).rank = 8), 'lora.rank'],
    ['missing max_steps', (c) => delete c.max_steps, 'max_steps'],
    ['bad task window', (c) => ((c.tasks as Array<Record<string, unknown>>)[0]!.limit = -1), 'tasks.0.limit'],
    ['RM mode without its endpoint', (c) => (c.reward = { mode: 'tracelift' }), 'reward.rm_url'],
    ['unknown device', (c) => (c.device = 'tpu'), 'device'],
  ];
  for (const [what, change, field] of cases) {
    const check = withChange(change);
    assert.equal(check.ok, false, what);
    if (check.ok) continue;
    assert.equal(check.field, field, `${what}: ${check.message}`);
    assert.ok(check.message.startsWith(`field "${field}": `), `${what}: ${check.message}`);
  }
});

test('checkTrainConfigText: text that is not JSON is refused with the parser’s reason and no field', () => {
  const check = checkTrainConfigText('{"max_steps": 3,}');
  assert.equal(check.ok, false);
  if (check.ok) return;
  assert.equal(check.field, null);
  assert.match(check.message, /^not valid JSON \(/);
});

// ------------------------------------------------------------------ launch arguments

test('trainCommandLine: start and resume as argument lists for the CLI bundle (no shell)', () => {
  const base = { cliScript: '/ext/dist/cli.js', node: '/usr/bin/node' };
  assert.deepEqual(trainCommandLine({ kind: 'start', configFile: '/w/a b.json', outDir: '/w/runs/x' }, base), {
    command: '/usr/bin/node',
    args: ['/ext/dist/cli.js', 'train', '/w/a b.json', '--out', '/w/runs/x'],
  });
  assert.deepEqual(
    trainCommandLine(
      { kind: 'resume', runDir: '/w/runs/x' },
      { ...base, maxSteps: 12, pythonPath: '/venv/bin/python', allowUnsandboxed: true },
    ),
    {
      command: '/usr/bin/node',
      args: [
        '/ext/dist/cli.js',
        'train',
        '--resume',
        '/w/runs/x',
        '--max-steps',
        '12',
        '--python',
        '/venv/bin/python',
        '--allow-unsandboxed',
      ],
    },
  );
  assert.deepEqual(trainCommandLine({ kind: 'resume', runDir: '/r' }, { ...base, maxSteps: null, pythonPath: null }).args, [
    '/ext/dist/cli.js',
    'train',
    '--resume',
    '/r',
  ]);
});

test('trainEnv: the settings the engine reads from the environment, and Node mode for the editor executable', () => {
  assert.deepEqual(trainEnv({ dataDir: null, cacheDir: null, embeddedModelPath: null }), { ELECTRON_RUN_AS_NODE: '1' });
  assert.deepEqual(trainEnv({ dataDir: '/d', cacheDir: '/c', embeddedModelPath: '/m.gguf' }), {
    ELECTRON_RUN_AS_NODE: '1',
    TRACELIFT_DATA_DIR: '/d',
    TRACELIFT_CACHE_DIR: '/c',
    TRACELIFT_EMBEDDED_MODEL: '/m.gguf',
  });
});

test('defaultTrainRunName: train-<config>-<time>, safe for a directory name', () => {
  assert.equal(
    defaultTrainRunName('/w/.tracelift/train/cpu smollm2.json', new Date('2026-03-04T05:06:07.089Z')),
    'train-cpu-smollm2-2026-03-04T05-06-07-089Z',
  );
});

// ------------------------------------------------------------------ progress and status text

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const started = (s: number, maxSteps: number, resumed = false): RunEvent => ({
  time: at(s),
  type: 'run_started',
  run_id: 'r1',
  run_kind: 'train',
  engine_version: 'test',
  resumed,
  config: { max_steps: maxSteps },
});
const metrics = (s: number, step: number, m: Record<string, number>): RunEvent => ({ time: at(s), type: 'step_metrics', step, metrics: m });

test('status text: step/total, the last reward, and an ETA from the mean step time', () => {
  const p = emptyProgress();
  foldTrainingEvent(p, started(0, 8));
  assert.equal(trainingStatusText(p), 'step 0/8');
  foldTrainingEvent(p, metrics(40, 1, { reward_mean: 0.25, time_step_s: 40 }));
  foldTrainingEvent(p, metrics(70, 2, { reward_mean: 0.5, time_step_s: 30 }));
  foldTrainingEvent(p, metrics(120, 3, { reward_mean: 0.4166, time_step_s: 20 }));
  // mean 30 s per step × 5 steps left
  assert.equal(etaSeconds(p), 150);
  assert.equal(trainingStatusText(p), 'step 3/8 · reward 0.42 · ETA 2m30s');
  foldTrainingEvent(p, { time: at(121), type: 'checkpoint', step: 3, path: 'checkpoints/checkpoint-3' });
  foldTrainingEvent(p, { time: at(122), type: 'run_ended', status: 'cancelled', message: null });
  assert.equal(p.lastCheckpointStep, 3);
  assert.equal(trainingStatusText(p), 'step 3/8 · reward 0.42 · stopped');
});

test('status text: steps without time_step_s are timed between step events; a resume continues the count', () => {
  const p = emptyProgress();
  foldTrainingEvent(p, started(0, 4));
  foldTrainingEvent(p, metrics(60, 1, { loss: 0.1 }));
  foldTrainingEvent(p, metrics(100, 2, { loss: 0.1 }));
  assert.equal(trainingStatusText(p), 'step 2/4 · ETA 1m40s');
  foldTrainingEvent(p, { time: at(101), type: 'run_ended', status: 'cancelled', message: null });
  // Resumed with --max-steps 6 an hour later: the pause is not a step time.
  foldTrainingEvent(p, started(3700, 6, true));
  assert.equal(p.ended, null);
  foldTrainingEvent(p, metrics(3720, 3, { reward_mean: 1 }));
  assert.equal(trainingStatusText(p), `step 3/6 · reward 1.00 · ETA ${formatDuration(3 * ((60 + 40 + 20) / 3))}`);
  // Step 3 trained again after another resume: counted once, with its latest time.
  foldTrainingEvent(p, metrics(3800, 3, { reward_mean: 0, time_step_s: 50 }));
  assert.equal(p.stepSeconds.size, 3);
  assert.equal(p.stepSeconds.get(3), 50);
});

test('formatDuration', () => {
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(59.4), '59s');
  assert.equal(formatDuration(130), '2m10s');
  assert.equal(formatDuration(3600 + 5 * 60 + 30), '1h05m');
});

test('TrainingProgressReader: reads appended lines only, waits for a cut last line, skips rollout groups and bad lines, restarts on a rewrite', async () => {
  const dir = tmp();
  const file = path.join(dir, 'events.jsonl');
  const line = (e: unknown) => JSON.stringify(e) + '\n';
  fs.writeFileSync(file, line(started(0, 8)) + line({ ...rolloutGroup('gsm8k/train/3'), step: 1 }) + 'not json\n');
  const reader = new TrainingProgressReader(dir);
  assert.equal(await reader.update(), true);
  assert.equal(trainingStatusText(reader.progress), 'step 0/8');
  assert.equal(await reader.update(), false, 'nothing new');

  const step1 = line(metrics(30, 1, { reward_mean: 0.5, time_step_s: 30 }));
  fs.appendFileSync(file, step1.slice(0, 20)); // the writer mid-append
  assert.equal(await reader.update(), false);
  fs.appendFileSync(file, step1.slice(20));
  assert.equal(await reader.update(), true);
  assert.equal(trainingStatusText(reader.progress), 'step 1/8 · reward 0.50 · ETA 3m30s');

  fs.writeFileSync(file, line(started(0, 2))); // replaced by a shorter file
  assert.equal(await reader.update(), true);
  assert.equal(trainingStatusText(reader.progress), 'step 0/2');
});
