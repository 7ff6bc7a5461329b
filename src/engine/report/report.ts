/**
 * `tracelift report RUN… --out DIR`: the analyses of one or more runs as
 * report.md, a CSV per analysis, SVG plots (plots.ts) and report.json.
 * Each section says what the runs do not allow (one sample per trace: no K
 * to vary; an eval: no training steps; no judge or RM scores: no saturation).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ablate, rewardSettingsOf, type AblationResult } from '../analysis/ablation';
import { judgeSaturation, SATURATION_THRESHOLD, type JudgeSaturation } from '../analysis/judgeSaturation';
import { kStability, type KStabilityRow } from '../analysis/kStability';
import { loadRun, type LoadedRun } from '../analysis/loadRun';
import { mean } from '../analysis/stats';
import { traceLengthBins, type LengthBin } from '../analysis/traceLength';
import { trainingDynamics, type StepUtility } from '../analysis/trainingDynamics';
import { ablationMarkdown, num, toCsv } from './ablationReport';
import { reportCharts, saturationBars } from './charts';
import { REPORT_FILES } from './files';
import { renderSvg } from './plots';

export { REPORT_FILES };

export interface RunAnalyses {
  run: string;
  dir: string;
  kind: LoadedRun['kind'];
  groups: number;
  traces: number;
  withTraceSuccess: number | null;
  noTraceSuccess: number | null;
  meanUplift: number | null;
  kStability: KStabilityRow[];
  traceLength: LengthBin[];
  training: StepUtility[];
  saturation: JudgeSaturation;
  ablation: AblationResult;
}

export interface Report {
  runs: RunAnalyses[];
  /** Files written, relative to the output directory. */
  files: string[];
}

/** Every analysis of one loaded run (pure). */
export function analyseRun(run: LoadedRun): RunAnalyses {
  const samples = run.groups.flatMap((g) => g.samples);
  const rates = (xs: Array<number | null>) => mean(xs.filter((x): x is number => x !== null));
  return {
    run: run.name,
    dir: run.dir,
    kind: run.kind,
    groups: run.groups.length,
    traces: samples.length,
    withTraceSuccess: rates(samples.map((s) => s.with_trace.tally.rate)),
    noTraceSuccess: rates(run.groups.map((g) => g.baseline.tally.rate)),
    meanUplift: rates(samples.map((s) => s.uplift)),
    kStability: kStability(run.groups),
    traceLength: traceLengthBins(run.groups),
    training: trainingDynamics(run.groups),
    saturation: judgeSaturation(run.groups),
    ablation: ablate(run.groups, rewardSettingsOf(run.config)),
  };
}

/** Unique labels for runs whose directory names repeat (suite runs are all called "planner"). */
export function runLabels(dirs: string[]): string[] {
  const names = dirs.map((d) => path.basename(path.resolve(d)));
  if (new Set(names).size === names.length) return names;
  return dirs.map((d) => path.join(path.basename(path.dirname(path.resolve(d))), path.basename(path.resolve(d))));
}

