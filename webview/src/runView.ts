/**
 * The live rollout-group view. Summary header (status, with/no-trace
 * success, mean uplift, an uplift histogram, reward over time), filters and
 * sort, regex search over full traces (run by the host), and a virtualized
 * list of samples: the webview holds only the rows it shows and asks the
 * host for windows. Everything from the run is rendered as text.
 */
import './common/errors';
import './common/litNonce';
import './common/elements';
import { RunQuerySchema, runViewProtocol, type Row, type RunQuery, type RunState, type WindowResult } from '../../src/webviewProtocol';
import { WebviewClient } from './common/bridge';
import { histogram, histogramLabel, lineChart } from './common/charts';
import { byId, h, replace, setText, setTitle, shown, throttled } from './common/dom';
import { count, num, pct, signClass, signed } from './common/format';
import { VirtualList, type ListViewState, type WindowRequest } from './common/virtualList';

const ROW_HEIGHT = 52;

interface UiState {
  query: RunQuery;
  list?: Partial<ListViewState>;
}
interface Persisted {
  restore: unknown;
  ui?: UiState;
}

// ------------------------------------------------------------------ state

const client = new WebviewClient(runViewProtocol, (m) => showMessage('protocol', 'error', m));
const persisted = (client.getState() ?? null) as Persisted | null;
let restore: unknown = persisted?.restore ?? null;
const savedQuery = RunQuerySchema.safeParse(persisted?.ui?.query);
let query: RunQuery = savedQuery.success ? savedQuery.data : RunQuerySchema.parse({});
let knownTasks: string[] = [];
let lastQueryKey: string | null = null;
let requestSeq = 0;
let lastState: RunState | null = null;
const messages = new Map<string, { level: string; text: string; details?: string[] }>();

// ------------------------------------------------------------------ layout

function select(id: string, label: string, options: Array<[string, string]>, value: string): HTMLElement {
  const el = h('vscode-single-select', { id, testid: id, attrs: { 'aria-label': label, title: label } });
  for (const [v, text] of options) el.appendChild(h('vscode-option', { attrs: { value: v } }, text));
  (el as unknown as { value: string }).value = value;
  return el;
}

function field(id: string, label: string, placeholder: string, value: string, type = 'text'): HTMLElement {
  const el = h('vscode-textfield', { id, testid: id, attrs: { 'aria-label': label, placeholder, type } });
  (el as unknown as { value: string }).value = value;
  return el;
}

function checkbox(id: string, label: string, checked: boolean): HTMLElement {
  const el = h('vscode-checkbox', { id, testid: id, attrs: { label, 'aria-label': label } });
  (el as unknown as { checked: boolean }).checked = checked;
  return el;
}

const figure = (id: string, label: string) =>
  h(
    'div',
    { className: 'figure', testid: id },
    h('span', { className: 'figure-label', text: label }),
    h('span', { id, className: 'figure-value', text: '—' }),
  );

