/**
 * `tracelift doctor` on this machine, for real: the set-up's .venv (the
 * trainer's packages at their pins, CPU training possible, exit 0, the JSON
 * report valid), a bare Python environment (every package missing, each with
 * its pinned pip line, exit 1), an executor endpoint that answers and one
 * that does not.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { DoctorReportSchema, pinnedRequirement, runDoctor } from '../../src/engine/train/doctor';
import { pythonPathFor } from '../../src/engine/util/python';
import { findRepoRoot } from '../../src/engine/util/repoRoot';
import { startFaultServer, type FaultServer } from '../helpers/faultServer';

const ROOT = findRepoRoot();
let tmp: string;
let bare: string;
let server: FaultServer;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-doctor-'));
  // A real interpreter with none of the project's packages (no pip either: fast to make).
  const base = spawnSync(pythonPathFor(), ['-c', 'import sys; print(sys.base_prefix)'], { encoding: 'utf8' }).stdout.trim();
  const made = spawnSync(path.join(base, 'bin', 'python3'), ['-m', 'venv', '--without-pip', path.join(tmp, 'bare')], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  bare = path.join(tmp, 'bare', 'bin', 'python');
  server = await startFaultServer({ model: 'served-model' });
});
after(async () => {
  await server.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A loopback port nothing listens on (just closed). */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

function cli(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'doctor', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 180_000,
  });
}

test('the set-up environment: packages at their pins, CPU training possible (exit 0), a valid JSON report', () => {
  const res = cli(['--json']);
  assert.equal(res.status, 0, res.stdout + res.stderr);
  const report = DoctorReportSchema.parse(JSON.parse(res.stdout));
  assert.equal(report.cpu_training, true);
  assert.equal(report.python.path, pythonPathFor());
  const byId = new Map(report.checks.map((c) => [c.id, c]));
  for (const dist of ['torch', 'trl', 'transformers', 'peft', 'accelerate', 'datasets', 'gguf']) {
    const check = byId.get(`package:${dist}`)!;
    assert.equal(check.status, 'ok', `${dist}: ${check.detail}`);
    assert.ok(pinnedRequirement(dist, 'requirements-train.txt')!.endsWith(`==${check.detail.replace(/\+.*$/, '')}`), check.detail);
  }
  assert.equal(byId.get('llama-cpp-server')!.status, 'ok');
  assert.equal(byId.get('embedded-model')!.status, 'ok');
  assert.equal(byId.get('bubblewrap')!.status, 'ok', byId.get('bubblewrap')!.detail);
  assert.equal(byId.get('data:gsm8k')!.status, 'ok');
  // The torch the probe saw decides the GPU line; this CPU machine's has no CUDA.
  assert.equal(byId.get('cuda')!.status, report.torch?.cuda_available ? 'ok' : 'warning');
  assert.equal(report.gpu_training, Boolean(report.torch?.cuda_available));
  // The human form says the same.
  const text = cli([]);
  assert.equal(text.status, 0);
  assert.match(text.stdout, /Training on the CPU is possible/);
});

test('a bare Python: each package missing with its pinned pip line for that Python; exit 1', async () => {
  const report = await runDoctor({ pythonPath: bare });
  assert.equal(report.cpu_training, false);
  assert.equal(report.python.version !== null, true);
  const trl = report.checks.find((c) => c.id === 'package:trl')!;
  assert.equal(trl.status, 'missing');
  assert.ok(trl.fix!.includes(`${bare} -m pip install '${pinnedRequirement('trl', 'requirements-train.txt')}'`), trl.fix!);
  const torch = report.checks.find((c) => c.id === 'package:torch')!;
  assert.match(torch.fix!, /torch==\d/);
  assert.match(report.checks.find((c) => c.id === 'package:llama-cpp-python')!.fix!, /bash scripts\/setup\.sh/);
  assert.equal(report.checks.find((c) => c.id === 'cuda')!.status, 'warning');
  // math-verify is needed for MATH500 only: a warning, not a blocker.
  assert.equal(report.checks.find((c) => c.id === 'package:math-verify')!.status, 'warning');
  const res = cli(['--python', bare]);
  assert.equal(res.status, 1);
  assert.match(res.stdout, /\[MISS\] trl: not installed/);
  assert.match(res.stdout, /NOT possible yet/);
});

test('no interpreter at the path: says how it was found and how to get one', async () => {
  const report = await runDoctor({ pythonPath: path.join(tmp, 'nope', 'python') });
  const py = report.checks.find((c) => c.id === 'python')!;
  assert.equal(py.status, 'missing');
  assert.match(py.detail, /not found/);
  assert.match(py.fix!, /scripts\/setup\.sh/);
  assert.equal(report.cpu_training, false);
});

test('the executor endpoint: one that answers lists its models; a closed port and a wrong model are said', async () => {
  const up = await runDoctor({ pythonPath: bare, executorUrl: server.url, executorModel: 'served-model' });
  const ok = up.checks.find((c) => c.id === 'executor-endpoint')!;
  assert.equal(ok.status, 'ok', ok.detail);
  assert.match(ok.detail, /served-model/);
  assert.ok(server.requests.some((r) => r.method === 'GET' && r.path.endsWith('/v1/models')));

  const wrong = (await runDoctor({ pythonPath: bare, executorUrl: server.url, executorModel: 'other' })).checks.find(
    (c) => c.id === 'executor-endpoint',
  )!;
  assert.equal(wrong.status, 'warning');
  assert.match(wrong.detail, /not other/);

  const port = await closedPort();
  const closed = (await runDoctor({ pythonPath: bare, executorUrl: `http://127.0.0.1:${port}/v1` })).checks.find(
    (c) => c.id === 'executor-endpoint',
  )!;
  assert.equal(closed.status, 'missing');
  assert.match(closed.detail, /ECONNREFUSED/);
  assert.match(closed.fix!, /start the server/);
});
