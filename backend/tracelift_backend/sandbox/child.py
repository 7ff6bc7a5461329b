"""The child: runs the untrusted program.

Spawned by the judge as ``python -I child.py 3 4`` with only fds 0-4 open. It
never sees the tests, the expected values or the result channel: it gets the
program and, in call mode, requests "call f with these arguments" (marshal,
length-prefixed, on fd 3), and answers in typed JSON (codec.py) on fd 4. It is
not trusted: the judge rebuilds everything it sends as exact builtin values.
"""

import os as _os
import sys as _sys


def _import_codec():
    # python -I leaves the script's directory off sys.path. codec.py is
    # imported from the read-only harness directory, then both the path entry
    # and the module name are removed so that the program sees the same
    # sys.path and sys.modules as if the codec were part of this file.
    here = _os.path.dirname(_os.path.abspath(__file__))
    write_bytecode = _sys.dont_write_bytecode
    _sys.dont_write_bytecode = True
    _sys.path.insert(0, here)
    try:
        import codec
    finally:
        _sys.path.remove(here)
        _sys.modules.pop("codec", None)
        _sys.dont_write_bytecode = write_bytecode
    return codec


def _child_main():
    import builtins
    import marshal

    codec = _import_codec()
    TooLarge = codec.TooLarge
    decode = codec.decode
    encode_limited = codec.encode_limited
    jdump = codec.jdump
    req_fd = int(_sys.argv[1])
    resp_fd = int(_sys.argv[2])
    _os.closerange(max(req_fd, resp_fd) + 1, 65536)

    def read_exact(n):
        buf = bytearray()
        while len(buf) < n:
            chunk = _os.read(req_fd, n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return bytes(buf)

    def recv():
        head = read_exact(4)
        n = int.from_bytes(head, "big")
        return marshal.loads(read_exact(n))

    def send(obj):
        try:
            b = jdump(obj)
        except (ValueError, TypeError, RecursionError) as e:
            b = jdump({"err": ["exc", "EncodeError", str(e)[:200]]})
        data = memoryview(len(b).to_bytes(4, "big") + b)
        while data:
            k = _os.write(resp_fd, data)
            data = data[k:]

    def describe_exc(e):
        try:
            msg = str(e)[:500]
        except BaseException:
            msg = "<unprintable>"
        if isinstance(e, SystemExit):
            kind = "exit"
        elif isinstance(e, MemoryError):
            kind = "memory"
        else:
            kind = "exc"
        return [kind, type(e).__name__, msg]

    try:
        first = recv()
    except EOFError:
        _os._exit(0)
    import resource

    for name, val in first["limits"].items():
        res = getattr(resource, "RLIMIT_" + name.upper(), None)
        if res is None:
            continue
        try:
            soft = hard = int(val)
            if name == "cpu":
                hard = soft + 1
            resource.setrlimit(res, (soft, hard))
        except (ValueError, OSError):
            pass
    mode = first["mode"]
    source = first["program"]
    module_name = first.get("module", "solution")
    try:
        code = compile(source, "<program>", "exec", dont_inherit=True)
    except BaseException as e:
        line = getattr(e, "lineno", None)
        send(
            {
                "t": "compile_error",
                "exc": type(e).__name__,
                "msg": str(e)[:500],
                "line": line if type(line) is int else None,
            }
        )
        _sys.stderr.write("%s: %s\n" % (type(e).__name__, e))
        _sys.exit(1)

    import types

    mod = types.ModuleType(module_name)
    mod.__dict__["__builtins__"] = builtins
    _sys.modules[module_name] = mod
    send({"t": "compiled"})
    del first, source

    if mode == "script":
        _sys.argv = ["solution.py"]
        try:
            exec(code, mod.__dict__)
        except SystemExit:
            raise
        except BaseException as e:
            try:
                send({"t": "exception", "err": describe_exc(e)})
            except BaseException:
                pass
            raise
        return

    # call mode: load the program, then serve requests from the judge.
    try:
        exec(code, mod.__dict__)
    except BaseException as e:
        send({"t": "load_error", "err": describe_exc(e)})
        try:
            import traceback

            traceback.print_exc()
        except BaseException:
            pass
        try:
            _sys.stdout.flush()
        except BaseException:
            pass
        _os._exit(1)

    refs = []

    def refer(x):
        refs.append(x)
        try:
            tname = type(x).__name__
        except BaseException:
            tname = "?"
        return {"$ref": [len(refs) - 1, str(tname)[:80]]}

    g = mod.__dict__

    def resolve(tag, p):
        if tag == "$ref":
            return refs[p[0]]
        return g[p]

    names = {}
    for k, v in list(g.items()):
        if type(k) is not str or k.startswith("__"):
            continue
        try:
            if isinstance(v, types.ModuleType):
                names[k] = ["module", str(getattr(v, "__name__", ""))]
            elif callable(v):
                names[k] = ["callable"]
            else:
                # Plain values are offered to the tests (MBPP setup code may use
                # them); big ones (precomputed tables) are not worth shipping.
                names[k] = ["value", encode_limited(v, refer, 10000)]
        except BaseException:
            names[k] = ["other"]
    send({"t": "ready", "names": names})

    while True:
        try:
            req = recv()
        except EOFError:
            _os._exit(0)
        op = req.get("op")
        try:
            if op == "call":
                f = decode(req["f"], resolve)
                args = decode(req["a"], resolve)
                kwargs = decode(req.get("k", {"$dict": []}), resolve)
                r = f(*args, **kwargs)
            elif op == "method":
                inst = g[req["cls"]]()
                r = getattr(inst, req["m"])(*decode(req["a"], resolve))
            elif op == "getattr":
                r = getattr(decode(req["o"], resolve), req["n"])
            elif op == "setattr":
                setattr(decode(req["o"], resolve), req["n"], decode(req["v"], resolve))
                r = None
            elif op == "len":
                r = len(decode(req["o"], resolve))
            elif op == "list":
                r = []
                for item in decode(req["o"], resolve):
                    r.append(item)
                    if len(r) > 10000000:
                        raise MemoryError("iterable too long")
            elif op == "getitem":
                r = decode(req["o"], resolve)[decode(req["k"], resolve)]
            else:
                raise ValueError("unknown op")
            if req.get("r") == "notnone":
                r = r is not None
            out = {"ok": encode_limited(r, refer, 4000000)}
        except TooLarge:
            out = {"err": ["toolarge", "TooLarge", "result has more than 4000000 values"]}
        except BaseException as e:
            out = {"err": describe_exc(e)}
        send(out)


if __name__ == "__main__":
    _child_main()
