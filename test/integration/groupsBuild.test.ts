/**
 * The groups builder against the REAL embedded executor (llama-cpp-python
 * serving SmolLM2-135M-Instruct): it writes the LLM kinds of five GSM8K
 * train problems (a 135M model mostly fails the checks: those candidates
 * must be dropped and counted, never written), the file validates, the
 * summary adds up, and the same seed gives the same bytes. Then the CLI
 * builds and measures two problems: every trace carries its measured
 * uplift and the summary aggregates it per kind. A code groups file (real
 * HumanEval/MBPP problems, hand-written plans) evaluates through the real
 * sandbox with the embedded executor, each record judged by its own tests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GroupRecordSchema, GroupsBuildSummarySchema } from '../../src/engine/contract';
import { ExecutorClient } from '../../src/engine/executor/client';
import { resolveExecutor } from '../../src/engine/executor/resolve';
import { buildGsm8kGroups, LlmPerturber, PROGRAMMATIC_MATH_KINDS, summaryPath } from '../../src/engine/groups/build';
import { readGroupsFile } from '../../src/engine/groups';
import { readEvents } from '../../src/engine/run/runDir';
import { resolveDataDir } from '../../src/engine/tasks/dataDir';

const ROOT = path.resolve(__dirname, '../..');
const sum = (counts: Record<string, number> | undefined) => Object.values(counts ?? {}).reduce((a, b) => a + b, 0);

test(
  'groups build with the embedded executor as the perturber: valid file, summary adds up, same seed same bytes',
  { timeout: 1_500_000 },
  async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-groups-int-'));
    const cacheDir = path.join(tmp, 'perturb-cache');
    const dataDir = resolveDataDir();
    const executor = await resolveExecutor({});
    try {
      const build = (out: string) =>
        buildGsm8kGroups({
          split: 'train',
          dataDir,
          limit: 5,
          out,
          seed: 3,
          perturber: new LlmPerturber(new ExecutorClient(executor.endpoint), { identity: executor.identity, cacheDir, maxTokens: 48 }),
          judge: null,
          measure: null,
          minNegatives: 0,
        });
      const a = path.join(tmp, 'a.jsonl');
      const summary = await build(a);
      assert.equal(summary.status, 'completed');
      const lines = fs.readFileSync(a, 'utf8').trim().split('\n');
      const records = lines.map((l) => GroupRecordSchema.parse(JSON.parse(l)));
      assert.deepEqual(GroupsBuildSummarySchema.parse(JSON.parse(fs.readFileSync(summaryPath(a), 'utf8'))), summary);
      assert.equal(summary.problems_seen, 5);
      assert.equal(records.length, summary.groups_written);
      assert.equal(summary.groups_written + summary.groups_dropped, 5);
      // Each problem asked the LLM once per LLM kind: every answer is either written or dropped with its reason.
      for (const kind of ['missing_condition', 'mismatched_units']) {
        const written = records.flatMap((r) => r.negative_bank).filter((n) => n.negative_kind === kind).length;
        assert.equal(written, summary.negative_kind_counts[kind] ?? 0);
        assert.equal(written + sum(summary.candidates_dropped[kind]), 5, kind);
        assert.ok(!summary.candidates_dropped[kind]?.llm_call_failed, 'the embedded server answered');
      }
      for (const kind of PROGRAMMATIC_MATH_KINDS) {
        assert.equal((summary.negative_kind_counts[kind] ?? 0) + sum(summary.candidates_dropped[kind]), 5, kind);
      }
      // What an LLM wrote and was kept passed the checks: not the positive, not the gold answer.
      for (const r of records) {
        for (const n of r.negative_bank.filter((x) => (x.metadata as { generator: string }).generator === 'llm')) {
          assert.notEqual(n.reasoning, r.positive_pool[0]!.reasoning);
        }
      }
      process.stderr.write(
        `embedded perturber: ${JSON.stringify({ written: summary.negative_kind_counts, dropped: summary.candidates_dropped })}\n`,
      );

      // The same seed again (LLM replies from the cache): the same bytes.
      const b = path.join(tmp, 'b.jsonl');
      await build(b);
      assert.equal(fs.readFileSync(b, 'utf8'), fs.readFileSync(a, 'utf8'));
      assert.equal(fs.readFileSync(summaryPath(b), 'utf8'), fs.readFileSync(summaryPath(a), 'utf8'));
    } finally {
      await executor.stop();
    }
  },
);

test(
  'tracelift groups build --measure: every trace carries its measured uplift, the summary aggregates it per kind',
  { timeout: 900_000 },
  () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-groups-measure-'));
    const out = path.join(tmp, 'groups.jsonl');
    const args = [
      '--import',
      'tsx',
      path.join(ROOT, 'src', 'cli', 'main.ts'),
      'groups',
      'build',
      '--limit',
      '2',
      '--kinds',
      PROGRAMMATIC_MATH_KINDS.join(','),
      '--measure',
      '-k',
      '1',
      '-m',
      '1',
      '--cache-dir',
      path.join(tmp, 'cache'),
      '--out',
      out,
    ];
    const res = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 840_000 });
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /measured uplift: positive/);
    const records = readGroupsFile(out);
    assert.equal(records.length, 2);
    const summary = GroupsBuildSummarySchema.parse(JSON.parse(fs.readFileSync(summaryPath(out), 'utf8')));
    assert.ok(summary.measure && summary.measure.k === 1 && summary.measure.baseline_samples === 1);
    for (const r of records) {
      const positive = r.positive_pool[0]!.measured!;
      for (const t of [...r.positive_pool, ...r.negative_bank]) {
        const m = t.measured!;
        assert.ok(m, 'every trace measured');
        assert.equal(m.with_trace_valid, 1);
        assert.equal(m.baseline_valid, 1);
        assert.equal(m.baseline_rate, positive.baseline_rate, 'one baseline per problem');
        assert.ok(Math.abs(m.uplift! - (m.with_trace_successes - m.baseline_rate!)) < 1e-9);
      }
    }
    const negatives = records.flatMap((r) => r.negative_bank);
    assert.equal(summary.measured!.positive.traces, 2);
    assert.equal(sum(Object.fromEntries(Object.entries(summary.measured!.per_kind).map(([k, s]) => [k, s.traces]))), negatives.length);
    for (const [kind, s] of Object.entries(summary.measured!.per_kind)) {
      const ups = negatives.filter((n) => n.negative_kind === kind).map((n) => n.measured!.uplift!);
      assert.ok(Math.abs(s.mean_uplift! - ups.reduce((a, b) => a + b, 0) / ups.length) < 1e-9, kind);
      assert.equal(s.compared, ups.length);
    }
    process.stderr.write(`measured: ${JSON.stringify(summary.measured)}\n`);
  },
);

test(
  "a code groups file evaluates like a math one: every trace scored in the sandbox against its record's tests",
  { timeout: 900_000 },
  () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-groups-code-eval-'));
    const out = path.join(tmp, 'run');
    const fixture = path.join(ROOT, 'test', 'fixtures', 'groups.code.jsonl');
    const args = [
      '--import',
      'tsx',
      path.join(ROOT, 'src', 'cli', 'main.ts'),
      'eval',
      '--task',
      'mbpp',
      '--traces',
      fixture,
      '-k',
      '1',
      '-m',
      '1',
      '--max-tokens',
      '200',
      '--cache-dir',
      path.join(tmp, 'cache'),
      '--out',
      out,
    ];
    const res = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 840_000 });
    assert.equal(res.status, 0, res.stderr);
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as { trace_source: { format: string } };
    assert.equal(config.trace_source.format, 'groups');
    const groups = readEvents(out).events.flatMap((e) => (e.type === 'rollout_group' ? [e] : []));
    assert.deepEqual(groups.map((g) => g.problem_id).sort(), ['HumanEval/13', 'mbpp/12']);
    // HumanEval/13's check() has 4 asserts, mbpp/12 has 3: each record was judged by its own tests.
    const testsOf: Record<string, number> = { 'HumanEval/13': 4, 'mbpp/12': 3 };
    for (const g of groups) {
      assert.equal(g.task_kind, 'code');
      assert.deepEqual(
        g.samples.map((s) => s.sample_id),
        [`${g.problem_id}#pos0`, `${g.problem_id}#neg0`, `${g.problem_id}#neg1`],
      );
      for (const a of [...g.baseline.attempts, ...g.samples.flatMap((s) => s.with_trace.attempts)]) {
        assert.ok(a.verdict, `a sandbox verdict for ${g.problem_id}: ${a.error}`);
        assert.ok(a.verdict!.status, 'a sandbox status');
        assert.equal(a.verdict!.tests_total, testsOf[g.problem_id], `${g.problem_id}: its own tests`);
      }
      for (const s of g.samples) assert.notEqual(s.uplift, null, `${s.sample_id}: uplift measured`);
    }
  },
);
