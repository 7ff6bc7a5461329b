/**
 * The tiny Python launcher every sandboxed process starts with: it applies
 * the resource limits (resource.setrlimit, soft = hard) and then runs the
 * target script in the same interpreter.
 *
 * Why a Python preamble and not util-linux `prlimit`:
 * - RLIMIT_NPROC must be set *inside* bubblewrap's user namespace. Set
 *   outside (on bwrap) it would count every process of the calling user, and
 *   for uid 0 the kernel does not enforce it at all. Inside, the limit counts
 *   the sandbox's own processes.
 * - Python is the one thing the sandbox is guaranteed to contain; prlimit's
 *   path and availability differ between distributions, and the same
 *   preamble serves the unsandboxed opt-in mode on hosts without util-linux.
 * - No extra exec: the judge runs in the interpreter that set the limits.
 *
 * argv: preamble "<name>=<value>,…" <script.py> [args…]
 */
export const PREAMBLE_PY = String.raw`import sys, resource
def _apply(spec):
    for item in spec.split(','):
        if not item:
            continue
        name, _, val = item.partition('=')
        res = getattr(resource, 'RLIMIT_' + name.upper(), None)
        if res is None:
            continue
        v = int(val)
        try:
            resource.setrlimit(res, (v, v))
        except (ValueError, OSError):
            try:
                hard = resource.getrlimit(res)[1]
                resource.setrlimit(res, (v if hard < 0 else min(v, hard), hard))
            except (ValueError, OSError):
                pass
_apply(sys.argv[1])
_path = sys.argv[2]
sys.argv = sys.argv[2:]
with open(_path, 'rb') as _f:
    _src = _f.read()
del _apply, _f
_g = {'__name__': '__main__', '__file__': _path, '__builtins__': __builtins__}
exec(compile(_src, _path, 'exec'), _g)
`;

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
