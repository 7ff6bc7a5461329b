/**
 * Compare Runs: the banner of settings that differ between the two runs, and
 * the line of mean deltas with their paired 95 % intervals.
 */
import type { CompareState, ConfigCheck, PairedDelta } from '../../../src/webviewProtocol';
import { h } from '../common/dom';
import { count, num, signed } from '../common/format';

/**
 * A warning listing each setting that changes what the numbers mean (K, M,
 * executor, protocol…), a note for what differs by design (the trace
 * source), and which run's settings could not be read.
 */
export function configBanner(check: ConfigCheck | undefined): HTMLElement[] {
  if (!check) return [];
  const out: HTMLElement[] = [];
  const item = (d: ConfigCheck['differences'][number]) => h('li', { dataset: { field: d.field } }, `${d.label}: A ${d.a} · B ${d.b}`);
  const meaning = check.differences.filter((d) => d.kind === 'meaning');
  const design = check.differences.filter((d) => d.kind === 'design');
  if (meaning.length)
    out.push(
      h(
        'div',
        { className: 'message warning', testid: 'cmp-config-warning', role: 'alert' },
        `⚠ These runs differ in ${meaning.length} setting(s) that change what the numbers mean; their deltas mix the effect of the traces with these:`,
        h('ul', { className: 'config-diffs' }, ...meaning.map(item)),
      ),
    );
  if (design.length)
    out.push(
      h(
        'div',
        { className: 'message info', testid: 'cmp-config-design', role: 'status' },
        'What the comparison varies:',
        h('ul', { className: 'config-diffs' }, ...design.map(item)),
      ),
    );
  if (check.unreadable.length)
    out.push(
      h(
        'div',
        { className: 'message warning', testid: 'cmp-config-unreadable', role: 'status' },
        `Settings not compared (${check.unreadable.join('; ')}): check that both runs used the same K, M, executor and protocol.`,
      ),
    );
  if (!meaning.length && !check.unreadable.length)
    out.push(
      h(
        'p',
        { className: 'note', testid: 'cmp-config-same' },
        'Same K, M, executor, sampling, protocol, prompts, reward, task and split in both runs.',
      ),
    );
  return out;
}

/** "+0.222 (95% CI −0.256 … +0.700, paired over 3 problems)". */
export function pairedText(p: PairedDelta | undefined, fallback: number | null): string {
  if (!p) return signed(fallback);
  if (p.n === 0 || p.mean === null) return '— (no problem with a value in both runs)';
  if (p.lo === null || p.hi === null) return `${signed(p.mean)} (one shared problem: no interval)`;
  return `${signed(p.mean)} (95% CI ${signed(p.lo)} … ${signed(p.hi)}, SE ${num(p.se)}, paired over ${count(p.n)} problem(s))`;
}

/** The line under the runs table: shared and one-sided problem counts, and the paired mean deltas. */
export function deltasLine(st: CompareState): string {
  return (
    `${count(st.counts.both)} problem(s) in both runs, ${count(st.counts.onlyA)} only in A, ${count(st.counts.onlyB)} only in B · ` +
    `mean Δ success ${pairedText(st.paired?.success, st.meanDeltaSuccess)} · ` +
    `mean Δ uplift ${pairedText(st.paired?.uplift, st.meanDeltaUplift)} (B − A, shared problems only)`
  );
}
