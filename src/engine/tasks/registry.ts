/** All task modules by name. */
import type { TaskModule } from './types';
import { gsm8k } from './math/gsm8k';
import { gsmHard } from './math/gsmHard';
import { svamp } from './math/svamp';
import { math500 } from './math/math500';
import { CODE_TASKS } from './code';

const TASKS: TaskModule[] = [gsm8k, gsmHard, svamp, math500, ...CODE_TASKS];

export function listTasks(): readonly TaskModule[] {
  return TASKS;
}

export function getTask(name: string): TaskModule {
  const task = TASKS.find((t) => t.name === name);
  if (!task) throw new Error(`Unknown task "${name}". Known tasks: ${TASKS.map((t) => t.name).join(', ')}.`);
  return task;
}

export function registerTask(task: TaskModule): void {
  if (TASKS.some((t) => t.name === task.name)) throw new Error(`Task "${task.name}" is already registered`);
  TASKS.push(task);
}
