/**
 * `tracelift suite`: the engine on a scripted OpenAI-compatible server (the
 * executor plans for itself; a second planner at the same server adds
 * columns; a re-run resumes with no call), then the CLI on the embedded
 * default (SmolLM2-135M, the real sandbox) with --limit 1 on every one of
 * the eight benchmarks (four math, four code): runs, table and report
 * written, their numbers those of the runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { MathProblem } from '../../src/engine/contract';
import { resolveDataDir } from '../../src/engine/tasks/dataDir';
import { getTask } from '../../src/engine/tasks/registry';
import {
  problemRates,
  runSuite,
  suiteRunDir,
  SuiteManifestSchema,
  SUITE_DEFAULT_TASKS,
  SUITE_FILES,
} from '../../src/engine/suite/runSuite';
import { SuiteTableSchema } from '../../src/engine/suite/table';
import { startFakeOpenAI } from '../helpers/fakeOpenAI';
import { checkRunFiles } from '../helpers/runCheck';

const run = promisify(execFile);
/** The suite's eight benchmarks in its table order: code first, then math. */
const ALL_TASKS = SUITE_DEFAULT_TASKS;
const CODE_TASKS = ALL_TASKS.filter((task) => getTask(task).kind === 'code');
const CLI = path.resolve(__dirname, '../../src/cli/main.ts');
const dataDir = resolveDataDir();
const hasData = (task: string) => {
  try {
    getTask(task).load(dataDir, getTask(task).defaultSplit);
    return true;
  } catch {
    return false;
  }
};

