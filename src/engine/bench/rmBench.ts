/**
 * `tracelift bench rm`: what the RM server's micro-batching buys over the
 * official clients' pattern, on the same model, machine and traces.
 *
 *   one_by_one: a server that scores one item per forward pass (max batch 1),
 *     one client sending one item per request, one after another — how the
 *     official trainers call their RM;
 *   batched: the server as it runs by default (items of concurrent requests
 *     share a forward pass), 8 clients each sending one item per request — the
 *     same wire pattern, batched on the server; per-request latency p50/p95.
 *
 * Traces: GSM8K train reference solutions (the first N with one), so the
 * lengths are the ones an RM sees in training.
 */
import { performance } from 'node:perf_hooks';
import type { Problem } from '../contract';
import { scoreTraces, type RmItem } from '../reward/rmClient';
import { startRmServer } from '../rm/rmProcess';
import { resolveRmModelDir } from '../rm/rmModel';
import { getTask } from '../tasks/registry';

export interface RmBenchRequest {
  /** An RM directory or an `rm train` run directory. */
  modelDir: string;
  dataDir: string;
  traces?: number;
  clients?: number;
  /** The batching server's max batch. */
  maxBatch?: number;
  maxLength?: number;
  pythonPath?: string | null;
  log?: (line: string) => void;
}

export interface RmBenchResult {
  bench: 'rm';
  model: string;
  traces: number;
  clients: number;
  max_batch: number;
  one_by_one_items_per_s: number;
  batched_items_per_s: number;
  speedup: number;
  batched_latency_ms: { p50: number; p95: number };
  one_by_one_latency_ms: { p50: number; p95: number };
  /** Largest |batched − alone| score difference over the traces (padding must not change a score). */
  max_score_difference: number;
}

export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[idx]!;
}

function benchItems(dataDir: string, n: number): RmItem[] {
  const problems: Problem[] = getTask('gsm8k').load(dataDir, 'train');
  const items: RmItem[] = [];
  for (const p of problems) {
    if (!p.reference_trace) continue;
    items.push({ problem: p.problem, reasoning: p.reference_trace, taskName: 'math', taskType: 'math' });
    if (items.length === n) break;
  }
  if (items.length < n) throw new Error(`only ${items.length} GSM8K train problems with a reference solution (asked for ${n})`);
  return items;
}

/** Send each item alone from `clients` concurrent clients; per-request latency and the scores in item order. */
async function oneItemPerRequest(
  url: string,
  token: string,
  items: readonly RmItem[],
  clients: number,
  maxLength: number,
): Promise<{ seconds: number; latencies: number[]; scores: number[] }> {
  const latencies: number[] = [];
  const scores = new Array<number>(items.length);
  let next = 0;
  const client = async () => {
    while (next < items.length) {
      const i = next++;
      const t0 = performance.now();
      const [score] = await scoreTraces(url, [items[i]!], { apiKey: token, batchSize: 1, concurrency: 1, maxLength, retries: 0 });
      latencies.push(performance.now() - t0);
      scores[i] = score!;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, client));
  return { seconds: (performance.now() - t0) / 1000, latencies: latencies.sort((a, b) => a - b), scores };
}

export async function runRmBench(req: RmBenchRequest): Promise<RmBenchResult> {
  const log = req.log ?? (() => {});
  const modelDir = resolveRmModelDir(req.modelDir);
  const n = req.traces ?? 256;
  const clients = req.clients ?? 8;
  const maxBatch = req.maxBatch ?? 16;
  const maxLength = req.maxLength ?? 512;
  const items = benchItems(req.dataDir, n);
  const token = 'bench';

  const measure = async (serverBatch: number, clientCount: number) => {
    const server = await startRmServer({ modelDir, token, batchSize: serverBatch, pythonPath: req.pythonPath });
    try {
      // One warm-up request: the first forward pass pays for lazy initialisation.
      await scoreTraces(server.scoreUrl, items.slice(0, 1), { apiKey: token, maxLength });
      return await oneItemPerRequest(server.scoreUrl, token, items, clientCount, maxLength);
    } finally {
      await server.stop();
    }
  };

  log(`bench rm: ${n} traces, one item per request, server max batch 1, 1 client…`);
  const alone = await measure(1, 1);
  log(`  ${(n / alone.seconds).toFixed(2)} items/s`);
  log(`bench rm: the same traces, server max batch ${maxBatch}, ${clients} concurrent clients…`);
  const batched = await measure(maxBatch, clients);
  log(`  ${(n / batched.seconds).toFixed(2)} items/s`);

  const round = (x: number, d = 2) => Number(x.toFixed(d));
  const aloneRate = n / alone.seconds;
  const batchedRate = n / batched.seconds;
  return {
    bench: 'rm',
    model: modelDir,
    traces: n,
    clients,
    max_batch: maxBatch,
    one_by_one_items_per_s: round(aloneRate),
    batched_items_per_s: round(batchedRate),
    speedup: round(batchedRate / aloneRate),
    batched_latency_ms: { p50: round(percentile(batched.latencies, 0.5), 0), p95: round(percentile(batched.latencies, 0.95), 0) },
    one_by_one_latency_ms: { p50: round(percentile(alone.latencies, 0.5), 0), p95: round(percentile(alone.latencies, 0.95), 0) },
    max_score_difference: Math.max(...alone.scores.map((s, i) => Math.abs(s - batched.scores[i]!))),
  };
}
