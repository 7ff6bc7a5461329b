/**
 * The live run view. Figures with their uncertainty, charts that fit the
 * run's kind (run/charts.ts), the per-kind table (run/summary.ts), filters,
 * and two virtualized tables the host fills window by window: the group
 * table (one row per group, its reference and the best negative's Δ,
 * expandable to its traces: run/groupRows.ts) and the sample table (one row
 * per trace: run/sampleRows.ts). The webview only ever holds the rows it
 * shows; everything from the run is rendered as text.
 */
import './common/errors';
import './common/litNonce';
import './common/elements';
import {
  GroupQuerySchema,
  RunQuerySchema,
  runViewProtocol,
  type GroupItem,
  type GroupQueryMsg,
  type GroupWindowResult,
  type Row,
  type RunQuery,
  type RunState,
  type WindowResult,
} from '../../src/webviewProtocol';
import { WebviewClient } from './common/bridge';
import { byId, h, setText, setTitle, throttled } from './common/dom';
import { count } from './common/format';
import { VirtualList, type ListViewState, type WindowRequest } from './common/virtualList';
import { renderCharts, renderTrainingCharts } from './run/charts';
import { checkedOf, markSorted, setValue, valueOf } from './run/controls';
import { createGroupItem, GROUP_ROW_HEIGHT, renderGroupItem } from './run/groupRows';
import { buildLayout, GROUP_ONLY, SAMPLE_ONLY, type TableMode } from './run/layout';
import { showMessage, clearMessage, renderMessages } from './run/messages';
import { createSampleRow, renderSampleRow, SAMPLE_ROW_HEIGHT } from './run/sampleRows';
import { adoptRunViewStyles } from './run/styles';
import { renderFigures, renderKinds } from './run/summary';

interface UiState {
  query: RunQuery;
  groupQuery?: GroupQueryMsg;
  /** The table shown, once the user (or a run with negatives) chose it. */
  mode?: TableMode;
  expanded?: number[];
  list?: Partial<ListViewState>;
  groupList?: Partial<ListViewState>;
}
interface Persisted {
  restore: unknown;
  ui?: UiState;
}

const MAX_EXPANDED = 200;

// ------------------------------------------------------------------ state

const client = new WebviewClient(runViewProtocol, (m) => showMessage('protocol', 'error', m));
const persisted = (client.getState() ?? null) as Persisted | null;
let restore: unknown = persisted?.restore ?? null;
const savedQuery = RunQuerySchema.safeParse(persisted?.ui?.query);
let query: RunQuery = savedQuery.success ? savedQuery.data : RunQuerySchema.parse({});
const savedGroupQuery = GroupQuerySchema.safeParse(persisted?.ui?.groupQuery);
let groupQuery: GroupQueryMsg = savedGroupQuery.success ? savedGroupQuery.data : GroupQuerySchema.parse({});
let mode: TableMode = persisted?.ui?.mode ?? 'samples';
let modeChosen = persisted?.ui?.mode !== undefined;
const expanded: number[] = (persisted?.ui?.expanded ?? []).filter((g) => Number.isInteger(g) && g >= 0).slice(0, MAX_EXPANDED);
let knownTasks: string[] = [];
let lastQueryKey: string | null = null;
let lastGroupQueryKey: string | null = null;
let requestSeq = 0;
let groupRequestSeq = 0;
let lastState: RunState | null = null;
let lastWindow: WindowResult | null = null;
let lastGroupWindow: GroupWindowResult | null = null;

adoptRunViewStyles();
const app = byId('app');
buildLayout(app, query, groupQuery, mode, (table, key) => sortBy(table, key));
app.removeAttribute('aria-busy');

// ------------------------------------------------------------------ tables

const list = new VirtualList<Row>({
  viewport: byId('list'),
  rowHeight: SAMPLE_ROW_HEIGHT,
  key: (r) => r.rowId,
  createRow: createSampleRow,
  renderRow: renderSampleRow,
  idPrefix: 'row-',
  requestWindow: (req) => void requestWindow(req),
  onActivate: (row) => openInspector(row.rowId),
  onSelectionChange: () => saveState(),
  onMarksChange: () => marksChanged(),
});
list.restore(persisted?.ui?.list);
list.setEmptyText('No samples yet.');

