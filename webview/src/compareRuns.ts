/**
 * Compare two runs: per-problem with-trace success and mean uplift of run A
 * and run B side by side with the deltas (B − A), in a virtualized table
 * (windows asked from the host); a banner of the settings that differ
 * between the runs, and the mean deltas with paired 95 % intervals. Enter/click opens the inspector on run B's
 * sample of the problem (or run A's when B lacks it).
 */
import './common/errors';
import './common/litNonce';
import './common/elements';
import {
  CompareQuerySchema,
  compareProtocol,
  type CompareQuery,
  type CompareRow,
  type CompareState,
  type CompareWindowResult,
} from '../../src/webviewProtocol';
import { WebviewClient } from './common/bridge';
import { byId, h, replace, setText, setTitle, throttled } from './common/dom';
import { count, pct, signClass, signed } from './common/format';
import { VirtualList, type ListViewState, type WindowRequest } from './common/virtualList';
import { configBanner, deltasLine } from './compare/banner';

interface Persisted {
  restore: unknown;
  ui?: { query: CompareQuery; list?: Partial<ListViewState> };
}

const client = new WebviewClient(compareProtocol, (m) => message('error', m));
const persisted = (client.getState() ?? null) as Persisted | null;
let restore: unknown = persisted?.restore ?? null;
const saved = CompareQuerySchema.safeParse(persisted?.ui?.query);
let query: CompareQuery = saved.success ? saved.data : CompareQuerySchema.parse({});
let knownTasks = '';
let knownBanner = '';
let lastKey: string | null = null;
let seq = 0;

function select(id: string, label: string, options: Array<[string, string]>, value: string): HTMLElement {
  const el = h('vscode-single-select', { id, testid: id, attrs: { 'aria-label': label, title: label } });
  for (const [v, text] of options) el.appendChild(h('vscode-option', { attrs: { value: v } }, text));
  (el as unknown as { value: string }).value = value;
  return el;
}

const cell = (cls: string, field: string) => h('span', { className: `cc ${cls}`, dataset: { field } });
const HEAD = ['problem', 'task', 'A success', 'B success', 'Δ success', 'A uplift', 'B uplift', 'Δ uplift', 'traces A/B'];

const app = byId('app');
replace(
  app,
  h(
    'header',
    { className: 'summary', id: 'cmp-summary', testid: 'cmp-summary' },
    h('h1', { id: 'cmp-title', testid: 'cmp-title', text: 'Compare runs' }),
    h(
      'table',
      { className: 'cmp-runs', testid: 'cmp-runs' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['', 'run', 'status', 'traces', 'with-trace success', 'no-trace success', 'mean uplift'].map((t) => h('th', { text: t })),
        ),
      ),
      h('tbody', { id: 'cmp-runs-body' }),
    ),
    h('p', { id: 'cmp-deltas', testid: 'cmp-deltas', className: 'note' }),
  ),
  h('div', { id: 'cmp-config', testid: 'cmp-config', attrs: { 'aria-live': 'polite' } }),
  h('div', { id: 'cmp-messages', testid: 'messages', className: 'messages', attrs: { 'aria-live': 'polite' } }),
  h(
    'div',
    { className: 'filters', role: 'toolbar', attrs: { 'aria-label': 'Filters and sort' } },
    select('cmp-task', 'Task', [['', 'All tasks']], query.task ?? ''),
    select(
      'cmp-presence',
      'Problems',
      [
        ['both', 'In both runs'],
        ['all', 'All problems'],
        ['onlyA', 'Only in A'],
        ['onlyB', 'Only in B'],
      ],
      query.presence,
    ),
    select(
      'cmp-sort',
      'Sort by',
      [
        ['absDeltaUplift', '|Δ uplift|'],
        ['deltaUplift', 'Δ uplift'],
        ['absDeltaSuccess', '|Δ success|'],
        ['deltaSuccess', 'Δ success'],
        ['problem', 'Problem'],
      ],
      query.sort,
    ),
    select(
      'cmp-dir',
      'Sort direction',
      [
        ['desc', 'Descending'],
        ['asc', 'Ascending'],
      ],
      query.dir,
    ),
    h('span', { id: 'cmp-count', testid: 'cmp-count', role: 'status' }),
  ),
  h('div', { className: 'cmp-head', attrs: { 'aria-hidden': 'true' } }, ...HEAD.map((t) => h('span', { className: 'cc', text: t }))),
  h('div', { id: 'cmp-list', testid: 'cmp-list', role: 'listbox', attrs: { 'aria-label': 'Problems' } }),
);
app.removeAttribute('aria-busy');

function message(level: 'info' | 'warning' | 'error', text: string): void {
  byId('cmp-messages').appendChild(h('div', { className: `message ${level}`, role: level === 'error' ? 'alert' : 'status' }, text));
}

