"""Typed-JSON value codec shared by the judge and the child (see contract/codeTests.ts).

Function results cross from the untrusted child to the judge as typed JSON and
are rebuilt as exact builtin values before any comparison, so objects with a
forged ``__eq__`` (or int/str/list subclasses) cannot fake equality; objects
that are not plain data travel as opaque handles (``$ref``) equal only to
themselves.

Imported by judge.py and child.py from the read-only harness directory; it
imports nothing outside the standard library (the sandbox has no packages).
"""

import binascii as _binascii
import builtins as _builtins

# Integers outside (-SAFE_INT, SAFE_INT) travel as hex text (JavaScript reads the rest exactly).
SAFE_INT = 2**53
_BUILTIN_FN = type(len)


class CodecError(Exception):
    pass


class TooLarge(Exception):
    pass


_budget = [1 << 62]


def encode_limited(x, refer, nodes):
    """encode() that gives up (TooLarge) after the given number of values."""
    _budget[0] = nodes
    try:
        return encode(x, refer)
    finally:
        _budget[0] = 1 << 62


def _builtin_name(x):
    try:
        name = x.__name__
    except Exception:
        return None
    if type(name) is str and getattr(_builtins, name, None) is x:
        return name
    return None


def _enc_float(x):
    if x != x:
        return {"$float": "nan"}
    if x == float("inf") or x == float("-inf"):
        return {"$float": "inf" if x > 0 else "-inf"}
    if x == int(x):
        return {"$float": repr(x)}
    return x


def encode(x, refer, depth=0):
    """Encode a value as typed JSON. Exact builtin types are encoded directly;
    instances of subclasses of builtins are reduced to their raw base value
    through the base type's own slots (so overridden __eq__/__iter__/... never
    run); anything else goes through refer(x) (an opaque handle)."""
    if depth > 200:
        return refer(x)
    _budget[0] -= 1
    if _budget[0] < 0:
        raise TooLarge("result too large")
    t = type(x)
    if x is None or t is bool or t is str:
        return x
    if t is int:
        return x if -SAFE_INT < x < SAFE_INT else {"$int": format(x, "x")}
    if t is float:
        return _enc_float(x)
    d = depth + 1
    if t is list:
        return [encode(e, refer, d) for e in x]
    if t is tuple:
        return {"$tuple": [encode(e, refer, d) for e in x]}
    if t is dict:
        return {"$dict": [[encode(k, refer, d), encode(v, refer, d)] for k, v in x.items()]}
    if t is set:
        return {"$set": [encode(e, refer, d) for e in x]}
    if t is frozenset:
        return {"$frozenset": [encode(e, refer, d) for e in x]}
    if t is bytes:
        return {"$bytes": _binascii.b2a_base64(x, newline=False).decode("ascii")}
    if t is complex:
        return {"$complex": [repr(x.real), repr(x.imag)]}
    if (t is type or t is _BUILTIN_FN) and _builtin_name(x) is not None:
        return {"$builtin": _builtin_name(x)}
    # Subclasses of builtins (namedtuple, IntEnum, Counter, defaultdict, str
    # subclasses ...): take the raw base value via the base type's slots.
    try:
        if issubclass(t, int) and not issubclass(t, bool):
            return encode(int.__int__(x), refer, d)
        if issubclass(t, float):
            return _enc_float(float.__float__(x))
        if issubclass(t, str):
            return str.__str__(x)
        if issubclass(t, tuple):
            return {"$tuple": [encode(e, refer, d) for e in tuple.__iter__(x)]}
        if issubclass(t, list):
            return [encode(e, refer, d) for e in list.__iter__(x)]
        if issubclass(t, dict):
            return {"$dict": [[encode(k, refer, d), encode(v, refer, d)] for k, v in dict.items(x)]}
        if issubclass(t, frozenset):
            return {"$frozenset": [encode(e, refer, d) for e in frozenset.__iter__(x)]}
        if issubclass(t, set):
            return {"$set": [encode(e, refer, d) for e in set.__iter__(x)]}
        if issubclass(t, bytes):
            return {"$bytes": _binascii.b2a_base64(bytes(memoryview(x)), newline=False).decode("ascii")}
    except RecursionError:
        raise
    except Exception:
        pass
    return refer(x)


