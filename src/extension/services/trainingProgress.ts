/**
 * A training run's progress from its events.jsonl, for the status bar: the
 * last step, the step count asked for, the last step's reward, how long
 * steps take (ETA), the last checkpoint, and whether the run ended. Read
 * incrementally (only appended bytes) with the engine's run reader. No
 * `vscode` import.
 */
import * as path from 'node:path';
import { z } from 'zod';
import { RunEventSchema, type RunEvent } from '../../engine/contract';
import { EVENTS_FILE, JsonlTail } from '../../engine/run/runReader';

export interface TrainingProgress {
  /** The last step whose figures arrived (null before the first). */
  step: number | null;
  /** Steps the run trains to (its config's max_steps, from the latest run_started). */
  maxSteps: number | null;
  /** reward_mean of the last step, when measured. */
  reward: number | null;
  /** Seconds per step, by step (a step trained again after a resume counts once, its latest time). */
  stepSeconds: Map<number, number>;
  lastCheckpointStep: number | null;
  /** The run's end status, or null while it runs. */
  ended: 'completed' | 'failed' | 'cancelled' | null;
  /** Time of the previous step_metrics event since the latest (re)start, to time steps that do not report time_step_s. */
  lastStepTimeMs: number | null;
}

export function emptyProgress(): TrainingProgress {
  return { step: null, maxSteps: null, reward: null, stepSeconds: new Map(), lastCheckpointStep: null, ended: null, lastStepTimeMs: null };
}

/** Folds one event of the run into its progress (in file order). */
export function foldTrainingEvent(p: TrainingProgress, e: RunEvent): void {
  switch (e.type) {
    case 'run_started': {
      const max = (e.config as { max_steps?: unknown }).max_steps;
      if (typeof max === 'number' && Number.isFinite(max)) p.maxSteps = max;
      p.ended = null; // a resume continues the run
      p.lastStepTimeMs = Date.parse(e.time) || null;
      break;
    }
    case 'step_metrics': {
      const at = Date.parse(e.time) || null;
      const reported = e.metrics.time_step_s;
      const seconds =
        typeof reported === 'number' && reported > 0
          ? reported
          : at !== null && p.lastStepTimeMs !== null
            ? (at - p.lastStepTimeMs) / 1000
            : null;
      if (seconds !== null && seconds > 0) p.stepSeconds.set(e.step, seconds);
      p.lastStepTimeMs = at;
      if (p.step === null || e.step >= p.step) {
        p.step = e.step;
        p.reward = typeof e.metrics.reward_mean === 'number' ? e.metrics.reward_mean : null;
      }
      break;
    }
    case 'checkpoint':
      p.lastCheckpointStep = e.step;
      break;
    case 'run_ended':
      p.ended = e.status;
      break;
    default:
      break;
  }
}

/** Seconds left: the mean step time so far times the steps still to train; null when unknown. */
export function etaSeconds(p: TrainingProgress): number | null {
  if (p.maxSteps === null || !p.stepSeconds.size) return null;
  const mean = [...p.stepSeconds.values()].reduce((a, b) => a + b, 0) / p.stepSeconds.size;
  return Math.max(0, p.maxSteps - (p.step ?? 0)) * mean;
}

/** `45s`, `2m10s`, `1h05m`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** `step 3/8 · reward 0.42 · ETA 2m10s` (parts that are not known yet are left out). */
export function trainingStatusText(p: TrainingProgress): string {
  const parts = [`step ${p.step ?? 0}/${p.maxSteps ?? '?'}`];
  if (p.reward !== null) parts.push(`reward ${p.reward.toFixed(2)}`);
  if (p.ended) parts.push(p.ended === 'cancelled' ? 'stopped' : p.ended);
  else {
    const eta = etaSeconds(p);
    if (eta !== null) parts.push(`ETA ${formatDuration(eta)}`);
  }
  return parts.join(' · ');
}

// Only the events the progress needs are validated in full; the rest (rollout groups with their traces) are skipped unparsed by zod.
const ProgressEventSchema = z.looseObject({ type: z.string() }).transform((v, ctx) => {
  if (!['run_started', 'step_metrics', 'checkpoint', 'run_ended'].includes(v.type)) return null;
  const parsed = RunEventSchema.safeParse(v);
  if (!parsed.success) {
    ctx.addIssue({ code: 'custom', message: parsed.error.issues[0]?.message ?? 'invalid event' });
    return z.NEVER;
  }
  return parsed.data;
});

/** Reads a run's events.jsonl as it grows and keeps its progress. */
export class TrainingProgressReader {
  readonly progress = emptyProgress();
  private readonly tail: JsonlTail<RunEvent | null>;

  constructor(readonly runDir: string) {
    this.tail = new JsonlTail(path.join(runDir, EVENTS_FILE), ProgressEventSchema);
  }

  /** Reads what was appended; true when the progress changed. */
  async update(): Promise<boolean> {
    let changed = false;
    for (;;) {
      const batch = await this.tail.read();
      if (batch.restarted) {
        Object.assign(this.progress, emptyProgress());
        changed = true;
      }
      for (const r of batch.records) {
        if (!r.value) continue;
        foldTrainingEvent(this.progress, r.value);
        changed = true;
      }
      if (batch.consumed === 0 || this.tail.pendingBytes === 0) return changed;
    }
  }
}
