/** Finding the repository (or installed extension) root and its project-local Python. */
import * as fs from 'node:fs';
import * as path from 'node:path';

const PACKAGE_NAME = 'tracelift-vscode';
let cachedRoot: string | null = null;

/** Walks up from this file to the package.json named tracelift-vscode. */
export function findRepoRoot(start: string = __dirname): string {
  if (cachedRoot) return cachedRoot;
  let dir = start;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        if (JSON.parse(fs.readFileSync(pkg, 'utf8')).name === PACKAGE_NAME) return (cachedRoot = dir);
      } catch {
        // not ours; keep walking
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`Cannot find the ${PACKAGE_NAME} package root above ${start}`);
    dir = parent;
  }
}
