/** The project-local Python environment that the set-up creates (.venv). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findRepoRoot } from './repoRoot';

export const PYTHON_ENV = 'TRACELIFT_PYTHON';

/** Explicit path, then $TRACELIFT_PYTHON, then <repo>/.venv/bin/python. */
export function resolvePython(explicit?: string | null): string {
  const candidate = explicit ?? process.env[PYTHON_ENV] ?? path.join(findRepoRoot(), '.venv', 'bin', 'python');
  if (!fs.existsSync(candidate)) {
    throw new Error(
      `Python environment not found at ${candidate}. Run the README set-up (scripts/setup.sh) or set ${PYTHON_ENV}.`,
    );
  }
  return candidate;
}
