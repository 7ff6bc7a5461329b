/**
 * The set-up's pieces that need no package registry: pins read from the
 * requirements files, the portable llama.cpp flags, pip settings handed to uv,
 * missing system packages named with the command that installs them, and a
 * run that stops at the system check (no environment left behind) or is
 * cancelled.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCommand, SetupCancelledError, SetupCommandError } from '../../src/engine/setup/commandRunner';
import { llamaCmakeArgs, pinnedVersion, runPythonSetup, uvEnvFromPip, type SetupProgress } from '../../src/engine/setup/pythonSetup';
import { findOnPath, missingBuildTools, MissingSystemPackageError, missingSystemPackageError } from '../../src/engine/setup/systemPackages';
import { findRepoRoot } from '../../src/engine/util/repoRoot';

const BACKEND = path.join(findRepoRoot(), 'backend');

const made: string[] = [];
after(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracelift-setup-unit-'));
  made.push(dir);
  return dir;
}

/** A PATH holding only links to the named tools (from the real PATH), so others count as missing. */
function pathWith(tools: string[]): string {
  const dir = tmpDir();
  for (const t of tools) {
    const real = findOnPath(t);
    if (real) fs.symlinkSync(real, path.join(dir, t));
  }
  return dir;
}

describe('set-up helpers', () => {
  it('reads the pins from the requirements files, extras included', () => {
    assert.match(pinnedVersion(path.join(BACKEND, 'requirements.txt'), 'llama-cpp-python'), /^\d+\.\d+\.\d+$/);
    assert.match(pinnedVersion(path.join(BACKEND, 'requirements-train.txt'), 'torch'), /^\d+\.\d+\.\d+$/);
    assert.throws(() => pinnedVersion(path.join(BACKEND, 'requirements.txt'), 'no-such-package'), /pins no version of no-such-package/);
  });

  it('builds llama.cpp without native CPU flags (AVX2, no AMX on x64)', () => {
    assert.match(llamaCmakeArgs('x64'), /-DGGML_NATIVE=OFF/);
    assert.match(llamaCmakeArgs('x64'), /-DGGML_AVX2=ON/);
    assert.match(llamaCmakeArgs('x64'), /-DGGML_AMX_INT8=OFF/);
    assert.equal(llamaCmakeArgs('arm64'), '-DGGML_NATIVE=OFF');
  });

  it("hands pip's index settings to uv unless uv's own are set", () => {
    const list = ["global.extra-index-url='file:///a/simple file:///b/simple'", "global.find-links='/w1 /w2'", "global.cert='/c.pem'"].join(
      '\n',
    );
    const env = uvEnvFromPip(list, {});
    assert.equal(env.UV_EXTRA_INDEX_URL, 'file:///a/simple file:///b/simple');
    assert.equal(env.UV_FIND_LINKS, '/w1,/w2');
    assert.equal(env.UV_INDEX_STRATEGY, 'unsafe-best-match');
    assert.equal(env.UV_INDEX_URL, undefined);
    const own = uvEnvFromPip(list, { UV_EXTRA_INDEX_URL: 'mine', PIP_INDEX_URL: 'https://idx/simple' });
    assert.equal(own.UV_EXTRA_INDEX_URL, 'mine');
    assert.equal(own.UV_INDEX_URL, 'https://idx/simple');
  });

  it('names each missing system package and the command that installs it', () => {
    const err = missingSystemPackageError(['c-compiler', 'cxx-compiler', 'cmake', 'bubblewrap'], 'apt-get');
    assert.ok(err instanceof MissingSystemPackageError);
    assert.equal(err.installCommand, 'sudo apt-get install -y build-essential cmake bubblewrap');
    assert.match(err.message, /a C compiler/);
    assert.match(err.message, /bubblewrap \(bwrap\)/);
    assert.match(err.message, /sudo apt-get install -y build-essential cmake bubblewrap/);
    assert.equal(missingSystemPackageError(['cmake'], 'dnf').installCommand, 'sudo dnf install -y cmake');
    assert.equal(missingSystemPackageError(['cmake'], null).installCommand, null);
  });

  it('finds build tools on PATH, and misses them when PATH lacks them', () => {
    assert.deepEqual(missingBuildTools(pathWith([])), ['c-compiler', 'cxx-compiler', 'cmake']);
    const withCmake = pathWith(['cmake']);
    if (findOnPath('cmake')) assert.deepEqual(missingBuildTools(withCmake), ['c-compiler', 'cxx-compiler']);
  });
});

