/**
 * Code tests and code verdicts: what a program is checked against, and what
 * the sandboxed verifier says about it. Defined once here; the rest of the
 * engine (tasks, rewards, CLI, extension) imports these types.
 *
 * Values that must keep their Python types (EvalPlus inputs and expected
 * outputs) are "typed JSON" (PyValue): plain JSON for None / bool / int /
 * float / str / list, and one-key tagged objects for everything JSON cannot
 * say — {"$tuple":[…]}, {"$dict":[[k,v],…]}, {"$set":[…]},
 * {"$frozenset":[…]}, {"$bytes":"<base64>"}, {"$complex":[re,im] | "1+2j"},
 * {"$int":"<hex>"} (integers outside ±2^53), {"$float":"1.0" | "nan" |
 * "inf" | "-inf"} (integral or non-finite floats, so that a JavaScript
 * round trip cannot turn 1.0 into 1). An expected output may also be
 * {"$digest":"<sha256>"}: the digest of a large output's canonical form, which
 * the judge compares instead of the value. See src/engine/verify/code/pyjson.ts.
 */
import { z } from 'zod';

/** A typed-JSON value (see the file comment). Not validated deeply: inputs can be large. */
export const PyValueSchema = z.unknown();
export type PyValue = unknown;

/** HumanEval style: `test` defines `check(candidate)`, called with the program's `entry_point`. */
export const HumanEvalTestsSchema = z.object({
  kind: z.literal('humaneval'),
  test: z.string().min(1),
  entry_point: z.string().min(1),
  /**
   * Trusted helper code from the dataset (e.g. the HumanEval prompt), run on
   * the judge side before `test`, so that helpers the check uses (`poly`,
   * `encode_cyclic`…) are the dataset's and not the program's.
   */
  helpers: z.string().optional(),
});
export type HumanEvalTests = z.infer<typeof HumanEvalTestsSchema>;

/** MBPP style: each string is one assert statement (one test); optional setup code runs first. */
export const AssertTestsSchema = z.object({
  kind: z.literal('asserts'),
  asserts: z.array(z.string().min(1)).min(1),
  setup: z.string().optional(),
  /**
   * The function under test, when known. Only this name may shadow a Python
   * builtin (MBPP has tasks whose function is called `sum`); without it, a
   * builtin-named program function is used only by asserts that call no other
   * function of the program.
   */
  entry_point: z.string().min(1).optional(),
});
export type AssertTests = z.infer<typeof AssertTestsSchema>;

export const IoCaseSchema = z.object({
  input: z.string(),
  output: z.string(),
});
export type IoCase = z.infer<typeof IoCaseSchema>;

/**
 * stdin/stdout (LiveCodeBench `stdin` tests, CodeContests): the program's
 * stdout is compared with `output` outside the sandbox (LiveCodeBench rules:
 * surrounding whitespace of the text and of each line ignored, numeric tokens
 * equal as decimals).
 */
export const StdioTestsSchema = z.object({
  kind: z.literal('stdio'),
  cases: z.array(IoCaseSchema).min(1),
});
export type StdioTests = z.infer<typeof StdioTestsSchema>;

/**
 * LiveCodeBench functional tests: call `Solution().<func_name>(*args)` (or a
 * top-level function of that name when the program has no `Solution`), with
 * `input` = one JSON value per line (the arguments) and `output` = JSON.
 */
export const FunctionalTestsSchema = z.object({
  kind: z.literal('functional'),
  func_name: z.string().min(1),
  cases: z.array(IoCaseSchema).min(1),
});
export type FunctionalTests = z.infer<typeof FunctionalTestsSchema>;

/** EvalPlus oracles: 'exact' is the general rule; the others are EvalPlus's special cases. */
export const EvalPlusOracleSchema = z.enum([
  'exact',
  'find_zero', // HumanEval/32: |poly(xs, out)| <= atol
  'set_eq', // MBPP+ tasks compared as sets
  'not_none', // MBPP+ tasks whose output is only checked for being not None
  'always_true', // Mbpp/164
  'or_zero', // Mbpp/295
  'surface_area', // Mbpp/581
  'digit_distance', // Mbpp/558
]);
export type EvalPlusOracle = z.infer<typeof EvalPlusOracleSchema>;

