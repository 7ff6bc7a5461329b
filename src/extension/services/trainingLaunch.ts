/**
 * What the editor's training commands decide before a trainer starts, with
 * no `vscode` import (unit-tested): the recipes on offer, the copy of one in
 * the workspace, the config checked against the contract (errors name the
 * field), the run directory's default name, and the `tracelift train` command
 * line and environment the task runs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EVAL_OPTION_DEFAULTS, TrainConfigSchema, type TrainConfig } from '../../engine/contract';
import { DATA_DIR_ENV } from '../../engine/tasks/dataDir';
import { safeLine } from '../../shared/safeText';

/** Where "Start Training…" copies a recipe, relative to the workspace folder (matched by the package's jsonValidation). */
export const TRAIN_CONFIG_DIR = path.join('.tracelift', 'train');

export interface RecipeEntry {
  /** File name without `.json`. */
  name: string;
  file: string;
  origin: 'workspace' | 'bundled';
  /** The recipe's `description`, made safe for a pick list (empty when it has none). */
  description: string;
}

/** The `*.json` recipes of each folder, the first folder's first; a file seen twice (the workspace is the extension's repository) is listed once. */
export function listRecipes(folders: ReadonlyArray<{ dir: string; origin: RecipeEntry['origin'] }>): RecipeEntry[] {
  const seen = new Set<string>();
  const out: RecipeEntry[] = [];
  for (const { dir, origin } of folders) {
    let names: string[];
    try {
      names = fs.readdirSync(dir).filter((n) => n.endsWith('.json'));
    } catch {
      continue; // no recipes folder there
    }
    for (const n of names.sort()) {
      const file = path.resolve(dir, n);
      const key = realpathOr(file);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ name: n.slice(0, -'.json'.length), file, origin, description: recipeDescription(file) });
    }
  }
  return out;
}

function realpathOr(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return file;
  }
}

function recipeDescription(file: string): string {
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8')) as { description?: unknown };
    return typeof v.description === 'string' ? safeLine(v.description, 160) : '';
  } catch {
    return '';
  }
}

/** `<dir>/<name>.json`, else `<name>-2.json`, `-3`…: the first name not taken. */
export function uniqueConfigPath(dir: string, name: string, exists: (p: string) => boolean = fs.existsSync): string {
  const base = name.replace(/[^A-Za-z0-9._-]+/g, '-') || 'train';
  for (let i = 1; ; i++) {
    const candidate = path.join(dir, `${base}${i === 1 ? '' : `-${i}`}.json`);
    if (!exists(candidate)) return candidate;
  }
}

/**
 * Copies a recipe into `dir` under a name not taken (never overwrites: the
 * file is created exclusively). The recipe's `$schema` link is dropped: it is
 * relative to the recipes folder, and the extension's jsonValidation covers
 * the copy.
 */
export function copyRecipe(recipe: string, dir: string): string {
  const raw = JSON.parse(fs.readFileSync(recipe, 'utf8')) as Record<string, unknown>;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`${recipe}: not a JSON object`);
  const { $schema: _link, ...rest } = raw;
  fs.mkdirSync(dir, { recursive: true });
  const name = path.basename(recipe, '.json');
  for (;;) {
    const target = uniqueConfigPath(dir, name);
    try {
      fs.writeFileSync(target, JSON.stringify(rest, null, 2) + '\n', { flag: 'wx' });
      return target;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // created meanwhile: take the next name
    }
  }
}

export type ConfigCheck = { ok: true; config: TrainConfig } | { ok: false; field: string | null; message: string };

/** A training config's text checked against the contract: the first problem, with its field (`tasks.0.split`). */
export function checkTrainConfigText(text: string): ConfigCheck {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, field: null, message: `not valid JSON (${(err as Error).message})` };
  }
  const parsed = TrainConfigSchema.safeParse(raw);
  if (parsed.success) return { ok: true, config: parsed.data };
  const issue = parsed.error.issues[0]!;
  const keys = issue.code === 'unrecognized_keys' ? (issue as { keys?: string[] }).keys : undefined;
  const at = issue.path.map(String);
  // An unknown key is named itself (the issue's path is its parent object).
  const field = keys?.length ? [...at, keys[0]!].join('.') : at.length ? at.join('.') : null;
  const more = parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more)` : '';
  return { ok: false, field, message: `${field ? `field "${field}": ` : ''}${issue.message}${more}` };
}

/** `train-<config name>-<time>`: the run directory a launch proposes. */
export function defaultTrainRunName(configFile: string, now: Date = new Date()): string {
  const name = path.basename(configFile, '.json').replace(/[^A-Za-z0-9._-]+/g, '-');
  return `train-${name}-${now.toISOString().replace(/[:.]/g, '-')}`;
}

export type TrainLaunch = { kind: 'start'; configFile: string; outDir: string } | { kind: 'resume'; runDir: string };

export interface TrainCommandOptions {
  /** The CLI bundle (`dist/cli.js` of the extension). */
  cliScript: string;
  /** The Node the CLI runs on (the extension host's executable). */
  node: string;
  maxSteps?: number | null;
  pythonPath?: string | null;
  allowUnsandboxed?: boolean;
}

/** `node dist/cli.js train CONFIG --out DIR` / `train --resume DIR`, as an argument list (no shell). */
export function trainCommandLine(launch: TrainLaunch, opts: TrainCommandOptions): { command: string; args: string[] } {
  const args = [opts.cliScript, 'train'];
  if (launch.kind === 'start') args.push(launch.configFile, '--out', launch.outDir);
  else args.push('--resume', launch.runDir);
  if (opts.maxSteps) args.push('--max-steps', String(opts.maxSteps));
  if (opts.pythonPath) args.push('--python', opts.pythonPath);
  if (opts.allowUnsandboxed) args.push('--allow-unsandboxed');
  return { command: opts.node, args };
}

/** Read by the embedded executor (src/engine/executor/embeddedServer.ts) and, for an embedded planner, the trainer. */
export const EMBEDDED_MODEL_ENV = 'TRACELIFT_EMBEDDED_MODEL';

export interface TrainEnvSettings {
  dataDir: string | null;
  cacheDir: string | null;
  embeddedModelPath: string | null;
}

/**
 * The environment the CLI gets on top of the extension host's: the settings
 * the engine reads from the environment (data, cache, the embedded GGUF), and
 * ELECTRON_RUN_AS_NODE so the editor's own executable runs the script as Node.
 */
export function trainEnv(settings: TrainEnvSettings): Record<string, string> {
  const env: Record<string, string> = { ELECTRON_RUN_AS_NODE: '1' };
  if (settings.dataDir) env[DATA_DIR_ENV] = settings.dataDir;
  if (settings.cacheDir) env[EVAL_OPTION_DEFAULTS.cacheDirEnv] = settings.cacheDir;
  if (settings.embeddedModelPath) env[EMBEDDED_MODEL_ENV] = settings.embeddedModelPath;
  return env;
}
