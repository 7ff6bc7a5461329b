/**
 * The reward service: the trainer's one way to the engine's reward. An HTTP
 * server on 127.0.0.1 (random port, bearer token) that scores batches of
 * planner completions with the engine's GroupScorer and writes the run
 * directory while the trainer runs: rollout_group events joined by (step,
 * problem), samples.jsonl rows, step_metrics with the service's figures
 * merged in, checkpoints and errors the trainer reports, summary.json. It is
 * the only writer of the run's files during training. API: docs/training.md.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { z } from 'zod';
import {
  RewardRequestSchema,
  TrainerEventSchema,
  type Problem,
  type RewardDetail,
  type RewardRequest,
  type RewardResponse,
  type RolloutGroup,
  type RunEvent,
  type RunEventInput,
  type RunSummary,
  type TaskKind,
  type TraceSample,
} from '../contract';
import type { RunWriter } from '../run/runDir';
import type { SummaryBuilder } from '../run/summary';
import type { GroupScorer, ScoredTraceSample, TraceInput } from '../uplift/scorer';
import { describeZodError } from '../util/jsonl';
import { GroupJoiner } from './groupJoiner';
import { StepAggregates } from './stepMetrics';
import { extractTrace } from './traceExtraction';

/**
 * Events record a request's step + 1: the update the rollouts train (TRL
 * numbers its first update 1, as its logs and checkpoint-<step> do), so
 * rollout_group, step_metrics and checkpoint events of one update share one
 * step number.
 */
export const EVENT_STEP_OFFSET = 1;

/** Largest request body read (a batch of long completions stays far below). */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

export interface TrainingProblem {
  problem: Problem;
  /** Position in train_prompts.jsonl: the group_index of its rollout groups. */
  index: number;
}

