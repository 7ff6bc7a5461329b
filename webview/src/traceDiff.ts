/**
 * Trace diff: word-level highlighting of two traces, or of a TraceLift-Groups
 * record's reference against each perturbed trace (labelled with
 * negative_kind and rubric scores), with each side's measured uplift and
 * reward when a run measured them (diff/measured.ts). Segments come from the
 * host; each is a text node inside <del>/<ins>/<span>, never markup.
 */
import './common/errors';
import './common/litNonce';
import './common/elements';
import { traceDiffProtocol, type DiffPair, type DiffViewData } from '../../src/webviewProtocol';
import { WebviewClient } from './common/bridge';
import { blockText, byId, h, hiddenFlag, replace, setTitle } from './common/dom';
import { count, num } from './common/format';
import { measuredBlock } from './diff/measured';

interface Persisted {
  restore: unknown;
}

const client = new WebviewClient(traceDiffProtocol, (m) => status('error', m));
let restore: unknown = (client.getState() as Persisted | null)?.restore ?? null;

const app = byId('app');
replace(
  app,
  h('div', { id: 'diff-status', testid: 'diff-status', className: 'messages', attrs: { 'aria-live': 'polite' } }),
  h('div', { id: 'diff-body' }),
);
app.removeAttribute('aria-busy');

function status(level: 'info' | 'warning' | 'error', message: string): void {
  replace(byId('diff-status'), h('div', { className: `message ${level}`, role: level === 'error' ? 'alert' : 'status' }, message));
}

function side(pair: DiffPair, which: 'left' | 'right'): HTMLElement {
  const pre = h('pre', { className: 'text-block diff-text', testid: `diff-${which}`, tabIndex: 0, dataset: { side: which } });
  for (const seg of pair.segments) {
    if (seg.op === 'eq') pre.appendChild(blockText(seg.text));
    else if (seg.op === 'del' && which === 'left') pre.appendChild(h('del', { className: 'seg-del' }, blockText(seg.text)));
    else if (seg.op === 'ins' && which === 'right') pre.appendChild(h('ins', { className: 'seg-ins' }, blockText(seg.text)));
  }
  const sideText = pair.segments.filter((seg) => seg.op === 'eq' || seg.op === (which === 'left' ? 'del' : 'ins')).map((seg) => seg.text);
  const s = pair[which];
  const meta = Object.entries(s.meta).filter(([, v]) => v !== null);
  return h(
    'div',
    { className: `diff-side ${which}` },
    h(
      'h3',
      { className: 'side-title', testid: `diff-${which}-title` },
      s.title,
      pair.reference === which ? ' ' : null,
      pair.reference === which ? h('span', { className: 'kind-badge reference-badge', testid: 'reference-badge' }, 'reference') : null,
    ),
    hiddenFlag(s.title, ...sideText),
    meta.length ? h('p', { className: 'note' }, meta.map(([k, v]) => `${k}: ${typeof v === 'number' ? num(v, 3) : v}`).join(' · ')) : null,
    pre,
  );
}

function pairView(pair: DiffPair, i: number): HTMLElement {
  const btn = h(
    'vscode-button',
    { testid: 'open-diff-editor', attrs: { secondary: true, 'aria-label': `Open pair ${i + 1} in the diff editor` } },
    'Open in diff editor',
  );
  btn.addEventListener('click', () => void client.request('openInDiffEditor', { pair: i }).catch((e: Error) => status('error', e.message)));
  const rubric = pair.rubric.length
    ? h(
        'table',
        { className: 'rubric', testid: 'rubric' },
        h('thead', {}, h('tr', {}, ...pair.rubric.map((r) => h('th', { text: r.name.replace(/_/g, ' ') })), h('th', { text: 'total' }))),
        h(
          'tbody',
          {},
          h('tr', {}, ...pair.rubric.map((r) => h('td', { text: String(r.value) })), h('td', { text: num(pair.rubricTotal, 2) })),
        ),
      )
    : pair.rubricTotal !== null
      ? h('p', { className: 'note', testid: 'rubric' }, `rubric total ${num(pair.rubricTotal, 2)}`)
      : null;
  return h(
    'section',
    {
      className: 'diff-pair',
      testid: 'diff-pair',
      dataset: { kind: pair.kind ?? '', beats: pair.negativeBeatsReference ? 'yes' : 'no' },
      attrs: {
        'aria-label': `Pair ${i + 1}${pair.kind ? `: ${pair.kind}` : ''}${pair.negativeBeatsReference ? ', negative beats reference' : ''}`,
      },
    },
    h(
      'header',
      { className: 'pair-header' },
      pair.kind ? h('span', { className: 'kind-badge', testid: 'negative-kind' }, pair.kind) : null,
      pair.negativeBeatsReference ? h('span', { className: 'flag flag-beats-reference', testid: 'beats-flag' }, '⚠ beats reference') : null,
      h(
        'span',
        { className: 'note' },
        `${pair.granularity}-level · ${count(pair.stats.deleted)} chars removed, ${count(pair.stats.inserted)} added, ${count(pair.stats.equal)} unchanged`,
      ),
      btn,
    ),
    rubric,
    measuredBlock(pair),
    h('div', { className: 'diff-columns' }, side(pair, 'left'), side(pair, 'right')),
  );
}

function render(d: DiffViewData): void {
  replace(
    byId('diff-body'),
    h('h1', { id: 'diff-title', testid: 'diff-title' }, d.title),
    hiddenFlag(d.title, d.problem),
    h('p', { id: 'diff-subtitle', testid: 'diff-subtitle', className: 'note' }, d.subtitle),
    d.problem !== null
      ? h(
          'details',
          { className: 'problem' },
          h('summary', { text: 'Problem' }),
          h('pre', { className: 'text-block', testid: 'diff-problem' }, blockText(d.problem)),
        )
      : null,
    d.pairs.length
      ? null
      : h('p', { className: 'message warning', text: 'Nothing to compare: the record has no reference trace or no perturbed traces.' }),
    ...d.pairs.map(pairView),
  );
}

client.on('init', (p) => {
  restore = p.restore;
  setTitle(p.title);
  client.setState({ restore } satisfies Persisted);
  byId('diff-body').replaceChildren();
  status('info', 'Computing the diff…');
});
client.on('diff', (d) => {
  byId('diff-status').replaceChildren();
  render(d);
});
client.on('status', (s) => status(s.level, s.message));
client.ready();
