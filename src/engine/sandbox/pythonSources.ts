/**
 * The Python that runs inside the sandbox lives as real files under
 * backend/tracelift_backend/sandbox/ (linted and tested there, shipped with
 * the extension). This reads them once per process.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { backendDir } from '../util/python';

export type SandboxPythonFile = 'preamble.py' | 'codec.py' | 'judge.py' | 'child.py';

/** Where the sandbox's Python files are, in the repository or the installed extension. */
export function sandboxPythonDir(): string {
  return join(backendDir(), 'tracelift_backend', 'sandbox');
}

const cache = new Map<SandboxPythonFile, string>();

/** Text of one sandbox Python file; throws an error naming the file when it is missing. */
export function sandboxPythonSource(name: SandboxPythonFile): string {
  let text = cache.get(name);
  if (text === undefined) {
    const file = join(sandboxPythonDir(), name);
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ?? String(err);
      throw new Error(`sandbox Python file missing or unreadable: ${file} (${why}); the extension or checkout is incomplete`, {
        cause: err,
      });
    }
    cache.set(name, text);
  }
  return text;
}