/** Group-table keys: groups 2·group+1, traces 2·rowId (the host's FlatGroupList). */
const isTraceKey = (key: number) => key % 2 === 0;
const groupList = new VirtualList<GroupItem>({
  viewport: byId('group-list'),
  rowHeight: GROUP_ROW_HEIGHT,
  key: (item) => item.key,
  createRow: createGroupItem,
  renderRow: renderGroupItem,
  idPrefix: 'item-',
  requestWindow: (req) => void requestGroupWindow(req),
  onActivate: (item) => (item.kind === 'group' ? toggleExpanded(item.group.group) : openInspector(item.row.rowId)),
  onSelectionChange: () => saveState(),
  onMarksChange: () => marksChanged(),
});
groupList.restore(persisted?.ui?.groupList);
groupList.setEmptyText('No groups yet.');

function openInspector(rowId: number): void {
  client.request('openInspector', { rowId }).catch((e: Error) => showMessage('action', 'error', e.message));
}

function toggleExpanded(group: number): void {
  const i = expanded.indexOf(group);
  if (i >= 0) expanded.splice(i, 1);
  else {
    expanded.push(group);
    if (expanded.length > MAX_EXPANDED) expanded.shift();
  }
  groupList.refresh(true);
  saveState();
}

/** Row ids of the two marked traces of the table shown (a marked group is not a trace). */
function markedRows(): number[] {
  return mode === 'samples' ? list.state.marked : groupList.state.marked.filter(isTraceKey).map((k) => k / 2);
}

function marksChanged(): void {
  const marked = markedRows();
  const b = byId('diff-marked');
  b.textContent = `Diff marked (${marked.length}/2)`;
  (b as unknown as { disabled: boolean }).disabled = marked.length !== 2;
  saveState();
}

async function requestWindow(req: WindowRequest): Promise<void> {
  if (mode !== 'samples') return;
  const seq = ++requestSeq;
  try {
    const res = await client.request('window', { query, ...req });
    if (seq !== requestSeq) return; // a newer request is on its way
    applyWindow(res);
  } catch (err) {
    showMessage('window', 'error', (err as Error).message);
  }
}

async function requestGroupWindow(req: WindowRequest): Promise<void> {
  if (mode !== 'groups') return;
  const seq = ++groupRequestSeq;
  try {
    const res = await client.request('groupWindow', { query: groupQuery, expanded, ...req });
    if (seq !== groupRequestSeq) return;
    applyGroupWindow(res);
  } catch (err) {
    showMessage('window', 'error', (err as Error).message);
  }
}

