/**
 * The launcher every sandboxed process starts with (python -I -S -c <preamble>
 * "<name>=<value>,…" <script.py> [args…]): it applies the resource limits
 * inside the sandbox and then runs the script in the same interpreter. The
 * Python is backend/tracelift_backend/sandbox/preamble.py (why a Python
 * preamble and not `prlimit`: see there and docs/sandbox.md).
 */
import { sandboxPythonSource } from './pythonSources';

/** The preamble's source, passed with `python -c`. */
export function preambleSource(): string {
  return sandboxPythonSource('preamble.py');
}

/** Resource limits applied by the preamble (bytes / seconds / counts). */
export interface RLimits {
  /** Processes + threads of the sandbox's user (RLIMIT_NPROC). */
  nproc: number;
  /** Largest file the process may write (RLIMIT_FSIZE). */
  fsize: number;
  /** Open file descriptors (RLIMIT_NOFILE). */
  nofile: number;
  /** Address space of each process (RLIMIT_AS). */
  as: number;
  /** CPU seconds of each process (RLIMIT_CPU). */
  cpu: number;
  /** Core dumps (RLIMIT_CORE). */
  core: number;
}

export function formatLimits(limits: Partial<RLimits>): string {
  return Object.entries(limits)
    .filter(([, v]) => typeof v === 'number' && Number.isFinite(v) && v >= 0)
    .map(([k, v]) => `${k}=${Math.floor(v as number)}`)
    .join(',');
}
