/**
 * The managed environment in the extension's storage (found only once a set-up
 * has finished there) and the fix button the Environment view offers per check.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DoctorCheck, DoctorReport } from '../../src/engine/train/doctor';
import { SETUP_MARKER_FILE } from '../../src/engine/setup/pythonSetup';
import { doctorSummary, fixForCheck } from '../../src/extension/services/doctorFixes';
import { dataDownloadDir, embeddedExecutorGaps, managedModel, managedPaths, managedPython } from '../../src/extension/services/managedEnv';

const check = (id: string, status: DoctorCheck['status'], fix: string | null = null): DoctorCheck => ({
  id,
  label: id,
  status,
  detail: '',
  fix,
  needed_for: 'cpu_training',
});

describe('the managed environment', () => {
  it('is found only after a finished set-up, and the model only when it has bytes', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-managed-'));
    try {
      assert.equal(managedPaths(null), null, 'no storage folder: nothing managed');
      const p = managedPaths(dir)!;
      assert.equal(managedPython(dir), null);
      fs.mkdirSync(path.dirname(p.python), { recursive: true });
      fs.writeFileSync(p.python, '');
      assert.equal(managedPython(dir), null, 'an interpreter without the set-up marker is a set-up that did not finish');
      fs.writeFileSync(path.join(p.envDir, SETUP_MARKER_FILE), JSON.stringify({ with_training: false }));
      assert.equal(managedPython(dir), p.python);

      assert.equal(managedModel(dir), null);
      fs.mkdirSync(p.modelDir, { recursive: true });
      fs.writeFileSync(p.modelFile, '');
      assert.equal(managedModel(dir), null, 'an empty model file is not a model');
      fs.writeFileSync(p.modelFile, 'GGUF');
      assert.equal(managedModel(dir), p.modelFile);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names both gaps of an executor with neither Python nor model', () => {
    const gaps = embeddedExecutorGaps('/nonexistent/tl/bin/python', '/nonexistent/tl/model.gguf');
    assert.equal(gaps.length, 2, JSON.stringify(gaps));
    assert.match(gaps[0]!, /no Python environment \(\/nonexistent\/tl\/bin\/python\)/);
    assert.match(gaps[1]!, /no embedded model/);
  });

  it('downloads into the data folder the setting names', () => {
    assert.equal(dataDownloadDir('/some/data'), '/some/data');
  });
});

describe('the Environment view’s fix per check', () => {
  it('offers nothing for what is there', () => {
    assert.equal(fixForCheck(check('python', 'ok')), null);
    assert.equal(fixForCheck(check('gpu', 'info', 'install CUDA')), null);
  });

  it('sets up the executor for its own parts, and the training stack for the trainer’s packages', () => {
    for (const id of ['python', 'embedded-model', 'package:llama-cpp-python', 'package:math-verify', 'llama-cpp-server']) {
      assert.deepEqual(fixForCheck(check(id, 'missing')), { kind: 'setup', withTraining: false, label: 'Set Up Embedded Executor' }, id);
    }
    assert.deepEqual(fixForCheck(check('package:trl', 'warning')), {
      kind: 'setup',
      withTraining: true,
      label: 'Set Up with the Training Stack',
    });
  });

  it('downloads a task’s data, opens an endpoint’s setting, or shows the fix text', () => {
    assert.deepEqual(fixForCheck(check('data:math500', 'missing')), {
      kind: 'download',
      tasks: ['math500'],
      label: 'Download Benchmark Data',
    });
    assert.deepEqual(fixForCheck(check('data-dir', 'missing')), { kind: 'download', tasks: [], label: 'Download Benchmark Data' });
    assert.equal(fixForCheck(check('endpoint:planner.url', 'missing'))?.kind, 'setting');
    assert.deepEqual(fixForCheck(check('endpoint:planner.url', 'missing')), {
      kind: 'setting',
      key: 'planner.url',
      label: 'Open the Setting',
    });
    assert.deepEqual(fixForCheck(check('bubblewrap', 'missing', 'sudo apt-get install bubblewrap')), {
      kind: 'text',
      text: 'sudo apt-get install bubblewrap',
      label: 'Show What to Do',
    });
    assert.equal(fixForCheck(check('cores', 'warning')), null, 'no fix text: no button');
  });
});

describe('the Environment view’s summary line', () => {
  const report = (checks: DoctorCheck[], cpu = false) => ({ cpu_training: cpu, gpu_training: false, checks }) as unknown as DoctorReport;
  it('names the next thing to set up: the executor, then the data', () => {
    assert.deepEqual(doctorSummary(report([check('python', 'missing'), check('data-dir', 'missing')])), {
      ok: false,
      text: 'Not ready: set up the embedded executor',
    });
    // The training stack missing is not the executor missing.
    const noData = report([
      check('python', 'ok'),
      check('package:trl', 'missing'),
      { ...check('data:gsm8k', 'missing'), detail: 'test missing' },
    ]);
    assert.equal(doctorSummary(noData).text, 'Executor ready: download benchmark data');
    const someData = report([check('package:trl', 'missing'), { ...check('data:gsm8k', 'missing'), detail: '/d: test ✓, train missing' }]);
    assert.equal(doctorSummary(someData).text, 'Evals possible; CPU training needs what is marked below');
    assert.deepEqual(doctorSummary(report([], true)), { ok: true, text: 'Ready: evals, and training on the CPU' });
  });
});
