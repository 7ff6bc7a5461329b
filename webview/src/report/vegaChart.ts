/**
 * One Vega chart under the webview's strict CSP: the spec is parsed with
 * `ast: true` and its expressions run by vega-interpreter (no eval, no
 * new Function), drawn by the SVG renderer (styles set through the CSSOM,
 * which the CSP allows). Hover and click report the item under the pointer.
 */
import { parse, View, type Item, type Spec } from 'vega';
import { expressionInterpreter } from 'vega-interpreter';

export interface ChartEvents {
  /** The mark's name and datum under the pointer, or null when it leaves. */
  hover?(mark: string | null, datum: unknown): void;
  click?(mark: string | null, datum: unknown): void;
}

const markOf = (item: Item | null | undefined): string | null => (item?.mark as { name?: string } | undefined)?.name ?? null;

export async function drawChart(container: HTMLElement, spec: Record<string, unknown>, events: ChartEvents = {}): Promise<View> {
  const runtime = parse(spec as Spec, undefined, { ast: true });
  const view = new View(runtime, { expr: expressionInterpreter, renderer: 'svg', container, hover: true });
  if (events.hover) {
    view.addEventListener('mouseover', (_e, item) => events.hover!(markOf(item), item?.datum ?? null));
    view.addEventListener('mouseout', () => events.hover!(null, null));
  }
  if (events.click) view.addEventListener('click', (_e, item) => events.click!(markOf(item), item?.datum ?? null));
  await view.runAsync();
  return view;
}
