/**
 * The data of the editor's report view for some runs: the same analyses and
 * charts `tracelift report` writes (analyseRun, reportCharts), plus one
 * point per sample for hover and click, and the suite table when the runs
 * are one suite's. Reads the runs; runs on a worker thread in the editor.
 */
import * as path from 'node:path';
import { loadRun } from '../analysis/loadRun';
import { computeSuiteTable, suiteOfRuns } from '../suite/runSuite';
import { MAX_SAMPLE_POINTS, reportCharts, samplePoints } from './charts';
import { sampleScatterSpec } from './plots';
import { analyseRun, runLabels } from './report';
import { ReportViewDataSchema, type ReportViewData } from './viewData';

export function reportViewData(runDirs: string[], maxPoints = MAX_SAMPLE_POINTS): ReportViewData {
  const labels = runLabels(runDirs);
  const loaded = runDirs.map((d, i) => ({ ...loadRun(d), name: labels[i]!, dir: path.resolve(d) }));
  const runs = loaded.map(analyseRun);
  const notes: string[] = [];
  if (!runs.some((r) => r.kStability.length > 1))
    notes.push('Uplift vs K: each trace has at most one recorded with-trace sample (run with -k 2 or more).');
  if (!runs.some((r) => r.traceLength.length)) notes.push('Trace length: no scored trace.');
  if (!runs.some((r) => r.training.length)) notes.push('Training dynamics: no training run (evals have no steps).');
  if (!runs.some((r) => r.saturation.judge.n || r.saturation.rm.n))
    notes.push('Judge saturation: no judge or RM score recorded (run with --judge-url and/or --rm-url).');
  const total = loaded.reduce((n, r) => n + r.groups.reduce((m, g) => m + g.samples.filter((s) => s.uplift !== null).length, 0), 0);
  const points = samplePoints(loaded, maxPoints);
  const suite = suiteOfRuns(runDirs);
  return ReportViewDataSchema.parse({
    runs: runs.map((r, i) => ({
      run: r.run,
      dir: r.dir,
      kind: r.kind,
      groups: r.groups,
      traces: r.traces,
      withTraceSuccess: r.withTraceSuccess,
      noTraceSuccess: r.noTraceSuccess,
      meanUplift: r.meanUplift,
      issues: loaded[i]!.issues,
    })),
    charts: reportCharts(runs),
    samples: points.length
      ? { spec: sampleScatterSpec({ title: 'Uplift vs trace length, per sample', points }), shown: points.length, total }
      : null,
    suite: suite ? computeSuiteTable(suite.outDir, suite.manifest) : null,
    notes,
  });
}