/**
 * HumanEval+ / MBPP+ differential tests: call `entry_point(*input)` for every
 * input (typed JSON argument lists) and compare with `expected` (typed JSON)
 * as EvalPlus does: exact equality, else `atol` (1e-6 enforced for float
 * outputs) with rtol 1e-7. When `expected` is absent, it is computed by
 * running the trusted `reference` program in the sandbox.
 */
export const EvalPlusTestsSchema = z
  .object({
    kind: z.literal('evalplus'),
    entry_point: z.string().min(1),
    inputs: z.array(z.array(PyValueSchema)).min(1),
    expected: z.array(PyValueSchema).optional(),
    reference: z.string().optional(),
    atol: z.number().min(0).optional(),
    oracle: EvalPlusOracleSchema.optional(),
  })
  .refine((t) => t.expected !== undefined || t.reference !== undefined, {
    message: 'evalplus tests need `expected` outputs or a `reference` program to compute them',
    path: ['expected'],
  })
  .refine((t) => t.expected === undefined || t.expected.length === t.inputs.length, {
    message: '`expected` must have one output per input',
    path: ['expected'],
  });
export type EvalPlusTests = z.infer<typeof EvalPlusTestsSchema>;

export const CodeTestsSchema = z.discriminatedUnion('kind', [
  HumanEvalTestsSchema,
  AssertTestsSchema,
  StdioTestsSchema,
  FunctionalTestsSchema,
  EvalPlusTestsSchema,
]);
export type CodeTests = z.infer<typeof CodeTestsSchema>;
export type CodeTestKind = CodeTests['kind'];

/**
 * Outcome of a program or of one test.
 * - passed / failed: ran and the answer was right / wrong (failed assertion, wrong output)
 * - syntax_error: the program does not compile
 * - runtime_error: an exception, a non-zero exit, sys.exit/os._exit where a result was due, a crash
 * - timeout / memory / output_limit: a limit was hit and the program was killed
 * - sandbox_error: the harness itself failed (not attributable to a test); count it, score it as a failure
 */
export const CodeStatusSchema = z.enum([
  'passed',
  'failed',
  'syntax_error',
  'runtime_error',
  'timeout',
  'memory',
  'output_limit',
  'sandbox_error',
]);
export type CodeStatus = z.infer<typeof CodeStatusSchema>;

export const CODE_MESSAGE_MAX = 500;
export const CODE_STDERR_TAIL_MAX = 4096;

export const CodeTestResultSchema = z.object({
  index: z.number().int().min(0),
  status: CodeStatusSchema,
  message: z.string().max(CODE_MESSAGE_MAX).optional(),
  duration_ms: z.number().min(0).optional(),
});
export type CodeTestResult = z.infer<typeof CodeTestResultSchema>;

export const CodeVerdictSchema = z.object({
  /** True only when every test passed. */
  passed: z.boolean(),
  /** Overall status: syntax_error if it did not compile; else passed; else the first error-like test status (timeout, memory, output_limit, runtime_error) in test order; else failed. */
  status: CodeStatusSchema,
  tests_passed: z.number().int().min(0),
  tests_total: z.number().int().min(0),
  /** Per-test outcomes, in test order. */
  tests: z.array(CodeTestResultSchema).optional(),
  /** First failure, human-readable. */
  message: z.string().max(CODE_MESSAGE_MAX).optional(),
  /** Last bytes of the program's stderr (capped). */
  stderr_tail: z.string().max(CODE_STDERR_TAIL_MAX).optional(),
  duration_ms: z.number().min(0),
  /** False only in the explicit unsandboxed opt-in mode. */
  sandboxed: z.boolean(),
});
export type CodeVerdict = z.infer<typeof CodeVerdictSchema>;

/** One input line of `tracelift verify code FILE.jsonl`. */
export const VerifyCodeLineSchema = z.object({
  id: z.union([z.string(), z.number()]).transform(String),
  program: z.string(),
  tests: CodeTestsSchema,
  timeout_s: z.number().positive().max(3600).optional(),
});
export type VerifyCodeLine = z.infer<typeof VerifyCodeLineSchema>;

/** One output line of `tracelift verify code`. */
export const VerifyCodeResultSchema = z.object({
  id: z.string(),
  passed: z.boolean(),
  status: CodeStatusSchema,
  tests_passed: z.number().int().min(0),
  tests_total: z.number().int().min(0),
  message: z.string().optional(),
  duration_ms: z.number().min(0),
});
export type VerifyCodeResult = z.infer<typeof VerifyCodeResultSchema>;
