/**
 * The run view's page: status line, figures (each mean with its interval),
 * charts that fit the run kind, the per-kind table, messages, filters, and
 * the two tables — groups (one row per group, expandable) and samples (one
 * row per trace) — each with sortable column headers. Built once, with text
 * only; the ids are the DOM reference of docs/webviews.md.
 */
import type { GroupQueryMsg, RunQuery } from '../../../src/webviewProtocol';
import { h, replace } from '../common/dom';
import { chartsSection } from './charts';
import { checkbox, columnHeader, field, select } from './controls';
import { GROUP_COLUMNS } from './groupRows';
import { SAMPLE_COLUMNS } from './sampleRows';
import { figure, kindTable } from './summary';

export type TableMode = 'samples' | 'groups';

export function buildLayout(
  app: HTMLElement,
  query: RunQuery,
  groupQuery: GroupQueryMsg,
  mode: TableMode,
  onSort: (table: TableMode, key: string) => void,
): void {
  const q = query.filter;
  const step = q.step ?? groupQuery.filter.step;
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
          figure('fig-beats', 'negatives above reference'),
          figure('fig-step', 'training step'),
        ),
      ),
      h(
        'div',
        { className: 'run-sections' },
        h('details', { id: 'charts-section', attrs: { open: true } }, h('summary', { text: 'charts' }), chartsSection()),
        h(
          'details',
          { id: 'kinds-section', testid: 'kinds-section', attrs: { open: true } },
          h('summary', { text: 'per trace kind' }),
          kindTable(),
        ),
      ),
    ),
    h('div', { id: 'messages', testid: 'messages', className: 'messages', attrs: { 'aria-live': 'polite' } }),
    h(
      'div',
      { id: 'filters', className: 'filters', role: 'toolbar', attrs: { 'aria-label': 'Filters and sort' } },
      select(
        'view-mode',
        'Table',
        [
          ['groups', 'Groups'],
          ['samples', 'Samples'],
        ],
        mode,
      ),
      select('filter-task', 'Task', [['', 'All tasks']], q.task ?? ''),
      field('filter-step', 'Training step', 'step', step === null ? '' : String(step), 'number'),
      checkbox('filter-beats', 'Negative beats reference', q.beatsOnly || groupQuery.filter.beatsOnly),
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
        { className: 'search-box', id: 'search-box' },
        field('filter-search', 'Regular expression searched in traces', 'regex over traces ( / )', q.search),
        checkbox('filter-case', 'Match case', q.caseSensitive),
      ),
      select(
        'sort-key',
        'Sort samples by',
        [
          ['arrival', 'Arrival'],
          ['uplift', 'Uplift'],
          ['delta', 'Δ vs reference'],
          ['reward', 'Reward'],
          ['rm', 'RM score'],
          ['baseline', 'Baseline rate'],
          ['withRate', 'With-trace rate'],
        ],
        query.sort.key,
      ),
      select(
        'group-sort',
        'Sort groups by',
        [
          ['arrival', 'Arrival (newest step first)'],
          ['delta', 'Best negative Δ vs reference'],
          ['beats', 'Negatives above reference'],
          ['reference', 'Reference uplift'],
          ['uplift', 'Mean uplift'],
          ['reward', 'Mean reward'],
        ],
        groupQuery.sort.key,
      ),
      select(
        'sort-dir',
        'Sort direction',
        [
          ['desc', 'Descending'],
          ['asc', 'Ascending'],
        ],
        mode === 'groups' ? groupQuery.sort.dir : query.sort.dir,
      ),
      h(
        'vscode-button',
        {
          id: 'diff-marked',
          testid: 'diff-marked',
          attrs: { secondary: true, disabled: true, title: 'Mark two traces with Space or Ctrl+click' },
        },
        'Diff marked (0/2)',
      ),
    ),
    h(
      'div',
      { className: 'list-header' },
      h('span', { id: 'row-count', testid: 'row-count', role: 'status', text: '' }),
      h('span', { id: 'search-status', testid: 'search-status', className: 'search-status', role: 'status' }),
      h('span', { id: 'list-hint', className: 'hint', text: '↑↓ select · Enter inspect · Space mark · / search' }),
    ),
    // The sample table first: it was the only one, and `[data-testid=list-empty]` still finds its message first.
    columnHeader('sample-columns', 'sample-grid', SAMPLE_COLUMNS, (key) => onSort('samples', key)),
    h('div', { id: 'list', testid: 'run-list', role: 'listbox', attrs: { 'aria-label': 'Samples' } }),
    columnHeader('group-columns', 'group-grid', GROUP_COLUMNS, (key) => onSort('groups', key)),
    h('div', { id: 'group-list', testid: 'group-list', role: 'listbox', attrs: { 'aria-label': 'Groups' } }),
  );
}

/** Sample-only controls, hidden in the group table. */
export const SAMPLE_ONLY = ['filter-sign', 'filter-min', 'filter-max', 'filter-success', 'search-box', 'sort-key', 'search-status'];
export const GROUP_ONLY = ['group-sort'];
