/**
 * Turning chat messages into one prompt for completions-only endpoints.
 *
 * Two renderings:
 * - `tracelift` (ours): "System: …", "User: …" turns separated by blank
 *   lines, ending with "Assistant:", the shape instruction-tuned models
 *   most often saw when they were not given their chat template;
 * - `official` (MasaiahHan/TraceLift `render_messages` / `render_completion_prompt`,
 *   docs/official-protocol.md §1.5): the system message as
 *   "Instruction:\n<system>", other contents as they are, each stripped,
 *   joined by blank lines, then a cue: "\n\nFinal answer:\n" for math,
 *   "\n\nFinal Python 3 solution:\n" for code.
 */
import type { TaskKind } from '../contract';
import type { ChatMessage } from './templates';
import { pyStrip } from './truncate';

export const COMPLETION_RENDERINGS = ['tracelift', 'official'] as const;
export type CompletionRendering = (typeof COMPLETION_RENDERINGS)[number];

/** The official cue after the prompt, per task kind. */
export const OFFICIAL_COMPLETION_CUES: Readonly<Record<TaskKind, string>> = {
  math: '\n\nFinal answer:\n',
  code: '\n\nFinal Python 3 solution:\n',
};

const ROLE_LABELS: Readonly<Record<ChatMessage['role'], string>> = { system: 'System', user: 'User', assistant: 'Assistant' };

/** Our rendering: labelled turns, then "Assistant:" for the model to continue. */
export function renderTraceliftCompletion(messages: readonly ChatMessage[]): string {
  return messages.map((m) => `${ROLE_LABELS[m.role]}: ${m.content}`).join('\n\n') + '\n\nAssistant:';
}

/** The official rendering with the cue of the task kind. */
export function renderOfficialCompletion(messages: readonly ChatMessage[], kind: TaskKind): string {
  const parts = messages.map((m) => {
    const content = pyStrip(m.content);
    return m.role === 'system' ? `Instruction:\n${content}` : content;
  });
  return pyStrip(parts.join('\n\n')) + OFFICIAL_COMPLETION_CUES[kind];
}

export function renderCompletionPrompt(messages: readonly ChatMessage[], rendering: CompletionRendering, kind: TaskKind): string {
  return rendering === 'official' ? renderOfficialCompletion(messages, kind) : renderTraceliftCompletion(messages);
}
