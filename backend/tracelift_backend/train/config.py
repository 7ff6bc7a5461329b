"""The training config (``RUN/config.json``, written resolved by the launcher): validated against
``schemas/train_config.schema.json`` (generated from the zod TrainConfigSchema), with the schema's
own defaults filled in for anything a hand-written config leaves out, so no default is repeated here.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Mapping
from typing import Any

from ..contract import ContractError, schema, validate

TRAIN_CONFIG = "train_config"


def load_train_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The config at ``path``, validated, defaults filled; ContractError naming the field otherwise."""
    try:
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
    except json.JSONDecodeError as e:
        raise ContractError(TRAIN_CONFIG, "", f"{path} is not JSON ({e})") from None
    return parse_train_config(record)


def parse_train_config(record: Any) -> dict[str, Any]:
    validate(TRAIN_CONFIG, record)
    return with_defaults(schema(TRAIN_CONFIG), record)


def with_defaults(sch: Mapping[str, Any], value: Any) -> Any:
    """``value`` with every property the schema gives a ``default`` and the value lacks filled in,
    in nested objects and array items too (a copy; ``value`` already validated)."""
    if isinstance(value, list):
        items = sch.get("items")
        return [with_defaults(items, item) for item in value] if isinstance(items, Mapping) else copy.deepcopy(value)
    if not isinstance(value, Mapping):
        return copy.deepcopy(value)
    branch = _object_branch(sch, value)
    if branch is None:
        return copy.deepcopy(dict(value))
    props: Mapping[str, Any] = branch.get("properties", {})
    out = {key: with_defaults(props.get(key, {}), item) for key, item in value.items()}
    for key, prop in props.items():
        if key not in out and "default" in prop:
            out[key] = with_defaults(prop, prop["default"])
    return out


def _object_branch(sch: Mapping[str, Any], value: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The object schema that describes ``value``: ``sch`` itself, or the branch of its anyOf/oneOf
    whose ``const`` properties the value matches."""
    if "properties" in sch:
        return sch
    for key in ("anyOf", "oneOf"):
        for branch in sch.get(key, []):
            if not isinstance(branch, Mapping) or "properties" not in branch:
                continue
            consts = {k: p["const"] for k, p in branch["properties"].items() if isinstance(p, Mapping) and "const" in p}
            if all(value.get(k) == c for k, c in consts.items()):
                return branch
    return None
