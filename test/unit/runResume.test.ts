/**
 * The run-level rules of resuming: repair of the derived files on open, the
 * supersede rule and "no valid outcome", the config check, the exit guard,
 * and the input checks made before any call.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ZodError } from 'zod';
import { EndpointSchema, RolloutGroupSchema, RunEventSchema, type RolloutGroup, type RunEvent } from '../../src/engine/contract';
import { buildEvalConfig } from '../../src/engine/eval/buildConfig';
import { missingRewardEndpoint, runEval } from '../../src/engine/eval/runEval';
import { tracesFromFile, tracesFromGroups } from '../../src/engine/eval/traceSources';
import { ConfigMismatchError, configDifferences, freshRunDir } from '../../src/engine/run/configDiff';
import { ExitGuard } from '../../src/engine/run/exitGuard';
import { readEvents, RunWriter, sampleRows, summaryFromEvents } from '../../src/engine/run/runDir';
import { SummaryBuilder } from '../../src/engine/run/summary';
import { groupKey, latestGroups, noValidOutcome } from '../../src/engine/run/supersede';
import { resolveDataDir } from '../../src/engine/tasks/dataDir';
import { readTextFile, Utf8Checker } from '../../src/engine/util/jsonl';
import { describeZodErrorForCli, formatCliError } from '../../src/cli/errors';
import { rolloutGroup } from '../helpers/runFixtures';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tl-resume-'));
const started = RunEventSchema.parse({ time: 't', type: 'run_started', run_id: 'r1', run_kind: 'eval', engine_version: '0', config: {} });

/** A group whose every with-trace call failed (no valid outcome). */
function failedGroup(problemId: string): RolloutGroup {
  const g = structuredClone(rolloutGroup(problemId));
  for (const s of g.samples) {
    s.with_trace.tally = { successes: 0, valid: 0, requested: 3, failed: 3, rate: null };
    s.uplift = null;
    s.e2e = null;
    s.reward = null;
  }
  return RolloutGroupSchema.parse(g);
}

function writeRun(dir: string, groups: RolloutGroup[], opts: { samplesOf?: RolloutGroup[] } = {}): void {
  const { writer } = RunWriter.open(dir);
  writer.append(started);
  for (const g of groups) writer.append(g);
  for (const g of opts.samplesOf ?? groups) writer.appendSampleRows(g);
}

const samplesText = (dir: string) => fs.readFileSync(path.join(dir, 'samples.jsonl'), 'utf8');
const expectedSamples = (groups: RolloutGroup[]) =>
  groups
    .flatMap(sampleRows)
    .map((r) => JSON.stringify(r))
    .join('\n') + '\n';

// ---------------------------------------------------------------- repair on open

test('open: a cut last line of samples.jsonl is dropped; rows lost between the two appends are re-derived', () => {
  const dir = tmp();
  const groups = [rolloutGroup('a'), rolloutGroup('b'), rolloutGroup('c')];
  // A crash after c's event, before its rows; and a row of b cut halfway.
  writeRun(dir, groups, { samplesOf: [groups[0]!] });
  const bRow = JSON.stringify(sampleRows(groups[1]!)[0]);
  fs.appendFileSync(path.join(dir, 'samples.jsonl'), bRow.slice(0, 40));
  const { repairs } = RunWriter.open(dir);
  assert.equal(repairs.length, 1);
  assert.match(repairs[0]!, /a cut last line dropped, 4 row\(s\) re-derived/);
  assert.equal(samplesText(dir), expectedSamples(groups));
  // summary.json recomputed from the events.
  const summary = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8'));
  assert.equal(summary.micro.problems, 3);
  assert.equal(summary.micro.traces, 6);
  assert.equal(summary.status, 'running');
});