def _dec_float(s):
    if type(s) is float or type(s) is int:
        return float(s)
    if type(s) is not str or len(s) > 400:
        raise CodecError("bad float")
    return float(s)


def _seq(p):
    if type(p) is not list:
        raise CodecError("expected a list")
    return p


def decode(v, resolve, depth=0):
    """Decode typed JSON into exact builtin values. resolve(tag, payload)
    handles $ref / $name."""
    if depth > 300:
        raise CodecError("value nested too deeply")
    t = type(v)
    if v is None or t is bool or t is str or t is int or t is float:
        return v
    d = depth + 1
    if t is list:
        return [decode(e, resolve, d) for e in v]
    if t is not dict or len(v) != 1:
        raise CodecError("malformed value")
    ((tag, p),) = v.items()
    if tag == "$tuple":
        return tuple([decode(e, resolve, d) for e in _seq(p)])
    if tag == "$dict":
        out = {}
        for kv in _seq(p):
            if type(kv) is not list or len(kv) != 2:
                raise CodecError("malformed dict item")
            out[decode(kv[0], resolve, d)] = decode(kv[1], resolve, d)
        return out
    if tag == "$set":
        return set([decode(e, resolve, d) for e in _seq(p)])
    if tag == "$frozenset":
        return frozenset([decode(e, resolve, d) for e in _seq(p)])
    if tag == "$int":
        if type(p) is not str or len(p) > 50000000:
            raise CodecError("bad int")
        return int(p, 16)
    if tag == "$float":
        return _dec_float(p)
    if tag == "$bytes":
        if type(p) is not str:
            raise CodecError("bad bytes")
        return _binascii.a2b_base64(p)
    if tag == "$complex":
        if type(p) is str and len(p) < 400:
            return complex(p)
        p = _seq(p)
        if len(p) != 2:
            raise CodecError("bad complex")
        return complex(_dec_float(p[0]), _dec_float(p[1]))
    if tag == "$builtin":
        obj = getattr(_builtins, p, None) if type(p) is str else None
        if obj is None or not (type(obj) is type or type(obj) is _BUILTIN_FN):
            raise CodecError("unknown builtin")
        return obj
    if tag == "$ref" or tag == "$name":
        return resolve(tag, p)
    raise CodecError("unknown tag")


_JESC = dict((i, "\\u%04x" % i) for i in range(32))
_JESC[ord('"')] = '\\"'
_JESC[ord("\\")] = "\\\\"


try:
    from _json import encode_basestring_ascii as _ascii_str
except ImportError:  # pragma: no cover
    _ascii_str = None


def jdump(obj, ascii=False):
    """JSON text of a typed-JSON tree, without importing the json package
    (whose start-up cost is most of an interpreter's)."""
    out = []
    add = out.append
    quote = _ascii_str if (ascii and _ascii_str is not None) else None

    def w(o):
        t = type(o)
        if o is None:
            add("null")
        elif o is True:
            add("true")
        elif o is False:
            add("false")
        elif t is str:
            if quote is not None:
                add(quote(o))
            else:
                add('"' + o.translate(_JESC) + '"')
        elif t is int:
            add(str(o))
        elif t is float:
            if o != o or o in (float("inf"), float("-inf")):
                raise ValueError("non-finite float")
            add(repr(o))
        elif t is list:
            add("[")
            for i, e in enumerate(o):
                if i:
                    add(",")
                w(e)
            add("]")
        elif t is dict:
            add("{")
            for i, (k, e) in enumerate(o.items()):
                if i:
                    add(",")
                w(str(k))
                add(":")
                w(e)
            add("}")
        else:
            raise ValueError("not JSON: %s" % t.__name__)

    w(obj)
    text = "".join(out)
    return text.encode("ascii") if quote is not None else text.encode("utf-8", "surrogatepass")
