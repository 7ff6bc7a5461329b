/**
 * DOM building with text only: every string becomes a text node (or an
 * attribute value set with setAttribute, never parsed as HTML). There is no
 * innerHTML anywhere in the webviews; attributes that could load or run
 * something (on*, href, src, style…) are refused. Every string shown goes
 * through the shared safe-text helper (src/shared/safeText.ts): invisible
 * and reordering characters become visible ⟨U+…⟩ markers, and a one-line
 * text with right-to-left letters is isolated from what is around it.
 */
import { hasHiddenChars, isolate, revealHidden } from '../../../src/shared/safeText';
export type Child = Node | string | number | null | undefined | false;

export interface Props {
  id?: string;
  className?: string;
  /** data-testid, for the e2e tests. */
  testid?: string;
  text?: string;
  title?: string;
  role?: string;
  tabIndex?: number;
  attrs?: Record<string, string | number | boolean | null | undefined>;
  dataset?: Record<string, string | number | boolean | null | undefined>;
}

const FORBIDDEN = /^(on|href$|src$|srcdoc$|style$|formaction$|action$|xlink:href$|srcset$|data$|poster$)/i;

/** What a string shows as: hidden characters revealed; one line with right-to-left letters isolated. */
export function shown(text: string): string {
  const t = revealHidden(text);
  return t.includes('\n') ? t : isolate(t);
}

/** A text node for part of a block (a trace, a diff segment): hidden characters revealed, no isolation (the block keeps its own bidi flow). */
export function blockText(text: string): Text {
  return document.createTextNode(revealHidden(text));
}

/** A marker for a text that held hidden characters (null when it held none). */
export function hiddenFlag(...texts: Array<string | null | undefined>): HTMLElement | null {
  if (!texts.some((t) => typeof t === 'string' && hasHiddenChars(t))) return null;
  return h('span', {
    className: 'flag flag-hidden-text',
    testid: 'hidden-flag',
    title: 'This text holds invisible or reordering characters (zero-width, bidi controls, control characters): they are shown as ⟨U+…⟩.',
    text: '⚠ hidden characters',
  });
}

export function setAttr(el: Element, name: string, value: string | number | boolean | null | undefined): void {
  if (FORBIDDEN.test(name)) throw new Error(`refusing to set attribute ${name}`);
  if (value === null || value === undefined || value === false) el.removeAttribute(name);
  else el.setAttribute(name, value === true ? '' : typeof value === 'string' ? shown(value) : String(value));
}

function apply(el: Element, props: Props | undefined): void {
  if (!props) return;
  if (props.id) el.id = props.id;
  if (props.className) el.setAttribute('class', props.className);
  if (props.testid) el.setAttribute('data-testid', props.testid);
  if (props.text !== undefined) el.textContent = shown(props.text);
  if (props.title) el.setAttribute('title', shown(props.title));
  if (props.role) el.setAttribute('role', props.role);
  if (props.tabIndex !== undefined) el.setAttribute('tabindex', String(props.tabIndex));
  for (const [k, v] of Object.entries(props.attrs ?? {})) setAttr(el, k, v);
  for (const [k, v] of Object.entries(props.dataset ?? {})) setAttr(el, `data-${k}`, v);
}

export function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(
      typeof c === 'string' ? document.createTextNode(shown(c)) : typeof c === 'number' ? document.createTextNode(String(c)) : c,
    );
  }
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props?: Props, ...children: Child[]): HTMLElementTagNameMap[K];
export function h(tag: string, props?: Props, ...children: Child[]): HTMLElement;
export function h(tag: string, props?: Props, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  apply(el, props);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
export function svg(tag: string, attrs: Record<string, string | number> = {}, ...children: Child[]): SVGElement {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) setAttr(el, k, v);
  append(el, children);
  return el;
}

/** Replaces an element's children. */
export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** Sets text only when it changed (cheap re-renders of pooled rows). */
export function setText(el: Element, text: string): void {
  const t = shown(text);
  if (el.textContent !== t) el.textContent = t;
}

/** The page title (the tab's name inside the webview). */
export function setTitle(text: string): void {
  document.title = shown(text);
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing`);
  return el as T;
}

/** Runs `fn` at most every `ms` (first call at once, the last call always runs). */
export function throttled(fn: () => void, ms: number): () => void {
  let last = 0;
  let timer: number | undefined;
  return () => {
    if (timer !== undefined) return;
    const wait = Math.max(0, last + ms - Date.now());
    timer = window.setTimeout(() => {
      timer = undefined;
      last = Date.now();
      fn();
    }, wait);
  };
}
