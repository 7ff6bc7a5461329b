/**
 * A task is a small module: where its files live, how to read them in their
 * published format, and which kind of verifier judges its outputs.
 */
import type { Problem, TaskKind } from '../contract';

export interface TaskFile {
  split: string;
  /** Path relative to the data directory, e.g. "gsm8k/test.jsonl". */
  path: string;
  /** Where a user gets this file if it is missing. */
  source: string;
}

export interface TaskModule {
  name: string;
  kind: TaskKind;
  description: string;
  splits: readonly string[];
  defaultSplit: string;
  files: readonly TaskFile[];
  /** True when problems carry a dataset reference trace (`--traces reference`). */
  hasReferenceTraces: boolean;
  /** Reads and validates the split's problems. Throws DataFileError / MissingDataError. */
  load(dataDir: string, split: string): Problem[];
}
