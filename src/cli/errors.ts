/**
 * What the CLI prints for an error: the message a person can act on, never a
 * stack or zod's raw JSON. A ZodError names the flag behind each bad field
 * (where one is known) and what is allowed.
 */
import { ZodError } from 'zod';

/** Config fields and the flags that set them (paths as in EvalConfig / an endpoint). */
const FLAG_OF_FIELD: Record<string, string> = {
  base_url: '--executor-url / --planner-url / --judge-url',
  'executor.base_url': '--executor-url',
  'executor.model': '--executor-model',
  'executor.api': '--executor-api',
  'executor.concurrency': '--concurrency',
  'executor.timeout_ms': '--executor-timeout',
  'executor.max_retries': '--executor-retries',
  'executor.down_after_failures': '--executor-down-after',
  'trace_source.endpoint.base_url': '--planner-url',
  'trace_source.endpoint.model': '--planner-model',
  'trace_source.traces_per_problem': '--traces-per-problem',
  'reward.rm_url': '--rm-url',
  'reward.judge.base_url': '--judge-url',
  'reward.judge.model': '--judge-model',
  'reward.mode': '--reward-mode',
  'reward.exec_style': '--exec-style',
  'reward.e2e': '--e2e',
  'executor_sampling.temperature': '--temperature',
  'executor_sampling.max_tokens': '--max-tokens',
  'executor_sampling.top_p': '--top-p',
  k: '-k',
  baseline_samples: '-m',
  offset: '--offset',
  limit: '--limit',
  rm_url: '--rm-url',
};

/** "--rm-url: Invalid URL" for each issue; allowed values listed where zod knows them. */
export function describeZodErrorForCli(error: ZodError): string {
  const lines = error.issues.slice(0, 8).map((issue) => {
    const field = issue.path.map(String).join('.');
    const flag = FLAG_OF_FIELD[field];
    const what = flag ?? (field || 'value');
    if ('values' in issue && Array.isArray(issue.values))
      return `invalid ${what}: allowed values are ${issue.values.map(String).join(', ')}`;
    return `invalid ${what}: ${issue.message}`;
  });
  if (error.issues.length > 8) lines.push(`… and ${error.issues.length - 8} more`);
  return lines.join('\n');
}

/** The text printed for an error that ends a command. */
export function formatCliError(err: unknown): string {
  if (err instanceof ZodError) return describeZodErrorForCli(err);
  if (err instanceof Error) return err.message;
  return String(err);
}

/** A URL flag's value must parse as an http(s) URL: checked before anything starts. */
export function checkUrlFlag(flag: string, value: string | undefined): void {
  if (value === undefined) return;
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch {
    // reported below
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new Error(`${flag}: "${value}" is not an http(s) URL (expected e.g. http://127.0.0.1:8000/v1)`);
  }
}
