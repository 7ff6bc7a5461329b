/**
 * Hostile programs against the REAL bubblewrap sandbox: none may score, none
 * may escape. One test per attack. (Requires bwrap; see docs in
 * src/engine/sandbox/detect.ts. Set TRACELIFT_SKIP_SANDBOX_TESTS=1 to skip on
 * a host without it.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { CodeTests, CodeVerdict } from '../../src/engine/contract/codeTests';
import { CodeVerifier } from '../../src/engine/verify/code/verifier';
import { SandboxUnavailableError } from '../../src/engine/sandbox/detect';

const SKIP = process.env.TRACELIFT_SKIP_SANDBOX_TESTS === '1';

/** check(candidate): candidate(2) == 4 and candidate(3) == 9. */
const SQUARE: CodeTests = {
  kind: 'humaneval',
  entry_point: 'f',
  test: 'def check(candidate):\n    assert candidate(2) == 4\n    assert candidate(3) == 9\n',
};
const SQUARE_ASSERTS: CodeTests = { kind: 'asserts', asserts: ['assert f(2) == 4', 'assert f(3) == 9'] };
const SQUARE_EVALPLUS: CodeTests = { kind: 'evalplus', entry_point: 'f', inputs: [[2], [3]], expected: [4, 9] };
const ECHO_STDIO: CodeTests = {
  kind: 'stdio',
  cases: [
    { input: '2\n', output: '4\n' },
    { input: '3\n', output: '9\n' },
  ],
};

let verifier: CodeVerifier;

function pidsMatching(marker: string): number[] {
  const found: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (cmd.includes(marker)) found.push(Number(name));
    } catch {
      /* gone */
    }
  }
  return found;
}

async function run(program: string, tests: CodeTests = SQUARE, timeoutS = 2): Promise<CodeVerdict> {
  return verifier.verify(program, tests, { timeoutS });
}

function assertNoScore(v: CodeVerdict, statuses?: readonly string[]): void {
  assert.equal(v.passed, false, `must not pass: ${JSON.stringify(v)}`);
  assert.equal(v.tests_passed, 0, `no test may pass: ${JSON.stringify(v)}`);
  assert.notEqual(v.status, 'passed');
  assert.equal(v.sandboxed, true);
  if (statuses) assert.ok(statuses.includes(v.status), `status ${v.status} not in ${statuses.join('/')}: ${v.message}`);
}

