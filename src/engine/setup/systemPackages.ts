/**
 * System packages the set-up cannot install itself (compilers, cmake,
 * bubblewrap, Python's venv module): what is missing and the one command
 * that installs it on this system.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The first executable called `name` on PATH, or null. */
export function findOnPath(name: string, envPath = process.env.PATH ?? ''): string | null {
  const exts = process.platform === 'win32' ? ['.exe', '.cmd', ''] : [''];
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const candidate = path.join(dir, name + ext);
      try {
        fs.accessSync(candidate, fs.constants.X_OK);
        if (fs.statSync(candidate).isFile()) return candidate;
      } catch {
        // not here
      }
    }
  }
  return null;
}

export type SystemNeed = 'c-compiler' | 'cxx-compiler' | 'cmake' | 'bubblewrap' | 'python-venv' | 'python';

type PackageManager = 'apt-get' | 'dnf' | 'yum' | 'pacman' | 'zypper' | 'apk' | 'brew';

const PACKAGES: Record<PackageManager, Record<SystemNeed, string>> = {
  'apt-get': {
    'c-compiler': 'build-essential',
    'cxx-compiler': 'build-essential',
    cmake: 'cmake',
    bubblewrap: 'bubblewrap',
    'python-venv': 'python3-venv',
    python: 'python3',
  },
  dnf: {
    'c-compiler': 'gcc',
    'cxx-compiler': 'gcc-c++',
    cmake: 'cmake',
    bubblewrap: 'bubblewrap',
    'python-venv': 'python3',
    python: 'python3',
  },
  yum: {
    'c-compiler': 'gcc',
    'cxx-compiler': 'gcc-c++',
    cmake: 'cmake',
    bubblewrap: 'bubblewrap',
    'python-venv': 'python3',
    python: 'python3',
  },
  pacman: {
    'c-compiler': 'gcc',
    'cxx-compiler': 'gcc',
    cmake: 'cmake',
    bubblewrap: 'bubblewrap',
    'python-venv': 'python',
    python: 'python',
  },
  zypper: {
    'c-compiler': 'gcc',
    'cxx-compiler': 'gcc-c++',
    cmake: 'cmake',
    bubblewrap: 'bubblewrap',
    'python-venv': 'python3',
    python: 'python3',
  },
  apk: {
    'c-compiler': 'build-base',
    'cxx-compiler': 'build-base',
    cmake: 'cmake',
    bubblewrap: 'bubblewrap',
    'python-venv': 'python3',
    python: 'python3',
  },
  brew: {
    'c-compiler': 'llvm',
    'cxx-compiler': 'llvm',
    cmake: 'cmake',
    bubblewrap: 'bubblewrap',
    'python-venv': 'python',
    python: 'python',
  },
};

const INSTALL: Record<PackageManager, string> = {
  'apt-get': 'sudo apt-get install -y',
  dnf: 'sudo dnf install -y',
  yum: 'sudo yum install -y',
  pacman: 'sudo pacman -S --needed',
  zypper: 'sudo zypper install -y',
  apk: 'sudo apk add',
  brew: 'brew install',
};

const WHY: Record<SystemNeed, string> = {
  'c-compiler': 'a C compiler (cc, gcc or clang) to build llama-cpp-python',
  'cxx-compiler': 'a C++ compiler (c++, g++ or clang++) to build llama-cpp-python',
  cmake: 'cmake to build llama-cpp-python',
  bubblewrap: 'bubblewrap (bwrap), the sandbox that runs generated code',
  'python-venv': "Python's venv module with ensurepip, to create the environment",
  python: 'Python 3.10 or newer',
};

export function detectPackageManager(envPath = process.env.PATH ?? ''): PackageManager | null {
  if (process.platform === 'darwin') return findOnPath('brew', envPath) ? 'brew' : null;
  for (const pm of ['apt-get', 'dnf', 'yum', 'pacman', 'zypper', 'apk'] as const) if (findOnPath(pm, envPath)) return pm;
  return null;
}

/** Which of the build tools are missing from PATH. */
export function missingBuildTools(envPath = process.env.PATH ?? ''): SystemNeed[] {
  const missing: SystemNeed[] = [];
  if (!['cc', 'gcc', 'clang'].some((c) => findOnPath(c, envPath))) missing.push('c-compiler');
  if (!['c++', 'g++', 'clang++'].some((c) => findOnPath(c, envPath))) missing.push('cxx-compiler');
  if (!findOnPath('cmake', envPath)) missing.push('cmake');
  return missing;
}

/** bubblewrap is needed on Linux only (elsewhere code runs without that sandbox). */
export function missingSandbox(envPath = process.env.PATH ?? ''): SystemNeed[] {
  return process.platform === 'linux' && !findOnPath('bwrap', envPath) ? ['bubblewrap'] : [];
}

export class MissingSystemPackageError extends Error {
  constructor(
    message: string,
    readonly needs: readonly SystemNeed[],
    /** The command that installs them here, when the package manager is known. */
    readonly installCommand: string | null,
  ) {
    super(message);
    this.name = 'MissingSystemPackageError';
  }
}

/** "Missing: cmake to build … \n Install with: sudo apt-get install -y cmake". */
export function missingSystemPackageError(needs: readonly SystemNeed[], pm = detectPackageManager()): MissingSystemPackageError {
  const packages = pm ? [...new Set(needs.map((n) => PACKAGES[pm][n]))] : [];
  const installCommand = pm ? `${INSTALL[pm]} ${packages.join(' ')}` : null;
  const lines = ['Missing system packages the set-up cannot install itself:', ...needs.map((n) => `  - ${WHY[n]}`)];
  lines.push(
    installCommand
      ? `Install them with:\n  ${installCommand}\nthen run the set-up again.`
      : 'Install them with your system package manager, then run the set-up again.',
  );
  return new MissingSystemPackageError(lines.join('\n'), needs, installCommand);
}
