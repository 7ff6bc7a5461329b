/**
 * Typed access to the `tracelift.*` settings (declared in package.json
 * `contributes.configuration`). Paths may be absolute, relative to the first
 * workspace folder, or use ${workspaceFolder} / ~. API keys are never
 * settings: they live in SecretStorage (see commands/apiKeys.ts).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { z } from 'zod';
import {
  ApiKindSchema,
  AUTO_REWARD_MODE,
  E2eModeSchema,
  EVAL_OPTION_DEFAULTS,
  ExecStyleSchema,
  RewardModeSchema,
  type ApiKind,
  type E2eMode,
  type ExecStyle,
  type RewardMode,
} from '../../engine/contract';

export const SECTION = 'tracelift';

export type { ApiKind };

export interface EndpointSettings {
  /** OpenAI-compatible base URL, or null when not configured. */
  url: string | null;
  model: string | null;
  api: ApiKind;
}

export interface TraceLiftSettings {
  executor: EndpointSettings;
  planner: EndpointSettings & { tracesPerProblem: number };
  /** Reason RM scoring endpoint (official /score protocol), or null. */
  rmUrl: string | null;
  /** LLM judge endpoint (reward mode llm_judge); url null when not configured. */
  judge: { url: string | null; model: string | null };
  /** A contract reward mode, or "auto": the contract's default rule. */
  rewardMode: RewardMode | typeof AUTO_REWARD_MODE;
  execStyle: ExecStyle;
  e2e: E2eMode;
  k: number;
  baselineSamples: number;
  /** Default problem limit offered by Run Eval (null: all problems). */
  limit: number | null;
  concurrency: number;
  /** Benchmark data directory, or null for the engine default ($TRACELIFT_DATA_DIR, ../shared/data). */
  dataDir: string | null;
  /** Baseline cache directory, or null for the engine default. */
  cacheDir: string | null;
  /** Runs folder as configured (relative paths are per workspace folder). */
  runsFolder: string;
  /** Python with llama-cpp-python and math-verify, or null for the engine default (the repository's .venv). */
  pythonPath: string | null;
  /** GGUF of the embedded executor, or null for the engine default (models/ of the repository). */
  embeddedModelPath: string | null;
  allowUnsandboxed: boolean;
  annotationsEnabled: boolean;
  problemsPageSize: number;
}

function firstFolder(): string | null {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? null;
}

/** Expands ~ and ${workspaceFolder}; resolves relative paths against `base` (default: the first workspace folder). */
export function resolvePathSetting(value: string, base: string | null = firstFolder()): string {
  let v = value.trim();
  if (base) v = v.replace(/\$\{workspaceFolder\}/g, base);
  if (v === '~' || v.startsWith('~/')) v = path.join(os.homedir(), v.slice(1));
  if (path.isAbsolute(v)) return path.normalize(v);
  return path.resolve(base ?? process.cwd(), v);
}

function text(cfg: vscode.WorkspaceConfiguration, key: string): string | null {
  const v = cfg.get<string>(key);
  return typeof v === 'string' && v.trim() ? v.trim() : null;
}

function pathSetting(cfg: vscode.WorkspaceConfiguration, key: string): string | null {
  const v = text(cfg, key);
  return v ? resolvePathSetting(v) : null;
}

function int(cfg: vscode.WorkspaceConfiguration, key: string, fallback: number, min = 1): number {
  const v = cfg.get<number>(key);
  return typeof v === 'number' && Number.isFinite(v) && v >= min ? Math.floor(v) : fallback;
}

/** An enum setting: one of the schema's values, else the fallback. */
function choice<T extends string>(cfg: vscode.WorkspaceConfiguration, key: string, schema: z.ZodType<T>, fallback: T): T {
  const parsed = schema.safeParse(cfg.get<string>(key));
  return parsed.success ? parsed.data : fallback;
}

function api(cfg: vscode.WorkspaceConfiguration, key: string): ApiKind {
  return choice(cfg, key, ApiKindSchema, 'chat');
}

export function readSettings(): TraceLiftSettings {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  const limit = cfg.get<number | null>('limit');
  return {
    executor: { url: text(cfg, 'executor.url'), model: text(cfg, 'executor.model'), api: api(cfg, 'executor.api') },
    planner: {
      url: text(cfg, 'planner.url'),
      model: text(cfg, 'planner.model'),
      api: api(cfg, 'planner.api'),
      tracesPerProblem: int(cfg, 'planner.tracesPerProblem', EVAL_OPTION_DEFAULTS.tracesPerProblem),
    },
    rmUrl: text(cfg, 'rmUrl'),
    judge: { url: text(cfg, 'judge.url'), model: text(cfg, 'judge.model') },
    rewardMode: choice<RewardMode | typeof AUTO_REWARD_MODE>(cfg, 'rewardMode', RewardModeSchema, AUTO_REWARD_MODE),
    execStyle: choice(cfg, 'execStyle', ExecStyleSchema, EVAL_OPTION_DEFAULTS.execStyle),
    e2e: choice(cfg, 'e2e', E2eModeSchema, EVAL_OPTION_DEFAULTS.e2e),
    k: int(cfg, 'k', EVAL_OPTION_DEFAULTS.k),
    baselineSamples: int(cfg, 'baselineSamples', EVAL_OPTION_DEFAULTS.baselineSamples),
    limit: typeof limit === 'number' && limit >= 1 ? Math.floor(limit) : null,
    concurrency: int(cfg, 'concurrency', EVAL_OPTION_DEFAULTS.concurrency),
    dataDir: pathSetting(cfg, 'dataDir'),
    cacheDir: pathSetting(cfg, 'cacheDir'),
    runsFolder: text(cfg, 'runsFolder') ?? '.tracelift/runs',
    pythonPath: pathSetting(cfg, 'pythonPath'),
    embeddedModelPath: pathSetting(cfg, 'embeddedModelPath'),
    allowUnsandboxed: cfg.get<boolean>('allowUnsandboxed') === true,
    annotationsEnabled: cfg.get<boolean>('annotations.enabled') !== false,
    problemsPageSize: int(cfg, 'explorer.problemsPageSize', 50),
  };
}

/** The runs folder of each workspace folder (an absolute setting: that one folder). */
export function runsFolders(settings: TraceLiftSettings = readSettings()): string[] {
  const configured = settings.runsFolder;
  if (path.isAbsolute(configured) || configured.startsWith('~')) return [resolvePathSetting(configured)];
  const folders = vscode.workspace.workspaceFolders ?? [];
  return [...new Set(folders.map((f) => resolvePathSetting(configured, f.uri.fsPath)))];
}

/** Where a new run of this window goes: the runs folder of the first workspace folder. */
export function primaryRunsFolder(settings: TraceLiftSettings = readSettings()): string | null {
  return runsFolders(settings)[0] ?? null;
}

export function onSettingsChanged(listener: (e: vscode.ConfigurationChangeEvent) => void): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration(SECTION)) listener(e);
  });
}

/** Opens the Settings editor on TraceLift's settings (optionally one of them). */
export function openSettings(key?: string): Thenable<unknown> {
  return vscode.commands.executeCommand('workbench.action.openSettings', key ? `${SECTION}.${key}` : `@ext:tracelift.tracelift-vscode`);
}
