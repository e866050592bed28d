"""Load the YAML config file into a validated `Config`, or report every problem with its line.

The file is composed into YAML nodes (so each value keeps its line), turned into plain data
with `${NAME}` / `${NAME:-default}` taken from the environment, validated by the pydantic
models of `schema.py`, and then checked across sections by `checks.py` (unique names,
`notify` references, region names). Every problem found is collected; `ConfigError.problems`
lists them all as `FILE:LINE: field.path: message`.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from wirewatch.config.checks import Checks, Path_, RegionCheck
from wirewatch.config.notifiers import NOTIFIER_MODELS, NOTIFIER_TYPES
from wirewatch.config.schema import SECTION_MODELS, Config
from wirewatch.config.types import model_keys, type_name

__all__ = [
    "ConfigError",
    "Problem",
    "check_config",
    "config_path_from",
    "load_config",
    "load_config_text",
]

ENV_VAR = "WIREWATCH_CONFIG"
MAX_DEPTH = 64
_ENV_REF = re.compile(r"\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_STR_TAG = "tag:yaml.org,2002:str"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a config file, at a 1-based line (0: the file as a whole)."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}: "
        return f"{where}{self.field}: {self.message}" if self.field else f"{where}{self.message}"


class ConfigError(Exception):
    """The config is invalid; `problems` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


# ---- entry points ----------------------------------------------------------------------------
def config_path_from(arg: str | None) -> Path:
    """The config file: the `-c` argument, else $WIREWATCH_CONFIG; ValueError if neither."""
    value = arg or os.environ.get(ENV_VAR)
    if not value:
        raise ValueError(f"no config file: pass -c FILE or set {ENV_VAR}")
    return Path(value)


def load_config(path: str | Path, *, region_check: RegionCheck | None = None) -> Config:
    """Read and validate the config file at `path`; ConfigError lists every problem."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([Problem(str(path), 0, "", f"not UTF-8 text: {exc.reason}")]) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError([Problem(str(path), 0, "", f"cannot read the file: {reason}")]) from None
    return load_config_text(text, filename=str(path), region_check=region_check)


def load_config_text(
    text: str, *, filename: str = "<string>", region_check: RegionCheck | None = None
) -> Config:
    """Validate config YAML given as text; `filename` is what problems are reported against."""
    return _Load(filename, region_check).run(text)


def check_config(path: str | Path, region_check: RegionCheck | None = None) -> list[Problem]:
    """Every problem of the config file at `path`; empty when it is valid."""
    try:
        load_config(path, region_check=region_check)
    except ConfigError as exc:
        return exc.problems
    return []


# ---- one load --------------------------------------------------------------------------------
@dataclass
class _Load:
    filename: str
    region_check: RegionCheck | None
    problems: list[Problem] = field(default_factory=list)
    lines: dict[Path_, int] = field(default_factory=dict)
    env_failed: set[Path_] = field(default_factory=set)

    def run(self, text: str) -> Config:
        data = self.parse(text)
        config = None
        if data is not None:
            config = self.validate(data)
            Checks(self.add, self.line_of, self.region_check).run(data)
        if self.problems or config is None:
            raise ConfigError(self.sorted_problems())
        return config

    def add(self, path: Path_, message: str, line: int | None = None) -> None:
        self.problems.append(Problem(self.filename, line or self.line_of(path), fmt(path), message))

    def line_of(self, path: Path_) -> int:
        """The line of the deepest node of `path` that exists in the file."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return 1

    def sorted_problems(self) -> list[Problem]:
        unique = dict.fromkeys(self.problems)
        return sorted(unique, key=lambda p: p.line)

    # -- YAML -> plain data --------------------------------------------------------------------
    def parse(self, text: str) -> dict[str, Any] | None:
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else 1
            self.add((), f"invalid YAML: {yaml_message(exc)}", line)
            return None
        except (yaml.YAMLError, RecursionError, ValueError) as exc:
            self.add((), f"invalid YAML: {exc}" if str(exc) else "invalid YAML", 1)
            return None
        if root is None or (isinstance(root, yaml.ScalarNode) and root.tag.endswith(":null")):
            self.add((), "the file is empty: expected sections such as outlets, watches", 1)
            return None
        self.lines[()] = root.start_mark.line + 1
        if not isinstance(root, yaml.MappingNode):
            self.add((), f"expected a mapping of sections at the top, got {node_kind(root)}")
            return None
        return _Builder(self).build(root, (), 0)

    # -- schema --------------------------------------------------------------------------------
    def validate(self, data: dict[str, Any]) -> Config | None:
        try:
            return Config.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                self.schema_problem(data, error)
        return None

    def schema_problem(self, data: dict[str, Any], error: Any) -> None:
        path, at = data_path(data, tuple(error["loc"]))
        kind = error["type"]
        if kind == "config_field":
            path = (*path, error["ctx"]["field"])
        elif kind in ("union_tag_invalid", "union_tag_not_found"):
            path = (*path, "type")
        if any(path[: len(p)] == p for p in self.env_failed):
            return  # already reported: the environment variable is not set
        self.add(path, describe(error, path, at, data))


