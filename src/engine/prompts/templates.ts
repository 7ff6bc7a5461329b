/**
 * Prompt templates are versioned data (v1.json). The version string is part
 * of the baseline cache key: editing a template means bumping the version,
 * which invalidates cached baselines built with the old wording.
 */
import { z } from 'zod';
import type { TaskKind } from '../contract';
import { truncateChars, type TruncationLimits } from './truncate';
import v1 from './v1.json';
import official from './official.json';

const MessagePairSchema = z.object({ system: z.string(), user: z.string() });
const KindTemplatesSchema = z.object({
  planner: MessagePairSchema,
  executor_with_trace: MessagePairSchema,
  executor_no_trace: MessagePairSchema,
});
export const PromptSetSchema = z.object({
  version: z.string(),
  notes: z.string().optional(),
  math: KindTemplatesSchema,
  code: KindTemplatesSchema,
  judge: MessagePairSchema,
});
export type PromptSet = z.infer<typeof PromptSetSchema>;

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export const DEFAULT_PROMPTS: PromptSet = PromptSetSchema.parse(v1);

/** The official code's wording word for word (docs/official-protocol.md §1), with its own version. */
export const OFFICIAL_PROMPTS: PromptSet = PromptSetSchema.parse(official);

/** Prompt sets by the name a protocol uses for them (ProtocolSchema.prompt_set). */
export const PROMPT_SETS: Readonly<Record<'tracelift' | 'official', PromptSet>> = {
  tracelift: DEFAULT_PROMPTS,
  official: OFFICIAL_PROMPTS,
};

/**
 * Fills {name} placeholders in one pass, so a trace that itself contains
 * "{problem}" is inserted literally and never expanded again.
 */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? values[name]! : whole));
}

/** A system template that is empty is left out (the official planner prompt has none). */
function pair(p: { system: string; user: string }, values: Record<string, string>): ChatMessage[] {
  const user: ChatMessage = { role: 'user', content: fillTemplate(p.user, values) };
  return p.system === '' ? [user] : [{ role: 'system', content: fillTemplate(p.system, values) }, user];
}

export interface ExecutorPromptOptions {
  /** Cut problem and trace before they are filled in (truncateChars); default: no limit. */
  truncation?: TruncationLimits | null;
  /** An empty trace gets the no-trace prompt (the official math trainer does this); default: the with-trace prompt. */
  emptyTraceAsNoTrace?: boolean;
}

export function executorMessages(
  prompts: PromptSet,
  kind: TaskKind,
  problem: string,
  trace: string | null,
  options: ExecutorPromptOptions = {},
): ChatMessage[] {
  const t = prompts[kind];
  const limits = options.truncation ?? null;
  const shownProblem = truncateChars(problem, limits?.problem ?? null);
  if (trace === null || (options.emptyTraceAsNoTrace && trace === '')) return pair(t.executor_no_trace, { problem: shownProblem });
  return pair(t.executor_with_trace, { problem: shownProblem, trace: truncateChars(trace, limits?.trace ?? null) });
}

/** The planner prompt; the official code cuts the problem here too (its problem limit). */
export function plannerMessages(
  prompts: PromptSet,
  kind: TaskKind,
  problem: string,
  options: { truncation?: TruncationLimits | null } = {},
): ChatMessage[] {
  return pair(prompts[kind].planner, { problem: truncateChars(problem, options.truncation?.problem ?? null) });
}

/** The judge prompt; problem and trace cut to the given budgets (default: no limit). */
export function judgeMessages(
  prompts: PromptSet,
  problem: string,
  trace: string,
  options: { truncation?: TruncationLimits | null } = {},
): ChatMessage[] {
  const limits = options.truncation ?? null;
  return pair(prompts.judge, {
    problem: truncateChars(problem, limits?.problem ?? null),
    trace: truncateChars(trace, limits?.trace ?? null),
  });
}
