/**
 * runPythonSetup for real, into a scratch environment (never the repository's
 * .venv): a requirement the package registries do not have makes the
 * packages step fail with the command, pip's words and the log, and the
 * environment that run created is removed again. Needs the llama-cpp-python
 * wheel that scripts/setup.sh builds into .cache/wheels (so no compile here)
 * and the package registries that set-up uses.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SetupCommandError } from '../../src/engine/setup/commandRunner';
import { pinnedVersion, runPythonSetup, type SetupProgress } from '../../src/engine/setup/pythonSetup';
import { findRepoRoot } from '../../src/engine/util/repoRoot';

const ROOT = findRepoRoot();
const LLAMA = pinnedVersion(path.join(ROOT, 'backend', 'requirements.txt'), 'llama-cpp-python');
const WHEELS = path.join(ROOT, '.cache', 'wheels');
const wheel = fs.existsSync(WHEELS) ? fs.readdirSync(WHEELS).find((f) => f.startsWith(`llama_cpp_python-${LLAMA}-`)) : undefined;

describe(
  'runPythonSetup into a scratch environment',
  { skip: !wheel && 'no llama-cpp-python wheel in .cache/wheels (run scripts/setup.sh)' },
  () => {
    it('a package the registries lack fails the packages step clearly and leaves no environment', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracelift-setup-int-'));
      try {
        const requirements = path.join(dir, 'backend');
        fs.mkdirSync(requirements);
        fs.writeFileSync(
          path.join(requirements, 'requirements.txt'),
          `llama-cpp-python[server]==${LLAMA}\ntracelift-no-such-package-anywhere==0.0.1\n`,
        );
        const work = path.join(dir, 'work');
        fs.mkdirSync(path.join(work, 'wheels'), { recursive: true });
        fs.copyFileSync(path.join(WHEELS, wheel!), path.join(work, 'wheels', wheel!));
        const envDir = path.join(dir, 'env');
        const events: SetupProgress[] = [];
        await assert.rejects(
          runPythonSetup({
            envDir,
            requirementsDir: requirements,
            workDir: work,
            modelDir: null,
            installer: 'pip',
            requireSandbox: false,
            onProgress: (e) => events.push(e),
          }),
          (err: unknown) => {
            assert.ok(err instanceof SetupCommandError, String(err));
            assert.match(err.message, /This command failed/);
            assert.match(err.message, /pip install/);
            assert.match(err.message, /tracelift-no-such-package-anywhere/);
            assert.ok(err.message.includes(path.join(work, 'setup.log')));
            return true;
          },
        );
        const finished = events.filter((e) => e.state !== 'running').map((e) => `${e.step}:${e.state}`);
        assert.deepEqual(finished, ['check-system:done', 'create-env:done', 'llama-cpp:done', 'packages:failed']);
        assert.equal(fs.existsSync(envDir), false, 'the environment this run created is gone');
        assert.ok(fs.existsSync(path.join(work, 'wheels', wheel!)), 'the wheel stays for the next run');
        assert.match(fs.readFileSync(path.join(work, 'setup.log'), 'utf8'), /--- Installing the engine's Python packages/);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);