const app = byId('app');
const q = query.filter;
replace(
  app,
  h(
    'header',
    { id: 'summary', className: 'summary', attrs: { 'aria-label': 'Run summary' } },
    h(
      'div',
      { className: 'status-line' },
      h('span', { id: 'run-status', testid: 'run-status', className: 'status-badge', role: 'status', text: 'connecting…' }),
      h('span', { id: 'run-title', testid: 'run-title', className: 'run-title' }),
      h('span', { id: 'run-path', testid: 'run-path', className: 'run-path' }),
    ),
    h(
      'div',
      { className: 'summary-body' },
      h(
        'div',
        { className: 'figures', id: 'summary-figures', testid: 'summary-figures' },
        figure('fig-groups', 'groups'),
        figure('fig-traces', 'traces'),
        figure('fig-with', 'with-trace success'),
        figure('fig-without', 'no-trace success'),
        figure('fig-uplift', 'mean uplift'),
        figure('fig-reward', 'mean reward'),
        figure('fig-posneg', 'uplift > 0 / < 0'),
        figure('fig-failed', 'failed calls'),
      ),
      h(
        'figure',
        {
          id: 'uplift-histogram',
          testid: 'uplift-histogram',
          className: 'chart-box',
          role: 'img',
          attrs: { 'aria-label': 'Uplift histogram' },
        },
        h('figcaption', { text: 'uplift histogram' }),
      ),
      h(
        'figure',
        {
          id: 'reward-chart',
          testid: 'reward-chart',
          className: 'chart-box',
          role: 'img',
          attrs: { 'aria-label': 'Mean reward over time' },
        },
        h('figcaption', { text: 'reward over time' }),
      ),
    ),
  ),
  h('div', { id: 'messages', testid: 'messages', className: 'messages', attrs: { 'aria-live': 'polite' } }),
  h(
    'div',
    { id: 'filters', className: 'filters', role: 'toolbar', attrs: { 'aria-label': 'Filters and sort' } },
    select('filter-task', 'Task', [['', 'All tasks']], q.task ?? ''),
    select(
      'filter-sign',
      'Uplift sign',
      [
        ['any', 'Any uplift'],
        ['positive', 'Uplift > 0'],
        ['negative', 'Uplift < 0'],
        ['zero', 'Uplift = 0'],
        ['unknown', 'Uplift unknown'],
      ],
      q.upliftSign,
    ),
    field('filter-min', 'Minimum uplift', 'min uplift', q.upliftMin === null ? '' : String(q.upliftMin), 'number'),
    field('filter-max', 'Maximum uplift', 'max uplift', q.upliftMax === null ? '' : String(q.upliftMax), 'number'),
    select(
      'filter-success',
      'Success',
      [
        ['any', 'Any outcome'],
        ['success', 'Succeeded'],
        ['failure', 'Failed'],
      ],
      q.success,
    ),
    checkbox('filter-errors', 'Errors only', q.errorsOnly),
    h(
      'span',
      { className: 'search-box' },
      field('filter-search', 'Regular expression searched in traces', 'regex over traces ( / )', q.search),
      checkbox('filter-case', 'Match case', q.caseSensitive),
    ),
    select(
      'sort-key',
      'Sort by',
      [
        ['arrival', 'Arrival'],
        ['uplift', 'Uplift'],
        ['reward', 'Reward'],
        ['baseline', 'Baseline rate'],
        ['withRate', 'With-trace rate'],
      ],
      query.sort.key,
    ),
    select(
      'sort-dir',
      'Sort direction',
      [
        ['desc', 'Descending'],
        ['asc', 'Ascending'],
      ],
      query.sort.dir,
    ),
    h(
      'vscode-button',
      {
        id: 'diff-marked',
        testid: 'diff-marked',
        attrs: { secondary: true, disabled: true, title: 'Mark two rows with Space or Ctrl+click' },
      },
      'Diff marked (0/2)',
    ),
  ),
  h(
    'div',
    { className: 'list-header' },
    h('span', { id: 'row-count', testid: 'row-count', role: 'status', text: '' }),
    h('span', { id: 'search-status', testid: 'search-status', className: 'search-status', role: 'status' }),
    h('span', { className: 'hint', text: '↑↓ select · Enter inspect · Space mark · / search' }),
  ),
  h('div', { id: 'list', testid: 'run-list', role: 'listbox', attrs: { 'aria-label': 'Samples' } }),
);
app.removeAttribute('aria-busy');

// ------------------------------------------------------------------ rows

interface RowRefs {
  problem: HTMLElement;
  sample: HTMLElement;
  task: HTMLElement;
  flags: HTMLElement;
  kK: HTMLElement;
  baseline: HTMLElement;
  uplift: HTMLElement;
  reward: HTMLElement;
  preview: HTMLElement;
}
const refs = new WeakMap<HTMLElement, RowRefs>();

function createRow(): HTMLElement {
  const r: RowRefs = {
    problem: h('span', { className: 'c-problem', dataset: { field: 'problem' } }),
    sample: h('span', { className: 'c-sample', dataset: { field: 'sample' } }),
    task: h('span', { className: 'c-task', dataset: { field: 'task' } }),
    flags: h('span', { className: 'c-flags', dataset: { field: 'flags' } }),
    kK: h('span', { className: 'c-num', dataset: { field: 'kK' } }),
    baseline: h('span', { className: 'c-num', dataset: { field: 'baseline' } }),
    uplift: h('span', { className: 'c-num c-uplift', dataset: { field: 'uplift' } }),
    reward: h('span', { className: 'c-num', dataset: { field: 'reward' } }),
    preview: h('div', { className: 'c-preview', dataset: { field: 'preview' } }),
  };
  const el = h(
    'div',
    { className: 'row', role: 'option', testid: 'run-row' },
    h(
      'div',
      { className: 'row-line' },
      r.problem,
      r.sample,
      r.task,
      r.flags,
      h('span', { className: 'spacer' }),
      r.kK,
      r.baseline,
      r.uplift,
      r.reward,
    ),
    r.preview,
  );
  refs.set(el, r);
  return el;
}

