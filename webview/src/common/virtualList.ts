/**
 * A virtualized, keyboard-navigable list of fixed-height rows. The webview
 * holds only the window of rows it shows (plus a small overscan): it asks
 * the host for `(offset, count)` windows as the user scrolls, and the host
 * pushes the same window again when the data changes. Rows the user looks at
 * stay in place when rows arrive above them (anchor), and the list follows
 * the top or bottom when the user is there.
 *
 * Keyboard: ↑/↓, PageUp/PageDown, Home/End move the selection; Enter (or a
 * click) activates; Space toggles a mark (the run view diffs two marked rows).
 */

export interface WindowData<R> {
  total: number;
  offset: number;
  rows: R[];
  anchorIndex?: number | null;
}

export type Follow = 'none' | 'top' | 'bottom';

export interface WindowRequest {
  offset: number;
  count: number;
  anchor: { rowId: number; index: number } | null;
  follow: Follow;
}

export interface VirtualListOptions<R> {
  /** The scrolling element; gets role, tabindex and aria-activedescendant. */
  viewport: HTMLElement;
  rowHeight: number;
  overscan?: number;
  key(row: R): number;
  /** Builds an empty row element (reused for many rows). */
  createRow(): HTMLElement;
  /** Fills a row element for a row (text only). */
  renderRow(el: HTMLElement, row: R, index: number): void;
  requestWindow(req: WindowRequest): void;
  onActivate(row: R, index: number): void;
  onSelectionChange?(row: R | null, index: number): void;
  onMarksChange?(marked: number[]): void;
  /** Row element id prefix (ids are `${prefix}${key}`). */
  idPrefix: string;
}

export interface ListViewState {
  anchor: { rowId: number; index: number; pixel: number } | null;
  selectedKey: number | null;
  selectedIndex: number;
  marked: number[];
}

export class VirtualList<R> {
  private readonly spacer: HTMLElement;
  private readonly pool: HTMLElement[] = [];
  private data: WindowData<R> = { total: 0, offset: 0, rows: [] };
  private selectedIndex = -1;
  private selectedKey: number | null = null;
  private marked: number[] = [];
  private anchor: { rowId: number; index: number; pixel: number } | null = null;
  private lastRequest = '';
  private scrollQueued = false;
  private readonly overscan: number;
  /** Set by restore(): scroll to this anchor once data arrives. */
  private restoring = false;
  private emptyText = '';
  private readonly empty: HTMLElement;

  constructor(private readonly o: VirtualListOptions<R>) {
    this.overscan = o.overscan ?? 8;
    const vp = o.viewport;
    vp.tabIndex = 0;
    vp.classList.add('vlist');
    this.spacer = document.createElement('div');
    this.spacer.className = 'vlist-spacer';
    this.empty = document.createElement('div');
    this.empty.className = 'vlist-empty';
    this.empty.setAttribute('data-testid', 'list-empty');
    vp.replaceChildren(this.spacer, this.empty);
    vp.addEventListener('scroll', () => {
      if (this.scrollQueued) return;
      this.scrollQueued = true;
      requestAnimationFrame(() => {
        this.scrollQueued = false;
        this.onScroll();
      });
    });
    vp.addEventListener('keydown', (e) => this.onKey(e));
    vp.addEventListener('click', (e) => {
      const rowEl = (e.target as HTMLElement).closest<HTMLElement>('[data-index]');
      if (!rowEl) return;
      const index = Number(rowEl.dataset.index);
      if (e.ctrlKey || e.metaKey || e.altKey) {
        this.select(index, false);
        this.toggleMark();
        return;
      }
      this.select(index, false);
      const row = this.rowAt(index);
      if (row) o.onActivate(row, index);
    });
    new ResizeObserver(() => this.onScroll()).observe(vp);
  }

  get state(): ListViewState {
    return { anchor: this.anchor, selectedKey: this.selectedKey, selectedIndex: this.selectedIndex, marked: [...this.marked] };
  }

  get total(): number {
    return this.data.total;
  }

