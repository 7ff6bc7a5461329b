/**
 * The training problems and their planner prompts, rendered by the engine's
 * templates (docs/official-protocol.md §1.1–1.2) so the Python trainer never
 * builds a prompt: DIR/train_prompts.jsonl, one line per problem,
 * {problem_id, task, prompt}. `prompt` is chat messages when the planner
 * uses its chat template, else one text.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Problem } from '../contract';
import { plannerMessages, PROMPT_SETS, type ChatMessage } from '../prompts/templates';
import { renderTraceliftCompletion } from '../prompts/render';
import { getTask } from '../tasks/registry';
import type { TrainingProblem } from './rewardService';
import type { ResolvedTrainConfig } from './trainConfig';

export const TRAIN_PROMPTS_FILE = 'train_prompts.jsonl';

export interface TrainPromptLine {
  problem_id: string;
  task: string;
  prompt: string | ChatMessage[];
}

/** Every task window's problems, in config order; a problem id appearing twice is an error. */
export function loadTrainingProblems(config: ResolvedTrainConfig): Map<string, TrainingProblem> {
  const problems = new Map<string, TrainingProblem>();
  for (const t of config.tasks) {
    const all = getTask(t.task).load(config.data_dir, t.split);
    const window = all.slice(t.offset, t.limit ? t.offset + t.limit : undefined);
    for (const problem of window) {
      if (problems.has(problem.id)) throw new Error(`problem ${problem.id} is listed twice in the config's tasks`);
      problems.set(problem.id, { problem, index: problems.size });
    }
  }
  if (!problems.size) throw new Error('the config selects no training problems (check tasks: limit/offset)');
  return problems;
}

/**
 * The planner prompt of one problem. Without a chat template a prompt of one
 * user message is that message (the official plain prompt); one with a
 * system message is rendered as labelled turns.
 */
export function plannerPrompt(config: ResolvedTrainConfig, problem: Problem): string | ChatMessage[] {
  const messages = plannerMessages(PROMPT_SETS[config.protocol.prompt_set], problem.kind, problem.problem, {
    truncation: config.protocol.truncation[problem.kind],
  });
  if (config.planner.chat_template) return messages;
  return messages.length === 1 && messages[0]!.role === 'user' ? messages[0]!.content : renderTraceliftCompletion(messages);
}

/** Writes DIR/train_prompts.jsonl whole (temporary file, then rename). */
export function writeTrainPrompts(runDir: string, config: ResolvedTrainConfig, problems: Iterable<TrainingProblem>): string {
  const file = path.join(runDir, TRAIN_PROMPTS_FILE);
  const lines: string[] = [];
  for (const { problem } of problems) {
    const line: TrainPromptLine = { problem_id: problem.id, task: problem.task, prompt: plannerPrompt(config, problem) };
    lines.push(JSON.stringify(line));
  }
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, lines.join('\n') + '\n');
  fs.renameSync(tmp, file);
  return file;
}
