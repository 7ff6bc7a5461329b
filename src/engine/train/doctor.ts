/**
 * `tracelift doctor` / *TraceLift: Check Training Environment*: what the
 * training (and eval) environment has, and for each thing it lacks, exactly
 * what to install and how. One Python probe (a short script, run once with a
 * timeout) reports the interpreter, torch and its devices, and the versions
 * of the packages the trainer imports; the rest is checked from here:
 * bubblewrap (really run once), the embedded model file, the executor
 * endpoint (GET /models), the benchmark files of every task.
 *
 * Training on the CPU (the embedded recipe) is possible when every check
 * marked `cpu_training` passes; the CLI exits 0 then.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { resolveEmbeddedModel } from '../executor/embeddedServer';
import { SandboxRunner } from '../sandbox';
import { resolveFetchDir } from '../data/taskData';
import { resolveDataDir } from '../tasks/dataDir';
import { listTasks } from '../tasks/registry';
import { backendDir, PYTHON_ENV, pythonPathFor } from '../util/python';
import { findRepoRoot } from '../util/repoRoot';
import { NO_GPU_FIX } from './gpuCheck';

/** What a check is needed for; a failed `cpu_training` check makes CPU training impossible. */
export const NEEDED_FOR = ['cpu_training', 'gpu_training', 'math500', 'code_tasks', 'endpoint', 'info'] as const;

export const DoctorCheckSchema = z.object({
  id: z.string(),
  label: z.string(),
  status: z.enum(['ok', 'missing', 'warning', 'info']),
  /** What was found (a version, a path, why it failed). */
  detail: z.string(),
  /** Exactly what to do about it (null when nothing is to be done). */
  fix: z.string().nullable(),
  needed_for: z.enum(NEEDED_FOR),
});
export type DoctorCheck = z.infer<typeof DoctorCheckSchema>;

export const DoctorDeviceSchema = z.object({
  index: z.number().int(),
  name: z.string(),
  total_bytes: z.number(),
  free_bytes: z.number().nullable(),
  capability: z.string().nullable(),
});

export const DoctorReportSchema = z.object({
  python: z.object({ path: z.string(), found_by: z.string(), version: z.string().nullable() }),
  torch: z
    .object({
      version: z.string(),
      cuda_build: z.string().nullable(),
      cuda_available: z.boolean(),
      bf16: z.boolean().nullable(),
      devices: z.array(DoctorDeviceSchema),
    })
    .nullable(),
  machine: z.object({ cpus: z.number().int(), memory_bytes: z.number() }),
  checks: z.array(DoctorCheckSchema),
  cpu_training: z.boolean(),
  gpu_training: z.boolean(),
});
export type DoctorReport = z.infer<typeof DoctorReportSchema>;

export interface DoctorOptions {
  /** The training Python (default as the launcher finds it: $TRACELIFT_PYTHON, then the repository's .venv). */
  pythonPath?: string | null;
  /** How the caller found pythonPath, in words (default: "given (--python / tracelift.pythonPath)"). */
  pythonFoundBy?: string;
  /** Executor endpoint to probe (its base URL, e.g. http://127.0.0.1:8000/v1). */
  executorUrl?: string | null;
  executorModel?: string | null;
  /** Environment variable holding the executor API key. */
  executorKeyEnv?: string | null;
  dataDir?: string | null;
  /** The embedded GGUF (default: $TRACELIFT_EMBEDDED_MODEL, then models/ of the repository). */
  modelPath?: string | null;
  /** Seconds the Python probe may take (importing torch is the slow part). */
  probeTimeoutS?: number;
  /** Seconds the endpoint probe may take. */
  endpointTimeoutS?: number;
}

/** Python packages the probe asks about: distribution, import name, needed for, the README step that installs it. */
const PACKAGES: ReadonlyArray<{ dist: string; module: string; neededFor: DoctorCheck['needed_for']; requirements: string }> = [
  { dist: 'torch', module: 'torch', neededFor: 'cpu_training', requirements: 'requirements-train.txt' },
  { dist: 'trl', module: 'trl', neededFor: 'cpu_training', requirements: 'requirements-train.txt' },
  { dist: 'transformers', module: 'transformers', neededFor: 'cpu_training', requirements: 'requirements-train.txt' },
  { dist: 'peft', module: 'peft', neededFor: 'cpu_training', requirements: 'requirements-train.txt' },
  { dist: 'accelerate', module: 'accelerate', neededFor: 'cpu_training', requirements: 'requirements-train.txt' },
  { dist: 'datasets', module: 'datasets', neededFor: 'cpu_training', requirements: 'requirements-train.txt' },
  { dist: 'gguf', module: 'gguf', neededFor: 'cpu_training', requirements: 'requirements-train.txt' },
  { dist: 'jsonschema', module: 'jsonschema', neededFor: 'cpu_training', requirements: 'requirements.txt' },
  { dist: 'math-verify', module: 'math_verify', neededFor: 'math500', requirements: 'requirements.txt' },
  { dist: 'llama-cpp-python', module: 'llama_cpp', neededFor: 'cpu_training', requirements: 'requirements.txt' },
];
/** Modules llama-cpp-python's [server] extra brings (the embedded executor is its server). */
const SERVER_MODULES = ['fastapi', 'uvicorn', 'sse_starlette', 'starlette_context', 'pydantic_settings'];

