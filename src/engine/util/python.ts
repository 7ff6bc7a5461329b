/** The project-local Python environment that the set-up creates (.venv). */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { findRepoRoot } from './repoRoot';

export const PYTHON_ENV = 'TRACELIFT_PYTHON';

/** Explicit path, then $TRACELIFT_PYTHON, then <repo>/.venv/bin/python — without checking it exists. */
export function pythonPathFor(explicit?: string | null): string {
  if (explicit && explicit.trim()) return explicit;
  const fromEnv = process.env[PYTHON_ENV];
  if (fromEnv && fromEnv.trim()) return fromEnv;
  const root = findRepoRoot();
  return process.platform === 'win32' ? join(root, '.venv', 'Scripts', 'python.exe') : join(root, '.venv', 'bin', 'python');
}

/** As pythonPathFor, but a missing interpreter is an error that says how to get one. */
export function resolvePython(explicit?: string | null): string {
  const candidate = pythonPathFor(explicit);
  if (!fs.existsSync(candidate)) {
    throw new Error(`Python environment not found at ${candidate}. Run the README set-up (scripts/setup.sh) or set ${PYTHON_ENV}.`);
  }
  return candidate;
}

/** `<repoRoot>/backend`, the PYTHONPATH entry for the `tracelift_backend` package. */
export function backendDir(): string {
  return join(findRepoRoot(), 'backend');
}