function renderRow(el: HTMLElement, row: Row): void {
  const r = refs.get(el)!;
  setText(r.problem, row.problemId);
  setText(r.sample, row.label ? `${row.sampleId} · ${row.label}` : row.sampleId);
  setText(r.task, row.step !== null ? `${row.task} · step ${row.step}` : row.task);
  // 'hidden-text' comes from the host's index, which checks every text of the row once.
  const flags = row.flags;
  const flagText = flags.join(' ');
  if (r.flags.dataset.value !== flagText) {
    r.flags.dataset.value = flagText;
    r.flags.replaceChildren(
      ...flags.map((f) =>
        h('span', {
          className: `flag flag-${f}`,
          text: f === 'hidden-text' ? '⚠ hidden characters' : f,
          title: f === 'hidden-text' ? 'Invisible or reordering characters, shown as ⟨U+…⟩' : undefined,
        }),
      ),
    );
  }
  setText(r.kK, `k/K ${row.k}/${row.K}${row.failed ? ` (+${row.failed} failed)` : ''}`);
  setText(r.baseline, `base ${row.baselineSuccesses}/${row.baselineValid} = ${num(row.baselineRate, 2)}`);
  setText(r.uplift, `uplift ${signed(row.uplift)}`);
  r.uplift.dataset.sign = signClass(row.uplift);
  setText(r.reward, `reward ${num(row.reward)}`);
  setText(r.preview, row.preview);
  el.setAttribute(
    'aria-label',
    shown(`${row.problemId} ${row.sampleId}: uplift ${signed(row.uplift)}, reward ${num(row.reward)}, k/K ${row.k}/${row.K}`),
  );
}

const list = new VirtualList<Row>({
  viewport: byId('list'),
  rowHeight: ROW_HEIGHT,
  key: (r) => r.rowId,
  createRow,
  renderRow,
  idPrefix: 'row-',
  requestWindow: (req) => void requestWindow(req),
  onActivate: (row) =>
    void client.request('openInspector', { rowId: row.rowId }).catch((e: Error) => showMessage('action', 'error', e.message)),
  onSelectionChange: () => saveState(),
  onMarksChange: (marked) => {
    const b = byId('diff-marked');
    b.textContent = `Diff marked (${marked.length}/2)`;
    (b as unknown as { disabled: boolean }).disabled = marked.length !== 2;
    saveState();
  },
});
list.restore(persisted?.ui?.list);
list.setEmptyText('No samples yet.');

async function requestWindow(req: WindowRequest): Promise<void> {
  const seq = ++requestSeq;
  try {
    const res = await client.request('window', { query, ...req });
    if (seq !== requestSeq) return; // a newer request is on its way
    applyWindow(res);
  } catch (err) {
    showMessage('window', 'error', (err as Error).message);
  }
}

function applyWindow(res: WindowResult): void {
  lastQueryKey = res.queryKey;
  list.setData(res);
  const total = lastState?.summary.traces ?? res.total;
  setText(byId('row-count'), `${count(res.total)} of ${count(total)} samples`);
  const s = res.search;
  const status = byId('search-status');
  const searchField = byId('filter-search') as unknown as { invalid: boolean };
  searchField.invalid = s.state === 'invalid';
  if (s.state === 'invalid') {
    setText(status, s.message ?? 'invalid search');
    status.dataset.state = 'invalid';
    showMessage('search', 'error', s.message ?? 'invalid regular expression');
  } else if (s.state === 'timeout') {
    // The host stopped the search's thread; the rows matched before it stopped stay listed.
    setText(status, `${s.message ?? 'search timed out'} — ${count(s.scanned)}/${count(s.total)} searched`);
    status.dataset.state = 'timeout';
    showMessage(
      'search',
      'warning',
      `${s.message ?? 'search timed out'}. Matches among the first ${count(s.scanned)} of ${count(s.total)} traces are listed; simplify the pattern to search them all.`,
    );
  } else {
    messages.delete('search');
    renderMessages();
    status.dataset.state = s.state;
    setText(
      status,
      s.state === 'scanning' ? `searching traces… ${count(s.scanned)}/${count(s.total)}` : s.state === 'done' ? 'search complete' : '',
    );
  }
  list.setEmptyText(
    s.state === 'invalid'
      ? 'Fix the regular expression to see samples.'
      : (lastState?.summary.traces ?? 0) === 0
        ? 'No samples yet.'
        : 'No samples match the filters.',
  );
  saveState();
}

