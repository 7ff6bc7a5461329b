/** The run view's filter controls (vscode-elements), built with text only. */
import { h } from '../common/dom';

export function select(id: string, label: string, options: Array<[string, string]>, value: string): HTMLElement {
  const el = h('vscode-single-select', { id, testid: id, attrs: { 'aria-label': label, title: label } });
  for (const [v, text] of options) el.appendChild(h('vscode-option', { attrs: { value: v } }, text));
  (el as unknown as { value: string }).value = value;
  return el;
}

export function field(id: string, label: string, placeholder: string, value: string, type = 'text'): HTMLElement {
  const el = h('vscode-textfield', { id, testid: id, attrs: { 'aria-label': label, placeholder, type } });
  (el as unknown as { value: string }).value = value;
  return el;
}

export function checkbox(id: string, label: string, checked: boolean): HTMLElement {
  const el = h('vscode-checkbox', { id, testid: id, attrs: { label, 'aria-label': label } });
  (el as unknown as { checked: boolean }).checked = checked;
  return el;
}

export const valueOf = (el: HTMLElement): string => (el as unknown as { value: string }).value ?? '';
export const checkedOf = (el: HTMLElement): boolean => (el as unknown as { checked: boolean }).checked;
export function setValue(el: HTMLElement, value: string): void {
  (el as unknown as { value: string }).value = value;
}

/** Sortable column headers: clicking one (or Enter on it) picks its sort key; the current one shows its direction. */
export function columnHeader(
  id: string,
  gridClass: string,
  columns: Array<{ label: string; sort?: string; title?: string }>,
  onSort: (key: string) => void,
): HTMLElement {
  const row = h('div', { id, testid: id, className: `col-head ${gridClass}`, role: 'row' });
  for (const c of columns) {
    const cell = h('span', {
      role: 'columnheader',
      text: c.label,
      title: c.title ?? (c.sort ? `Sort by ${c.label}` : undefined),
      tabIndex: c.sort ? 0 : undefined,
      dataset: { sort: c.sort },
    });
    if (c.sort) {
      const key = c.sort;
      cell.addEventListener('click', () => onSort(key));
      cell.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          onSort(key);
        }
      });
    }
    row.appendChild(cell);
  }
  return row;
}

/** Marks the header of the current sort key with aria-sort. */
export function markSorted(header: HTMLElement, key: string, dir: 'asc' | 'desc'): void {
  for (const cell of header.querySelectorAll<HTMLElement>('[data-sort]')) {
    if (cell.dataset.sort === key) cell.setAttribute('aria-sort', dir === 'asc' ? 'ascending' : 'descending');
    else cell.removeAttribute('aria-sort');
  }
}