  /** Visible rows (the viewport), for the window size. */
  get visibleCount(): number {
    return Math.max(1, Math.ceil(this.o.viewport.clientHeight / this.o.rowHeight));
  }

  restore(s: Partial<ListViewState> | undefined): void {
    if (!s) return;
    this.anchor = s.anchor ?? null;
    this.selectedKey = s.selectedKey ?? null;
    this.selectedIndex = s.selectedIndex ?? -1;
    this.marked = s.marked ?? [];
    this.restoring = this.anchor !== null;
  }

  /** A new query: show the selected row if it is still listed, else the top. */
  resetPosition(): void {
    this.o.viewport.scrollTop = 0;
    this.lastRequest = '';
    this.data = { total: this.data.total, offset: 0, rows: [] };
    if (this.selectedKey !== null) {
      this.anchor = { rowId: this.selectedKey, index: 0, pixel: 0 };
      this.restoring = true;
    } else {
      this.anchor = null;
      this.restoring = false;
    }
    this.selectedIndex = -1;
  }

  setEmptyText(text: string): void {
    this.emptyText = text;
    this.renderEmpty();
  }

  /** The current window request (what the list needs now). */
  currentRequest(): WindowRequest {
    const vp = this.o.viewport;
    const rh = this.o.rowHeight;
    if (this.restoring && this.anchor) {
      const first = this.anchor.index;
      return {
        offset: Math.max(0, first - this.overscan),
        count: this.visibleCount + 2 * this.overscan,
        anchor: { rowId: this.anchor.rowId, index: first },
        follow: 'none',
      };
    }
    const first = Math.floor(vp.scrollTop / rh);
    const offset = Math.max(0, first - this.overscan);
    const count = this.visibleCount + 2 * this.overscan;
    const atTop = vp.scrollTop <= 1;
    const atBottom = this.data.total > this.visibleCount && vp.scrollTop + vp.clientHeight >= vp.scrollHeight - 2;
    const firstRow = this.rowAt(first);
    const anchor = firstRow ? { rowId: this.o.key(firstRow), index: first } : null;
    this.anchor = anchor ? { ...anchor, pixel: vp.scrollTop - first * rh } : this.anchor;
    return { offset, count, anchor, follow: atTop ? 'top' : atBottom ? 'bottom' : 'none' };
  }

  /** Asks for the window the viewport needs (skips a request identical to the last). */
  refresh(force = false): void {
    const req = this.currentRequest();
    const key = JSON.stringify(req);
    if (!force && key === this.lastRequest) return;
    this.lastRequest = key;
    this.o.requestWindow(req);
  }

  /** New data from the host (an answer or a push). */
  setData(d: WindowData<R>): void {
    const vp = this.o.viewport;
    const rh = this.o.rowHeight;
    this.data = d;
    this.spacer.style.height = `${d.total * rh}px`;
    // Keep what the user looks at in place when rows arrive above it.
    // (relative to the current scroll position: the user may have scrolled since asking).
    if (d.anchorIndex !== null && d.anchorIndex !== undefined && this.anchor) {
      if (this.restoring) vp.scrollTop = d.anchorIndex * rh + this.anchor.pixel;
      else if (d.anchorIndex !== this.anchor.index) vp.scrollTop += (d.anchorIndex - this.anchor.index) * rh;
      this.anchor = { ...this.anchor, index: d.anchorIndex };
    }
    this.restoring = false;
    if (this.selectedKey !== null) {
      const i = d.rows.findIndex((r) => this.o.key(r) === this.selectedKey);
      if (i >= 0) this.selectedIndex = d.offset + i;
    } else if (this.selectedIndex >= 0) {
      const row = this.rowAt(this.selectedIndex);
      if (row) this.selectedKey = this.o.key(row);
    }
    if (this.selectedIndex >= d.total) this.selectedIndex = d.total - 1;
    this.render();
    // The host may have answered an older scroll position: ask again if the viewport is not covered.
    const first = Math.floor(vp.scrollTop / rh);
    const last = Math.min(d.total, first + this.visibleCount);
    if (d.total > 0 && (first < d.offset || last > d.offset + d.rows.length)) this.refresh();
  }

