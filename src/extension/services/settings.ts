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
  E2eChoiceSchema,
  EVAL_OPTION_DEFAULTS,
  ExecStyleSchema,
  FROM_PRESET,
  ProtocolSchema,
  RewardModeSchema,
  type ApiKind,
  type E2eChoice,
  type ExecStyle,
  type ProtocolInput,
  type RewardMode,
} from '../../engine/contract';
import { PYTHON_ENV } from '../../engine/util/python';
import { managedModel, managedPython } from './managedEnv';
import { EMBEDDED_MODEL_ENV } from './trainingLaunch';

export const SECTION = 'tracelift';

export type { ApiKind };

export interface EndpointSettings {
  /** OpenAI-compatible base URL, or null when not configured. */
  url: string | null;
  model: string | null;
  api: ApiKind;
}

/** The executor endpoint: its API may be left to the protocol preset (null). */
export interface ExecutorSettings extends Omit<EndpointSettings, 'api'> {
  /** Null: the protocol preset's API. */
  api: ApiKind | null;
  /** Null: the protocol preset's max_tokens / top_p. */
  maxTokens: number | null;
  topP: number | null;
  /** Seconds per request attempt; null when not set (the endpoint's own: 120 s, the embedded server's 300 s). */
  timeoutS: number | null;
  retries: number;
  /** Failed calls in a row that mark the executor down; 0 = never. */
  downAfterFailures: number;
}

export interface TraceLiftSettings {
  executor: ExecutorSettings;
  planner: EndpointSettings & { tracesPerProblem: number };
  /** Reason RM scoring endpoint (official /score protocol), or null. */
  rmUrl: string | null;
  /** LLM judge endpoint (reward mode llm_judge); url null when not configured. */
  judge: { url: string | null; model: string | null };
  /** A contract reward mode, or "auto": the contract's default rule. */
  rewardMode: RewardMode | typeof AUTO_REWARD_MODE;
  execStyle: ExecStyle;
  /** Null: the protocol preset's e2e source (then the first of the K samples). */
  e2e: E2eChoice | null;
  /** The preset and the knobs set one by one (unset knobs: the preset's). */
  protocol: ProtocolInput;
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
  /**
   * Python with llama-cpp-python and math-verify: the setting, else (without $TRACELIFT_PYTHON) the managed
   * environment; null for the engine default ($TRACELIFT_PYTHON, the repository's .venv).
   */
  pythonPath: string | null;
  /** GGUF of the embedded executor: the setting, else the managed one; null for the engine default (models/ of the repository). */
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

/** A knob setting: one of the schema's values, or undefined for FROM_PRESET (and anything else). */
function knob<T extends string>(cfg: vscode.WorkspaceConfiguration, key: string, schema: z.ZodType<T>): T | undefined {
  const v = cfg.get<string>(key);
  if (v === FROM_PRESET) return undefined;
  const parsed = schema.safeParse(v);
  return parsed.success ? parsed.data : undefined;
}

/** A number setting that may be null (the preset's); out of range reads as null. */
function optionalNumber(cfg: vscode.WorkspaceConfiguration, key: string, ok: (n: number) => boolean): number | null {
  const v = cfg.get<number | null>(key);
  return typeof v === 'number' && Number.isFinite(v) && ok(v) ? v : null;
}

/** A value the user set somewhere (folder, workspace, user), not the declared default. */
function explicit<T>(cfg: vscode.WorkspaceConfiguration, key: string): T | undefined {
  const i = cfg.inspect<T>(key);
  return i?.workspaceFolderValue ?? i?.workspaceValue ?? i?.globalValue;
}

/** A character budget setting: null = the preset's (undefined here), 0 = no limit (null in the protocol). */
function charLimit(cfg: vscode.WorkspaceConfiguration, key: string): number | null | undefined {
  const v = optionalNumber(cfg, key, (n) => Number.isInteger(n) && n >= 0);
  return v === null ? undefined : v === 0 ? null : v;
}

function protocolSettings(cfg: vscode.WorkspaceConfiguration): ProtocolInput {
  const shape = ProtocolSchema.shape;
  const problem = charLimit(cfg, 'protocol.maxProblemChars');
  const trace = charLimit(cfg, 'protocol.maxTraceChars');
  const limits = { ...(problem !== undefined ? { problem } : {}), ...(trace !== undefined ? { trace } : {}) };
  const emptyTrace = knob(cfg, 'protocol.emptyTrace', shape.empty_trace.shape.math);
  return {
    preset: choice(cfg, 'protocol.preset', shape.preset, EVAL_OPTION_DEFAULTS.protocol),
    baseline: knob(cfg, 'protocol.baseline', shape.baseline),
    code_outcome: knob(cfg, 'protocol.codeOutcome', shape.code_outcome),
    prompt_set: knob(cfg, 'protocol.promptSet', shape.prompt_set),
    completion_prompt: knob(cfg, 'protocol.completionPrompt', shape.completion_prompt),
    ...(Object.keys(limits).length ? { truncation: { math: limits, code: limits } } : {}),
    ...(emptyTrace ? { empty_trace: { math: emptyTrace, code: emptyTrace } } : {}),
  };
}

export function readSettings(): TraceLiftSettings {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  const limit = cfg.get<number | null>('limit');
  return {
    executor: {
      url: text(cfg, 'executor.url'),
      model: text(cfg, 'executor.model'),
      api: knob(cfg, 'executor.api', ApiKindSchema) ?? null,
      maxTokens: optionalNumber(cfg, 'executor.maxTokens', (n) => Number.isInteger(n) && n >= 1),
      topP: optionalNumber(cfg, 'executor.topP', (n) => n > 0 && n <= 1),
      timeoutS: ((v) => (typeof v === 'number' && v > 0 ? v : null))(explicit<number>(cfg, 'executor.timeout')),
      retries: int(cfg, 'executor.retries', EVAL_OPTION_DEFAULTS.executorRetries, 0),
      downAfterFailures: int(cfg, 'executor.downAfterFailures', EVAL_OPTION_DEFAULTS.executorDownAfter, 0),
    },
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
    e2e: knob(cfg, 'e2e', E2eChoiceSchema) ?? null,
    protocol: protocolSettings(cfg),
    k: int(cfg, 'k', EVAL_OPTION_DEFAULTS.k),
    baselineSamples: int(cfg, 'baselineSamples', EVAL_OPTION_DEFAULTS.baselineSamples),
    limit: typeof limit === 'number' && limit >= 1 ? Math.floor(limit) : null,
    concurrency: int(cfg, 'concurrency', EVAL_OPTION_DEFAULTS.concurrency),
    dataDir: pathSetting(cfg, 'dataDir'),
    cacheDir: pathSetting(cfg, 'cacheDir'),
    runsFolder: text(cfg, 'runsFolder') ?? '.tracelift/runs',
    // Unset (here and in the environment): the environment Set Up Embedded Executor made, once it has.
    pythonPath: pathSetting(cfg, 'pythonPath') ?? (process.env[PYTHON_ENV]?.trim() ? null : managedPython()),
    embeddedModelPath: pathSetting(cfg, 'embeddedModelPath') ?? (process.env[EMBEDDED_MODEL_ENV]?.trim() ? null : managedModel()),
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