class _Builder:
    """Turns YAML nodes into dicts, lists and scalars, recording each one's line."""

    def __init__(self, load: _Load) -> None:
        self.load = load
        self.constructor = yaml.SafeLoader("")
        self.built: dict[int, Any] = {}  # id(node) -> value: aliases are built once
        self.active: set[int] = set()

    def build(self, node: yaml.Node, path: Path_, depth: int) -> Any:
        if id(node) in self.built:
            return self.built[id(node)]
        if id(node) in self.active or depth > MAX_DEPTH:
            self.load.add(path, "the YAML nests too deep (or an alias refers to itself)")
            return None
        self.active.add(id(node))
        try:
            value = self.build_node(node, path, depth)
        finally:
            self.active.discard(id(node))
        if not isinstance(node, yaml.ScalarNode):
            self.built[id(node)] = value
        return value

    def build_node(self, node: yaml.Node, path: Path_, depth: int) -> Any:
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for i, item in enumerate(node.value):
                self.load.lines.setdefault((*path, i), item.start_mark.line + 1)
                items.append(self.build(item, (*path, i), depth + 1))
            return items
        return self.scalar(node, path)

    def mapping(self, node: yaml.MappingNode, path: Path_, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        seen: dict[str, int] = {}
        for key_node, value_node, explicit in self.pairs(node, path):
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self.load.add(path, "a key must be a plain name, not a list or mapping", line)
                continue
            key = str(key_node.value)
            if explicit and key in seen:
                self.load.add(
                    (*path, key), f"duplicate key {key!r} (first on line {seen[key]})", line
                )
            if explicit:
                seen.setdefault(key, line)
            self.load.lines[(*path, key)] = line
            result[key] = self.build(value_node, (*path, key), depth + 1)
        return result

    def pairs(self, node: yaml.MappingNode, path: Path_) -> list[tuple[yaml.Node, yaml.Node, bool]]:
        """The node's (key, value, explicit) with merge keys (`<<: *base`) applied first."""
        merged: list[tuple[yaml.Node, yaml.Node, bool]] = []
        explicit: list[tuple[yaml.Node, yaml.Node, bool]] = []
        for key_node, value_node in node.value:
            if key_node.tag != "tag:yaml.org,2002:merge":
                explicit.append((key_node, value_node, True))
                continue
            sources = (
                value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            )
            for source in sources:
                if not isinstance(source, yaml.MappingNode) or id(source) in self.active:
                    line = value_node.start_mark.line + 1
                    self.load.add(path, "a merge key (<<) needs a mapping or a list of them", line)
                    continue
                merged.extend((k, v, False) for k, v in source.value)
        return merged + explicit

    def scalar(self, node: yaml.Node, path: Path_) -> Any:
        if node.tag == _STR_TAG:
            return self.substitute(str(node.value), path)
        try:
            return self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError, TypeError) as exc:
            self.load.add(path, f"cannot read this value: {first_line(exc)}")
            return None

    def substitute(self, text: str, path: Path_) -> str:
        """`${NAME}` and `${NAME:-default}` from the environment; `$${...}` stays literal."""

        def replace(match: re.Match[str]) -> str:
            escaped, name, default = match.groups()
            if escaped:
                return match.group(0)[1:]
            value = os.environ.get(name)
            if value is not None and (value or default is None):
                return value
            if default is not None:
                return default
            self.load.add(path, f"environment variable {name} is not set")
            self.load.env_failed.add(path)
            return ""

        return _ENV_REF.sub(replace, text) if "$" in text else text


