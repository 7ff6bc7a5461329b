/**
 * The report view: what `tracelift report` writes for the runs — a summary
 * per run, the suite table when the runs are a suite's, the charts (Vega,
 * the same specs as the SVG files) and one point per sample (hover: the
 * sample as text; click: the inspector). Every string from a run is text.
 */
import './common/errors';
import { SAMPLE_MARK } from '../../src/engine/report/plots';
import { SamplePointSchema, type ReportViewData } from '../../src/engine/report/viewData';
import type { SuiteTable } from '../../src/engine/suite/table';
import { reportProtocol } from '../../src/extension/views/webviews/reportProtocol';
import { WebviewClient } from './common/bridge';
import { byId, h, replace, setText, setTitle } from './common/dom';
import { pct, signed } from './common/format';
import { drawChart } from './report/vegaChart';

const client = new WebviewClient(reportProtocol, (m) => message('error', m));
let restore: unknown = (client.getState() as { restore?: unknown } | null)?.restore ?? null;

const app = byId('app');
replace(
  app,
  h('h1', { id: 'report-title', testid: 'report-title', text: 'TraceLift report' }),
  h('div', { id: 'report-messages', testid: 'messages', className: 'messages', attrs: { 'aria-live': 'polite' } }),
  h('section', { id: 'report-runs', testid: 'report-runs' }),
  h('section', { id: 'report-suite', testid: 'report-suite' }),
  h('section', { id: 'report-samples', testid: 'report-samples' }),
  h('section', { id: 'report-charts', testid: 'report-charts' }),
  h('section', { id: 'report-notes', testid: 'report-notes' }),
);

function message(level: 'info' | 'warning' | 'error', text: string): void {
  replace(byId('report-messages'), h('div', { className: `message ${level}`, role: level === 'error' ? 'alert' : 'status' }, text));
}

function table(head: string[], rows: Array<Array<string | number>>, testid: string): HTMLElement {
  return h(
    'table',
    { testid },
    h('thead', {}, h('tr', {}, ...head.map((t) => h('th', { text: t })))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', { text: String(c) }))))),
  );
}

function renderRuns(data: ReportViewData): void {
  replace(
    byId('report-runs'),
    h('h2', { text: 'Runs' }),
    table(
      ['run', 'kind', 'problems', 'traces', 'with-trace success', 'no-trace success', 'mean uplift'],
      data.runs.map((r) => [r.run, r.kind, r.groups, r.traces, pct(r.withTraceSuccess), pct(r.noTraceSuccess), signed(r.meanUplift)]),
      'report-runs-table',
    ),
    ...data.runs.flatMap((r) => r.issues.slice(0, 5).map((i) => h('p', { className: 'note', text: `${r.run}: skipped ${i}` }))),
  );
}

function renderSuite(suite: SuiteTable | null): void {
  const el = byId('report-suite');
  if (!suite) return replace(el);
  const ci = (c: { lo: number; hi: number } | null) => (c ? ` [${pct(c.lo)}, ${pct(c.hi)}]` : '');
  const head = ['benchmark', 'n', 'executor alone'];
  for (const p of suite.planners) head.push(`with ${p.name}`, `Δ ${p.name}`);
  const rows = suite.rows.map((r) => {
    const cells: Array<string | number> = [r.label, r.without.n, `${pct(r.without.rate)}${ci(r.without.ci)}`];
    for (const p of suite.planners) {
      const c = r.planners[p.name];
      cells.push(c ? `${pct(c.with.rate)}${ci(c.with.ci)}` : '—', c ? `${signed(c.delta.mean)}${ci(c.delta.ci)}` : '—');
    }
    return cells;
  });
  replace(el, h('h2', { text: 'Benchmark suite' }), table(head, rows, 'report-suite-table'));
}

/** The hovered sample, as text (the trace is untrusted). */
function showSample(datum: unknown): void {
  const box = byId('report-sample');
  const p = SamplePointSchema.safeParse(datum);
  if (!p.success)
    return replace(box, h('p', { className: 'note', text: 'Hover a point to see its sample; click it to open the inspector.' }));
  const s = p.data;
  replace(
    box,
    h('p', {
      testid: 'report-sample-head',
      text: `${s.series} · problem ${s.problemId} · sample ${s.sampleId}${s.step === null ? '' : ` · step ${s.step}`} · uplift ${signed(s.y)} · with-trace success ${pct(s.success)} · ${s.x} chars`,
    }),
    h('pre', { className: 'trace', testid: 'report-sample-text', text: s.excerpt }),
  );
}

async function renderSamples(data: ReportViewData): Promise<void> {
  const el = byId('report-samples');
  if (!data.samples) return replace(el);
  const chart = h('div', { className: 'report-chart', testid: 'report-sample-chart' });
  replace(
    el,
    h('h2', { text: 'Samples' }),
    h('p', {
      className: 'note',
      text:
        data.samples.shown < data.samples.total
          ? `${data.samples.shown} of ${data.samples.total} samples (every n-th, evenly).`
          : `${data.samples.total} samples.`,
    }),
    chart,
    h('div', { id: 'report-sample', testid: 'report-sample' }),
  );
  showSample(null);
  await drawChart(chart, data.samples.spec, {
    hover: (mark, datum) => {
      if (mark === SAMPLE_MARK) showSample(datum);
    },
    click: (mark, datum) => {
      if (mark !== SAMPLE_MARK) return;
      const p = SamplePointSchema.safeParse(datum);
      if (!p.success) return;
      showSample(datum);
      client
        .request('openSample', { runDir: p.data.runDir, problemId: p.data.problemId, sampleId: p.data.sampleId })
        .catch((e: Error) => message('error', e.message));
    },
  });
}

async function renderCharts(data: ReportViewData): Promise<void> {
  const el = byId('report-charts');
  const boxes = data.charts.map((c) => ({
    c,
    box: h('figure', { className: 'report-chart', testid: 'report-chart', dataset: { file: c.file } }),
  }));
  replace(el, h('h2', { text: 'Analyses' }), ...boxes.map((b) => b.box));
  for (const { c, box } of boxes) {
    try {
      await drawChart(box, c.spec);
    } catch (e) {
      box.appendChild(h('p', { className: 'message error', text: `${c.title}: ${(e as Error).message}` }));
    }
  }
}

client.on('init', (p) => {
  restore = p.restore;
  client.setState({ restore });
  setTitle(p.title);
  setText(byId('report-title'), p.title);
});
client.on('status', (s) => message(s.level, s.message));
client.on('report', (data) => {
  replace(byId('report-messages'));
  renderRuns(data);
  renderSuite(data.suite);
  replace(
    byId('report-notes'),
    ...(data.notes.length
      ? [h('h2', { text: 'Not allowed by these runs' }), ...data.notes.map((n) => h('p', { className: 'note', text: n }))]
      : []),
  );
  void renderSamples(data)
    .then(() => renderCharts(data))
    .catch((e: Error) => message('error', e.message))
    .finally(() => app.setAttribute('aria-busy', 'false'));
});
client.ready();
