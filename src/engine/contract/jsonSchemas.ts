/**
 * JSON Schema exports of the zod contract. `npm run schemas`
 * (scripts/exportSchemas.ts) commits them under backend/, where
 * tracelift_backend.contract validates what Python reads and writes against
 * them, so the contract is defined once, here, in zod.
 */
import { z } from 'zod';
import { ProblemSchema } from './problems';
import { GroupRecordSchema, GroupsBuildSummarySchema, TraceRecordSchema } from './groups';
import { EvalConfigSchema } from './config';
import { RunEventSchema, RunSummarySchema, TraceSampleRowSchema } from './events';
import { CodeTestsSchema } from './codeTests';
import { TrainConfigSchema } from './train';
import { RmGroupScoreSchema, RmTrainConfigSchema } from './rm';

export const CONTRACT_SCHEMAS = {
  problem: ProblemSchema,
  groups_record: GroupRecordSchema,
  trace_record: TraceRecordSchema,
  eval_config: EvalConfigSchema,
  run_event: RunEventSchema,
  sample_row: TraceSampleRowSchema,
  run_summary: RunSummarySchema,
  code_tests: CodeTestsSchema,
  train_config: TrainConfigSchema,
  rm_train_config: RmTrainConfigSchema,
  rm_group_score: RmGroupScoreSchema,
  groups_build_summary: GroupsBuildSummarySchema,
} as const;

export function contractJsonSchemas(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(CONTRACT_SCHEMAS)) {
    // "input" describes what a file may contain (defaults may be omitted).
    out[name] = z.toJSONSchema(schema as z.ZodType, { io: 'input', unrepresentable: 'any' });
  }
  return out;
}

/** Where the generated schemas are committed for the Python side (relative to the repository root). */
export const BACKEND_SCHEMA_DIR = 'backend/tracelift_backend/schemas';

/** The schema files exactly as written: file name → text (stable key order, trailing newline). */
export function contractSchemaFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [name, schema] of Object.entries(contractJsonSchemas())) {
    files[`${name}.schema.json`] = `${JSON.stringify(schema, null, 2)}\n`;
  }
  return files;
}
