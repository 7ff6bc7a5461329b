/** Locating the repository (or installed extension) root. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { join } from 'node:path';

export const PACKAGE_NAME = 'tracelift-vscode';

let cachedRoot: string | undefined;

function isRepoRoot(dir: string): boolean {
  const pkg = join(dir, 'package.json');
  if (!existsSync(pkg)) return false;
  try {
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME;
  } catch {
    return false;
  }
}

/**
 * Walks up from `start` (default: this module's directory, which works from
 * src/ under tsx and from the bundled dist/) to the directory whose
 * package.json is named "tracelift-vscode"; then from the working directory;
 * finally falls back to the working directory itself.
 */
export function findRepoRoot(start?: string): string {
  if (start === undefined && cachedRoot !== undefined) return cachedRoot;
  const starts = start !== undefined ? [start] : [__dirname, process.cwd()];
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
