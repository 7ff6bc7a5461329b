/** Sandboxed verification of generated programs (see harness.ts and docs/sandbox.md for the design). */
export { CodeVerifier, type CodeVerifierOptions, type VerifyOptions, type BatchItem, type ExpectedOutputs } from './verifier';
export { extractProgram, type ExtractOptions } from './extract';
export { compareStdout, canonicalDecimal, type OutputMatch } from './stdio';
export { aggregateStatus, buildVerdict, parseChannel, HARNESS, type RunLimits } from './harness';
export * from './pyjson';
