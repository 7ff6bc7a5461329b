/** Building TraceLift-Groups files (docs/groups.md): positives, perturbations, rubric, measured uplift. */
export { cleanGsm8kReasoning, gsm8kSolutionBody, GSM8K_CALC_RE, GSM8K_ANSWER_RE } from './clean';
export { parseGsm8kSolution, evaluateTokens, renderExpr, type CalcStep, type Gsm8kSolution } from './calc';
export { perturbMath, carelessValues, PROGRAMMATIC_MATH_KINDS, type ProgrammaticMathKind, type MathPerturbation } from './mathPerturb';
export {
  LlmPerturber,
  LLM_DROP_REASONS,
  llmCandidateRejection,
  extractPerturbedReasoning,
  looksLikeProgram,
  type LlmDropReason,
} from './llmPerturb';
export { RubricJudge, PRIOR_LABELS, priorRubric, positiveRubric, parseJudgeRubric, bucketizeJudgeScore } from './rubric';
export { GroupMeasurer, type GroupMeasurerInfo } from './measure';
export { PERTURB_PROMPTS } from './prompts';
export {
  buildGsm8kGroups,
  gsm8kGroupId,
  summaryPath,
  DEFAULT_MIN_NEGATIVES,
  GROUPS_BUILDER_VERSION,
  MATH_KIND_ORDER,
  type BuildGroupsOptions,
  type BuildProgress,
} from './build';
export {
  buildCodeGroups,
  CODE_DROP_REASONS,
  CODE_KIND_ORDER,
  LiftChecker,
  type BuildCodeGroupsOptions,
  type PositiveSource,
} from './codeBuild';
export { cleanCodeReasoning } from './clean';