describe('runCommand', () => {
  it('logs the command and its output; a failure names the command and shows its output', async () => {
    const log = path.join(tmpDir(), 'log');
    assert.equal(await runCommand(process.execPath, ['-e', 'console.log("hello")'], { logFile: log }), 'hello\n');
    await assert.rejects(
      runCommand(process.execPath, ['-e', 'console.error("boom"); process.exit(3)'], { logFile: log }),
      (err: unknown) => {
        assert.ok(err instanceof SetupCommandError);
        assert.equal(err.exitCode, 3);
        assert.match(err.message, /exit 3/);
        assert.match(err.message, /boom/);
        return true;
      },
    );
    const text = fs.readFileSync(log, 'utf8');
    assert.match(text, /hello/);
    assert.match(text, /boom/);
  });

  it('cancel ends the command and its children', async () => {
    const log = path.join(tmpDir(), 'log');
    const pidFile = path.join(tmpDir(), 'child.pid');
    const controller = new AbortController();
    // The command starts a grandchild that would live for a minute; the cancel must end it too.
    const script = `const c=require("child_process").spawn(process.execPath,["-e","setTimeout(()=>{},60000)"],{stdio:"ignore"});require("fs").writeFileSync(${JSON.stringify(pidFile)},String(c.pid));setTimeout(()=>{},60000)`;
    const running = runCommand(process.execPath, ['-e', script], { logFile: log, signal: controller.signal });
    for (let i = 0; i < 100 && !fs.existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 50));
    controller.abort();
    await assert.rejects(running, SetupCancelledError);
    const grandchild = Number(fs.readFileSync(pidFile, 'utf8'));
    let alive = true;
    for (let i = 0; i < 40 && alive; i++) {
      try {
        process.kill(grandchild, 0);
        await new Promise((r) => setTimeout(r, 50));
      } catch {
        alive = false;
      }
    }
    assert.equal(alive, false, 'the grandchild was ended');
  });
});

describe('runPythonSetup before any install', () => {
  it('stops at the system check when a build tool is missing, names it, and leaves no environment', async () => {
    const dir = tmpDir();
    const envDir = path.join(dir, 'env');
    const events: SetupProgress[] = [];
    // python3 is there, compilers and cmake are not (and no llama-cpp-python wheel is cached in the work dir).
    const envPath = pathWith(['python3']);
    const savedPath = process.env.PATH;
    await assert.rejects(
      runPythonSetup({
        envDir,
        workDir: path.join(dir, 'work'),
        modelDir: null,
        installer: 'pip',
        requireSandbox: false,
        envPath,
        onProgress: (e) => events.push(e),
      }),
      (err: unknown) => {
        assert.ok(err instanceof MissingSystemPackageError, String(err));
        assert.deepEqual(err.needs, ['c-compiler', 'cxx-compiler', 'cmake']);
        assert.match(err.message, /to build llama-cpp-python/);
        return true;
      },
    );
    assert.equal(process.env.PATH, savedPath);
    assert.equal(fs.existsSync(envDir), false);
    assert.deepEqual(
      events.map((e) => `${e.step}:${e.state}`),
      ['check-system:running', 'check-system:failed'],
    );
    assert.match(fs.readFileSync(path.join(dir, 'work', 'setup.log'), 'utf8'), /Missing system packages/);
  });

  it('a cancel before the start runs nothing', async () => {
    const dir = tmpDir();
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      runPythonSetup({ envDir: path.join(dir, 'env'), workDir: dir, modelDir: null, installer: 'pip', signal: controller.signal }),
      SetupCancelledError,
    );
    assert.equal(fs.existsSync(path.join(dir, 'env')), false);
  });
});
