"""The launcher every sandboxed process starts with, passed as ``python -I -S -c``.

argv: ``"<name>=<value>,..." <script.py> [args...]``. It applies the resource
limits (``resource.setrlimit``, soft = hard; a limit above the hard one is
lowered to it) and then runs the script in the same interpreter, as
``__main__`` with ``sys.argv`` starting at the script.

Why a Python preamble and not util-linux ``prlimit``: RLIMIT_NPROC must be set
inside bubblewrap's user namespace (outside it would count every process of
the calling user, and for uid 0 the kernel does not enforce it at all); Python
is the one thing the sandbox is guaranteed to contain; and there is no extra
exec: the judge runs in the interpreter that set the limits.
"""

import resource
import sys


def _apply(spec):
    for item in spec.split(","):
        if not item:
            continue
        name, _, val = item.partition("=")
        res = getattr(resource, "RLIMIT_" + name.upper(), None)
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
with open(_path, "rb") as _f:
    _src = _f.read()
del _apply, _f
_g = {"__name__": "__main__", "__file__": _path, "__builtins__": __builtins__}
exec(compile(_src, _path, "exec"), _g)
