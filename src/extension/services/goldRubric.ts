/**
 * The gold rubric of a trace a run scored from a groups file: the run's
 * config names the file (trace_source kind file, format groups) and its
 * SHA-256; the sample id names the trace (`<problem_id>#pos0`, `#neg2`). Read
 * only while the file still has the content the run scored (an edited file
 * gives nothing rather than another version's rubric); one streaming pass per
 * file version, kept for the next lookups.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Rubric } from '../../engine/contract';
import { expandGroup, streamGroupRecords } from '../../engine/groups';
import { readStoredConfig } from '../../engine/run/configDiff';
import { fileSha256 } from './measuredUplift';

/** Larger groups files are not read for the inspector (the annotations' limit is similar). */
const MAX_GROUPS_BYTES = 64 * 1024 * 1024;

/** A rubric's numeric entries: dimensions 0–4 and total. */
export type GoldRubric = Record<string, number>;

const byFile = new Map<string, { sha256: string; rubrics: Map<string, GoldRubric> }>();

function numeric(r: Rubric): GoldRubric {
  return Object.fromEntries(Object.entries(r).filter((e): e is [string, number] => typeof e[1] === 'number'));
}

async function rubricsOf(file: string, sha256: string): Promise<Map<string, GoldRubric>> {
  const cached = byFile.get(file);
  if (cached?.sha256 === sha256) return cached.rubrics;
  const rubrics = new Map<string, GoldRubric>();
  for await (const { record } of streamGroupRecords(file, { onIssue: () => undefined })) {
    for (const t of expandGroup(record)) if (t.rubric) rubrics.set(t.id, numeric(t.rubric));
  }
  byFile.set(file, { sha256, rubrics });
  return rubrics;
}

/** The gold rubric (0–4 per dimension, and total) of a run's sample, or null when there is none to read. */
export async function goldRubricOf(runDir: string, sampleId: string): Promise<GoldRubric | null> {
  let config;
  try {
    config = readStoredConfig(path.join(runDir, 'config.json'));
  } catch {
    return null;
  }
  const source = config?.trace_source;
  if (source?.kind !== 'file' || source.format !== 'groups' || !source.sha256) return null;
  try {
    if (fs.statSync(source.path).size > MAX_GROUPS_BYTES) return null;
    const sha256 = await fileSha256(source.path);
    if (sha256 !== source.sha256) return null;
    return (await rubricsOf(source.path, sha256)).get(sampleId) ?? null;
  } catch {
    return null; // the file moved or cannot be read: the inspector shows what the run has
  }
}
