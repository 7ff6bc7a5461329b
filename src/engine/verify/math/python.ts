/**
 * Locating the repository root and the project's Python interpreter.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

export const PACKAGE_NAME = "tracelift-vscode";

let cachedRoot: string | undefined;

function isRepoRoot(dir: string): boolean {
  const pkg = join(dir, "package.json");
  if (!existsSync(pkg)) return false;
  try {
    const parsed = JSON.parse(readFileSync(pkg, "utf8")) as { name?: unknown };
    return parsed.name === PACKAGE_NAME;
  } catch {
    return false;
  }
}

/**
 * Walks up from `start` (default: this module's directory, which works both
 * from src/ under tsx and from the bundled dist/) to the directory whose
 * package.json is named "tracelift-vscode". Falls back to the current working
 * directory's ancestors, then to `process.cwd()`.
 */
export function findRepoRoot(start?: string): string {
  if (start === undefined && cachedRoot !== undefined) return cachedRoot;
  const here = typeof __dirname === "string" ? __dirname : process.cwd();
  const starts = start !== undefined ? [start] : [here, process.cwd()];
  for (const s of starts) {
    let dir = resolve(s);
    for (;;) {
      if (isRepoRoot(dir)) {
        if (start === undefined) cachedRoot = dir;
        return dir;
      }
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return process.cwd();
}

/**
 * The Python interpreter to use: the explicit option, else `TRACELIFT_PYTHON`,
 * else `<repoRoot>/.venv/bin/python` (`Scripts\python.exe` on Windows).
 */
export function resolvePython(pythonPath?: string): string {
  if (pythonPath !== undefined && pythonPath.trim() !== "") return pythonPath;
  const fromEnv = process.env.TRACELIFT_PYTHON;
  if (fromEnv !== undefined && fromEnv.trim() !== "") return fromEnv;
  const root = findRepoRoot();
  return process.platform === "win32"
    ? join(root, ".venv", "Scripts", "python.exe")
    : join(root, ".venv", "bin", "python");
}

/** `<repoRoot>/backend`, the PYTHONPATH entry for `tracelift_backend`. */
export function backendDir(): string {
  return join(findRepoRoot(), "backend");
}