const cells = new WeakMap<HTMLElement, HTMLElement[]>();
const list = new VirtualList<CompareRow & { id: number }>({
  viewport: byId('cmp-list'),
  rowHeight: 28,
  key: (r) => r.id,
  idPrefix: 'cmp-row-',
  createRow: () => {
    const cs = [
      cell('c-problem', 'problem'),
      cell('c-task', 'task'),
      cell('c-num', 'successA'),
      cell('c-num', 'successB'),
      cell('c-num c-delta', 'deltaSuccess'),
      cell('c-num', 'upliftA'),
      cell('c-num', 'upliftB'),
      cell('c-num c-delta', 'deltaUplift'),
      cell('c-num', 'traces'),
    ];
    const el = h('div', { className: 'cmp-row', role: 'option', testid: 'cmp-row' }, ...cs);
    cells.set(el, cs);
    return el;
  },
  renderRow: (el, r) => {
    const c = cells.get(el)!;
    const vals = [
      r.problemId,
      r.task,
      pct(r.a?.success),
      pct(r.b?.success),
      signed(r.deltaSuccess),
      signed(r.a?.uplift),
      signed(r.b?.uplift),
      signed(r.deltaUplift),
      `${r.a?.traces ?? '—'}/${r.b?.traces ?? '—'}`,
    ];
    vals.forEach((v, i) => setText(c[i]!, v));
    c[4]!.dataset.sign = signClass(r.deltaSuccess);
    c[7]!.dataset.sign = signClass(r.deltaUplift);
    el.setAttribute('aria-label', `${r.problemId}: Δ success ${signed(r.deltaSuccess)}, Δ uplift ${signed(r.deltaUplift)}`);
  },
  requestWindow: (req) => void requestWindow(req),
  onActivate: (r) =>
    void client
      .request('openInspectorFor', { side: r.b ? 'b' : 'a', task: r.task, problemId: r.problemId })
      .catch((e: Error) => message('error', e.message)),
  onSelectionChange: () => save(),
});
list.restore(persisted?.ui?.list);
list.setEmptyText('No problems to compare yet.');

// Row keys must be numbers and stable per problem: a hash of the problem key.
function keyOf(key: string): number {
  let x = 2166136261;
  for (let i = 0; i < key.length; i++) x = Math.imul(x ^ key.charCodeAt(i), 16777619);
  return x >>> 0;
}

async function requestWindow(req: WindowRequest): Promise<void> {
  const mine = ++seq;
  try {
    const res = await client.request('window', { query, offset: req.offset, count: req.count });
    if (mine === seq) apply(res);
  } catch (err) {
    message('error', (err as Error).message);
  }
}

function apply(res: CompareWindowResult): void {
  lastKey = res.queryKey;
  list.setData({ total: res.total, offset: res.offset, rows: res.rows.map((r) => ({ ...r, id: keyOf(r.key) })) });
  setText(byId('cmp-count'), `${count(res.total)} problem(s)`);
  save();
}

function renderState(st: CompareState): void {
  const body = byId('cmp-runs-body');
  body.replaceChildren(
    ...(['a', 'b'] as const).map((k) => {
      const r = st[k];
      return h(
        'tr',
        { testid: `cmp-run-${k}` },
        h('th', { text: k.toUpperCase() }),
        h('td', { className: 'run-path', text: r.runDir }),
        h('td', { text: r.statusMessage ? `${r.status} — ${r.statusMessage}` : r.status }),
        h('td', { text: count(r.summary.traces) }),
        h('td', { text: pct(r.summary.withTraceSuccess) }),
        h('td', { text: pct(r.summary.noTraceSuccess) }),
        h('td', { text: signed(r.summary.meanUplift) }),
      );
    }),
  );
  setText(byId('cmp-deltas'), deltasLine(st));
  const bannerKey = JSON.stringify(st.config ?? null);
  if (bannerKey !== knownBanner) {
    knownBanner = bannerKey;
    byId('cmp-config').replaceChildren(...configBanner(st.config));
  }
  const msgs = byId('cmp-messages');
  msgs.replaceChildren();
  for (const k of ['a', 'b'] as const) {
    const r = st[k];
    if (r.status === 'missing') message('error', `Run ${k.toUpperCase()}: ${r.statusMessage ?? 'missing'}`);
    if (r.issues)
      message('warning', `Run ${k.toUpperCase()}: ${count(r.issues)} line(s) of events.jsonl could not be read and were skipped.`);
  }
  const tasks = st.tasks.join('\u0000');
  if (tasks !== knownTasks) {
    knownTasks = tasks;
    const sel = byId('cmp-task');
    const cur = query.task ?? '';
    sel.replaceChildren(
      ...[['', 'All tasks'] as [string, string], ...st.tasks.map((t): [string, string] => [t, t])].map(([v, t]) =>
        h('vscode-option', { attrs: { value: v } }, t),
      ),
    );
    (sel as unknown as { value: string }).value = cur;
  }
}

function queryChanged(): void {
  const v = (id: string) => (byId(id) as unknown as { value: string }).value;
  const next = CompareQuerySchema.safeParse({
    task: v('cmp-task') || null,
    presence: v('cmp-presence'),
    sort: v('cmp-sort'),
    dir: v('cmp-dir'),
  });
  if (!next.success || JSON.stringify(next.data) === JSON.stringify(query)) return;
  query = next.data;
  lastKey = null;
  list.resetPosition();
  list.refresh(true);
  save();
}
for (const id of ['cmp-task', 'cmp-presence', 'cmp-sort', 'cmp-dir']) byId(id).addEventListener('change', queryChanged);

const save = throttled(() => client.setState({ restore, ui: { query, list: list.state } } satisfies Persisted), 200);

client.on('init', (p) => {
  restore = p.restore;
  setTitle(p.title);
  setText(byId('cmp-title'), p.title);
  client.setState({ restore, ui: { query, list: list.state } } satisfies Persisted);
  list.refresh(true);
});
client.on('compareState', renderState);
client.on('window', (res) => {
  if (res.queryKey === lastKey) apply(res);
});
client.on('status', (s) => message(s.level, s.message));
client.ready();
