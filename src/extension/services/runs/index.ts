/** The host-side run store: tailing, indexing and querying run directories. */
export { RunStore, RunStoreRegistry } from './runStore';
export { RunTail, type RunChange, type RunSource, type RunTailOptions } from './runTail';
export { RunIndex, FLAGS, makePreview, queryKey, type ProblemAgg, type RunRow, type RowQuery } from './runIndex';
export { CompareModel, buildCompare, queryCompare } from './compare';
export { RefCounted, type Lease } from './refCounted';
