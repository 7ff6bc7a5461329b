/**
 * The doctor's pieces that need no machine: pins read from the requirements
 * files, the report's text and Markdown (machine text made safe), and the
 * launcher's GPU refusal giving the doctor's advice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DoctorReportSchema, formatDoctorReport, pinnedRequirement, type DoctorReport } from '../../src/engine/train/doctor';
import { formatDoctorMarkdown, mdText } from '../../src/engine/train/doctorMarkdown';
import { NO_GPU_FIX, requireGpuIfAsked } from '../../src/engine/train/gpuCheck';
import { backendDir } from '../../src/engine/util/python';

test('pins come from backend/requirements*.txt as written there (extras kept, names normalised)', () => {
  const train = fs.readFileSync(path.join(backendDir(), 'requirements-train.txt'), 'utf8');
  const trlPin = /^trl==(\S+)$/m.exec(train)![1];
  assert.equal(pinnedRequirement('trl', 'requirements-train.txt'), `trl==${trlPin}`);
  assert.match(pinnedRequirement('llama_cpp_python', 'requirements.txt') ?? '', /^llama-cpp-python\[server\]==\d/);
  assert.match(pinnedRequirement('Math-Verify', 'requirements.txt') ?? '', /^math-verify==\d/);
  assert.equal(pinnedRequirement('no-such-package', 'requirements.txt'), null);
  assert.equal(pinnedRequirement('trl', 'no-such-file.txt'), null);
});

const report = (over: Partial<DoctorReport> = {}): DoctorReport =>
  DoctorReportSchema.parse({
    python: { path: '/x/python', found_by: '$TRACELIFT_PYTHON', version: '3.11.7' },
    torch: null,
    machine: { cpus: 2, memory_bytes: 8 * 1024 ** 3 },
    checks: [
      {
        id: 'package:trl',
        label: 'trl',
        status: 'missing',
        detail: 'not installed',
        fix: "/x/python -m pip install 'trl==1.16.0'",
        needed_for: 'cpu_training',
      },
      { id: 'python', label: 'Python', status: 'ok', detail: 'fine', fix: 'never shown', needed_for: 'cpu_training' },
      {
        id: 'executor-endpoint',
        label: 'executor endpoint [x](command:evil)',
        status: 'missing',
        detail: 'GET http://h/v1/models: \u202Eevil <img src=x> *bold* `code`',
        fix: 'start it',
        needed_for: 'endpoint',
      },
    ],
    cpu_training: false,
    gpu_training: false,
    ...over,
  });

test('the text report: one line per check, the fix under each failed one, the verdict', () => {
  const text = formatDoctorReport(report());
  assert.match(text, /\[MISS\] trl: not installed\n\s+→ \/x\/python -m pip install 'trl==1\.16\.0'/);
  assert.doesNotMatch(text, /never shown/);
  assert.match(text, /NOT possible yet/);
  assert.match(formatDoctorReport(report({ cpu_training: true })), /Training on the CPU is possible/);
});

test('the Markdown report shows machine text as text: hidden characters as markers, no links, HTML or emphasis', () => {
  const md = formatDoctorMarkdown(report());
  assert.match(md, /⟨U\\\+202E⟩/); // the marker, its + escaped
  assert.doesNotMatch(md, /\u202E/);
  assert.doesNotMatch(md, /\[x\]\(command/);
  assert.match(md, /\\<img src=x\\>/);
  assert.match(md, /\\\*bold\\\*/);
  assert.match(md, /\\`code\\`/);
  assert.match(md, /to fix: \/x\/python -m pip install 'trl==1\.16\.0'/);
  assert.equal(mdText('a|b_c'), 'a\\|b\\_c');
});

test('a "cuda" recipe without a GPU is refused with the advice the doctor gives', async () => {
  // A Python whose torch answers False: the refusal names it and gives NO_GPU_FIX.
  const fake = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tl-doctor-')), 'python');
  fs.writeFileSync(fake, '#!/bin/sh\necho False\n', { mode: 0o755 });
  await assert.rejects(requireGpuIfAsked('cuda', fake), (err: Error) => {
    assert.ok(err.message.includes(NO_GPU_FIX), err.message);
    assert.match(err.message, /tracelift doctor/);
    return true;
  });
  await requireGpuIfAsked('cpu', fake);
});
