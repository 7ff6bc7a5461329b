/**
 * Whole evals (runEval, in process) against the fault-injecting server: for
 * every fault the run finishes or fails as stated, failed calls are counted
 * and excluded, summary.json and samples.jsonl agree with events.jsonl, and a
 * resume once the server is healthy again recovers every problem, with
 * nothing duplicated, to the figures of a run that met no fault.
 *
 * Each run: 4 GSM8K problems, reference traces, K=2, M=2, exec_only, no
 * baseline cache, an executor answering by a hash of the prompt (so every
 * rerun reproduces the same figures). The faults hit every call about one
 * problem (its group has no valid outcome) and, for transient kinds, the
 * first attempt of other calls (retried, then answered).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { MathProblem } from '../../src/engine/contract';
import { buildEvalConfig } from '../../src/engine/eval/buildConfig';
import { runEval, type EvalResult } from '../../src/engine/eval/runEval';
import { noValidOutcome } from '../../src/engine/run/supersede';
import { resolveDataDir } from '../../src/engine/tasks/dataDir';
import { getTask } from '../../src/engine/tasks/registry';
import { EngineVerifier } from '../../src/engine/verify';
import { startFaultServer, type Fault, type FaultServer, type RecordedRequest } from '../helpers/faultServer';
import { checkRunFiles, comparableFigures, deterministicAnswer } from '../helpers/runCheck';

const dataDir = resolveDataDir();
const problems = getTask('gsm8k').load(dataDir, 'test').slice(0, 4) as MathProblem[];
const VICTIM = problems[1]!;
const verifier = new EngineVerifier();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-faults-'));
let dirs = 0;

/** The fault for a request, switched per test; null: answer. */
let faultFor: (i: number, req: RecordedRequest) => Fault | null = () => null;
let server: FaultServer;
let proxy: Proxy;

/**
 * A TCP front for the fault server on a fixed port, so the executor URL (part
 * of the run's config) stays the same while the server is "killed" (every
 * connection cut, new ones refused) and brought back.
 */
interface Proxy {
  url: string;
  kill(): Promise<void>;
  revive(): Promise<void>;
  close(): Promise<void>;
}

async function startProxy(target: FaultServer): Promise<Proxy> {
  const { port: targetPort } = new URL(target.url);
  const sockets = new Set<net.Socket>();
  const make = () =>
    net.createServer((client) => {
      const upstream = net.connect(Number(targetPort), '127.0.0.1');
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  let srv = make();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  const stop = () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      srv.close(() => r());
    });
  return {
    url: `http://127.0.0.1:${port}/v1`,
    kill: stop,
    revive: async () => {
      srv = make();
      await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
    },
    close: stop,
  };
}

before(async () => {
  server = await startFaultServer({
    honourN: true,
    answer: deterministicAnswer(problems),
    script: (i, req) => faultFor(i, req) ?? { kind: 'ok' },
  });
  proxy = await startProxy(server);
});

after(async () => {
  await proxy.close();
  await server.close();
  await verifier.close();
});

function config(endpoint: { timeout_ms?: number; max_retries?: number; down_after_failures?: number } = {}) {
  return buildEvalConfig({
    task: 'gsm8k',
    split: 'test',
    limit: problems.length,
    k: 2,
    m: 2,
    traceSource: { kind: 'reference' },
    rewardMode: 'exec_only',
    executor: {
      endpoint: {
        base_url: proxy.url,
        model: 'fault-model',
        n_sampling: 'yes',
        timeout_ms: 2000,
        max_retries: 2,
        down_after_failures: 1000,
        ...endpoint,
      },
      origin: 'configured',
    },
    dataDir,
    cacheDir: path.join(tmp, 'unused-cache'),
  });
}

function evalInto(dir: string, endpoint?: Parameters<typeof config>[0]): Promise<EvalResult> {
  return runEval({ config: config(endpoint), executorIdentity: 'fault-model', verifier, noCache: true, outDir: dir, groupConcurrency: 2 });
}

const newDir = () => path.join(tmp, `run-${dirs++}`);
const aboutVictim = (req: RecordedRequest) => req.prompt.includes(VICTIM.problem);

let reference: ReturnType<typeof comparableFigures>;
let referenceRows: string[];

test('reference: a run that meets no fault', async () => {
  faultFor = () => null;
  const dir = newDir();
  const res = await evalInto(dir);
  assert.equal(res.status, 'completed');
  const run = checkRunFiles(dir);
  assert.equal(run.summary.micro.problems, 4);
  assert.equal(run.summary.micro.failed_calls, 0);
  // 4 problems × (M=2 + one trace × K=2) generations.
  assert.equal(run.summary.executor_generations, 4 * (2 + 2));
  reference = comparableFigures(run.summary);
  referenceRows = fs.readFileSync(path.join(dir, 'samples.jsonl'), 'utf8').split('\n');
});

