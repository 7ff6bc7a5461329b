/**
 * Prompt templates are versioned data (v1.json). The version string is part
 * of the baseline cache key: editing a template means bumping the version,
 * which invalidates cached baselines built with the old wording.
 */
import { z } from 'zod';
import type { TaskKind } from '../contract';
import v1 from './v1.json';

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

/**
 * Fills {name} placeholders in one pass, so a trace that itself contains
 * "{problem}" is inserted literally and never expanded again.
 */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? values[name]! : whole));
}

function pair(p: { system: string; user: string }, values: Record<string, string>): ChatMessage[] {
  return [
    { role: 'system', content: fillTemplate(p.system, values) },
    { role: 'user', content: fillTemplate(p.user, values) },
  ];
}

export function executorMessages(prompts: PromptSet, kind: TaskKind, problem: string, trace: string | null): ChatMessage[] {
  const t = prompts[kind];
  return trace === null
    ? pair(t.executor_no_trace, { problem })
    : pair(t.executor_with_trace, { problem, trace });
}

export function plannerMessages(prompts: PromptSet, kind: TaskKind, problem: string): ChatMessage[] {
  return pair(prompts[kind].planner, { problem });
}

export function judgeMessages(prompts: PromptSet, problem: string, trace: string): ChatMessage[] {
  return pair(prompts.judge, { problem, trace });
}