/** The probe: one JSON object on stdout; it never fails on a missing package (that is what it reports). */
const PROBE_SCRIPT = `
import importlib.metadata as md, importlib.util as iu, json, sys
spec = json.loads(sys.argv[1])
out = {"python": sys.version.split()[0], "executable": sys.executable, "packages": {}, "modules": {}, "torch": None, "torch_error": None}
for dist, module in spec["packages"]:
    try:
        version = md.version(dist)
    except md.PackageNotFoundError:
        version = None
    try:
        importable = iu.find_spec(module) is not None
    except Exception:
        importable = False
    out["packages"][dist] = {"version": version, "importable": importable}
for module in spec["modules"]:
    try:
        out["modules"][module] = iu.find_spec(module) is not None
    except Exception:
        out["modules"][module] = False
try:
    import torch
    t = {"version": torch.__version__, "cuda_build": torch.version.cuda, "cuda_available": bool(torch.cuda.is_available()), "bf16": None, "devices": []}
    if t["cuda_available"]:
        for i in range(torch.cuda.device_count()):
            p = torch.cuda.get_device_properties(i)
            try:
                free = torch.cuda.mem_get_info(i)[0]
            except Exception:
                free = None
            t["devices"].append({"index": i, "name": p.name, "total_bytes": p.total_memory, "free_bytes": free, "capability": f"{p.major}.{p.minor}"})
        t["bf16"] = bool(torch.cuda.is_bf16_supported())
    out["torch"] = t
except Exception as e:
    out["torch_error"] = f"{type(e).__name__}: {e}"
print(json.dumps(out))
`;

const ProbeOutputSchema = z.object({
  python: z.string(),
  executable: z.string(),
  packages: z.record(z.string(), z.object({ version: z.string().nullable(), importable: z.boolean() })),
  modules: z.record(z.string(), z.boolean()),
  torch: DoctorReportSchema.shape.torch,
  torch_error: z.string().nullable(),
});
type ProbeOutput = z.infer<typeof ProbeOutputSchema>;

/** The set-up command of the README, which installs everything the checks look for. */
export const SETUP_COMMAND = 'bash scripts/setup.sh';