// ------------------------------------------------------------------ header

function renderState(st: RunState): void {
  lastState = st;
  const badge = byId('run-status');
  badge.dataset.status = st.status;
  setText(
    badge,
    st.status === 'running' ? '● live' : st.status === 'waiting' ? '○ waiting' : st.status === 'missing' ? '✕ missing' : st.status,
  );
  setText(byId('run-title'), st.runId ? `${st.runId}${st.runKind ? ` (${st.runKind})` : ''}` : '');
  setText(byId('run-path'), st.runDir);
  const f = st.summary;
  setText(byId('fig-groups'), count(f.groups));
  setText(byId('fig-traces'), count(f.traces));
  setText(byId('fig-with'), pct(f.withTraceSuccess));
  setText(byId('fig-without'), pct(f.noTraceSuccess));
  setText(byId('fig-uplift'), signed(f.meanUplift));
  byId('fig-uplift').dataset.sign = signClass(f.meanUplift);
  setText(byId('fig-reward'), num(f.meanReward));
  setText(byId('fig-posneg'), `${count(f.positiveUplift)} / ${count(f.negativeUplift)}`);
  setText(byId('fig-failed'), count(f.failedCalls));

  const hist = byId('uplift-histogram');
  hist.setAttribute('aria-label', histogramLabel(st.histogram.bins, st.histogram.unknown));
  hist.querySelector('svg')?.remove();
  hist.insertBefore(histogram(st.histogram.bins, st.histogram.unknown), hist.firstChild);
  const chart = byId('reward-chart');
  const pts = st.rewardSeries.points;
  chart.setAttribute(
    'aria-label',
    pts.length
      ? `Mean reward over ${st.rewardSeries.xLabel}s: from ${num(pts[0]!.y, 2)} to ${num(pts[pts.length - 1]!.y, 2)}`
      : 'No rewards yet',
  );
  chart.querySelector('svg')?.remove();
  chart.insertBefore(lineChart(pts, st.rewardSeries.xLabel), chart.firstChild);

  const tasks = st.tasks.map((t) => t.task);
  if (tasks.join('\u0000') !== knownTasks.join('\u0000')) {
    knownTasks = tasks;
    const sel = byId('filter-task');
    const current = query.filter.task ?? '';
    const opts: Array<[string, string]> = [['', 'All tasks'], ...tasks.map((t): [string, string] => [t, t])];
    if (current && !tasks.includes(current)) opts.push([current, current]);
    sel.replaceChildren(...opts.map(([v, text]) => h('vscode-option', { attrs: { value: v } }, text)));
    (sel as unknown as { value: string }).value = current;
  }

  if (st.status === 'missing' || st.statusMessage)
    showMessage('status', st.status === 'missing' || st.status === 'failed' ? 'error' : 'info', st.statusMessage ?? '');
  else messages.delete('status');
  if (st.issues.count) {
    const last = st.issues.recent[st.issues.recent.length - 1];
    showMessage(
      'issues',
      'warning',
      `${count(st.issues.count)} line(s) of events.jsonl could not be read and were skipped${last ? ` — line ${last.line}: ${last.message}` : ''}`,
      st.issues.recent.map((i) => `line ${i.line}: ${i.message}`),
    );
  } else messages.delete('issues');
  if (st.errors.count) {
    const last = st.errors.recent[st.errors.recent.length - 1];
    showMessage(
      'errors',
      last?.fatal ? 'error' : 'warning',
      `${count(st.errors.count)} error event(s) in the run${last ? ` — ${last.where ? `${last.where}: ` : ''}${last.message}` : ''}`,
      st.errors.recent.map((e) => `${e.time} ${e.where ?? ''} ${e.problemId ?? ''} ${e.message}`.trim()),
    );
  } else messages.delete('errors');
  if (st.pendingBytes > 0 && st.status !== 'running' && st.status !== 'waiting')
    showMessage('pending', 'warning', `The last line of events.jsonl is incomplete (${count(st.pendingBytes)} bytes) and was not read.`);
  else messages.delete('pending');
  renderMessages();
}