function applyWindow(res: WindowResult): void {
  lastQueryKey = res.queryKey;
  lastWindow = res;
  list.setData(res);
  renderCount();
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
    clearMessage('search');
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

function applyGroupWindow(res: GroupWindowResult): void {
  lastGroupQueryKey = res.queryKey;
  lastGroupWindow = res;
  groupList.setData(res);
  renderCount();
  groupList.setEmptyText((lastState?.summary.groups ?? 0) === 0 ? 'No groups yet.' : 'No groups match the filters.');
  saveState();
}

function renderCount(): void {
  if (mode === 'samples') {
    if (!lastWindow) return setText(byId('row-count'), '');
    const total = lastState?.summary.traces ?? lastWindow.total;
    setText(byId('row-count'), `${count(lastWindow.total)} of ${count(total)} samples`);
  } else {
    if (!lastGroupWindow) return setText(byId('row-count'), '');
    const total = lastState?.liveGroups ?? lastGroupWindow.groups;
    const traces = lastGroupWindow.total - lastGroupWindow.groups;
    setText(
      byId('row-count'),
      `${count(lastGroupWindow.groups)} of ${count(total)} groups${traces ? ` · ${count(traces)} traces expanded` : ''}`,
    );
  }
}

/** Shows one table (and its controls); the other stops asking for windows. */
function showMode(next: TableMode, refresh = true): void {
  mode = next;
  setValue(byId('view-mode'), next);
  const samples = next === 'samples';
  byId('list').hidden = !samples;
  byId('sample-columns').hidden = !samples;
  byId('group-list').hidden = samples;
  byId('group-columns').hidden = samples;
  for (const id of SAMPLE_ONLY) byId(id).hidden = !samples;
  for (const id of GROUP_ONLY) byId(id).hidden = samples;
  setValue(byId('sort-dir'), samples ? query.sort.dir : groupQuery.sort.dir);
  setText(
    byId('list-hint'),
    samples ? '↑↓ select · Enter inspect · Space mark · / search' : '↑↓ select · Enter expand / inspect · Space mark a trace',
  );
  markSorted(byId('sample-columns'), query.sort.key, query.sort.dir);
  markSorted(byId('group-columns'), groupQuery.sort.key, groupQuery.sort.dir);
  marksChanged();
  renderCount();
  if (refresh) (samples ? list : groupList).refresh(true);
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
  renderFigures(st);
  renderCharts(st);
  renderKinds(st.kinds);
  // One kind without a reference (training rollouts, a planner eval) says nothing the figures do not.
  byId('kinds-section').hidden = st.kinds.length === 0 || (st.kinds.length === 1 && st.kinds[0]!.delta.n === 0);
  byId('fig-beats').parentElement!.hidden = st.reference.withReference === 0;

  // A run with perturbed traces opens on the group table (its reference vs negatives), unless the user chose.
  if (!modeChosen && st.kinds.some((k) => k.delta.n > 0 && k.kind !== 'reference')) {
    modeChosen = true;
    if (mode !== 'groups') showMode('groups');
  }

  const tasks = st.tasks.map((t) => t.task);
  if (tasks.join('\u0000') !== knownTasks.join('\u0000')) {
    knownTasks = tasks;
    const sel = byId('filter-task');
    const current = query.filter.task ?? '';
    const opts: Array<[string, string]> = [['', 'All tasks'], ...tasks.map((t): [string, string] => [t, t])];
    if (current && !tasks.includes(current)) opts.push([current, current]);
    sel.replaceChildren(...opts.map(([v, text]) => h('vscode-option', { attrs: { value: v } }, text)));
    setValue(sel, current);
  }
  byId('filter-step').hidden = !st.isTraining;

  if (st.status === 'missing' || st.statusMessage)
    showMessage('status', st.status === 'missing' || st.status === 'failed' ? 'error' : 'info', st.statusMessage ?? '', undefined, false);
  else clearMessage('status', false);
  if (st.issues.count) {
    const last = st.issues.recent[st.issues.recent.length - 1];
    showMessage(
      'issues',
      'warning',
      `${count(st.issues.count)} line(s) of events.jsonl could not be read and were skipped${last ? ` — line ${last.line}: ${last.message}` : ''}`,
      st.issues.recent.map((i) => `line ${i.line}: ${i.message}`),
      false,
    );
  } else clearMessage('issues', false);
  if (st.errors.count) {
    const last = st.errors.recent[st.errors.recent.length - 1];
    showMessage(
      'errors',
      last?.fatal ? 'error' : 'warning',
      `${count(st.errors.count)} error event(s) in the run${last ? ` — ${last.where ? `${last.where}: ` : ''}${last.message}` : ''}`,
      st.errors.recent.map((e) => `${e.time} ${e.where ?? ''} ${e.problemId ?? ''} ${e.message}`.trim()),
      false,
    );
  } else clearMessage('errors', false);
  if (st.pendingBytes > 0 && st.status !== 'running' && st.status !== 'waiting')
    showMessage(
      'pending',
      'warning',
      `The last line of events.jsonl is incomplete (${count(st.pendingBytes)} bytes) and was not read.`,
      undefined,
      false,
    );
  else clearMessage('pending', false);
  renderMessages();
  renderCount();
}

// ------------------------------------------------------------------ controls

function parseBound(id: string): number | null | 'invalid' {
  const raw = valueOf(byId(id)).trim();
  if (!raw) return null;
  const n = Number(raw);
  return Number.isFinite(n) && n >= -1 && n <= 1 ? n : 'invalid';
}

function parseStep(): number | null | 'invalid' {
  const raw = valueOf(byId('filter-step')).trim();
  if (!raw) return null;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : 'invalid';
}

function readQueries(): { samples: RunQuery; groups: GroupQueryMsg } | null {
  const v = (id: string) => valueOf(byId(id));
  const c = (id: string) => checkedOf(byId(id));
  const min = parseBound('filter-min');
  const max = parseBound('filter-max');
  const step = parseStep();
  if (min === 'invalid' || max === 'invalid') {
    showMessage('bounds', 'error', 'Uplift bounds must be numbers between −1 and 1.');
    return null;
  }
  if (step === 'invalid') {
    showMessage('bounds', 'error', 'The step must be a whole number ≥ 0.');
    return null;
  }
  clearMessage('bounds');
  const dir = v('sort-dir');
  const samples = RunQuerySchema.safeParse({
    filter: {
      task: v('filter-task') || null,
      upliftSign: v('filter-sign'),
      upliftMin: min,
      upliftMax: max,
      success: v('filter-success'),
      errorsOnly: c('filter-errors'),
      step,
      beatsOnly: c('filter-beats'),
      search: v('filter-search'),
      caseSensitive: c('filter-case'),
    },
    sort: { key: v('sort-key'), dir: mode === 'samples' ? dir : query.sort.dir },
  });
  const groups = GroupQuerySchema.safeParse({
    filter: { task: v('filter-task') || null, step, beatsOnly: c('filter-beats'), errorsOnly: c('filter-errors') },
    sort: { key: v('group-sort'), dir: mode === 'groups' ? dir : groupQuery.sort.dir },
  });
  return samples.success && groups.success ? { samples: samples.data, groups: groups.data } : null;
}

let queryTimer: number | undefined;
function queryChanged(delay = 0): void {
  window.clearTimeout(queryTimer);
  queryTimer = window.setTimeout(() => {
    const next = readQueries();
    if (!next) return;
    if (JSON.stringify(next.samples) !== JSON.stringify(query)) {
      query = next.samples;
      lastQueryKey = null; // ignore pushes for the old query until the answer arrives
      list.resetPosition();
      if (mode === 'samples') list.refresh(true);
    }
    if (JSON.stringify(next.groups) !== JSON.stringify(groupQuery)) {
      groupQuery = next.groups;
      lastGroupQueryKey = null;
      groupList.resetPosition();
      if (mode === 'groups') groupList.refresh(true);
    }
    markSorted(byId('sample-columns'), query.sort.key, query.sort.dir);
    markSorted(byId('group-columns'), groupQuery.sort.key, groupQuery.sort.dir);
    saveState();
  }, delay);
}

/** A click on a column header: sort by it; a second click flips the direction. */
function sortBy(table: TableMode, key: string): void {
  const current = table === 'samples' ? query.sort : groupQuery.sort;
  const dir = current.key === key ? (current.dir === 'desc' ? 'asc' : 'desc') : 'desc';
  setValue(byId(table === 'samples' ? 'sort-key' : 'group-sort'), key);
  setValue(byId('sort-dir'), dir);
  queryChanged();
}

for (const id of [
  'filter-task',
  'filter-sign',
  'filter-success',
  'sort-key',
  'group-sort',
  'sort-dir',
  'filter-errors',
  'filter-case',
  'filter-beats',
])
  byId(id).addEventListener('change', () => queryChanged());
for (const id of ['filter-min', 'filter-max', 'filter-step']) byId(id).addEventListener('input', () => queryChanged(400));
byId('filter-search').addEventListener('input', () => queryChanged(300));
byId('view-mode').addEventListener('change', () => {
  const next = valueOf(byId('view-mode')) === 'groups' ? 'groups' : 'samples';
  modeChosen = true;
  if (next !== mode) showMode(next);
  saveState();
});
byId('diff-marked').addEventListener('click', () => {
  const marked = markedRows();
  if (marked.length !== 2) return;
  client.request('diffRows', { left: marked[0]!, right: marked[1]! }).catch((e: Error) => showMessage('action', 'error', e.message));
});
document.addEventListener('keydown', (e) => {
  const t = e.target as HTMLElement;
  if (e.key === '/' && mode === 'samples' && !/^(INPUT|TEXTAREA)$/.test(t.tagName) && !t.tagName.startsWith('VSCODE-TEXT')) {
    e.preventDefault();
    (byId('filter-search') as unknown as { focus(): void }).focus();
  }
});

const saveState = throttled(() => client.setState(persistedState()), 200);
function persistedState(): Persisted {
  return {
    restore,
    ui: { query, groupQuery, mode: modeChosen ? mode : undefined, expanded, list: list.state, groupList: groupList.state },
  };
}

// ------------------------------------------------------------------ host messages

client.on('init', (p) => {
  restore = p.restore;
  setTitle(p.title);
  client.setState(persistedState());
  (mode === 'samples' ? list : groupList).refresh(true);
});
client.on('runState', (st) => renderState(st));
client.on('window', (res) => {
  if (res.queryKey !== lastQueryKey || mode !== 'samples') return; // a push for a query this view no longer shows
  applyWindow(res);
});
client.on('groupWindow', (res) => {
  if (res.queryKey !== lastGroupQueryKey || mode !== 'groups') return;
  applyGroupWindow(res);
});
client.on('training', (t) => renderTrainingCharts(t));
client.on('status', (s) => showMessage('host', s.level, s.message));
showMode(mode, false);
client.ready();