test(
  'suite on a scripted server: planner traces, runs, table with micro-averages; a re-run makes no call',
  { timeout: 120_000 },
  async (t) => {
    if (!hasData('gsm8k') || !hasData('svamp')) return t.skip('gsm8k/svamp data not found');
    const problems = [
      ...getTask('gsm8k').load(dataDir, 'test').slice(0, 3),
      ...getTask('svamp').load(dataDir, 'test').slice(0, 3),
    ] as MathProblem[];
    // Planner prompts get a trace; with the first planner's trace the executor answers right,
    // with the second planner's or none it answers wrong.
    const server = await startFakeOpenAI({
      answer: (prompt) => {
        if (prompt.includes('Write concise reasoning')) return prompt.includes('Problem:') ? '<reasoning>HELPFUL STEP</reasoning>' : '';
        const p = problems.find((q) => prompt.includes(q.problem));
        if (!p) return 'no idea';
        return prompt.includes('HELPFUL STEP') ? p.answer : `${Number(p.answer) + 7}`;
      },
    });
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-suite-'));
    const options = {
      outDir,
      tasks: ['gsm8k', 'svamp'],
      limit: 3,
      planners: [{ name: 'planner' }],
      executor: { url: server.url, model: 'fake' },
      config: { k: 2, m: 3, dataDir, cacheDir: path.join(outDir, 'cache'), rewardMode: 'exec_only' as const },
    };
    try {
      const first = await runSuite(options);
      assert.equal(first.status, 'completed');
      const manifest = SuiteManifestSchema.parse(JSON.parse(fs.readFileSync(path.join(outDir, SUITE_FILES.manifest), 'utf8')));
      assert.deepEqual(
        manifest.runs.map((r) => [r.task, r.planner, r.status]),
        [
          ['gsm8k', 'planner', 'completed'],
          ['svamp', 'planner', 'completed'],
        ],
      );
      for (const r of manifest.runs) checkRunFiles(r.run_dir);
      const table = SuiteTableSchema.parse(JSON.parse(fs.readFileSync(path.join(outDir, SUITE_FILES.tableJson), 'utf8')));
      const byLabel = new Map(table.rows.map((r) => [r.label, r]));
      assert.deepEqual([...byLabel.keys()], ['gsm8k', 'svamp', 'micro:math']);
      assert.equal(byLabel.get('gsm8k')!.without.n, 3);
      assert.equal(byLabel.get('svamp')!.without.n, 3);
      assert.equal(byLabel.get('micro:math')!.without.n, 6);
      assert.equal(byLabel.get('micro:math')!.without.rate, 0);
      assert.equal(byLabel.get('micro:math')!.planners.planner!.with.rate, 1);
      assert.equal(byLabel.get('micro:math')!.planners.planner!.delta.mean, 1);
      // The table's figures are the runs' own.
      const rates = problemRates(suiteRunDir(outDir, 'gsm8k', 'planner'));
      assert.equal(rates.size, 3);
      for (const r of rates.values()) assert.deepEqual(r, { without: 0, with: 1 });
      assert.match(fs.readFileSync(path.join(outDir, SUITE_FILES.tableMd), 'utf8'), /\| \*\*math \(micro\)\*\* \| 6 \| 0\.0 \[/);
      assert.equal(fs.readFileSync(path.join(outDir, SUITE_FILES.tableCsv), 'utf8').trim().split('\n').length, 4);

      // Resumed: traces and runs are reused, nothing is asked of the server.
      const before = server.requests.length;
      await runSuite(options);
      assert.equal(server.requests.length, before, 'a finished suite re-run makes no call');

      // A second planner (an endpoint: the same server under another model name) adds columns.
      await runSuite({ ...options, planners: [{ name: 'planner' }, { name: 'planner2', url: server.url, model: 'p2' }] });
      const two = SuiteTableSchema.parse(JSON.parse(fs.readFileSync(path.join(outDir, SUITE_FILES.tableJson), 'utf8')));
      assert.deepEqual(
        two.planners.map((p) => p.name),
        ['planner', 'planner2'],
      );
      assert.equal(two.rows.find((r) => r.label === 'micro:math')!.planners.planner2!.with.n, 6);

      // Another planner into the same folder under the same name is refused, not mixed.
      await assert.rejects(
        runSuite({ ...options, planners: [{ name: 'planner', url: server.url, model: 'other' }] }),
        /another planner configuration \(identity/,
      );
    } finally {
      await server.close();
    }
  },
);

test(
  'tracelift suite on the embedded default: all eight benchmarks, --limit 1, the real sandbox; table and report',
  { timeout: 1_500_000 },
  async (t) => {
    const missing = ALL_TASKS.filter((task) => !hasData(task));
    if (missing.length) return t.skip(`no data for ${missing.join(', ')}`);
    if (!fs.existsSync(path.resolve(__dirname, '../../models/SmolLM2-135M-Instruct.Q4_1.gguf'))) return t.skip('embedded model not set up');
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-suite-emb-'));
    const { stdout } = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        CLI,
        'suite',
        '--out',
        outDir,
        '--tasks',
        ALL_TASKS.join(','),
        '--limit',
        '1',
        '-k',
        '1',
        '-m',
        '1',
        // Short programs and answers: the point is the plumbing, not the 135M model's skill.
        '--max-tokens',
        '256',
        '--planner-max-tokens',
        '128',
        // The embedded server answers one request at a time: queued requests would spend their timeout waiting.
        '--concurrency',
        '1',
        '--cache-dir',
        path.join(outDir, 'cache'),
      ],
      { maxBuffer: 1 << 24, timeout: 1_400_000 },
    );
    assert.match(stdout, /\| benchmark \| n \| executor alone \| with planner \| Δ planner \|/);
    const manifest = SuiteManifestSchema.parse(JSON.parse(fs.readFileSync(path.join(outDir, SUITE_FILES.manifest), 'utf8')));
    assert.equal(manifest.executor.origin, 'embedded');
    const table = SuiteTableSchema.parse(JSON.parse(fs.readFileSync(path.join(outDir, SUITE_FILES.tableJson), 'utf8')));
    for (const task of ALL_TASKS) {
      const runDir = suiteRunDir(outDir, task, 'planner');
      const checked = checkRunFiles(runDir);
      const rates = [...problemRates(runDir).values()];
      const row = table.rows.find((r) => r.label === task)!;
      assert.equal(row.without.n, rates.length);
      assert.equal(rates.length, 1);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      assert.ok(Math.abs(row.without.rate! - mean(rates.map((r) => r.without!))) < 1e-12);
      assert.ok(Math.abs(row.planners.planner!.with.rate! - mean(rates.map((r) => r.with!))) < 1e-12);
      // Code problems ran through the sandbox: verdicts carry test counts.
      if (CODE_TASKS.includes(task)) {
        const g = [...checked.groups.values()][0]!;
        assert.ok(g.baseline.attempts.some((a) => a.verdict?.tests_total !== null && a.verdict?.tests_total !== undefined));
      }
    }
    assert.deepEqual(
      table.rows.map((r) => r.label),
      [...ALL_TASKS, 'micro:code', 'micro:math', 'micro:all'],
    );
    // The report over the suite's runs renders with its plots.
    const reportDir = path.join(outDir, 'report');
    await run(process.execPath, ['--import', 'tsx', CLI, 'report', ...manifest.runs.map((r) => r.run_dir), '--out', reportDir], {
      maxBuffer: 1 << 24,
    });
    const md = fs.readFileSync(path.join(reportDir, 'report.md'), 'utf8');
    assert.match(md, /Uplift estimate vs K/);
    const svgs = fs.readdirSync(reportDir).filter((f) => f.endsWith('.svg'));
    assert.ok(svgs.length >= 1, 'at least one plot');
    for (const f of svgs)
      assert.match(fs.readFileSync(path.join(reportDir, f), 'utf8'), /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  },
);