function showMessage(key: string, level: 'info' | 'warning' | 'error', text: string, details?: string[]): void {
  messages.set(key, { level, text, details });
  renderMessages();
}

function renderMessages(): void {
  const box = byId('messages');
  box.replaceChildren(
    ...[...messages.entries()].map(([key, m]) => {
      const p = h(
        'div',
        { className: `message ${m.level}`, testid: `message-${key}`, role: m.level === 'error' ? 'alert' : undefined },
        m.text,
      );
      if (m.details && m.details.length > 1) {
        p.appendChild(
          h('details', {}, h('summary', { text: `show ${m.details.length}` }), h('ul', {}, ...m.details.map((d) => h('li', { text: d })))),
        );
      }
      return p;
    }),
  );
}

// ------------------------------------------------------------------ controls

function parseBound(id: string): number | null | 'invalid' {
  const raw = ((byId(id) as unknown as { value: string }).value ?? '').trim();
  if (!raw) return null;
  const n = Number(raw);
  return Number.isFinite(n) && n >= -1 && n <= 1 ? n : 'invalid';
}

function readQuery(): RunQuery | null {
  const v = (id: string) => (byId(id) as unknown as { value: string }).value;
  const c = (id: string) => (byId(id) as unknown as { checked: boolean }).checked;
  const min = parseBound('filter-min');
  const max = parseBound('filter-max');
  if (min === 'invalid' || max === 'invalid') {
    showMessage('bounds', 'error', 'Uplift bounds must be numbers between −1 and 1.');
    return null;
  }
  messages.delete('bounds');
  renderMessages();
  const parsed = RunQuerySchema.safeParse({
    filter: {
      task: v('filter-task') || null,
      upliftSign: v('filter-sign'),
      upliftMin: min,
      upliftMax: max,
      success: v('filter-success'),
      errorsOnly: c('filter-errors'),
      search: v('filter-search'),
      caseSensitive: c('filter-case'),
    },
    sort: { key: v('sort-key'), dir: v('sort-dir') },
  });
  return parsed.success ? parsed.data : null;
}

let queryTimer: number | undefined;
function queryChanged(delay = 0): void {
  window.clearTimeout(queryTimer);
  queryTimer = window.setTimeout(() => {
    const next = readQuery();
    if (!next || JSON.stringify(next) === JSON.stringify(query)) return;
    query = next;
    lastQueryKey = null; // ignore pushes for the old query until the answer arrives
    list.resetPosition();
    list.refresh(true);
    saveState();
  }, delay);
}

for (const id of ['filter-task', 'filter-sign', 'filter-success', 'sort-key', 'sort-dir', 'filter-errors', 'filter-case'])
  byId(id).addEventListener('change', () => queryChanged());
for (const id of ['filter-min', 'filter-max']) byId(id).addEventListener('input', () => queryChanged(400));
byId('filter-search').addEventListener('input', () => queryChanged(300));
byId('diff-marked').addEventListener('click', () => {
  const marked = list.state.marked;
  if (marked.length !== 2) return;
  client.request('diffRows', { left: marked[0]!, right: marked[1]! }).catch((e: Error) => showMessage('action', 'error', e.message));
});
document.addEventListener('keydown', (e) => {
  const t = e.target as HTMLElement;
  if (e.key === '/' && !/^(INPUT|TEXTAREA)$/.test(t.tagName) && !t.tagName.startsWith('VSCODE-TEXT')) {
    e.preventDefault();
    (byId('filter-search') as unknown as { focus(): void }).focus();
  }
});

const saveState = throttled(() => client.setState({ restore, ui: { query, list: list.state } } satisfies Persisted), 200);

// ------------------------------------------------------------------ host messages

client.on('init', (p) => {
  restore = p.restore;
  setTitle(p.title);
  client.setState({ restore, ui: { query, list: list.state } } satisfies Persisted);
  list.refresh(true);
});
client.on('runState', (st) => renderState(st));
client.on('window', (res) => {
  if (res.queryKey !== lastQueryKey) return; // a push for a query this view no longer shows
  applyWindow(res);
});
client.on('status', (s) => showMessage('host', s.level, s.message));
client.ready();