test('open: samples.jsonl that agrees is not rewritten', () => {
  const dir = tmp();
  writeRun(dir, [rolloutGroup('a'), rolloutGroup('b')]);
  const file = path.join(dir, 'samples.jsonl');
  const inode = fs.statSync(file).ino;
  const { repairs } = RunWriter.open(dir);
  assert.deepEqual(repairs, []);
  assert.equal(fs.statSync(file).ino, inode, 'same file: no temp + rename');
});

test('open: rows of a superseded group are replaced by those of the latest', () => {
  const dir = tmp();
  const old = failedGroup('a');
  const fresh = rolloutGroup('a');
  writeRun(dir, [old, rolloutGroup('b'), fresh], { samplesOf: [old, rolloutGroup('b'), fresh] });
  const { repairs } = RunWriter.open(dir);
  assert.match(repairs[0]!, /2 stale row\(s\) dropped/);
  assert.equal(samplesText(dir), expectedSamples([rolloutGroup('b'), fresh]));
});

// ---------------------------------------------------------------- supersede rule

test('the last group event of a (step, problem_id) counts; summaries do not double count', () => {
  const a1 = failedGroup('a');
  const a2 = rolloutGroup('a');
  const b = rolloutGroup('b');
  const stepped = RolloutGroupSchema.parse({ ...rolloutGroup('a'), step: 3 });
  const events: RunEvent[] = [started, a1, b, a2, stepped];
  assert.deepEqual(
    latestGroups(events).map((g) => groupKey(g)),
    [groupKey(b), groupKey(a2), groupKey(stepped)],
  );
  assert.notEqual(groupKey(a1), groupKey(stepped), 'another step is another key');
  const fromLog = SummaryBuilder.fromEvents(events).build('r', 'running');
  const direct = new SummaryBuilder();
  for (const g of [b, a2, stepped]) direct.add(g);
  const want = direct.build('r', 'running');
  assert.equal(fromLog.micro.problems, 3);
  assert.equal(fromLog.micro.failed_calls, want.micro.failed_calls);
  for (const k of ['with_trace_success', 'no_trace_success', 'mean_uplift', 'mean_reward'] as const) {
    assert.ok(Math.abs(fromLog[k]! - want[k]!) < 1e-12, k);
  }
});

test('executor generations are summed over every invocation’s events', () => {
  const a = { ...rolloutGroup('a'), executor_generations: 5 };
  const ended = { time: 't', type: 'run_ended', status: 'cancelled', message: null, executor_generations: 2 } as const;
  const b = { ...rolloutGroup('b'), executor_generations: 7 };
  const s = summaryFromEvents([started, a, ended, started, b] as RunEvent[])!;
  assert.equal(s.executor_generations, 14);
  assert.equal(s.status, 'running', 'the last invocation has not ended');
});

test('no valid outcome: baseline or every with-trace call failed, or a reward missing its signal', () => {
  assert.equal(noValidOutcome(rolloutGroup('a'), 'exec_only'), null);
  assert.match(noValidOutcome(failedGroup('a'), 'exec_only')!, /every with-trace call failed/);
  const noBase = structuredClone(rolloutGroup('a'));
  noBase.baseline.tally = { successes: 0, valid: 0, requested: 3, failed: 3, rate: null };
  assert.match(noValidOutcome(noBase, 'exec_only')!, /no baseline sample/);
  const noRm = structuredClone(rolloutGroup('a'));
  noRm.samples[0]!.reward = null;
  assert.match(noValidOutcome(noRm, 'tracelift')!, /no RM score/);
  assert.match(noValidOutcome(noRm, 'llm_judge')!, /no judge score/);
  // Some failed calls among the K: a valid outcome (they are excluded and counted).
  const partial = structuredClone(rolloutGroup('a'));
  partial.samples[0]!.with_trace.tally = { successes: 1, valid: 2, requested: 3, failed: 1, rate: 0.5 };
  assert.equal(noValidOutcome(partial, 'exec_only'), null);
});

// ---------------------------------------------------------------- config check