describe('sandbox: hostile programs neither score nor escape', { skip: SKIP }, () => {
  before(async () => {
    verifier = new CodeVerifier({ timeoutS: 2 });
    const info = await verifier.ready();
    assert.equal(info.sandboxed, true, 'bubblewrap must work on this host (install the Debian package "bubblewrap")');
  });
  after(async () => {
    await verifier.close();
  });

  test('a correct program passes (control)', async () => {
    const v = await run('def f(x):\n    return x * x\n');
    assert.equal(v.passed, true, JSON.stringify(v));
    assert.equal(v.tests_passed, 2);
    assert.equal(v.sandboxed, true);
  });

  test('infinite loop → timeout, killed on time', async () => {
    const t0 = Date.now();
    const v = await run('def f(x):\n    while True:\n        pass\n');
    assertNoScore(v, ['timeout']);
    assert.ok(Date.now() - t0 < 8000, `took ${Date.now() - t0} ms`);
  });

  test('infinite loop at module level (stdio) → timeout', async () => {
    const v = await run('while True:\n    pass\n', ECHO_STDIO);
    assertNoScore(v, ['timeout']);
  });

  test('long sleep → timeout (wall clock, not CPU)', async () => {
    const t0 = Date.now();
    const v = await run('import time\ndef f(x):\n    time.sleep(10000)\n');
    assertNoScore(v, ['timeout']);
    assert.ok(Date.now() - t0 < 8000, `took ${Date.now() - t0} ms`);
  });

  test('fork bomb → bounded by RLIMIT_NPROC, no score, nothing survives', async () => {
    const marker = `9${randomBytes(3).readUIntBE(0, 3)}.5`;
    // Every process forks again and then turns into a long sleep carrying the marker.
    const v = await run(
      [
        'import os',
        'def f(x):',
        '    while True:',
        '        try:',
        '            if os.fork() == 0:',
        '                try:',
        '                    os.fork()',
        '                except OSError:',
        '                    pass',
        `                os.execv("/bin/sleep", ["sleep", "${marker}"])`,
        '        except OSError:',
        '            pass',
        '',
      ].join('\n'),
    );
    assertNoScore(v, ['timeout', 'runtime_error', 'memory']);
    const info = await verifier.ready();
    assert.equal(info.nprocEnforced, true, 'RLIMIT_NPROC must be enforced (bwrap must not run as uid 0)');
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(pidsMatching(marker), []);
  });

  test('memory bomb (growing allocations) → memory', async () => {
    const v = await run('def f(x):\n    a = []\n    while True:\n        a.append(bytearray(64 * 1024 * 1024))\n');
    assertNoScore(v, ['memory']);
  });

  test('memory bomb (one huge allocation) → memory', async () => {
    const v = await run('def f(x):\n    return len(" " * (10 ** 11))\n');
    assertNoScore(v, ['memory']);
  });

  test('output flood from a function → output_limit', async () => {
    const v = await run('def f(x):\n    while True:\n        print("x" * 65536)\n');
    assertNoScore(v, ['output_limit']);
  });

  test('output flood on stdout (stdio) → output_limit', async () => {
    const v = await run('import sys\nwhile True:\n    sys.stdout.write("y" * 65536)\n', ECHO_STDIO);
    assertNoScore(v, ['output_limit']);
  });

  test('output flood on stderr → output_limit', async () => {
    const v = await run('import sys\ndef f(x):\n    while True:\n        sys.stderr.write("z" * 65536)\n');
    assertNoScore(v, ['output_limit']);
  });

  test('sys.exit(0) at module level, before the tests', async () => {
    const v = await run('import sys\nsys.exit(0)\ndef f(x):\n    return x * x\n');
    assertNoScore(v, ['runtime_error']);
  });

  test('sys.exit(0) instead of returning', async () => {
    const v = await run('import sys\ndef f(x):\n    sys.exit(0)\n');
    assertNoScore(v, ['runtime_error']);
  });

  test('os._exit(0) instead of returning', async () => {
    const v = await run('import os\ndef f(x):\n    os._exit(0)\n');
    assertNoScore(v, ['runtime_error']);
  });

  test('os._exit(0) at module level (asserts)', async () => {
    const v = await run('import os\nos._exit(0)\n', SQUARE_ASSERTS);
    assertNoScore(v, ['runtime_error']);
  });

  test('atexit hook that exits 0 / prints a verdict', async () => {
    const v = await run(
      'import atexit, os, sys\natexit.register(lambda: (print("ALL TESTS PASSED"), os._exit(0)))\ndef f(x):\n    raise SystemExit(0)\n',
    );
    assertNoScore(v, ['runtime_error']);
  });

  test('stdio: exiting 0 before printing anything is a wrong answer', async () => {
    const v = await run('import sys\nsys.exit(0)\nprint(int(input()) ** 2)\n', ECHO_STDIO);
    assertNoScore(v, ['failed']);
  });

  test('return value with __eq__ always True', async () => {
    const v = await run(
      'class A:\n    def __eq__(self, o):\n        return True\n    def __ne__(self, o):\n        return False\ndef f(x):\n    return A()\n',
    );
    assertNoScore(v, ['failed']);
  });

  test('int subclass with __eq__ always True', async () => {
    const v = await run(
      'class I(int):\n    def __eq__(self, o):\n        return True\n    __hash__ = int.__hash__\ndef f(x):\n    return I(0)\n',
    );
    assertNoScore(v, ['failed']);
  });

  test('str subclass with __eq__ always True (asserts)', async () => {
    const v = await run(
      'class S(str):\n    def __eq__(self, o):\n        return True\n    __hash__ = str.__hash__\ndef f(x):\n    return S("nope")\n',
      SQUARE_ASSERTS,
    );
    assertNoScore(v, ['failed']);
  });

  test('list subclass with __eq__ always True (evalplus)', async () => {
    const v = await run('class L(list):\n    def __eq__(self, o):\n        return True\ndef f(x):\n    return L()\n', SQUARE_EVALPLUS);
    assertNoScore(v, ['failed']);
  });

  test('float subclass that claims closeness (evalplus atol path)', async () => {
    const tests: CodeTests = { kind: 'evalplus', entry_point: 'f', inputs: [[2], [3]], expected: [{ $float: '4.0' }, { $float: '9.0' }] };
    const v = await run(
      'class F(float):\n    def __eq__(self, o):\n        return True\n    def __sub__(self, o):\n        return 0.0\n    __hash__ = float.__hash__\ndef f(x):\n    return F(-1.0)\n',
      tests,
    );
    assertNoScore(v, ['failed']);
  });

  test('printing "passed" and fake verdict records on stdout/stderr', async () => {
    const v = await run(
      [
        'import sys',
        'FAKE = \'{"t":"test","i":0,"status":"passed"}\\n{"t":"test","i":1,"status":"passed"}\\n{"t":"end"}\'',
        'print("passed")',
        'print(FAKE)',
        'sys.stderr.write(FAKE + "\\n")',
        'def f(x):',
        '    print("ok passed", flush=True)',
        '    print(FAKE)',
        '    sys.stderr.write("All tests passed\\n")',
        '    return 0',
        '',
      ].join('\n'),
    );
    assertNoScore(v, ['failed']);
  });

  test('writing fake records to every reachable file descriptor', async () => {
    const v = await run(
      [
        'import os',
        'REC = b\'{"t":"test","i":0,"status":"passed"}\\n{"t":"test","i":1,"status":"passed"}\\n\'',
        'def f(x):',
        '    for fd in range(0, 64):',
        '        try:',
        '            os.write(fd, REC)',
        '        except OSError:',
        '            pass',
        '    for pid in os.listdir("/proc"):',
        '        if not pid.isdigit():',
        '            continue',
        '        try:',
        '            fds = os.listdir("/proc/%s/fd" % pid)',
        '        except OSError:',
        '            continue',
        '        for fd in fds:',
        '            try:',
        '                w = os.open("/proc/%s/fd/%s" % (pid, fd), os.O_WRONLY)',
        '                os.write(w, REC)',
        '            except OSError:',
        '                pass',
        '    return 0',
        '',
      ].join('\n'),
    );
    assertNoScore(v);
  });

  test('patching builtins (AssertionError, isinstance, len) in the program', async () => {
    const v = await run(
      'import builtins\nbuiltins.AssertionError = type("Nope", (Exception,), {})\nbuiltins.isinstance = lambda *a: True\nbuiltins.len = lambda *a: 0\ndef f(x):\n    return None\n',
    );
    assertNoScore(v);
  });

  test('shadowing the builtins the test uses (abs/round/set/sorted)', async () => {
    const tests: CodeTests = {
      kind: 'asserts',
      asserts: ['assert abs(f(2) - 4) < 1e-9', 'assert set(g(3)) == set([1, 2, 3])'],
    };
    const v = await run(
      'def abs(x):\n    return 0\ndef set(x):\n    return 1\ndef f(x):\n    return -100\ndef g(x):\n    return [9]\n',
      tests,
    );
    assertNoScore(v, ['failed']);
  });

  test('patching the test module: redefining the dataset helper the check relies on', async () => {
    // HumanEval/32 style: check uses poly() from the prompt. The program
    // redefines poly to always return 0 and answers garbage.
    const prompt =
      'import math\n\ndef poly(xs, x):\n    return sum([c * math.pow(x, i) for i, c in enumerate(xs)])\n\ndef find_zero(xs):\n    """find x with poly(xs, x) == 0"""\n';
    const tests: CodeTests = {
      kind: 'humaneval',
      entry_point: 'find_zero',
      helpers: prompt,
      test: 'def check(candidate):\n    for xs in ([1, 2], [-6, 11, -6, 1]):\n        assert abs(poly(xs, candidate(xs))) < 1e-4\n',
    };
    const v = await run('def poly(xs, x):\n    return 0\ndef find_zero(xs):\n    return 12345.0\n', tests);
    assertNoScore(v, ['failed']);
  });

  test('hunting the tests in memory (gc, frames, sys.modules)', async () => {
    const v = await run(
      [
        'import gc, sys',
        'def f(x):',
        '    for o in gc.get_objects():',
        '        if isinstance(o, dict) and "check" in o and "candidate" in str(o.get("check")):',
        '            return "found"',
        '    fr = sys._getframe()',
        '    while fr is not None:',
        '        if "expected" in fr.f_locals or "check" in fr.f_globals:',
        '            return "found"',
        '        fr = fr.f_back',
        '    raise RuntimeError("tests not reachable: " + ",".join(sorted(sys.modules))[:100])',
        '',
      ].join('\n'),
    );
    assertNoScore(v, ['runtime_error']);
    assert.match(v.message ?? '', /tests not reachable/);
  });

  test("reading the judge's memory and file descriptors via /proc", async () => {
    const v = await run(
      [
        'import os',
        'def f(x):',
        '    got = []',
        '    for p in ["/proc/%d/mem" % os.getppid(), "/proc/%d/environ" % os.getppid(), "/proc/%d/fd/0" % os.getppid(), "/proc/%d/fd/3" % os.getppid(), "/proc/1/fd/3"]:',
        '        try:',
        '            open(p, "rb").read(16)',
        '            got.append(p)',
        '        except OSError:',
        '            pass',
        '    raise RuntimeError("readable: %r" % got)',
        '',
      ].join('\n'),
    );
    assertNoScore(v, ['runtime_error']);
    assert.match(v.message ?? '', /readable: \[\]/);
  });

  test('killing the judge', async () => {
    const v = await run('import os, signal\ndef f(x):\n    os.kill(os.getppid(), signal.SIGKILL)\n    return x * x\n');
    assertNoScore(v, ['runtime_error']);
  });

  test('opening sockets: no network, not even the host loopback', async () => {
    let connections = 0;
    const server = net.createServer((s) => {
      connections++;
      s.end('passed');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const v = await run(
        [
          'import socket',
          'def f(x):',
          '    errs = []',
          `    for host in [("127.0.0.1", ${port}), ("1.1.1.1", 80), ("8.8.8.8", 53)]:`,
          '        s = socket.socket()',
          '        s.settimeout(1)',
          '        try:',
          '            s.connect(host)',
          '            return x * x',
          '        except OSError as e:',
          '            errs.append(type(e).__name__)',
          '    raise RuntimeError("no network: %s" % errs)',
          '',
        ].join('\n'),
      );
      assertNoScore(v, ['runtime_error']);
      assert.match(v.message ?? '', /no network/);
      assert.equal(connections, 0);
    } finally {
      server.close();
    }
  });

  test('writing outside its private /tmp', async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-outside-'));
    fs.chmodSync(outside, 0o777);
    const target = path.join(outside, 'pwned');
    try {
      const v = await run(
        [
          'import os',
          'def f(x):',
          '    wrote = []',
          `    for p in [${JSON.stringify(target)}, "/usr/pwned", "/pwned", "/judge/pwned", "/etc/pwned", "/dev/pwned", "/proc/pwned"]:`,
          '        try:',
          '            with open(p, "w") as fh:',
          '                fh.write("x")',
          '            wrote.append(p)',
          '        except OSError:',
          '            pass',
          '    raise RuntimeError("wrote: %r" % wrote)',
          '',
        ].join('\n'),
      );
      assertNoScore(v, ['runtime_error']);
      assert.match(v.message ?? '', /wrote: \[\]/);
      assert.equal(fs.existsSync(target), false);
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  test('filling its /tmp is bounded (file size and tmpfs size)', async () => {
    const v = await run('def f(x):\n    with open("/tmp/big", "wb") as fh:\n        while True:\n            fh.write(b"0" * (1 << 20))\n');
    assertNoScore(v, ['runtime_error', 'output_limit']);
  });

  test('reading files in home directories', async () => {
    const secret = `secret-${randomBytes(8).toString('hex')}`;
    const file = path.join(os.homedir(), `.tracelift-sandbox-test-${process.pid}`);
    fs.writeFileSync(file, secret, { mode: 0o644 });
    try {
      const v = await run(
        [
          'import os',
          'def f(x):',
          '    seen = []',
          `    for p in [${JSON.stringify(file)}, "/root", "/home", ${JSON.stringify(os.homedir())}, "/work"]:`,
          '        try:',
          '            seen.append(open(p).read() if os.path.isfile(p) else os.listdir(p))',
          '        except OSError:',
          '            pass',
          '    raise RuntimeError("seen: %r" % seen)',
          '',
        ].join('\n'),
      );
      assertNoScore(v, ['runtime_error']);
      assert.match(v.message ?? '', /seen: \[\]/);
      assert.ok(!JSON.stringify(v).includes(secret));
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  test('scrubbed environment: no API keys or tokens reach the program', async () => {
    const secret = `sk-${randomBytes(8).toString('hex')}`;
    process.env.OPENAI_API_KEY = secret;
    process.env.HF_TOKEN = secret;
    try {
      const v = await run('import os\ndef f(x):\n    raise RuntimeError("env: " + repr(dict(os.environ)))\n');
      assertNoScore(v, ['runtime_error']);
      const text = JSON.stringify(v);
      assert.ok(!text.includes(secret), text);
      assert.ok(!text.includes('OPENAI_API_KEY'));
      assert.ok(!text.includes('HF_TOKEN'));
    } finally {
      delete process.env.OPENAI_API_KEY;
      delete process.env.HF_TOKEN;
    }
  });

  test('leaving a daemon behind: nothing outlives the run', async () => {
    const marker = `4242.${randomBytes(3).readUIntBE(0, 3)}`;
    const v = await run(
      `import os, time\ndef f(x):\n    if os.fork() == 0:\n        os.setsid()\n        if os.fork() == 0:\n            os.execv("/bin/sleep", ["sleep", "${marker}"])\n        os._exit(0)\n    time.sleep(0.3)\n    return x * x\n`,
    );
    // It answers correctly, so it may pass; what matters is that the daemon is gone.
    assert.equal(v.passed, true, JSON.stringify(v));
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(pidsMatching(marker), []);
  });

  test('a daemon left by a killed run is gone too', async () => {
    const marker = `4343.${randomBytes(3).readUIntBE(0, 3)}`;
    const v = await run(
      `import os, time\nif os.fork() == 0:\n    os.setsid()\n    os.execv("/bin/sleep", ["sleep", "${marker}"])\nwhile True:\n    pass\n`,
      ECHO_STDIO,
      1,
    );
    assertNoScore(v, ['timeout']);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(pidsMatching(marker), []);
  });

  test('creating a user namespace inside the sandbox is refused', async () => {
    const v = await run(
      'import ctypes\ndef f(x):\n    libc = ctypes.CDLL(None, use_errno=True)\n    r = libc.unshare(0x10000000)\n    raise RuntimeError("unshare=%d" % r)\n',
    );
    assertNoScore(v, ['runtime_error']);
    assert.match(v.message ?? '', /unshare=-1/);
  });
});

describe('sandbox availability', { skip: SKIP }, () => {
  test('without bubblewrap the verifier refuses and says how to install it', async () => {
    const v = new CodeVerifier({ bwrap: '/nonexistent/bwrap' });
    await assert.rejects(
      () => v.verify('def f(x):\n    return x * x\n', SQUARE),
      (e: unknown) =>
        e instanceof SandboxUnavailableError &&
        /apt-get install bubblewrap/.test(e.message) &&
        /allow-unsandboxed|allowUnsandboxed/.test(e.message),
    );
    await v.close();
  });

  test('the unsandboxed opt-in runs and warns on every run', async () => {
    const warnings: string[] = [];
    const v = new CodeVerifier({ bwrap: '/nonexistent/bwrap', allowUnsandboxed: true, onWarning: (m) => warnings.push(m) });
    const a = await v.verify('def f(x):\n    return x * x\n', SQUARE);
    const b = await v.verify('def f(x):\n    return x + x\n', SQUARE);
    assert.equal(a.passed, true);
    assert.equal(a.sandboxed, false);
    assert.equal(b.passed, false);
    assert.equal(warnings.filter((w) => /WITHOUT a sandbox/.test(w)).length, 2);
    await v.close();
  });

  test('SandboxUnavailableError is an Error with a reason', () => {
    const e = new SandboxUnavailableError('x');
    assert.ok(e instanceof Error);
    assert.equal(e.reason, 'x');
  });
});