const faults: { name: string; fault: Fault; endpoint?: Parameters<typeof config>[0]; transient: boolean }[] = [
  { name: 'HTTP 500', fault: { kind: 'status', status: 500, message: 'engine crashed' }, transient: true },
  { name: 'HTTP 429', fault: { kind: 'status', status: 429, retryAfter: 0 }, transient: true },
  { name: 'malformed JSON body', fault: { kind: 'malformed' }, transient: true },
  { name: 'missing choices', fault: { kind: 'missing_choices' }, transient: true },
  { name: 'empty choices', fault: { kind: 'empty_choices' }, transient: true },
  { name: 'connection reset', fault: { kind: 'reset' }, transient: true },
  { name: 'connection cut mid-body', fault: { kind: 'cut_mid_body' }, transient: true },
  { name: 'hang (timeout 300 ms, one retry)', fault: { kind: 'hang' }, endpoint: { timeout_ms: 300, max_retries: 1 }, transient: false },
];

describe('a fault on every call about one problem, and on first attempts of others', () => {
  for (const { name, fault, endpoint, transient } of faults) {
    test(`${name}: the run completes, the victim's calls are counted and excluded; a resume recovers it`, async () => {
      const firstAttempt = new Set<string>();
      faultFor = (_i, req) => {
        if (aboutVictim(req)) return fault;
        // Transient kinds: the first attempt of each other with-trace call fails, its retry is answered.
        const key = req.prompt;
        if (transient && req.prompt.includes('Provided reasoning') && !firstAttempt.has(key)) {
          firstAttempt.add(key);
          return fault;
        }
        return null;
      };
      const dir = newDir();
      const res = await evalInto(dir, endpoint);
      assert.equal(res.status, 'completed');
      const first = checkRunFiles(dir);
      const victim = first.groups.get(VICTIM.id)!;
      assert.equal(victim.baseline.tally.valid, 0, 'baseline calls failed');
      assert.equal(victim.baseline.tally.rate, null, 'failed calls are not scored as wrong');
      assert.equal(victim.samples[0]!.with_trace.tally.valid, 0);
      assert.equal(victim.samples[0]!.uplift, null);
      assert.equal(victim.samples[0]!.reward, null);
      assert.ok(
        victim.samples[0]!.with_trace.attempts.every((a) => a.error && a.verdict === null),
        'each failed attempt says why',
      );
      assert.equal(first.summary.micro.failed_calls, 2 + 2, "the victim's M + K failed calls are counted");
      assert.notEqual(noValidOutcome(victim, 'exec_only'), null);
      for (const p of problems.filter((q) => q !== VICTIM)) {
        const g = first.groups.get(p.id)!;
        assert.equal(noValidOutcome(g, 'exec_only'), null, `${p.id} was answered (after a retry)`);
        assert.equal(g.samples[0]!.with_trace.tally.valid, 2);
      }
      assert.equal(first.summary.micro.problems, 4);

      // The server is healthy again: the resume re-scores the victim only.
      faultFor = () => null;
      const before = server.completionRequests().length;
      const again = await evalInto(dir, endpoint);
      assert.equal(again.status, 'completed');
      const sent = server.completionRequests().slice(before);
      assert.ok(sent.length > 0 && sent.every(aboutVictim), 'only the victim was asked again');
      const second = checkRunFiles(dir);
      assert.equal(second.allGroups.filter((g) => g.problem_id === VICTIM.id).length, 2, 'the old group stays, superseded');
      assert.equal(second.allGroups.length, 5);
      assert.deepEqual(comparableFigures(second.summary), reference, 'figures of a run that met no fault');
      assert.deepEqual(
        fs.readFileSync(path.join(dir, 'samples.jsonl'), 'utf8').split('\n').sort(),
        [...referenceRows].sort(),
        'the same rows, each once',
      );
      // Generations accumulate over both invocations: 3 answered problems, then the victim.
      assert.equal(second.summary.executor_generations, 4 * (2 + 2));
    });
  }
});