  rowAt(index: number): R | undefined {
    return this.data.rows[index - this.data.offset];
  }

  private onScroll(): void {
    this.render();
    this.refresh();
  }

  private render(): void {
    const { rows, offset } = this.data;
    const rh = this.o.rowHeight;
    while (this.pool.length < rows.length) {
      const el = this.o.createRow();
      el.classList.add('vrow');
      el.style.height = `${rh}px`;
      this.pool.push(el);
      this.o.viewport.appendChild(el);
    }
    for (let i = 0; i < this.pool.length; i++) {
      const el = this.pool[i]!;
      const row = rows[i];
      if (!row) {
        el.hidden = true;
        continue;
      }
      const index = offset + i;
      const key = this.o.key(row);
      el.hidden = false;
      el.id = `${this.o.idPrefix}${key}`;
      el.dataset.index = String(index);
      el.dataset.rowId = String(key);
      el.style.transform = `translateY(${index * rh}px)`;
      el.setAttribute('aria-selected', index === this.selectedIndex ? 'true' : 'false');
      el.setAttribute('aria-posinset', String(index + 1));
      el.setAttribute('aria-setsize', String(this.data.total));
      el.classList.toggle('marked', this.marked.includes(key));
      this.o.renderRow(el, row, index);
    }
    const sel = this.rowAt(this.selectedIndex);
    if (sel) this.o.viewport.setAttribute('aria-activedescendant', `${this.o.idPrefix}${this.o.key(sel)}`);
    else this.o.viewport.removeAttribute('aria-activedescendant');
    this.renderEmpty();
  }

  private renderEmpty(): void {
    this.empty.hidden = this.data.total > 0;
    this.empty.textContent = this.emptyText;
  }

  private select(index: number, scroll = true): void {
    if (this.data.total === 0) return;
    index = Math.max(0, Math.min(this.data.total - 1, index));
    this.selectedIndex = index;
    const row = this.rowAt(index);
    this.selectedKey = row ? this.o.key(row) : null;
    if (scroll) this.scrollIntoView(index);
    this.render();
    this.o.onSelectionChange?.(row ?? null, index);
    this.refresh();
  }

  private scrollIntoView(index: number): void {
    const vp = this.o.viewport;
    const rh = this.o.rowHeight;
    const top = index * rh;
    if (top < vp.scrollTop) vp.scrollTop = top;
    else if (top + rh > vp.scrollTop + vp.clientHeight) vp.scrollTop = top + rh - vp.clientHeight;
  }

  private toggleMark(): void {
    const row = this.rowAt(this.selectedIndex);
    if (!row) return;
    const key = this.o.key(row);
    const i = this.marked.indexOf(key);
    if (i >= 0) this.marked.splice(i, 1);
    else {
      this.marked.push(key);
      if (this.marked.length > 2) this.marked.shift();
    }
    this.render();
    this.o.onMarksChange?.([...this.marked]);
  }

  clearMarks(): void {
    this.marked = [];
    this.render();
    this.o.onMarksChange?.([]);
  }

  private onKey(e: KeyboardEvent): void {
    const page = Math.max(1, this.visibleCount - 1);
    const cur = this.selectedIndex < 0 ? Math.floor(this.o.viewport.scrollTop / this.o.rowHeight) - 1 : this.selectedIndex;
    switch (e.key) {
      case 'ArrowDown':
        this.select(cur + 1);
        break;
      case 'ArrowUp':
        this.select(cur - 1);
        break;
      case 'PageDown':
        this.select(cur + page);
        break;
      case 'PageUp':
        this.select(cur - page);
        break;
      case 'Home':
        this.select(0);
        break;
      case 'End':
        this.select(this.data.total - 1);
        break;
      case 'Enter': {
        const row = this.rowAt(this.selectedIndex);
        if (row) this.o.onActivate(row, this.selectedIndex);
        break;
      }
      case ' ':
        this.toggleMark();
        break;
      default:
        return;
    }
    e.preventDefault();
  }
}