const dataDir = resolveDataDir();
const endpoint = (over: Record<string, unknown> = {}) => ({
  endpoint: EndpointSchema.parse({ base_url: 'http://127.0.0.1:9/v1', model: 'm', ...over }),
  origin: 'configured' as const,
});
const cfg = (over: Partial<Parameters<typeof buildEvalConfig>[0]> = {}) =>
  buildEvalConfig({ task: 'gsm8k', traceSource: { kind: 'reference' }, executor: endpoint(), rewardMode: 'exec_only', dataDir, ...over });

test('config differences: K, M, executor, reward mode, task, trace source… named; window, places and pacing ignored', () => {
  const base = cfg();
  assert.deepEqual(configDifferences(base, cfg({ offset: 5, limit: 3, cacheDir: '/elsewhere', dataDir: '/x' })), []);
  assert.deepEqual(configDifferences(base, cfg({ executor: endpoint({ timeout_ms: 5, max_retries: 0, concurrency: 1 }) })), []);
  const diff = configDifferences(
    base,
    cfg({ k: 5, m: 2, rewardMode: 'llm_judge', judgeUrl: 'http://127.0.0.1:7/v1', executor: endpoint({ model: 'other' }) }),
  );
  assert.deepEqual(diff.map((d) => d.field).sort(), ['baseline_samples', 'executor.model', 'k', 'reward.judge', 'reward.mode']);
  assert.deepEqual(
    configDifferences(base, cfg({ task: 'svamp' }))
      .map((d) => d.field)
      .includes('task'),
    true,
  );
  // The embedded executor listens on a new port each start: not a difference.
  const embedded = (port: number) => ({
    endpoint: EndpointSchema.parse({ base_url: `http://127.0.0.1:${port}/v1`, model: 'smol' }),
    origin: 'embedded' as const,
  });
  assert.deepEqual(configDifferences(cfg({ executor: embedded(1) }), cfg({ executor: embedded(2) })), []);
});

test('a resume with another configuration is refused, naming the fields; config.json is kept; --new-run goes beside it', async () => {
  const dir = tmp();
  const first = cfg({ k: 3 });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(first));
  fs.writeFileSync(path.join(dir, 'events.jsonl'), JSON.stringify(started) + '\n');
  const before = fs.readFileSync(path.join(dir, 'config.json'), 'utf8');
  await assert.rejects(
    runEval({ config: cfg({ k: 5 }), executorIdentity: 'x', verifier: null as never, noCache: true, outDir: dir }),
    (err: unknown) =>
      err instanceof ConfigMismatchError &&
      /k: 3 in the run, 5 now/.test(err.message) &&
      /--new-run/.test(err.message) &&
      /--out/.test(err.message),
  );
  assert.equal(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'), before);
  assert.equal(readEvents(dir).events.length, 1, 'nothing appended');
  assert.equal(
    freshRunDir(dir, (d) => fs.existsSync(path.join(d, 'events.jsonl'))),
    `${dir}-2`,
  );
  fs.mkdirSync(`${dir}-2`);
  assert.equal(
    freshRunDir(dir, (d) => fs.existsSync(path.join(d, 'events.jsonl'))),
    `${dir}-3`,
  );
});

// ---------------------------------------------------------------- input checks

test('a reward mode without its signal fails before any call, naming the flag to add', async () => {
  assert.match(missingRewardEndpoint({ mode: 'tracelift', rm_url: null, judge: null })!, /--rm-url/);
  assert.match(missingRewardEndpoint({ mode: 'rm_uplift_only', rm_url: null, judge: null })!, /--rm-url/);
  assert.match(missingRewardEndpoint({ mode: 'llm_judge', rm_url: null, judge: null })!, /--judge-url/);
  assert.equal(missingRewardEndpoint({ mode: 'exec_only', rm_url: null, judge: null }), null);
  assert.equal(missingRewardEndpoint({ mode: 'tracelift', rm_url: 'http://x/score', judge: null }), null);
  const dir = path.join(tmp(), 'never');
  await assert.rejects(
    runEval({ config: cfg({ rewardMode: 'tracelift' }), executorIdentity: 'x', verifier: null as never, noCache: true, outDir: dir }),
    /needs a Reason RM endpoint: add --rm-url/,
  );
  assert.equal(fs.existsSync(dir), false, 'no run directory was made');
});

