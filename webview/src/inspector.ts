/**
 * The uplift inspector: one sample in full — its trace, every executor output
 * with the trace and without it (the problem's baseline attempts), every
 * verdict, and the arithmetic of uplift and reward. All text via textContent.
 */
import './common/errors';
import './common/litNonce';
import './common/elements';
import { inspectorProtocol, type InspectorData } from '../../src/webviewProtocol';
import type { ExecutorAttempt } from '../../src/engine/contract/events';
import { WebviewClient } from './common/bridge';
import { blockText, byId, h, hiddenFlag, replace, setTitle, type Child } from './common/dom';
import { num, signed } from './common/format';

interface Persisted {
  restore: unknown;
}

const client = new WebviewClient(inspectorProtocol, (m) => status('error', m));
let restore: unknown = (client.getState() as Persisted | null)?.restore ?? null;

const app = byId('app');
replace(
  app,
  h('div', { id: 'insp-status', testid: 'insp-status', className: 'messages', attrs: { 'aria-live': 'polite' } }),
  h('div', { id: 'insp-body' }),
);
app.removeAttribute('aria-busy');

function status(level: 'info' | 'warning' | 'error', message: string): void {
  replace(byId('insp-status'), h('div', { className: `message ${level}`, role: level === 'error' ? 'alert' : 'status' }, message));
}

const section = (id: string, title: string, ...children: Child[]) =>
  h(
    'section',
    { id, testid: id, className: 'insp-section', attrs: { 'aria-labelledby': `${id}-h` } },
    h('h2', { id: `${id}-h`, text: title }),
    ...children,
  );

const text = (id: string, value: string) => h('pre', { id, testid: id, className: 'text-block', tabIndex: 0 }, blockText(value));

function kv(rows: Array<[string, Child]>, testid?: string): HTMLElement {
  return h('dl', { className: 'kv', testid }, ...rows.flatMap(([k, v]) => [h('dt', { text: k }), h('dd', {}, v)]));
}

const fmtNull = (v: string | number | boolean | null | undefined) => (v === null || v === undefined ? '—' : String(v));

function verdictSummary(a: ExecutorAttempt): string {
  if (a.error || !a.verdict) return `failed call${a.error ? `: ${a.error}` : ''}`;
  const v = a.verdict;
  const parts = [v.correct ? '✓ correct' : '✗ wrong'];
  if (v.extracted !== null) parts.push(`extracted ${v.extracted}`);
  // Math verdicts carry status correct/wrong, already said by the mark; code ones say more.
  if (v.status && v.status !== 'correct' && v.status !== 'wrong') parts.push(v.status);
  if (v.tests_total !== null) parts.push(`tests ${v.tests_passed ?? 0}/${v.tests_total}`);
  return parts.join(' · ');
}

function attemptView(a: ExecutorAttempt, i: number, kind: 'with' | 'without', diffWith?: ExecutorAttempt): HTMLElement {
  const v = a.verdict;
  const body = h(
    'div',
    { className: 'attempt-body' },
    a.output === null
      ? h('p', { className: 'message error', text: `No output: ${a.error ?? 'the call failed'}` })
      : h('pre', { className: 'text-block output', tabIndex: 0, testid: 'attempt-output' }, a.output),
    kv(
      [
        ['correct', fmtNull(v?.correct)],
        ['extracted', fmtNull(v?.extracted)],
        ['status', fmtNull(v?.status)],
        ['tests passed', v?.tests_total !== null && v?.tests_total !== undefined ? `${v.tests_passed ?? 0} / ${v.tests_total}` : '—'],
        ['detail', v?.detail ? h('pre', { className: 'text-block detail' }, v.detail) : '—'],
        ['error', fmtNull(a.error)],
        ['finish reason', fmtNull(a.finish_reason)],
        ['latency', a.latency_ms === null ? '—' : `${a.latency_ms} ms`],
      ],
      'verdict',
    ),
  );
  if (diffWith && a.output !== null && diffWith.output !== null) {
    const btn = h('vscode-button', { attrs: { secondary: true }, testid: 'attempt-diff' }, `Diff with baseline #${i + 1} in editor`);
    btn.addEventListener('click', () => {
      void client
        .request('openInDiffEditor', {
          left: { title: `baseline attempt #${i + 1}`, text: diffWith.output ?? '' },
          right: { title: `with-trace attempt #${i + 1}`, text: a.output ?? '' },
        })
        .catch((e: Error) => status('error', e.message));
    });
    body.appendChild(btn);
  }
  const c = h('vscode-collapsible', {
    testid: 'attempt',
    className: `attempt ${v?.correct ? 'correct' : a.error || !v ? 'failed' : 'wrong'}`,
    attrs: { heading: `#${i + 1} ${verdictSummary(a)}`, 'data-kind': kind, 'data-correct': String(v?.correct ?? false) },
  });
  c.appendChild(body);
  return c;
}

