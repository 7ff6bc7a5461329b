/**
 * The button the environment view offers for a doctor check that is not ok:
 * run the set-up, download a task's data, open a setting, or show the fix's
 * text (a system package, a GPU) for the user to act on. No `vscode` here.
 */
import type { DoctorCheck, DoctorReport } from '../../engine/train/doctor';

export type DoctorFix =
  | { kind: 'setup'; withTraining: boolean; label: string }
  | { kind: 'download'; tasks: string[]; label: string }
  | { kind: 'setting'; key: string; label: string }
  | { kind: 'text'; text: string; label: string };

/** Packages the executor-only set-up installs (requirements.txt); the rest come with the training stack. */
const EXECUTOR_PACKAGES = new Set(['package:llama-cpp-python', 'package:math-verify', 'package:jsonschema', 'llama-cpp-server']);

export function fixForCheck(check: DoctorCheck): DoctorFix | null {
  if (check.status === 'ok' || check.status === 'info') return null;
  const id = check.id;
  if (id === 'python' || id === 'embedded-model' || EXECUTOR_PACKAGES.has(id)) {
    return { kind: 'setup', withTraining: false, label: 'Set Up Embedded Executor' };
  }
  if (id.startsWith('package:')) return { kind: 'setup', withTraining: true, label: 'Set Up with the Training Stack' };
  if (id.startsWith('data:')) return { kind: 'download', tasks: [id.slice('data:'.length)], label: 'Download Benchmark Data' };
  if (id === 'data-dir') return { kind: 'download', tasks: [], label: 'Download Benchmark Data' };
  if (id === 'executor-endpoint') return { kind: 'setting', key: 'executor.url', label: 'Open the Executor Setting' };
  if (id.startsWith('endpoint:')) return { kind: 'setting', key: id.slice('endpoint:'.length), label: 'Open the Setting' };
  return check.fix ? { kind: 'text', text: check.fix, label: 'Show What to Do' } : null;
}

/** The Environment view's first line: what the machine can do now, and the next thing to set up. */
export function doctorSummary(report: DoctorReport): { ok: boolean; text: string } {
  if (report.cpu_training) return { ok: true, text: `Ready: evals, and training on the CPU${report.gpu_training ? ' and the GPU' : ''}` };
  const executorGap = report.checks.some((c) => {
    const fix = c.status === 'missing' ? fixForCheck(c) : null;
    return fix?.kind === 'setup' && !fix.withTraining;
  });
  if (executorGap) return { ok: false, text: 'Not ready: set up the embedded executor' };
  const data = report.checks.filter((c) => c.id.startsWith('data:'));
  // A task with any split present (marked ✓ in its detail) is enough for an eval.
  if (!data.some((c) => c.status === 'ok' || c.detail.includes('✓'))) return { ok: false, text: 'Executor ready: download benchmark data' };
  return { ok: false, text: 'Evals possible; CPU training needs what is marked below' };
}