# ---- mapping pydantic errors back to the file ------------------------------------------------
def data_path(data: Any, loc: tuple[Any, ...]) -> tuple[Path_, Any]:
    """The error's location as a path in the data (union tags dropped) and the value there."""
    path: list[str | int] = []
    current: Any = data
    for part in loc:
        if _contains(current, part):
            current = current[part]
        elif isinstance(current, dict) and part in NOTIFIER_TYPES and current.get("type") == part:
            continue  # the discriminated union's tag
        elif isinstance(part, str) and "[" in part:
            continue  # pydantic's internal step names such as function-after[...]
        else:
            current = _MISSING
        path.append(part)
    return tuple(path), current


_MISSING = object()


def _contains(container: Any, part: Any) -> bool:
    if isinstance(container, dict):
        return part in container
    return isinstance(container, list) and isinstance(part, int) and 0 <= part < len(container)


def describe(error: Any, path: Path_, value: Any, data: dict[str, Any]) -> str:
    """A message for one pydantic error, in the words of the YAML file."""
    kind, msg = error["type"], error["msg"]
    if kind == "extra_forbidden":
        return unknown_key(str(path[-1]), allowed_keys(data, path[:-1]))
    if kind == "missing":
        return f"missing required key {path[-1]!r}" if path else "missing"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        types = ", ".join(NOTIFIER_TYPES)
        tag = error.get("ctx", {}).get("tag")
        if tag:
            return f"unknown notifier type {tag!r} (one of: {types})"
        return f"missing required key 'type' (one of: {types})"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping (key: value pairs), got {type_name(error.get('input'))}"
    if kind == "list_type":
        return f"expected a list, got {type_name(error.get('input'))}"
    if kind == "string_type":
        return f"expected a string, got {type_name(error.get('input'))}"
    if kind == "literal_error":
        return f"must be one of {error['ctx']['expected']}"
    if kind == "too_short" and isinstance(value, list | str):
        return "must not be empty"
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    msg = msg[:1].lower() + msg[1:] if msg[1:2].islower() else msg
    return "must be" + msg[len("input should be") :] if msg.startswith("input should be") else msg


def allowed_keys(data: Any, path: Path_) -> list[str]:
    """The keys the mapping at `path` accepts (empty when unknown)."""
    if not path:
        return [*Config.model_fields]
    model: type[BaseModel] | None = None
    if path[0] == "notifiers" and len(path) == 2:
        target = _lookup(data, path)
        kind = target.get("type") if isinstance(target, dict) else None
        model = NOTIFIER_MODELS.get(kind) if isinstance(kind, str) else None
    elif isinstance(path[0], str) and len(path) <= 2:
        model = SECTION_MODELS.get(path[0])
    return model_keys(model) if model else []


def _lookup(data: Any, path: Path_) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def unknown_key(key: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown key {key!r}{hint}"


# ---- small helpers ---------------------------------------------------------------------------
def fmt(path: Path_) -> str:
    """`watches[0].notify[1]` for ("watches", 0, "notify", 1)."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def node_kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return f"a single value ({first_line(node.value)!r})"


def yaml_message(exc: yaml.MarkedYAMLError) -> str:
    parts = [p for p in (exc.context, exc.problem) if p]
    return "; ".join(parts) or first_line(exc)


def first_line(value: object) -> str:
    text = str(value).strip()
    return text.splitlines()[0][:200] if text else type(value).__name__