/** `name==version` as pinned in backend/<file> (null when the file does not pin it). */
export function pinnedRequirement(dist: string, file: string): string | null {
  let text: string;
  try {
    text = fs.readFileSync(path.join(backendDir(), file), 'utf8');
  } catch {
    return null;
  }
  const wanted = dist.toLowerCase().replace(/[-_.]+/g, '-');
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const m = /^([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*==\s*(\S+)$/.exec(line);
    if (m && m[1]!.toLowerCase().replace(/[-_.]+/g, '-') === wanted) return `${m[1]}${m[2] ?? ''}==${m[3]}`;
  }
  return null;
}

/** How the launcher finds the training Python, in words. */
function pythonFoundBy(explicit: string | null | undefined, givenBy?: string): string {
  if (explicit && explicit.trim()) return givenBy ?? 'given (--python / tracelift.pythonPath)';
  if (process.env[PYTHON_ENV]?.trim()) return `$${PYTHON_ENV}`;
  return "the repository's .venv (the README set-up creates it)";
}

function runProbe(python: string, timeoutS: number): Promise<{ output: ProbeOutput | null; error: string | null }> {
  const spec = JSON.stringify({ packages: PACKAGES.map((p) => [p.dist, p.module]), modules: SERVER_MODULES });
  return new Promise((resolve) => {
    execFile(
      python,
      ['-c', PROBE_SCRIPT, spec],
      { timeout: timeoutS * 1000, killSignal: 'SIGKILL', maxBuffer: 1 << 20, cwd: findRepoRoot() },
      (err, stdout, stderr) => {
        if (err) {
          const why =
            (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such interpreter' : err.killed ? `no answer within ${timeoutS} s` : null;
          resolve({ output: null, error: why ?? (stderr.trim().split('\n').at(-1) || err.message) });
          return;
        }
        try {
          resolve({ output: ProbeOutputSchema.parse(JSON.parse(stdout.trim().split('\n').at(-1) ?? '')), error: null });
        } catch (parseErr) {
          resolve({ output: null, error: `unreadable probe answer (${(parseErr as Error).message.slice(0, 200)})` });
        }
      },
    );
  });
}

const GiB = 1024 ** 3;
const gib = (bytes: number) => `${(bytes / GiB).toFixed(1)} GiB`;

function packageChecks(probe: ProbeOutput, python: string): DoctorCheck[] {
  const checks: DoctorCheck[] = [];
  for (const p of PACKAGES) {
    const found = probe.packages[p.dist];
    const pin = pinnedRequirement(p.dist, p.requirements);
    const ok = Boolean(found?.version && found.importable);
    // A local build label (torch 2.13.0+cpu) is the same release.
    const wrongVersion = ok && pin !== null && !pin.endsWith(`==${found!.version!.replace(/\+.*$/, '')}`);
    let fix: string | null = null;
    if (!ok) {
      fix =
        p.dist === 'llama-cpp-python'
          ? `${SETUP_COMMAND} (it builds ${pin ?? 'llama-cpp-python[server]'} with portable CPU flags), or configure an executor endpoint`
          : p.dist === 'torch'
            ? `${SETUP_COMMAND}, or: ${python} -m pip install '${pin ?? 'torch'}' (first, on its own: then pip keeps that build), then ${python} -m pip install -r backend/requirements-train.txt`
            : `${python} -m pip install '${pin ?? p.dist}'   (all of them: ${SETUP_COMMAND}, or ${python} -m pip install -r backend/${p.requirements})`;
    } else if (wrongVersion) {
      fix = `tested with ${pin}: ${python} -m pip install '${pin}'`;
    }
    checks.push({
      id: `package:${p.dist}`,
      label: p.dist,
      status: !ok ? (p.neededFor === 'cpu_training' ? 'missing' : 'warning') : wrongVersion ? 'warning' : 'ok',
      detail: ok ? found!.version! : found?.version ? `${found.version} installed but not importable` : 'not installed',
      fix,
      needed_for: p.neededFor,
    });
  }
  const llama = probe.packages['llama-cpp-python'];
  if (llama?.version) {
    const missing = SERVER_MODULES.filter((m) => !probe.modules[m]);
    const pin = pinnedRequirement('llama-cpp-python', 'requirements.txt') ?? 'llama-cpp-python[server]';
    checks.push({
      id: 'llama-cpp-server',
      label: 'llama.cpp server (embedded executor)',
      status: missing.length ? 'missing' : 'ok',
      detail: missing.length ? `the [server] extra is missing: ${missing.join(', ')}` : `llama_cpp.server ${llama.version}`,
      fix: missing.length ? `${python} -m pip install '${pin}' (or ${SETUP_COMMAND})` : null,
      needed_for: 'cpu_training',
    });
  }
  return checks;
}

function torchChecks(probe: ProbeOutput): DoctorCheck[] {
  const t = probe.torch;
  if (!t) {
    return [
      {
        id: 'cuda',
        label: 'GPU (CUDA)',
        status: 'warning',
        detail: probe.torch_error ?? 'torch is not installed',
        fix: NO_GPU_FIX,
        needed_for: 'gpu_training',
      },
    ];
  }
  if (!t.cuda_available) {
    return [
      {
        id: 'cuda',
        label: 'GPU (CUDA)',
        status: 'warning',
        detail: `torch ${t.version}${t.cuda_build ? ` (CUDA ${t.cuda_build} build)` : ' (CPU build)'}: torch.cuda.is_available() is False`,
        fix: NO_GPU_FIX,
        needed_for: 'gpu_training',
      },
    ];
  }
  return [
    {
      id: 'cuda',
      label: 'GPU (CUDA)',
      status: 'ok',
      detail:
        `CUDA ${t.cuda_build ?? '?'}, bf16 ${t.bf16 ? 'yes' : 'no'}; ` +
        t.devices
          .map((d) => `cuda:${d.index} ${d.name} ${gib(d.total_bytes)}${d.free_bytes !== null ? ` (${gib(d.free_bytes)} free)` : ''}`)
          .join('; '),
      fix: null,
      needed_for: 'gpu_training',
    },
  ];
}

async function bubblewrapCheck(): Promise<DoctorCheck> {
  const runner = new SandboxRunner({ onWarning: () => {} });
  try {
    const info = await runner.info();
    return {
      id: 'bubblewrap',
      label: 'bubblewrap (code sandbox)',
      status: info.warnings.length ? 'warning' : 'ok',
      detail: `${info.bwrap ?? 'bwrap'} runs a program in the sandbox${info.warnings.length ? ` (${info.warnings.join('; ')})` : ''}`,
      fix: null,
      needed_for: 'code_tasks',
    };
  } catch (err) {
    const e = err as Error & { reason?: string; hint?: string };
    return {
      id: 'bubblewrap',
      label: 'bubblewrap (code sandbox)',
      status: 'warning',
      detail: e.reason ?? e.message,
      fix: e.hint ?? null,
      needed_for: 'code_tasks',
    };
  } finally {
    await runner.close().catch(() => {});
  }
}

function modelCheck(modelPath: string | null | undefined): DoctorCheck {
  try {
    const file = resolveEmbeddedModel(modelPath ?? undefined);
    return {
      id: 'embedded-model',
      label: 'embedded model (planner and executor)',
      status: 'ok',
      detail: `${file} (${(fs.statSync(file).size / 1024 ** 2).toFixed(0)} MiB)`,
      fix: null,
      needed_for: 'cpu_training',
    };
  } catch (err) {
    const [what, ...how] = (err as Error).message.split('. ');
    return {
      id: 'embedded-model',
      label: 'embedded model (planner and executor)',
      status: 'missing',
      detail: what ?? '',
      fix: how.join('. ') || SETUP_COMMAND,
      needed_for: 'cpu_training',
    };
  }
}

async function endpointCheck(o: DoctorOptions): Promise<DoctorCheck> {
  const base = o.executorUrl!.replace(/\/+$/, '');
  const url = `${base}/models`;
  const timeoutS = o.endpointTimeoutS ?? 5;
  const key = o.executorKeyEnv ? process.env[o.executorKeyEnv] : undefined;
  const check = (status: DoctorCheck['status'], detail: string, fix: string | null): DoctorCheck => ({
    id: 'executor-endpoint',
    label: `executor endpoint ${base}`,
    status,
    detail,
    fix,
    needed_for: 'endpoint',
  });
  if (o.executorKeyEnv && !key) {
    return check('missing', `$${o.executorKeyEnv} is not set`, `export ${o.executorKeyEnv}=<the endpoint's API key>`);
  }
  try {
    const res = await fetch(url, {
      headers: key ? { authorization: `Bearer ${key}` } : {},
      signal: AbortSignal.timeout(timeoutS * 1000),
    });
    if (!res.ok) {
      const fix =
        res.status === 401 || res.status === 403
          ? 'give the API key: --executor-key-env VAR (the extension: TraceLift: Set API Key)'
          : 'check the URL: it is the base URL of an OpenAI-compatible server, ending in /v1';
      return check('missing', `GET ${url}: HTTP ${res.status}`, fix);
    }
    const body = (await res.json()) as { data?: Array<{ id?: unknown }> };
    const ids = (body.data ?? []).map((m) => String(m.id));
    if (o.executorModel && !ids.includes(o.executorModel)) {
      return check(
        'warning',
        `serves ${ids.join(', ') || 'no model'}; not ${o.executorModel}`,
        `use one of the served names as the executor model`,
      );
    }
    return check('ok', `answers; serves ${ids.slice(0, 8).join(', ') || 'no model listed'}${ids.length > 8 ? ', …' : ''}`, null);
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${timeoutS} s` : (e.cause?.code ?? e.cause?.message ?? e.message);
    return check(
      'missing',
      `GET ${url}: ${why}`,
      'start the server first (e.g. vllm serve MODEL --port 8000, docs/training.md "On GPUs"), or leave the executor unset for the embedded one',
    );
  }
}

function dataChecks(dataDirFlag: string | null | undefined): DoctorCheck[] {
  let dataDir: string;
  try {
    dataDir = resolveDataDir(dataDirFlag);
  } catch (err) {
    return [
      {
        id: 'data-dir',
        label: 'benchmark data',
        status: 'missing',
        detail: (err as Error).message.split('. ')[0] ?? 'no data directory',
        fix: 'tracelift data fetch (the editor: TraceLift: Download Benchmark Data) fills the data cache; or pass --data-dir DIR / set TRACELIFT_DATA_DIR to a folder with the files in their published layout',
        needed_for: 'cpu_training',
      },
    ];
  }
  // The files must land where the loader looks, which is not the fetch default when another folder exists.
  const fetchDirFlag = path.resolve(dataDir) === resolveFetchDir(null) ? '' : ` --data-dir ${dataDir}`;
  return listTasks().map((task) => {
    const present = task.files.filter((f) => fs.existsSync(path.join(dataDir, f.path)));
    const absent = task.files.filter((f) => !present.includes(f));
    // The CPU recipe trains on GSM8K's train split.
    const neededFor: DoctorCheck['needed_for'] = task.name === 'gsm8k' ? 'cpu_training' : task.kind === 'code' ? 'code_tasks' : 'info';
    const blocking = task.name === 'gsm8k' && absent.some((f) => f.split === 'train');
    return {
      id: `data:${task.name}`,
      label: `data: ${task.name}`,
      status: absent.length === 0 ? 'ok' : blocking ? 'missing' : present.length ? 'warning' : 'info',
      detail: `${dataDir}: ` + [...present.map((f) => `${f.split} ✓`), ...absent.map((f) => `${f.split} missing (${f.path})`)].join(', '),
      fix: absent.length ? `tracelift data fetch ${task.name}${fetchDirFlag} (${absent.map((f) => f.path).join(', ')})` : null,
      needed_for: neededFor,
    };
  });
}

/** Runs every check (the Python probe, bubblewrap and the endpoint at the same time). */
export async function runDoctor(o: DoctorOptions = {}): Promise<DoctorReport> {
  const python = pythonPathFor(o.pythonPath);
  const foundBy = pythonFoundBy(o.pythonPath, o.pythonFoundBy);
  const pythonExists = fs.existsSync(python);
  const [probe, sandbox, endpoint] = await Promise.all([
    pythonExists ? runProbe(python, o.probeTimeoutS ?? 120) : Promise.resolve({ output: null, error: 'not found' }),
    bubblewrapCheck(),
    o.executorUrl ? endpointCheck(o) : Promise.resolve(null),
  ]);
  const checks: DoctorCheck[] = [];
  const p = probe.output;
  checks.push({
    id: 'python',
    label: 'Python (training environment)',
    status: p ? 'ok' : 'missing',
    detail: p ? `${python}: Python ${p.python}, found by ${foundBy}` : `${python} (found by ${foundBy}): ${probe.error}`,
    fix: p
      ? null
      : `${SETUP_COMMAND} (creates .venv with everything below), or set ${PYTHON_ENV} to a Python 3.11 that has backend/requirements*.txt`,
    needed_for: 'cpu_training',
  });
  if (p) checks.push(...packageChecks(p, python), ...torchChecks(p));
  checks.push(modelCheck(o.modelPath), sandbox);
  checks.push(
    endpoint ?? {
      id: 'executor-endpoint',
      label: 'executor endpoint',
      status: 'info',
      detail: 'none given: the embedded executor (llama.cpp server) is used; probe one with --executor-url URL',
      fix: null,
      needed_for: 'endpoint',
    },
  );
  checks.push(...dataChecks(o.dataDir));
  const memory = os.totalmem();
  checks.push({
    id: 'machine',
    label: 'machine',
    status: memory < 8 * GiB ? 'warning' : 'info',
    detail: `${os.availableParallelism()} CPU cores, ${gib(memory)} memory`,
    fix: memory < 8 * GiB ? 'the CPU recipe needs about 5-11 GB of memory while it trains' : null,
    needed_for: 'info',
  });

  const cpuTraining = checks.every((c) => c.needed_for !== 'cpu_training' || c.status !== 'missing');
  const gpuTraining = cpuTraining && Boolean(p?.torch?.cuda_available);
  return DoctorReportSchema.parse({
    python: { path: python, found_by: foundBy, version: p?.python ?? null },
    torch: p?.torch ?? null,
    machine: { cpus: os.availableParallelism(), memory_bytes: memory },
    checks,
    cpu_training: cpuTraining,
    gpu_training: gpuTraining,
  });
}

const MARK: Record<DoctorCheck['status'], string> = { ok: 'ok  ', missing: 'MISS', warning: 'warn', info: 'info' };

/** The report as plain text for a terminal (one line per check, its fix indented below). */
export function formatDoctorReport(r: DoctorReport): string {
  const lines = ['TraceLift training environment', ''];
  for (const c of r.checks) {
    lines.push(`[${MARK[c.status]}] ${c.label}: ${c.detail}`);
    if (c.fix && c.status !== 'ok') lines.push(`       → ${c.fix}`);
  }
  lines.push('');
  lines.push(
    r.cpu_training
      ? `Training on the CPU is possible (tracelift train recipes/cpu-smollm2.json).`
      : 'Training on the CPU is NOT possible yet: fix the MISS lines above.',
  );
  lines.push(r.gpu_training ? 'GPU recipes can run here.' : 'GPU recipes (device "cuda") are refused here: no usable GPU.');
  return lines.join('\n') + '\n';
}