test('--offset past the end is an error naming the task, split and size', async () => {
  const dir = path.join(tmp(), 'never');
  await assert.rejects(
    runEval({ config: cfg({ offset: 5000 }), executorIdentity: 'x', verifier: null as never, noCache: true, outDir: dir }),
    /^Error: offset 5000 is past the end of gsm8k\/test \(1319 problems\)$/,
  );
  assert.equal(fs.existsSync(dir), false);
});

test('duplicate trace ids in a traces file name both lines; duplicate problems in a groups file too', () => {
  const dir = tmp();
  const file = path.join(dir, 't.jsonl');
  const p = (id: string) => ({ task: 'gsm8k', id, kind: 'math' as const, problem: id, answer: '1', reference_trace: null, meta: {} });
  fs.writeFileSync(
    file,
    [
      { problem_id: 'a', trace: 'x', trace_id: 't1' },
      { problem_id: 'b', trace: 'y' },
      { problem_id: 'a', trace: 'z', trace_id: 't1' },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n') + '\n',
  );
  assert.throws(
    () => tracesFromFile(file, [p('a'), p('b')]),
    new RegExp(`t\\.jsonl:3: duplicate trace_id "t1": already used at .*t\\.jsonl:1`),
  );
  const groups = path.join(dir, 'g.jsonl');
  const line = fs.readFileSync(path.resolve(__dirname, '../fixtures/groups.gsm8k.jsonl'), 'utf8').split('\n')[0]!;
  fs.writeFileSync(groups, `${line}\n\n${line}\n`);
  assert.throws(() => tracesFromGroups(groups, 'gsm8k'), /g\.jsonl:3: duplicate problem_id ".*": already at .*g\.jsonl:1/);
});

test('bytes that are not UTF-8 are an error with file, line and byte, whole or streamed in pieces', () => {
  const dir = tmp();
  const file = path.join(dir, 'bad.jsonl');
  const bad = Buffer.concat([Buffer.from('{"a":"é"}\n{"b":"ok"}\n{"c":"caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]);
  fs.writeFileSync(file, bad);
  assert.throws(() => readTextFile(file), /bad\.jsonl:3: invalid UTF-8 at byte 31$/);
  // Valid multi-byte text split anywhere between chunks passes; each invalid form is caught.
  const text = Buffer.from('ä€😀\n'.repeat(3));
  for (let cut = 0; cut <= text.length; cut++) {
    const c = new Utf8Checker('f');
    c.push(text.subarray(0, cut));
    c.push(text.subarray(cut));
    c.end();
  }
  for (const bytes of [[0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0x80], [0xff]]) {
    const c = new Utf8Checker('f');
    assert.throws(
      () => {
        c.push(Buffer.from([0x41, 0x0a, ...bytes]));
        c.end();
      },
      /f:2: invalid UTF-8 at byte 2/,
      bytes.join(','),
    );
  }
});

test('bad values are printed with the flag and what is allowed, not zod JSON', () => {
  const err = (() => {
    try {
      buildEvalConfig({
        task: 'gsm8k',
        traceSource: { kind: 'reference' },
        executor: endpoint(),
        rewardMode: 'bogus' as never,
        rmUrl: 'nope',
        dataDir,
      });
    } catch (e) {
      return e;
    }
  })();
  assert.ok(err instanceof ZodError);
  const text = formatCliError(err);
  assert.doesNotMatch(text, /[[{]\s*"/);
  assert.match(text, /invalid --reward-mode: allowed values are tracelift, exec_only, no_uplift, rm_uplift_only, llm_judge/);
  assert.match(text, /invalid --rm-url: Invalid URL/);
  assert.match(
    describeZodErrorForCli(EndpointSchema.safeParse({ base_url: 'x', model: 'm' }).error!),
    /invalid --executor-url \/ --planner-url \/ --judge-url/,
  );
});

test('the exit guard ends every open run once, and a failing one does not stop the others', () => {
  const guard = new ExitGuard();
  const calls: string[] = [];
  guard.register(() => {
    throw new Error('disk full');
  });
  const off = guard.register((status, message) => calls.push(`${status}:${message}`));
  guard.register((status) => calls.push(`second:${status}`));
  off();
  guard.endAll('cancelled', 'bye');
  guard.endAll('failed', 'again');
  assert.deepEqual(calls, ['second:cancelled']);
  assert.equal(guard.openRuns, 0);
});

test("the extension's run index applies the supersede rule: figures, histogram and a problem's rows are the latest group's", async () => {
  const { RunIndex } = await import('../../src/extension/services/runs/runIndex');
  const events: RunEvent[] = [started, failedGroup('a'), rolloutGroup('b'), rolloutGroup('a')];
  const idx = new RunIndex('/nowhere');
  idx.ingest(Buffer.from(events.map((e) => JSON.stringify(e) + '\n').join('')), 0);
  const want = SummaryBuilder.fromEvents(events).build('r', 'running').micro;
  const got = idx.summary();
  assert.equal(got.problems, 2);
  assert.equal(got.traces, 4);
  assert.equal(got.failed_calls, want.failed_calls);
  for (const k of ['with_trace_success', 'no_trace_success', 'mean_uplift', 'mean_reward'] as const)
    assert.ok(Math.abs(got[k]! - want[k]!) < 1e-12, k);
  assert.deepEqual(
    idx.problemsWithId('a')[0]!.samples.map((r) => r.line),
    [4, 4],
    "problem a's rows are those of its latest group (line 4)",
  );
  const bins = idx.aggregates.histogram.reduce((x, y) => x + y, 0) + idx.aggregates.histogramUnknown;
  assert.equal(bins, 4, 'the superseded group left the histogram');
});

test("a traces file's hash: a resume over the edited file is refused; runs written before the hash was recorded resume", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-hash-'));
  const traces = path.join(dir, 'groups.jsonl');
  fs.copyFileSync(path.resolve(__dirname, '../fixtures/groups.gsm8k.jsonl'), traces);
  const withHash = (sha256?: string) => {
    const c = cfg({ traceSource: { kind: 'file', path: traces, format: 'groups' } });
    if (c.trace_source.kind === 'file' && sha256) c.trace_source.sha256 = sha256;
    return c;
  };
  const a = 'a'.repeat(64);
  const b = 'b'.repeat(64);
  assert.deepEqual(configDifferences(withHash(a), withHash(a)), []);
  assert.deepEqual(
    configDifferences(withHash(a), withHash(b)).map((d) => d.field),
    ['trace_source.sha256'],
  );
  assert.deepEqual(configDifferences(withHash(), withHash(b)), [], 'an older run (no hash recorded) still resumes');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the embedded server planning for itself: its random port is not a difference for the planner either', () => {
  const embedded = (port: number) => ({
    endpoint: EndpointSchema.parse({ base_url: `http://127.0.0.1:${port}/v1`, model: 'smol' }),
    origin: 'embedded' as const,
  });
  const planning = (port: number, plannerPort = port) => {
    const c = cfg({ executor: embedded(port) });
    c.trace_source = {
      kind: 'planner',
      endpoint: EndpointSchema.parse({ base_url: `http://127.0.0.1:${plannerPort}/v1`, model: 'smol' }),
      sampling: c.executor_sampling,
      traces_per_problem: 1,
    };
    return c;
  };
  assert.deepEqual(configDifferences(planning(1), planning(2)), []);
  // A separate planner server on another port is another planner.
  assert.deepEqual(
    configDifferences(planning(1), planning(2, 3)).map((d) => d.field),
    ['trace_source.endpoint.base_url'],
  );
});
