/**
 * TraceLift-Groups: one problem, its positive reference trace(s) and a bank
 * of controlled perturbations (schema: contract/groups.ts, as published;
 * docs/official-protocol.md §3). Reading, validating, expanding into
 * labelled traces and writing records, and the perturbation kinds.
 */
export {
  CODE_NEGATIVE_KINDS,
  CodeNegativeKindSchema,
  GroupRecordSchema,
  MATH_NEGATIVE_KINDS,
  MathNegativeKindSchema,
  RUBRIC_DIMENSIONS,
  type CodeNegativeKind,
  type GroupRecord,
  type MathNegativeKind,
} from '../contract/groups';
export * from './detect';
export * from './expand';
export * from './io';
export * from './stats';