test('server killed mid-run: the breaker ends the run failed, nothing written after; a resume completes it', async () => {
  faultFor = () => null;
  let answered = 0;
  // After two answered requests the server goes away (connections cut, new ones refused).
  faultFor = () => {
    answered++;
    if (answered === 3) void proxy.kill();
    return answered >= 3 ? { kind: 'hang' } : null;
  };
  const dir = newDir();
  try {
    await assert.rejects(evalInto(dir, { max_retries: 1, down_after_failures: 2 }), /executor .* is down: 2 calls in a row failed/);
  } finally {
    await proxy.revive();
  }
  const first = checkRunFiles(dir);
  assert.equal(first.summary.status, 'failed');
  const types = first.events.map((e) => e.type);
  assert.deepEqual(types.slice(-2), ['error', 'run_ended'], 'the fatal error, then the end: no group after it');
  const fatal = first.events.at(-2)!;
  assert.ok(fatal.type === 'error' && fatal.fatal && fatal.where === 'executor');
  assert.ok(first.summary.micro.problems < 4);

  faultFor = () => null;
  const again = await evalInto(dir);
  assert.equal(again.status, 'completed');
  const second = checkRunFiles(dir);
  assert.deepEqual(comparableFigures(second.summary), reference);
  assert.deepEqual(fs.readFileSync(path.join(dir, 'samples.jsonl'), 'utf8').split('\n').sort(), [...referenceRows].sort());
});

test('an executor that fails every call: the run ends failed, saying the executor is down', async () => {
  faultFor = () => ({ kind: 'status', status: 503, message: 'overloaded' });
  const dir = newDir();
  await assert.rejects(
    evalInto(dir, { max_retries: 0, down_after_failures: 3 }),
    /is down: 3 calls in a row failed after retries.*HTTP 503: overloaded/,
  );
  const run = checkRunFiles(dir);
  assert.equal(run.summary.status, 'failed');
  // Groups whose calls all failed before the breaker tripped may be written (with no valid outcome); none after it.
  assert.ok(run.allGroups.every((g) => noValidOutcome(g, 'exec_only') !== null));
  assert.ok(run.allGroups.length < 4, 'no group started once the executor was down');
  assert.deepEqual(
    run.events.slice(-2).map((e) => e.type),
    ['error', 'run_ended'],
  );
  const ended = run.events.at(-1)!;
  assert.ok(ended.type === 'run_ended' && ended.status === 'failed' && /is down/.test(ended.message ?? ''));
});

test('cancel: groups in flight are not written, the run ends cancelled, a resume completes it', async () => {
  const controller = new AbortController();
  faultFor = (_i, req) => {
    if (aboutVictim(req)) {
      controller.abort();
      return { kind: 'slow', delayMs: 200 };
    }
    return null;
  };
  const dir = newDir();
  const res = await runEval({
    config: config(),
    executorIdentity: 'fault-model',
    verifier,
    noCache: true,
    outDir: dir,
    groupConcurrency: 1,
    signal: controller.signal,
  });
  assert.equal(res.status, 'cancelled');
  const run = checkRunFiles(dir);
  assert.equal(run.summary.status, 'cancelled');
  assert.ok(!run.groups.has(VICTIM.id), 'the group in flight was dropped');
  faultFor = () => null;
  await evalInto(dir);
  assert.deepEqual(comparableFigures(checkRunFiles(dir).summary), reference);
});

test('a judge endpoint that is down ends the run failed, naming the judge', { timeout: 60_000 }, async () => {
  faultFor = () => null;
  const judge = await startFaultServer({ script: () => ({ kind: 'status', status: 500, message: 'judge broke' }) });
  try {
    const cfg = buildEvalConfig({
      ...{ task: 'gsm8k', split: 'test', limit: problems.length, k: 2, m: 2, traceSource: { kind: 'reference' as const } },
      rewardMode: 'llm_judge',
      judgeUrl: judge.url,
      judgeModel: 'judge-model',
      executor: {
        endpoint: { base_url: proxy.url, model: 'fault-model', n_sampling: 'yes', down_after_failures: 1000 },
        origin: 'configured',
      },
      dataDir,
      cacheDir: path.join(tmp, 'unused-cache'),
    });
    // A judge that fails fast: no retries, down after 2 failed calls.
    cfg.reward.judge = { ...cfg.reward.judge!, max_retries: 0, down_after_failures: 2 };
    const dir = newDir();
    await assert.rejects(
      runEval({ config: cfg, executorIdentity: 'fault-model', verifier, noCache: true, outDir: dir, groupConcurrency: 2 }),
      /^Error: judge endpoint: http:\/\/127\.0\.0\.1:\d+\/v1 \(model judge-model\) is down/,
    );
    const run = checkRunFiles(dir);
    const fatal = run.events.at(-2)!;
    assert.ok(fatal.type === 'error' && fatal.where === 'judge' && fatal.fatal);
    assert.equal(run.summary.status, 'failed');
  } finally {
    await judge.close();
  }
});
