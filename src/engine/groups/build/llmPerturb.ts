/**
 * Negative kinds that need language (math: missing_condition,
 * mismatched_units; every code kind) are written by an LLM through the
 * engine's client with the versioned prompt of the kind. Its reply is
 * untrusted text: the candidate is the reply's <reasoning> block, and it is
 * kept only when it is not empty, differs from the positive, keeps to the
 * problem (its numbers and words), has a sane length and — for math — no
 * longer leads to the gold answer. Otherwise it is dropped with the reason.
 *
 * Determinism: requests are greedy (temperature 0) with a seed derived from
 * (--seed, problem, kind), and every reply is cached on disk under its
 * request (prompt version, model identity, messages, sampling), so a rebuild
 * with the same seed reuses the same text even on a server that is not
 * deterministic.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Sampling, TaskKind } from '../../contract';
import type { ExecutorClient } from '../../executor/client';
import { fillTemplate, type ChatMessage } from '../../prompts/templates';
import { truncateChars } from '../../prompts/truncate';
import { verifyNumeric } from '../../verify/math/numeric';
import { PERTURB_PROMPTS, type PerturbPromptSet } from './prompts';
import { streamFor } from './rng';

/** Why an LLM candidate was not kept. */
export const LLM_DROP_REASONS = {
  llm_call_failed: 'the perturbation call failed',
  llm_empty: 'the reply held no reasoning',
  llm_same_as_positive: 'the reasoning is the positive unchanged',
  llm_length: 'the reasoning is under 0.3× or over 3× the length of the positive',
  llm_off_problem: "the reasoning does not keep to the problem's words (math: and numbers)",
  llm_names_the_flaw: 'the reasoning talks about its flaw or the rewrite instead of just being flawed',
  llm_still_gold: 'the reasoning still leads to the gold answer',
  llm_is_program: 'code: the reply is a program (a code block or Python lines), not a plan in prose',
  llm_too_short: 'code: the plan has fewer than 40 words (the official code builder drops these)',
} as const;
export type LlmDropReason = keyof typeof LLM_DROP_REASONS;

export interface LlmPerturbContext {
  taskKind: TaskKind;
  problemId: string;
  problem: string;
  positive: string;
  /** Math: the gold answer the candidate must no longer reach. */
  gold: string | null;
  seed: number;
}

export type LlmPerturbResult =
  | { ok: true; reasoning: string; detail: { model: string; prompt_version: string } }
  | { ok: false; reason: LlmDropReason; detail?: string };

/** The candidate in a reply: the first <reasoning> block, else the reply after an unclosed tag, else the whole reply. */
export function extractPerturbedReasoning(reply: string): string {
  const closed = /<reasoning>([\s\S]*?)<\/reasoning>/i.exec(reply);
  if (closed) return closed[1]!.trim();
  const open = /<reasoning>([\s\S]*)$/i.exec(reply);
  return (open ? open[1]! : reply).replace(/<\/?reasoning>/gi, '').trim();
}

const normalize = (s: string) => s.replace(/\s+/g, ' ').trim().toLowerCase();
/** Words of a reply that comments on the task instead of doing it (unless the problem itself uses them). */
const META_WORDS =
  /\b(?:flaw(?:ed)?|original reasoning|rewrit\w*|mistakes?|incorrect(?:ly)?|ignor(?:es|ed|ing) (?:the|one|exactly)|condition stated)\b/gi;
const NUMBER = /\d+(?:[.,]\d+)*/g;
const WORD = /[a-z]{4,}/g;

/** Why a candidate is not kept, or null when it is. */
export function llmCandidateRejection(candidate: string, ctx: LlmPerturbContext): LlmDropReason | null {
  if (candidate.length < 20) return 'llm_empty';
  if (normalize(candidate) === normalize(ctx.positive)) return 'llm_same_as_positive';
  if (ctx.taskKind === 'code') {
    if (looksLikeProgram(candidate)) return 'llm_is_program';
    if (candidate.split(/\s+/).filter(Boolean).length < 40) return 'llm_too_short';
  }
  const ratio = candidate.length / Math.max(1, ctx.positive.length);
  if (ratio < 0.3 || ratio > 3) return 'llm_length';
  const known = new Set([...`${ctx.problem}\n${ctx.positive}`.toLowerCase().matchAll(WORD)].map((m) => m[0]));
  const words = [...candidate.toLowerCase().matchAll(WORD)].map((m) => m[0]);
  const onWords = words.length > 0 && words.filter((w) => known.has(w)).length / words.length >= 0.5;
  const stated = new Set([...ctx.problem.matchAll(NUMBER)].map((m) => m[0].replace(/,/g, '')));
  const used = new Set([...candidate.matchAll(NUMBER)].map((m) => m[0].replace(/,/g, '')));
  const shared = [...stated].filter((n) => used.has(n)).length;
  // A math trace reuses the problem's numbers; a code plan need not repeat its examples.
  if (!onWords || (ctx.taskKind === 'math' && shared < Math.min(2, stated.size))) return 'llm_off_problem';
  const source = `${ctx.problem}\n${ctx.positive}`.toLowerCase();
  if ([...candidate.matchAll(META_WORDS)].some((m) => !source.includes(m[0].toLowerCase()))) return 'llm_names_the_flaw';
  if (ctx.taskKind === 'math' && ctx.gold !== null && verifyNumeric(candidate, ctx.gold).correct) return 'llm_still_gold';
  return null;
}