/**
 * The rubric of this trace: the Reason RM's expected label (0–4) per
 * dimension with the derived part of its score (their mean / 4), and, for a
 * trace from a groups file, the gold rubric beside it.
 */
function rubricView(
  dims: Record<string, number> | null,
  gold: Record<string, number> | null,
  score: number | null,
  goldTotal: number | null,
): HTMLElement {
  const names = [...new Set([...Object.keys(dims ?? {}), ...Object.keys(gold ?? {}).filter((k) => k !== 'total')])];
  const cell = (v: number | undefined) =>
    v === undefined
      ? h('td', { text: '–' })
      : h('td', {}, h('meter', { attrs: { min: '0', max: '4', value: String(v) } }), ` ${num(v, 2)}`);
  const entries = Object.values(dims ?? {});
  const derived = entries.length ? entries.reduce((a, v) => a + v, 0) / entries.length / 4 : null;
  const headers = ['rubric dimension', ...(dims ? ['RM expected label (0–4)'] : []), ...(gold ? ['gold (0–4)'] : [])];
  const total = gold?.total ?? goldTotal;
  return h(
    'div',
    { className: 'rm-dimensions' },
    h(
      'table',
      { className: 'components', testid: 'rm-dimensions' },
      h('thead', {}, h('tr', {}, ...headers.map((t) => h('th', { text: t })))),
      h(
        'tbody',
        {},
        ...names.map((name) =>
          h(
            'tr',
            { attrs: { 'data-dimension': name } },
            h('td', { text: name.replace(/_/g, ' ') }),
            ...(dims ? [cell(dims[name])] : []),
            ...(gold ? [cell(gold[name])] : []),
          ),
        ),
      ),
    ),
    h(
      'p',
      { className: 'note', testid: 'rm-derived' },
      [
        dims ? `derived = mean label / 4 = ${num(derived, 3)}; score = 0.5 · derived + 0.5 · σ(total head) = ${num(score, 3)}` : null,
        total !== null && total !== undefined ? `gold rubric total ${num(total, 2)}` : null,
      ]
        .filter(Boolean)
        .join(' · '),
    ),
  );
}

