/**
 * The command line of *TraceLift: Build Groups…* (`tracelift groups build`)
 * from what the user chose, and the CLI's progress lines read back. No
 * vscode import: unit-tested.
 */
export interface GroupsBuildChoice {
  task: string;
  split: string | null;
  limit: number | null;
  kinds: readonly string[] | null;
  out: string;
  /** Code tasks: a traces file with the positives; null: a planner writes them. */
  positives: string | null;
  planner: { url: string; model: string } | null;
  perturber: { url: string; model: string } | null;
  judge: { url: string; model: string | null } | null;
  measure: boolean;
}

/** Arguments after the CLI script: `groups build …` (no shell: each value one argument). */
export function groupsBuildArgs(c: GroupsBuildChoice): string[] {
  const args = ['groups', 'build', '--task', c.task, '--out', c.out];
  if (c.split) args.push('--split', c.split);
  if (c.limit !== null) args.push('--limit', String(c.limit));
  if (c.kinds?.length) args.push('--kinds', c.kinds.join(','));
  if (c.positives) args.push('--positives', c.positives);
  if (c.planner) args.push('--planner-url', c.planner.url, '--planner-model', c.planner.model);
  if (c.perturber) args.push('--perturb-url', c.perturber.url, '--perturb-model', c.perturber.model);
  if (c.judge) args.push('--judge-url', c.judge.url, ...(c.judge.model ? ['--judge-model', c.judge.model] : []));
  if (c.measure) args.push('--measure');
  return args;
}

export interface BuildProgressLine {
  done: number;
  total: number;
  problemId: string;
}

/** `progress 3/200 math_gsm8k_000002: 4 negatives` → {3, 200, id}; null for any other line. */
export function parseBuildProgress(line: string): BuildProgressLine | null {
  const m = /^progress (\d+)\/(\d+) (\S+?):/.exec(line.trim());
  return m ? { done: Number(m[1]), total: Number(m[2]), problemId: m[3]! } : null;
}