export async function writeReport(runDirs: string[], outDir: string): Promise<Report> {
  const labels = runLabels(runDirs);
  const loaded = runDirs.map((d, i) => ({ ...loadRun(d), name: labels[i]! }));
  const runs = loaded.map(analyseRun);
  fs.mkdirSync(outDir, { recursive: true });
  const files: string[] = [];
  const write = (name: string, text: string) => {
    fs.writeFileSync(path.join(outDir, name), text);
    files.push(name);
  };
  const charts = new Map(reportCharts(runs).map((c) => [c.file, c.spec]));
  /** The chart of this file, as the view draws it (report.md links each one only where reportCharts made it). */
  const plotChart = async (name: string) => {
    const spec = charts.get(name);
    if (!spec) throw new Error(`no chart for ${name}`);
    write(name, await renderSvg(spec));
  };

  const md: string[] = ['# TraceLift report', ''];
  md.push(
    '| run | kind | problems | traces | with-trace success | no-trace success | mean uplift |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const r of runs)
    md.push(
      `| ${r.run} | ${r.kind} | ${r.groups} | ${r.traces} | ${num(r.withTraceSuccess)} | ${num(r.noTraceSuccess)} | ${num(r.meanUplift)} |`,
    );
  md.push('');
  for (const l of loaded) for (const issue of l.issues) md.push(`- ${l.name}: skipped ${issue}`);

  // Uplift estimate vs K.
  md.push('## Uplift estimate vs K', '');
  md.push(
    'The recorded with-trace samples of each trace, subsampled to K = 1, 2, … (every K-subset weighed equally, exactly: ' +
      'hypergeometric): the spread of the K-sample uplift estimate and how often its sign (−, 0, +) agrees with the estimate from all samples.',
    '',
  );
  const kRows = runs.flatMap((r) => r.kStability.map((k) => ({ run: r.run, ...k })));
  if (runs.some((r) => r.kStability.length > 1)) {
    md.push('| run | K | traces | sd of the estimate | sign agreement |', '| --- | ---: | ---: | ---: | ---: |');
    for (const k of kRows) md.push(`| ${k.run} | ${k.k} | ${k.traces} | ${num(k.rmsSd)} | ${num(k.meanSignAgreement)} |`);
    md.push('', `![sd vs K](${REPORT_FILES.kStabilitySvg}) ![sign agreement vs K](${REPORT_FILES.kSignSvg})`, '');
    await plotChart(REPORT_FILES.kStabilitySvg);
    await plotChart(REPORT_FILES.kSignSvg);
  } else md.push('Not allowed by these runs: each trace has at most one recorded with-trace sample (run with -k 2 or more).', '');
  write(
    REPORT_FILES.kStabilityCsv,
    toCsv(
      ['run', 'k', 'traces', 'mean_variance', 'rms_sd', 'mean_sign_agreement'],
      kRows.map((k) => [k.run, k.k, k.traces, k.meanVariance, k.rmsSd, k.meanSignAgreement]),
    ),
  );

  // Trace length.
  md.push('## Uplift and success vs trace length', '');
  const lenRows = runs.flatMap((r) => r.traceLength.map((b) => ({ run: r.run, ...b })));
  if (lenRows.length) {
    md.push('Traces in bins of about equal counts by length (characters).', '');
    md.push('| run | length (chars) | traces | mean uplift | with-trace success |', '| --- | --- | ---: | ---: | ---: |');
    for (const b of lenRows)
      md.push(`| ${b.run} | ${b.minChars}–${b.maxChars} | ${b.traces} | ${num(b.meanUplift)} | ${num(b.meanSuccess)} |`);
    md.push('', `![uplift vs trace length](${REPORT_FILES.lengthSvg})`, '');
    await plotChart(REPORT_FILES.lengthSvg);
    if (runs.every((r) => r.traceLength.length < 2)) md.push('One bin per run: too few traces of different lengths for a trend.', '');
  } else md.push('Not allowed by these runs: no scored trace.', '');
  write(
    REPORT_FILES.lengthCsv,
    toCsv(
      ['run', 'min_chars', 'max_chars', 'traces', 'mean_uplift', 'mean_success'],
      lenRows.map((b) => [b.run, b.minChars, b.maxChars, b.traces, b.meanUplift, b.meanSuccess]),
    ),
  );

  // Training dynamics.
  md.push('## Utility over training steps', '');
  const stepRows = runs.flatMap((r) => r.training.map((s) => ({ run: r.run, ...s })));
  if (stepRows.length) {
    md.push(
      '| run | step | traces | mean uplift | share positive | share negative | mean reward |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const s of stepRows)
      md.push(
        `| ${s.run} | ${s.step} | ${s.traces} | ${num(s.meanUplift)} | ${num(s.positiveShare)} | ${num(s.negativeShare)} | ${num(s.meanReward)} |`,
      );
    md.push('', `![mean uplift per step](${REPORT_FILES.trainingSvg}) ![shares per step](${REPORT_FILES.trainingSharesSvg})`, '');
    await plotChart(REPORT_FILES.trainingSvg);
    await plotChart(REPORT_FILES.trainingSharesSvg);
  } else md.push('Not allowed by these runs: no training run (evals have no steps).', '');
  write(
    REPORT_FILES.trainingCsv,
    toCsv(
      ['run', 'step', 'traces', 'mean_uplift', 'positive_share', 'negative_share', 'mean_reward'],
      stepRows.map((s) => [s.run, s.step, s.traces, s.meanUplift, s.positiveShare, s.negativeShare, s.meanReward]),
    ),
  );

  // Judge saturation.
  md.push('## Judge saturation', '');
  const sat = runs.filter((r) => r.saturation.judge.n || r.saturation.rm.n);
  const { rows: satRows } = saturationBars(runs);
  if (sat.length) {
    md.push(`| run | scorer | n | mean | share > ${SATURATION_THRESHOLD} |`, '| --- | --- | ---: | ---: | ---: |');
    for (const r of sat) {
      if (r.saturation.judge.n)
        md.push(
          `| ${r.run} | LLM judge | ${r.saturation.judge.n} | ${num(r.saturation.judge.mean)} | ${num(r.saturation.judge.aboveThreshold)} |`,
        );
      if (r.saturation.rm.n)
        md.push(`| ${r.run} | Reason RM | ${r.saturation.rm.n} | ${num(r.saturation.rm.mean)} | ${num(r.saturation.rm.aboveThreshold)} |`);
    }
    md.push('', `![judge vs RM scores](${REPORT_FILES.saturationSvg})`, '');
    await plotChart(REPORT_FILES.saturationSvg);
    if (!sat.some((r) => r.saturation.paired))
      md.push('No trace has both a judge and an RM score: the two are not compared on the same traces.', '');
  } else md.push('Not allowed by these runs: no judge or RM score recorded (run with --judge-url and/or --rm-url).', '');
  write(REPORT_FILES.saturationCsv, toCsv(['run', 'scorer', 'bin_start', 'count'], satRows));

  // Reward ablations per run.
  for (const r of runs) md.push(ablationMarkdown(r.ablation, `## Reward ablations: ${r.run}`), '');

  write(REPORT_FILES.markdown, md.join('\n') + '\n');
  write(
    REPORT_FILES.json,
    JSON.stringify({ runs: runs.map(({ ablation, ...rest }) => ({ ...rest, ablation: { ...ablation, traces: undefined } })) }, null, 2) +
      '\n',
  );
  return { runs, files };
}
