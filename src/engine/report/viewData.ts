/**
 * What the editor's report view receives: the analyses' summary per run,
 * the report's charts as Vega specifications, the per-sample chart, the
 * suite table when the runs form a suite, and what the runs do not allow.
 * zod only (the webview validates the message with the same schema).
 */
import { z } from 'zod';
import { SuiteTableSchema } from '../suite/table';

const rate = z.number().nullable();

export const ReportRunSummarySchema = z.object({
  run: z.string(),
  dir: z.string(),
  kind: z.string(),
  groups: z.number().int().min(0),
  traces: z.number().int().min(0),
  withTraceSuccess: rate,
  noTraceSuccess: rate,
  meanUplift: rate,
  /** Lines skipped or files not read, in words. */
  issues: z.array(z.string()),
});
export type ReportRunSummary = z.infer<typeof ReportRunSummarySchema>;

/** A Vega specification: data, never code (the view parses expressions to an AST and interprets them). */
const VegaSpecSchema = z.record(z.string(), z.unknown());

export const ReportChartSchema = z.object({ file: z.string(), title: z.string(), spec: VegaSpecSchema });

export const ReportViewDataSchema = z.object({
  runs: z.array(ReportRunSummarySchema),
  charts: z.array(ReportChartSchema),
  /** Uplift vs trace length, one point per sample (hover: the sample; click: the inspector). */
  samples: z.object({ spec: VegaSpecSchema, shown: z.number().int().min(0), total: z.number().int().min(0) }).nullable(),
  suite: SuiteTableSchema.nullable(),
  /** What these runs do not allow, in words. */
  notes: z.array(z.string()),
});
export type ReportViewData = z.infer<typeof ReportViewDataSchema>;

/** The fields of a per-sample point the view reads on hover and click. */
export const SamplePointSchema = z.object({
  x: z.number(),
  y: z.number(),
  series: z.string(),
  runDir: z.string(),
  problemId: z.string(),
  sampleId: z.string(),
  step: z.number().nullable(),
  success: z.number().nullable(),
  excerpt: z.string(),
});