/** Python lines a prose plan does not have: a fenced block, or two or more statement-shaped lines. */
const PROGRAM_LINE =
  /^\s*(?:def |class |import |from \S+ import |return\b|for .+:\s*$|while .+:\s*$|if .+:\s*$|elif |else:\s*$|\w+\s*=\s*\S.*$)/;

export function looksLikeProgram(text: string): boolean {
  if (/```/.test(text)) return true;
  return text.split('\n').filter((line) => PROGRAM_LINE.test(line)).length >= 2;
}

/** Character budgets for the perturbation prompt (the official code limits, §1). */
const PROMPT_LIMITS = { problem: 3500, reasoning: 2500 };

export function perturbMessages(prompts: PerturbPromptSet, kind: string, problem: string, positive: string): ChatMessage[] {
  const p = prompts.perturb[kind];
  if (!p) throw new Error(`no perturbation prompt for "${kind}" in ${prompts.version}`);
  const values = {
    problem: truncateChars(problem, PROMPT_LIMITS.problem),
    reasoning: truncateChars(positive, PROMPT_LIMITS.reasoning),
  };
  return [
    { role: 'system', content: p.system },
    { role: 'user', content: fillTemplate(p.user, values) },
  ];
}

export interface LlmPerturberOptions {
  /** Stable identity of the model (not its port): part of the cache key. */
  identity: string;
  /** Directory of cached replies; null: no cache. */
  cacheDir: string | null;
  /** Overrides the prompt file's max_tokens (part of the cache key). */
  maxTokens?: number;
  prompts?: PerturbPromptSet;
}

export class LlmPerturber {
  readonly prompts: PerturbPromptSet;

  constructor(
    private readonly client: ExecutorClient,
    private readonly opts: LlmPerturberOptions,
  ) {
    this.prompts = opts.prompts ?? PERTURB_PROMPTS;
  }

  get identity(): string {
    return this.opts.identity;
  }

  /** The max_tokens of every request. */
  get maxTokens(): number {
    return this.opts.maxTokens ?? this.prompts.sampling.max_tokens;
  }

  async perturb(kind: string, ctx: LlmPerturbContext): Promise<LlmPerturbResult> {
    const messages = perturbMessages(this.prompts, kind, ctx.problem, ctx.positive);
    const seed = Math.floor(streamFor(ctx.seed, ctx.problemId, kind, 'llm')() * 2 ** 31);
    const sampling: Sampling = {
      ...this.prompts.sampling,
      ...(this.opts.maxTokens ? { max_tokens: this.opts.maxTokens } : {}),
      top_p: 1,
      seed,
      stop: [],
    };
    const reply = await this.reply(messages, sampling);
    if (reply === null) return { ok: false, reason: 'llm_call_failed' };
    const reasoning = extractPerturbedReasoning(reply);
    const rejected = llmCandidateRejection(reasoning, ctx);
    if (rejected) return { ok: false, reason: rejected };
    return { ok: true, reasoning, detail: { model: this.opts.identity, prompt_version: this.prompts.version } };
  }

  /** The reply to a request: from the cache, else from the endpoint (then cached); null when the call failed. */
  private async reply(messages: ChatMessage[], sampling: Sampling): Promise<string | null> {
    const key = createHash('sha256')
      .update(JSON.stringify({ version: this.prompts.version, model: this.opts.identity, messages, sampling }))
      .digest('hex');
    const file = this.opts.cacheDir ? path.join(this.opts.cacheDir, `${key}.json`) : null;
    if (file && fs.existsSync(file)) {
      try {
        const cached = JSON.parse(fs.readFileSync(file, 'utf8')) as { text?: unknown };
        if (typeof cached.text === 'string') return cached.text;
      } catch {
        // a cut cache file: ask again
      }
    }
    const [gen] = await this.client.sample(messages, sampling, 1);
    if (!gen || gen.error !== null || gen.text === null) return null;
    if (file) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify({ text: gen.text }));
      fs.renameSync(tmp, file);
    }
    return gen.text;
  }
}
