/**
 * The environment *TraceLift: Set Up Embedded Executor* creates in the
 * extension's global storage: the Python environment, the embedded model and
 * the set-up's work folder (built wheels, log). Settings fall back to it when
 * neither a setting nor an environment variable names a Python or a model, so
 * after the set-up nothing has to be edited. No `vscode` here: the storage
 * folder is handed in at activation.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveFetchDir } from '../../engine/data/taskData';
import { EMBEDDED_MODEL_FILE, resolveEmbeddedModel } from '../../engine/executor/embeddedServer';
import { envPythonPath, readSetupMarker } from '../../engine/setup/pythonSetup';
import { resolveDataDir } from '../../engine/tasks/dataDir';
import { pythonPathFor } from '../../engine/util/python';

export interface ManagedPaths {
  /** The Python environment (a venv). */
  envDir: string;
  python: string;
  modelDir: string;
  modelFile: string;
  /** Built llama-cpp-python wheels and the set-up log; kept when a set-up fails, so a retry does not rebuild. */
  workDir: string;
  logFile: string;
}

let storageDir: string | null = null;

/** Called once at activation with context.globalStorageUri.fsPath (null in tests that want none). */
export function useManagedStorage(dir: string | null): void {
  storageDir = dir;
}

export function managedPaths(dir: string | null = storageDir): ManagedPaths | null {
  if (!dir) return null;
  const envDir = path.join(dir, 'python');
  const modelDir = path.join(dir, 'models');
  const workDir = path.join(dir, 'setup');
  return {
    envDir,
    python: envPythonPath(envDir),
    modelDir,
    modelFile: path.join(modelDir, EMBEDDED_MODEL_FILE),
    workDir,
    logFile: path.join(workDir, 'setup.log'),
  };
}

/** The managed interpreter, only once a set-up has finished there (its marker is written last). */
export function managedPython(dir: string | null = storageDir): string | null {
  const p = managedPaths(dir);
  if (!p || !readSetupMarker(p.envDir) || !fs.existsSync(p.python)) return null;
  return p.python;
}

/** The managed model file, when it is there (it is renamed into place only once complete). */
export function managedModel(dir: string | null = storageDir): string | null {
  const p = managedPaths(dir);
  if (!p) return null;
  try {
    return fs.statSync(p.modelFile).size > 0 ? p.modelFile : null;
  } catch {
    return null;
  }
}

/** Whether the managed set-up included the training stack. */
export function managedHasTraining(dir: string | null = storageDir): boolean {
  const p = managedPaths(dir);
  return p ? readSetupMarker(p.envDir)?.with_training === true : false;
}

/**
 * What the embedded executor lacks with these settings (empty: ready): the interpreter and the model,
 * as the engine would resolve them (setting or managed path, else its own defaults).
 */
export function embeddedExecutorGaps(pythonPath: string | null, modelPath: string | null): string[] {
  const gaps: string[] = [];
  const python = pythonPathFor(pythonPath);
  if (!fs.existsSync(python)) gaps.push(`no Python environment (${python})`);
  try {
    resolveEmbeddedModel(modelPath ?? undefined);
  } catch {
    gaps.push('no embedded model file');
  }
  return gaps;
}

/** Where a download from the editor goes: the folder the task loader reads (the setting, $TRACELIFT_DATA_DIR or one that exists), else the data cache. */
export function dataDownloadDir(dataDirSetting: string | null): string {
  if (dataDirSetting) return dataDirSetting;
  try {
    return resolveDataDir();
  } catch {
    return resolveFetchDir(null);
  }
}
