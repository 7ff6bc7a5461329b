/**
 * The doctor's report as Markdown (the extension shows it as a preview).
 * Every piece of the report comes from the machine (paths, versions, the
 * error text of a probe or a server): it goes through safeLine (hidden
 * characters made visible, one line, capped) and Markdown's own characters
 * are escaped, so it reads as the text it is.
 */
import { safeLine } from '../../shared/safeText';
import type { DoctorCheck, DoctorReport } from './doctor';

/** Untrusted text for a Markdown line. */
export function mdText(text: unknown, max = 400): string {
  return safeLine(text, max).replace(/[\\`*_{}[\]()<>#+!|~]/g, '\\$&');
}

const STATUS: Record<DoctorCheck['status'], string> = { ok: '✅ ok', missing: '❌ missing', warning: '⚠️ warning', info: 'ℹ️ info' };

export function formatDoctorMarkdown(r: DoctorReport): string {
  const lines = ['# TraceLift: training environment', ''];
  lines.push(
    r.cpu_training
      ? '**Training on the CPU is possible** (recipe `recipes/cpu-smollm2.json`).'
      : '**Training on the CPU is not possible yet**: fix the missing items below.',
    '',
    r.gpu_training ? 'GPU recipes can run here.' : 'GPU recipes (device "cuda") are refused here: no usable GPU.',
    '',
  );
  for (const c of r.checks) {
    lines.push(`- ${STATUS[c.status]} **${mdText(c.label, 120)}**: ${mdText(c.detail)}`);
    if (c.fix && c.status !== 'ok') lines.push(`  - to fix: ${mdText(c.fix, 800)}`);
  }
  lines.push('', 'The same report in a terminal: `tracelift doctor` (`--json` for a machine-readable one).', '');
  return lines.join('\n');
}
