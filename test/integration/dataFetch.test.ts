/**
 * `tracelift data fetch` against a local mirror over HTTP (never the internet):
 * a plain fetch, a connection cut mid-body that is resumed with a Range
 * request, altered bytes (checksum error, part deleted), a refused
 * connection (the offline message), and a cancel that keeps the part for a
 * later resume. The real manifest is checked against the project's data files.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import {
  DataChecksumError,
  DataDownloadError,
  DataFetchCancelledError,
  fetchDataFile,
  sha256OfFile,
  type FetchProgress,
} from '../../src/engine/data/fetch';
import { DATA_SOURCES, type DataSource } from '../../src/engine/data/sources';
import { dataStatus, fetchTaskData, sourcesForTasks } from '../../src/engine/data/taskData';
import { dataDirCandidates } from '../../src/engine/tasks/dataDir';
import { getTask, listTasks } from '../../src/engine/tasks/registry';
import { findRepoRoot } from '../../src/engine/util/repoRoot';
import { startMirror, type Mirror } from '../helpers/dataMirror';

const ROOT = findRepoRoot();
const SHARED_DATA = path.resolve(ROOT, '..', 'shared', 'data');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function syntheticSource(name: string, bytes: Buffer): DataSource {
  return {
    path: `synthetic/${name}`,
    size: bytes.length,
    sha256: sha256(bytes),
    urls: [`https://example.invalid/${name}`],
    license: 'test',
  };
}

describe('data fetch from a local mirror', () => {
  let mirror: Mirror;
  let tmp: string;
  const payload = randomBytes(300_000);
  const small = randomBytes(5_000);
  const plain = syntheticSource('plain.bin', payload);
  const cut = syntheticSource('cut.bin', payload);
  const altered = syntheticSource('altered.bin', payload);
  const stall = syntheticSource('stall.bin', payload);
  const tiny = syntheticSource('tiny.bin', small);

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tracelift-data-'));
    mirror = await startMirror(
      new Map([
        [plain.path, payload],
        [cut.path, payload],
        [altered.path, payload],
        [stall.path, payload],
        [tiny.path, small],
      ]),
    );
  });
  after(async () => {
    await mirror.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('downloads, verifies and renames into place, with progress up to the size', async () => {
    const dir = path.join(tmp, 'plain');
    const seen: FetchProgress[] = [];
    const outcome = await fetchDataFile(plain, dir, { mirror: mirror.url, onProgress: (p) => seen.push(p) });
    assert.equal(outcome, 'downloaded');
    const dest = path.join(dir, plain.path);
    assert.equal(await sha256OfFile(dest), plain.sha256);
    assert.equal(fs.existsSync(`${dest}.part`), false);
    const downloading = seen.filter((p) => p.phase === 'downloading');
    assert.ok(downloading.length > 0);
    assert.deepEqual(
      downloading.map((p) => p.received),
      [...downloading.map((p) => p.received)].sort((a, b) => a - b),
      'received grows',
    );
    assert.equal(downloading.at(-1)!.received, payload.length);
    assert.ok(seen.every((p) => p.total === payload.length));
    assert.equal(seen.at(-1)!.phase, 'done');
    // A second fetch finds it and does not download again.
    const before = mirror.requests.length;
    assert.equal(await fetchDataFile(plain, dir, { mirror: mirror.url }), 'present');
    assert.equal(mirror.requests.length, before);
  });

  it('resumes a cut connection with a Range request from the bytes it has', async () => {
    const dir = path.join(tmp, 'cut');
    mirror.behaviour.set(cut.path, 'cut-once');
    const logs: string[] = [];
    assert.equal(await fetchDataFile(cut, dir, { mirror: mirror.url, log: (l) => logs.push(l) }), 'downloaded');
    assert.equal(await sha256OfFile(path.join(dir, cut.path)), cut.sha256);
    const asked = mirror.requests.filter((r) => r.startsWith(`GET /${cut.path}`));
    assert.equal(asked.length, 2, asked.join('\n'));
    assert.equal(asked[0], `GET /${cut.path} range=`);
    const resumedAt = Number(/range=bytes=(\d+)-$/.exec(asked[1]!)?.[1]);
    assert.ok(resumedAt > 0 && resumedAt < payload.length, `resumed at ${resumedAt}`);
    assert.ok(logs.some((l) => l.includes(`resuming ${cut.path} at byte ${resumedAt}`)));
  });

  it('resumes a part left by an earlier run, across calls', async () => {
    const dir = path.join(tmp, 'across');
    const dest = path.join(dir, plain.path);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(`${dest}.part`, payload.subarray(0, 123_456));
    mirror.requests.length = 0;
    assert.equal(await fetchDataFile(plain, dir, { mirror: mirror.url }), 'downloaded');
    assert.deepEqual(mirror.requests, [`GET /${plain.path} range=bytes=123456-`]);
    assert.equal(await sha256OfFile(dest), plain.sha256);
  });

  it('a bad checksum deletes the part and says so; nothing is put in place', async () => {
    const dir = path.join(tmp, 'altered');
    mirror.behaviour.set(altered.path, 'altered');
    const dest = path.join(dir, altered.path);
    await assert.rejects(fetchDataFile(altered, dir, { mirror: mirror.url }), (err: unknown) => {
      assert.ok(err instanceof DataChecksumError);
      assert.match(err.message, /Checksum mismatch for synthetic\/altered\.bin/);
      assert.match(err.message, new RegExp(`expected ${altered.sha256}`));
      assert.match(err.message, /partial file was deleted/);
      return true;
    });
    assert.equal(fs.existsSync(dest), false);
    assert.equal(fs.existsSync(`${dest}.part`), false);
  });

  it('a server sending more bytes than the file has is stopped and the part deleted', async () => {
    const dir = path.join(tmp, 'longer');
    const shorter: DataSource = { ...tiny, size: small.length - 10 };
    await assert.rejects(fetchDataFile(shorter, dir, { mirror: mirror.url }), DataChecksumError);
    assert.equal(fs.existsSync(path.join(dir, `${tiny.path}.part`)), false);
  });

  it('an offline machine is told the URL and the folder to copy the file into', async () => {
    const refused = await new Promise<string>((resolve) => {
      const srv = http.createServer();
      srv.listen(0, '127.0.0.1', () => {
        const { port } = srv.address() as AddressInfo;
        srv.close(() => resolve(`http://127.0.0.1:${port}`));
      });
    });
    const dir = path.join(tmp, 'offline');
    await assert.rejects(fetchDataFile(tiny, dir, { mirror: refused, retries: 1 }), (err: unknown) => {
      assert.ok(err instanceof DataDownloadError);
      assert.match(err.message, /ECONNREFUSED/);
      assert.ok(err.message.includes(`${refused}/${tiny.path}`), err.message);
      assert.ok(err.message.includes(tiny.urls[0]!), 'names the published URL');
      assert.ok(err.message.includes(`${path.join(dir, 'synthetic')}${path.sep} as tiny.bin`), err.message);
      return true;
    });
    assert.equal(fs.existsSync(path.join(dir, tiny.path)), false);
  });

  it('an HTTP error is reported with its status, without retrying', async () => {
    const dir = path.join(tmp, 'http404');
    const absent: DataSource = { ...tiny, path: 'synthetic/absent.bin' };
    mirror.requests.length = 0;
    await assert.rejects(fetchDataFile(absent, dir, { mirror: mirror.url }), /HTTP 404/);
    assert.equal(mirror.requests.length, 1);
  });

  it('cancel stops the download, keeps the part, and a later fetch resumes it', async () => {
    const dir = path.join(tmp, 'cancel');
    mirror.behaviour.set(stall.path, 'stall');
    const controller = new AbortController();
    const fetching = fetchDataFile(stall, dir, {
      mirror: mirror.url,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === 'downloading' && p.received > 0) controller.abort();
      },
    });
    await assert.rejects(fetching, (err: unknown) => {
      assert.ok(err instanceof DataFetchCancelledError);
      assert.match(err.message, /Cancelled while fetching synthetic\/stall\.bin/);
      return true;
    });
    const dest = path.join(dir, stall.path);
    assert.equal(fs.existsSync(dest), false);
    const kept = fs.statSync(`${dest}.part`).size;
    assert.ok(kept > 0 && kept < payload.length);
    mirror.behaviour.set(stall.path, 'normal');
    mirror.requests.length = 0;
    assert.equal(await fetchDataFile(stall, dir, { mirror: mirror.url }), 'downloaded');
    assert.deepEqual(mirror.requests, [`GET /${stall.path} range=bytes=${kept}-`]);
    assert.equal(await sha256OfFile(dest), stall.sha256);
  });
});

describe('the published-source manifest', () => {
  it('lists every file every task reads, with https URLs and a sha256', () => {
    const sources = sourcesForTasks();
    for (const task of listTasks())
      for (const f of task.files)
        assert.ok(
          sources.some((s) => s.path === f.path),
          f.path,
        );
    for (const s of DATA_SOURCES) {
      assert.match(s.sha256, /^[0-9a-f]{64}$/);
      assert.ok(s.urls.length > 0 && s.urls.every((u) => u.startsWith('https://')), s.path);
    }
  });

  it('pins the sizes and sums of the project data files', { skip: !fs.existsSync(SHARED_DATA) && 'no ../shared/data' }, async () => {
    for (const s of DATA_SOURCES) {
      const file = path.join(SHARED_DATA, s.path);
      assert.equal(fs.statSync(file).size, s.size, s.path);
      assert.equal(await sha256OfFile(file), s.sha256, s.path);
    }
  });
});

describe('tracelift data fetch / status with the real manifest', { skip: !fs.existsSync(SHARED_DATA) && 'no ../shared/data' }, () => {
  let mirror: Mirror;
  let tmp: string;
  const TASKS = ['humaneval', 'svamp'];

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tracelift-data-cli-'));
    const files = new Map<string, Buffer>();
    for (const s of sourcesForTasks(TASKS)) files.set(s.path, fs.readFileSync(path.join(SHARED_DATA, s.path)));
    mirror = await startMirror(files);
  });
  after(async () => {
    await mirror.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('fetchTaskData fills the data directory so the tasks load from it', async () => {
    const dir = path.join(tmp, 'engine');
    const result = await fetchTaskData({ tasks: TASKS, dataDir: dir, mirror: mirror.url });
    assert.equal(result.dataDir, dir);
    assert.deepEqual(result.files.map((f) => f.outcome).sort(), ['downloaded', 'downloaded']);
    assert.equal(getTask('humaneval').load(dir, 'test').length, 164);
    assert.equal(getTask('svamp').load(dir, 'test').length, 1000);
    const status = await dataStatus(dir);
    const byTask = new Map(status.tasks.map((t) => [t.task, t]));
    assert.equal(status.loaderDir, dir);
    assert.equal(byTask.get('humaneval')!.ready, true);
    assert.equal(byTask.get('humaneval')!.files[0]!.found!.origin, 'flag');
  });

  it('the CLI fetches into the data cache by default and reports what it did', async () => {
    const cache = path.join(tmp, 'xdg');
    const env = { ...process.env, XDG_CACHE_HOME: cache, TRACELIFT_DATA_DIR: '' };
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'data', 'fetch', 'humaneval', '--mirror', mirror.url],
      { cwd: ROOT, env },
    );
    const dataDir = path.join(cache, 'tracelift', 'data');
    assert.match(stderr, /humaneval\/HumanEval\.jsonl\.gz: downloaded, sha256 ok \(44877 bytes\)/);
    assert.ok(stdout.includes(`1 file(s) in ${dataDir}`), stdout);
    assert.equal(
      await sha256OfFile(path.join(dataDir, 'humaneval/HumanEval.jsonl.gz')),
      DATA_SOURCES.find((s) => s.path === 'humaneval/HumanEval.jsonl.gz')!.sha256,
    );
    // The loader's search order ends with that cache.
    const saved = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = cache;
    try {
      assert.deepEqual(dataDirCandidates().at(-1), { dir: dataDir, origin: 'cache' });
    } finally {
      if (saved === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved;
    }
  });

  it('the CLI names an unknown task and exits non-zero', async () => {
    await assert.rejects(
      promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'data', 'fetch', 'nope'], {
        cwd: ROOT,
        env: { ...process.env, XDG_CACHE_HOME: path.join(tmp, 'unused') },
      }),
      (err: { code?: number; stderr?: string }) => {
        assert.equal(err.code, 1);
        assert.match(err.stderr ?? '', /Unknown task "nope"/);
        return true;
      },
    );
  });
});