export interface RewardServiceOptions {
  runId: string;
  writer: RunWriter;
  /** Training problems by id. */
  problems: ReadonlyMap<string, TrainingProblem>;
  /** The scorer of each task kind the problems have. */
  scorers: Partial<Record<TaskKind, GroupScorer>>;
  /** num_generations: samples per complete rollout group. */
  groupSize: number;
  /** Protocol baseline "per_trace": a joined group pools its parts' baselines. */
  poolBaselines?: boolean;
  /** Summary of the run so far (a resumed run's: SummaryBuilder.fromEvents of its events). */
  summary: SummaryBuilder;
  /** Bearer token; default: 32 random bytes, hex. */
  token?: string;
  port?: number;
  /** Called with every event the service writes (progress lines, live views). */
  onEvent?: (event: RunEvent) => void;
  log?: (line: string) => void;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class RewardService {
  readonly token: string;
  private server: http.Server | null = null;
  private port = 0;
  private readonly joiner: GroupJoiner;
  private readonly aggregates = new StepAggregates();
  private readonly sampleCounters = new Map<string, number>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly log: (line: string) => void;
  private closed = false;
  private countedGenerations = 0;

  constructor(private readonly opts: RewardServiceOptions) {
    this.token = opts.token ?? randomBytes(32).toString('hex');
    this.log = opts.log ?? (() => {});
    this.joiner = new GroupJoiner({
      groupSize: opts.groupSize,
      poolBaselines: opts.poolBaselines,
      emit: (group) => this.writeGroup(group),
    });
  }

  /** http://127.0.0.1:PORT (no trailing slash). */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    const server = http.createServer((req, res) => {
      const work = this.handle(req, res).catch((err: unknown) => this.log(`reward service: ${(err as Error).message}`));
      this.inFlight.add(work);
      void work.finally(() => this.inFlight.delete(work));
    });
    // Scoring a batch on a CPU executor can take minutes: no socket timeout.
    server.requestTimeout = 0;
    server.timeout = 0;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? 0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  /** Executor generations of this invocation so far, over every scorer. */
  get generations(): number {
    return Object.values(this.opts.scorers).reduce((n, s) => n + (s?.generations ?? 0), 0);
  }

  /**
   * Executor generations since the last event that carried the count, for
   * the next event to carry; the summary's total (the sum over the run's
   * events) grows by as much.
   */
  takeGenerations(): number {
    const now = this.generations;
    const since = now - this.countedGenerations;
    this.countedGenerations = now;
    this.opts.summary.generations += since;
    return since;
  }

  /** The run's summary as of now. */
  summary(status: RunSummary['status']): RunSummary {
    return this.opts.summary.build(this.opts.runId, status);
  }

  /**
   * Stops accepting requests, waits for those being answered, writes the
   * groups still open and the step figures no step_metrics event carried,
   * and rewrites summary.json. The launcher then writes run_ended.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const server = this.server;
    if (server) {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await Promise.allSettled([...this.inFlight]);
      server.closeAllConnections();
      await stopped;
    }
    this.joiner.flushAll();
    for (const step of this.aggregates.unreported()) {
      this.append({ type: 'step_metrics', step, metrics: this.aggregates.merge(step, {}) });
    }
    this.opts.writer.writeSummary(this.summary('running'));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      if (!this.authorised(req)) throw new HttpError(401, 'missing or wrong bearer token');
      const route = `${req.method} ${new URL(req.url ?? '/', 'http://localhost').pathname}`;
      switch (route) {
        case 'GET /v1/health':
          return reply(res, 200, { ok: true, run_id: this.opts.runId });
        case 'POST /v1/rewards':
          return reply(res, 200, await this.rewards(parseBody(RewardRequestSchema, await readBody(req))));
        case 'POST /v1/events':
          this.event(parseBody(TrainerEventSchema, await readBody(req)));
          return reply(res, 200, { ok: true });
        default:
          throw new HttpError(404, `no route ${route}`);
      }
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) this.log(`reward service error: ${(err as Error).message}`);
      reply(res, status, { error: (err as Error).message });
    }
  }

  private authorised(req: http.IncomingMessage): boolean {
    const header = req.headers.authorization ?? '';
    const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
    const expected = Buffer.from(this.token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** Scores a batch; items of one problem are scored together as one group part. */
  private async rewards(body: RewardRequest): Promise<RewardResponse> {
    if (this.closed) throw new HttpError(503, 'the run is ending');
    const step = body.step + EVENT_STEP_OFFSET;
    const byProblem = new Map<string, number[]>();
    body.items.forEach((item, i) => {
      if (!this.opts.problems.has(item.problem_id)) {
        throw new HttpError(
          400,
          `field "items.${i}.problem_id": not a problem of this run (${JSON.stringify(item.problem_id.slice(0, 80))})`,
        );
      }
      const list = byProblem.get(item.problem_id) ?? [];
      list.push(i);
      byProblem.set(item.problem_id, list);
    });

    const started = Date.now();
    const generationsBefore = this.generations;
    const traces = body.items.map((item) => extractTrace(item.completion, this.opts.problems.get(item.problem_id)!.problem.kind));
    const scored = new Map<number, { sample: ScoredTraceSample; baselineRate: number | null }>();
    const parts: RolloutGroup[] = [];
    try {
      await Promise.all(
        [...byProblem].map(async ([problemId, indices]) => {
          const { problem, index } = this.opts.problems.get(problemId)!;
          const scorer = this.opts.scorers[problem.kind];
          if (!scorer) throw new Error(`no scorer for ${problem.kind} problems`);
          const inputs: TraceInput[] = indices.map((i) => ({
            sample_id: this.nextSampleId(step, problemId),
            trace: traces[i]!,
            source: 'planner',
          }));
          const part = await scorer.scoreGroup(problem, inputs, { groupIndex: index, step });
          part.samples.forEach((sample: ScoredTraceSample, j) =>
            scored.set(indices[j]!, { sample, baselineRate: sample.no_trace ? sample.no_trace.tally.rate : part.baseline.tally.rate }),
          );
          parts.push(part);
        }),
      );
    } catch (err) {
      // Scoring cancelled because the run is ending: the trainer that asked is gone.
      if (this.closed) throw new HttpError(503, 'the run ended while this batch was scored');
      // The executor is down or a scorer broke: no reward can be trusted.
      const message = `reward scoring failed: ${(err as Error).message}`;
      this.append({ type: 'error', message, where: 'reward', problem_id: null, fatal: false });
      throw new HttpError(503, message);
    }
    if (this.closed) throw new HttpError(503, 'the run ended while this batch was scored');

    this.aggregates.addRequest(step, this.generations - generationsBefore, started, Date.now());
    for (const part of parts) {
      this.aggregates.addSamples(step, part.problem_id, part.baseline.tally.rate, part.samples);
      this.joiner.add(part);
    }
    const results = body.items.map((_, i) => scored.get(i)!);
    return {
      rewards: results.map((r) => r.sample.reward?.value ?? null),
      traces,
      details: results.map((r) => detailOf(r.sample, r.baselineRate)),
    };
  }

  private event(body: z.infer<typeof TrainerEventSchema>): void {
    if (body.type === 'checkpoint') {
      const rel = path.normalize(body.path);
      if (path.isAbsolute(body.path) || rel.startsWith('..')) {
        throw new HttpError(400, 'field "path": must be relative to the run directory and inside it');
      }
      this.append({ ...body, path: rel });
    } else if (body.type === 'step_metrics') {
      this.append({ ...body, metrics: this.aggregates.merge(body.step, body.metrics) });
    } else {
      this.append(body);
    }
  }

  private writeGroup(group: RolloutGroup): void {
    const written = this.append({ ...group, executor_generations: this.takeGenerations() }) as RolloutGroup;
    this.opts.writer.appendSampleRows(written);
    this.opts.summary.add(written);
    this.opts.writer.writeSummary(this.summary('running'));
  }

  /** Validated against the contract by the writer; stamped with the time unless it has one. */
  private append(event: object): RunEvent {
    const written = this.opts.writer.append({ time: new Date().toISOString(), ...event } as RunEventInput);
    this.opts.onEvent?.(written);
    return written;
  }

  /** `<problem>@<step>#<n>`: numbered in arrival order over every request of the step. */
  private nextSampleId(step: number, problemId: string): string {
    const key = `${step}\u0000${problemId}`;
    const n = this.sampleCounters.get(key) ?? 0;
    this.sampleCounters.set(key, n + 1);
    if (this.sampleCounters.size > 100_000) this.sampleCounters.clear(); // bounded on very long runs; ids stay unique per step
    return `${problemId}@${step}#${n}`;
  }
}

function detailOf(s: TraceSample, baselineRate: number | null): RewardDetail {
  return {
    uplift: s.uplift,
    with_trace_rate: s.with_trace.tally.rate,
    baseline_rate: baselineRate,
    e2e: s.e2e,
    rm: s.judge_score ?? s.rm_score,
    error: s.errors.length ? s.errors.join('; ') : null,
  };
}

async function readBody(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'the body is not JSON');
  }
}

function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new HttpError(400, describeZodError(parsed.error));
  return parsed.data;
}

function reply(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