function render(d: InspectorData): void {
  const s = d.sample;
  const w = s.with_trace.tally;
  const b = d.baseline.tally;
  const r = s.reward;
  const recomputed = w.rate !== null && b.rate !== null ? w.rate - b.rate : null;

  const arith: Child[] = [
    h(
      'p',
      { className: 'formula', testid: 'uplift-arith' },
      `uplift = k/K − b/M = ${w.successes}/${w.valid} − ${b.successes}/${b.valid} = ${num(w.rate)} − ${num(b.rate)} = ${signed(recomputed)}`,
    ),
    h(
      'p',
      { className: 'note' },
      `K counts attempts that produced an output (${w.requested} requested, ${w.failed} failed); the baseline M likewise (${b.requested} requested, ${b.failed} failed${d.baseline.from_cache ? ', read from the baseline cache' : ''}).`,
    ),
  ];
  if (recomputed !== null && s.uplift !== null && Math.abs(recomputed - s.uplift) > 1e-9)
    arith.push(h('p', { className: 'message warning', text: `The recorded uplift is ${signed(s.uplift)}, not ${signed(recomputed)}.` }));
  arith.push(
    kv([
      ['e2e', `${num(s.e2e)} (end-to-end success of the first with-trace sample, or their mean)`],
      ['RM score', num(s.rm_score)],
      ['judge score', num(s.judge_score)],
    ]),
  );
  if (s.rm_dimensions || d.goldRubric) arith.push(rubricView(s.rm_dimensions ?? null, d.goldRubric ?? null, s.rm_score, s.rubric_total));
  if (r) {
    arith.push(
      h('p', { className: 'formula', testid: 'reward-arith' }, `reward (${r.mode}) = ${r.formula} = ${num(r.value, 4)}`),
      h(
        'table',
        { className: 'components', testid: 'reward-components' },
        h('thead', {}, h('tr', {}, h('th', { text: 'term' }), h('th', { text: 'value' }))),
        h('tbody', {}, ...Object.entries(r.components).map(([k, v]) => h('tr', {}, h('td', { text: k }), h('td', { text: num(v, 4) })))),
      ),
    );
  } else
    arith.push(
      h('p', {
        className: 'message warning',
        testid: 'reward-arith',
        text: 'No reward was computed for this sample (a signal the reward mode needs is missing).',
      }),
    );

  const siblings = h(
    'table',
    { className: 'siblings', testid: 'insp-siblings-table' },
    h('thead', {}, h('tr', {}, ...['sample', 'label', 'k/K', 'uplift', 'reward', ''].map((t) => h('th', { text: t })))),
    h(
      'tbody',
      {},
      ...d.siblings.map((sib) => {
        const self = sib.sampleId === s.sample_id;
        const actions = h('td', { className: 'actions' });
        if (!self) {
          const open = h('vscode-button', { attrs: { secondary: true }, testid: 'sibling-inspect' }, 'Inspect');
          open.addEventListener(
            'click',
            () =>
              void client
                .request('openSample', { problemId: d.problemId, sampleId: sib.sampleId, line: d.line })
                .catch((e: Error) => status('error', e.message)),
          );
          const diff = h('vscode-button', { attrs: { secondary: true }, testid: 'sibling-diff' }, 'Diff traces');
          diff.addEventListener(
            'click',
            () => void client.request('diffWithSibling', { sampleId: sib.sampleId }).catch((e: Error) => status('error', e.message)),
          );
          actions.append(open, diff);
        } else actions.textContent = '(this sample)';
        return h(
          'tr',
          { className: self ? 'self' : '' },
          h('td', { text: sib.sampleId }),
          h('td', { text: sib.label ?? sib.source }),
          h('td', { text: `${sib.k}/${sib.K}` }),
          h('td', { text: signed(sib.uplift) }),
          h('td', { text: num(sib.reward) }),
          actions,
        );
      }),
    ),
  );

  const openRun = h('vscode-button', { id: 'open-run-view', testid: 'open-run-view', attrs: { secondary: true } }, 'Open run view');
  openRun.addEventListener('click', () => void client.request('openRunView', {}).catch((e: Error) => status('error', e.message)));

  replace(
    byId('insp-body'),
    h(
      'header',
      { className: 'insp-header' },
      h('h1', { id: 'insp-title', testid: 'insp-title' }, `${d.problemId} · ${s.sample_id}`),
      hiddenFlag(d.problemId, s.sample_id, s.label, s.trace, d.problem),
      kv(
        [
          ['task', `${d.task} (${d.taskKind})`],
          ['source', s.label ? `${s.source} · ${s.label}` : s.source],
          ['rubric total', num(s.rubric_total, 2)],
          ['step', fmtNull(d.step)],
          ['group', `${d.groupIndex} (events.jsonl line ${d.line})`],
          ['time', d.time],
          ['run', d.runDir],
        ],
        'insp-meta',
      ),
      openRun,
    ),
    section('insp-arith', 'Uplift and reward', ...arith),
    section('insp-problem', 'Problem', text('insp-problem-text', d.problem), kv([['reference', fmtNull(d.reference)]])),
    section('insp-trace', 'Trace', hiddenFlag(s.trace), text('insp-trace-text', s.trace)),
    section(
      'insp-with',
      `Executor with the trace — ${w.successes}/${w.valid} correct`,
      h('div', { className: 'attempts' }, ...s.with_trace.attempts.map((a, i) => attemptView(a, i, 'with', d.baseline.attempts[i]))),
    ),
    section(
      'insp-baseline',
      `Executor without the trace (baseline) — ${b.successes}/${b.valid} correct${d.baseline.from_cache ? ' · from cache' : ''}`,
      h('p', { className: 'note', text: `cache key ${d.baseline.cache_key}` }),
      h('div', { className: 'attempts' }, ...d.baseline.attempts.map((a, i) => attemptView(a, i, 'without'))),
    ),
    s.errors.length
      ? section('insp-errors', 'Errors', h('ul', {}, ...s.errors.map((e) => h('li', { className: 'message error', text: e }))))
      : null,
    section('insp-siblings', 'Other traces of this group', siblings),
  );
}

client.on('init', (p) => {
  restore = p.restore;
  setTitle(p.title);
  client.setState({ restore } satisfies Persisted);
  status('info', 'Loading…');
});
client.on('sample', (d) => {
  byId('insp-status').replaceChildren();
  render(d);
});
client.on('status', (s) => status(s.level, s.message));
client.ready();
