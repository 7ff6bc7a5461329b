"""The typed-JSON codec shared by the judge and the child (tracelift_backend/sandbox/codec.py)."""

from __future__ import annotations

import collections
import enum
import json
import math

import pytest

import codec


def no_refs(x: object) -> object:
    raise AssertionError(f"unexpected reference to a {type(x).__name__}")


def no_resolve(tag: str, payload: object) -> object:
    raise AssertionError(f"unexpected {tag}")


def round_trip(value: object) -> object:
    """Encode, write as JSON text, parse, decode: the path a value takes from child to judge."""
    text = codec.jdump(codec.encode(value, no_refs))
    return codec.decode(json.loads(text), no_resolve)


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        -7,
        2**53 - 1,
        2**53,
        -(2**70),
        10**400,
        1.5,
        -0.25,
        3.0,
        "",
        'naïve "quoted" \\ \n\t\x00 ✓',
        [1, [2, [3]]],
        (1, "a", (2.5,)),
        (),
        {"a": 1, (1, 2): [3], 4: None, frozenset({1}): "x"},
        {1, 2, 3},
        frozenset({"a", "b"}),
        b"\x00\xffbytes",
        complex(1.5, -2),
        len,
        int,
        ValueError,
    ],
)
def test_round_trip_rebuilds_the_exact_value_and_type(value: object) -> None:
    back = round_trip(value)
    assert back == value
    assert type(back) is type(value)


def test_big_ints_travel_as_hex_text_and_small_ones_as_numbers() -> None:
    assert codec.encode(2**53 - 1, no_refs) == 2**53 - 1
    assert codec.encode(2**53, no_refs) == {"$int": format(2**53, "x")}
    assert codec.encode(-(2**60), no_refs) == {"$int": "-" + format(2**60, "x")}


def test_special_floats_round_trip() -> None:
    assert math.isnan(round_trip(float("nan")))
    assert round_trip(float("inf")) == float("inf")
    assert round_trip(float("-inf")) == float("-inf")
    # An integral float stays a float (JSON would read 3 as an int).
    assert codec.encode(3.0, no_refs) == {"$float": "3.0"}


class Liar(int):
    """An int subclass that claims to equal everything."""

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = int.__hash__


class Colour(enum.IntEnum):
    RED = 2


Point = collections.namedtuple("Point", "x y")


def test_builtin_subclasses_are_reduced_to_their_raw_base_value() -> None:
    assert Liar(5) == 6  # the forgery works on the object itself ...
    back = round_trip(Liar(5))
    assert type(back) is int and back == 5 and back != 6  # ... but not after the trip
    assert round_trip(Colour.RED) == 2 and type(round_trip(Colour.RED)) is int
    assert round_trip(Point(1, 2)) == (1, 2) and type(round_trip(Point(1, 2))) is tuple
    counter = round_trip(collections.Counter("aab"))
    assert counter == {"a": 2, "b": 1} and type(counter) is dict
    assert type(round_trip(collections.defaultdict(list, {1: [2]}))) is dict


def test_subclass_overrides_never_run_while_encoding() -> None:
    class Sneaky(list):
        def __iter__(self):
            raise RuntimeError("__iter__ must not be called")

    assert codec.encode(Sneaky([1, 2]), no_refs) == [1, 2]


def test_objects_that_are_not_plain_data_become_references() -> None:
    seen: list[object] = []

    def refer(x: object) -> dict:
        seen.append(x)
        return {"$ref": [len(seen) - 1, type(x).__name__]}

    obj = object()
    assert codec.encode([1, obj], refer) == [1, {"$ref": [0, "object"]}]
    assert seen == [obj]
    resolved = codec.decode({"$ref": [0, "object"]}, lambda tag, p: ("resolved", tag, p))
    assert resolved == ("resolved", "$ref", [0, "object"])


def test_encode_limited_stops_after_the_budget_and_restores_it() -> None:
    with pytest.raises(codec.TooLarge):
        codec.encode_limited(list(range(100)), no_refs, 50)
    assert codec.encode_limited(list(range(10)), no_refs, 50) == list(range(10))
    # The budget is back to unlimited for plain encode() afterwards.
    assert len(codec.encode(list(range(10_000)), no_refs)) == 10_000


@pytest.mark.parametrize(
    "bad",
    [
        {"$int": 5},
        {"$float": "x" * 500},
        {"$tuple": "not a list"},
        {"$dict": [[1]]},
        {"$bytes": 7},
        {"$complex": [1]},
        {"$builtin": "no_such_builtin"},
        {"$builtin": "__name__"},
        {"$unknown": []},
        {"a": 1, "b": 2},
        {},
    ],
)
def test_malformed_values_are_rejected(bad: object) -> None:
    with pytest.raises(codec.CodecError):
        codec.decode(bad, no_resolve)


def test_nesting_beyond_the_limit_is_rejected() -> None:
    deep: object = 1
    for _ in range(400):
        deep = [deep]
    with pytest.raises(codec.CodecError):
        codec.decode(deep, no_resolve)


@pytest.mark.parametrize(
    "tree",
    [
        {"a": [1, 2.5, None, True, False, "x\u2028y"], "b": {"c": ""}},
        ['\x00\x1f"\\/', "emoji 😀", -0.0, 1e300],
        [],
    ],
)
def test_jdump_writes_the_json_that_json_loads_reads(tree: object) -> None:
    assert json.loads(codec.jdump(tree)) == tree
    ascii_text = codec.jdump(tree, ascii=True)
    assert ascii_text.isascii() and json.loads(ascii_text) == tree


def test_jdump_refuses_what_json_cannot_say() -> None:
    with pytest.raises(ValueError):
        codec.jdump([float("nan")])
    with pytest.raises(ValueError):
        codec.jdump({"set": {1}})
