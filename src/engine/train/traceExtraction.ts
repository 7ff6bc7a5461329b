/**
 * The trace a planner completion carries (docs/official-protocol.md §1.1–1.2):
 * math takes the content of the first <reasoning>…</reasoning> (tags in any
 * case), else the whole completion; code takes the whole completion. Trimmed
 * as Python's str.strip() trims, so traces match the official trainer's.
 * The completion is untrusted model text: it is only searched, never run.
 */
import type { TaskKind } from '../contract';
import { pyStrip } from '../prompts/truncate';

const REASONING_BLOCK = /<reasoning>([\s\S]*?)<\/reasoning>/i;

export function extractTrace(completion: string, kind: TaskKind): string {
  if (kind === 'math') {
    const match = REASONING_BLOCK.exec(completion);
    if (match) return pyStrip(match[1]!);
  }
  return pyStrip(completion);
}
