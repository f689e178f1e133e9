"""Turn a site's YAML file into a `config.schema.SiteConfig`, or refuse it with errors
that name the file, the line, the column and the field.

Contract
--------
* `load_site(path)` reads a file, `parse_site(text, file)` reads text; both return a
  `SiteConfig` or raise `ConfigErrors` (never anything else) carrying *every* error
  found, sorted by position. An unreadable file, an undecodable byte or a YAML syntax
  error is one `ConfigError` like any other (line 0 when no position is known).
* Scalars are resolved with the YAML 1.2 *core* schema, not PyYAML's YAML 1.1 rules:
  only `true`/`false` (and their `True`/`TRUE` spellings) are booleans, so `no`, `on`
  and `yes` stay strings; `9:00` stays the string "9:00" (no base-60 numbers);
  dates stay strings. Quoted scalars are always strings.
* Where the schema wants a string and the file has a plain (unquoted) number, the
  number's source text is taken as written: `id: 1001` gives "1001", `distancing_level:
  1.5` gives "1.5". Mapping keys are likewise taken as their source text (`0:` under a
  menu's `options` is the key "0"). Booleans and nulls are never taken for strings.
* Duplicate mapping keys are errors. Anchors and aliases work; merge keys (`<<: *base`)
  work too: keys written in the mapping win over merged ones, and among several merged
  mappings the earlier one wins (YAML merge-key semantics). Other YAML tags than the
  core ones (`!!str`, `!!int`, `!!float`, `!!bool`, `!!null`) are refused.
* Non-finite numbers (`.inf`, `.nan`) are refused wherever a number is expected:
  no field of the schema means "forever" by infinity.
* Checking happens in two passes. The first checks the document's shape and types
  against the schema and reports every misfit. Only if it finds none does the second
  pass check cross-references (a queue's skill exists, a route's node exists, ...),
  because references into a half-read file would only add noise.
* The returned `SiteConfig` has its `agent_groups` expanded into `agents` (explicit
  agents first, then each group's agents in group order) and `agent_groups` emptied,
  so that the roster exists once: encoding the result back to YAML and loading it
  again gives the same roster instead of duplicate agent ids.

Error paths are dotted field paths with 0-based list indexes, e.g.
`queues.covid.relax[1].after_seconds`; keys that are not identifiers are quoted in
brackets, e.g. `ivr.nodes.main.options["1"].goto`.
"""

from __future__ import annotations

import datetime
import difflib
import json
import math
import os
import re
import typing
from collections.abc import Collection, Iterator, Sequence
from typing import Final, Literal

import msgspec
import msgspec.inspect as mi
import yaml
from yaml.error import Mark
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from acd.config import schema
from acd.config.schema import (
    Agent,
    AgentGroup,
    Route,
    SiteConfig,
    SkillGrant,
    TimeWindow,
    expand_agent_group,
)

__all__ = ["ConfigError", "ConfigErrors", "load_site", "parse_site"]

MAX_AGENTS: Final = schema.MAX_AGENTS
"""Most agents a site may expand to: a typo like `count: 100000000` in an agent group
must be an error, not a loader that allocates until the machine swaps."""


class ConfigError(msgspec.Struct, frozen=True):
    """One thing wrong with a configuration file.

    `line` and `column` are 1-based, 0 when unknown (unreadable file). `path` is the
    field path ("" for the whole document); `message` says what was expected or what
    is wrong."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        """`FILE:LINE:COL: PATH: MESSAGE`; `LINE:COL` is left out when unknown (0) and
        `PATH: ` when the error concerns the whole document."""
        where = self.file if self.line == 0 else f"{self.file}:{self.line}:{self.column}"
        if self.path:
            return f"{where}: {self.path}: {self.message}"
        return f"{where}: {self.message}"


class ConfigErrors(Exception):
    """A configuration was refused. `errors` holds every error found, in file order;
    `str()` gives one error per line."""

    errors: list[ConfigError]

    def __init__(self, errors: Sequence[ConfigError]) -> None:
        # The list itself is the exception's argument so that pickling (multiprocessing,
        # logging handlers) rebuilds the same exception.
        self.errors = list(errors)
        super().__init__(self.errors)

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)


def load_site(path: str | os.PathLike[str]) -> SiteConfig:
    """Read and check the site configuration at `path`.

    Returns the `SiteConfig` (agent groups expanded, see the module docstring) or raises
    `ConfigErrors`, also when the file cannot be read or is not UTF-8."""
    file = os.fspath(path)
    try:
        with open(file, "rb") as stream:
            data = stream.read()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigErrors([ConfigError(file, 0, 0, "", f"cannot read {file}: {reason}")]) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        message = f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x})"
        raise ConfigErrors([ConfigError(file, line, column, "", message)]) from None
    return parse_site(text, file)


def parse_site(text: str, file: str = "<string>") -> SiteConfig:
    """Check the site configuration in `text`; `file` names it in errors.

    Returns the `SiteConfig` (agent groups expanded, see the module docstring) or raises
    `ConfigErrors` with every error found."""
    try:
        return _Loader(file).load(text)
    except RecursionError:
        # PyYAML composes recursively: thousands of nested brackets exhaust the stack.
        error = ConfigError(file, 0, 0, "", "the document is nested too deeply to read")
        raise ConfigErrors([error]) from None


# --- YAML: a node tree with marks, plain scalars left for us to resolve -------------

_PLAIN_TAG: Final = "tag:acd.invalid,2026:plain"
_STR_TAG: Final = "tag:yaml.org,2002:str"
_NULL_TAG: Final = "tag:yaml.org,2002:null"
_BOOL_TAG: Final = "tag:yaml.org,2002:bool"
_INT_TAG: Final = "tag:yaml.org,2002:int"
_FLOAT_TAG: Final = "tag:yaml.org,2002:float"
_SEQ_TAG: Final = "tag:yaml.org,2002:seq"
_MAP_TAG: Final = "tag:yaml.org,2002:map"


class _NodeLoader(yaml.BaseLoader):
    """Composes nodes only. Untagged plain scalars get a private tag instead of PyYAML's
    YAML 1.1 guesses, so that we resolve them with the YAML 1.2 core schema and can
    still tell them from quoted scalars and explicit tags."""

    def resolve(self, kind: type[Node], value: str | None, implicit: tuple[bool, bool]) -> str:
        # Called only for nodes without an explicit tag (and for the non-specific "!").
        if kind is ScalarNode:
            return _PLAIN_TAG if implicit[0] else _STR_TAG
        return _SEQ_TAG if kind is SequenceNode else _MAP_TAG


Scalar = None | bool | int | float | str

_NULL_RE: Final = re.compile(r"null|Null|NULL|~|")
_BOOL_RE: Final = re.compile(r"true|True|TRUE|false|False|FALSE")
_INT_RE: Final = re.compile(r"[-+]?[0-9]+")
_OCT_RE: Final = re.compile(r"0o[0-7]+")
_HEX_RE: Final = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT_RE: Final = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_INF_RE: Final = re.compile(r"[-+]?\.(inf|Inf|INF)")
_NAN_RE: Final = re.compile(r"\.(nan|NaN|NAN)")


def _resolve_core(text: str) -> Scalar:
    """A plain scalar's value under the YAML 1.2 core schema."""
    if _NULL_RE.fullmatch(text):
        return None
    if _BOOL_RE.fullmatch(text):
        return text[0] in "tT"
    if _INT_RE.fullmatch(text):
        return int(text, 10)
    if _OCT_RE.fullmatch(text):
        return int(text[2:], 8)
    if _HEX_RE.fullmatch(text):
        return int(text[2:], 16)
    if _FLOAT_RE.fullmatch(text):
        return float(text)
    if _INF_RE.fullmatch(text):
        return -math.inf if text[0] == "-" else math.inf
    if _NAN_RE.fullmatch(text):
        return math.nan
    return text


def _tag_name(tag: str) -> str:
    """A tag as written in YAML: "!!set" rather than "tag:yaml.org,2002:set"."""
    prefix = "tag:yaml.org,2002:"
    return "!!" + tag[len(prefix) :] if tag.startswith(prefix) else tag


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# --- Paths --------------------------------------------------------------------------

_IDENT_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_LAST_STEP_RE: Final = re.compile(r'(\.[A-Za-z_][A-Za-z0-9_-]*|\[[0-9]+\]|\["(?:[^"\\]|\\.)*"\])\Z')


def _key_path(path: str, key: str) -> str:
    if _IDENT_RE.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


def _index_path(path: str, index: int) -> str:
    return f"{path}[{index}]"


def _parent_path(path: str) -> str | None:
    if not path:
        return None
    match = _LAST_STEP_RE.search(path)
    if match is None:  # a top-level key such as "site"
        return ""
    parent = path[: match.start()]
    return parent


# --- Describing types and values in words -------------------------------------------


def _meta(alias: object) -> msgspec.Meta:
    """The `Meta` of an `Annotated` alias of the schema."""
    for extra in typing.get_args(alias)[1:]:
        if isinstance(extra, msgspec.Meta):
            return extra
    raise TypeError(f"{alias!r} carries no msgspec.Meta")


# Named by the schema alias, so a changed pattern in the schema changes nothing here.
_PATTERN_NAMES: Final[dict[str, str]] = {
    str(_meta(schema.ClockTime).pattern): "a time HH:MM from 00:00 to 24:00",
    str(_meta(schema.Date).pattern): "a date YYYY-MM-DD",
    str(_meta(schema.UtcOffset).pattern): "a UTC offset like +09:00",
    str(_meta(schema.Digit).pattern): "one phone key: 0-9, * or #",
    str(_meta(schema.SiteName).pattern): "a name of 1 to 100 characters without braces or"
    " spaces at either end",
}
_SKILL_LEVEL: Final = (_meta(schema.SkillLevel).ge, _meta(schema.SkillLevel).le)


def _literal_orders() -> dict[frozenset[object], tuple[object, ...]]:
    """The schema's Literal types in their written order (`msgspec.inspect` sorts them,
    and "fri, mon, sat, ..." reads badly), keyed by their set of values."""
    orders: dict[frozenset[object], tuple[object, ...]] = {}

    def visit(hint: object) -> None:
        if typing.get_origin(hint) is Literal:
            values = typing.get_args(hint)
            orders.setdefault(frozenset(values), values)
        for arg in typing.get_args(hint):
            visit(arg)

    for member in vars(schema).values():
        if isinstance(member, type) and issubclass(member, msgspec.Struct):
            for hint in typing.get_type_hints(member, include_extras=True).values():
                visit(hint)
    return orders


_LITERAL_ORDER: Final = _literal_orders()


def _bounds(t: mi.IntType | mi.FloatType) -> str:
    if t.ge is not None and t.le is not None:
        return f" from {t.ge} to {t.le}"
    words = []
    for op, bound in ((">", t.gt), (">=", t.ge), ("<", t.lt), ("<=", t.le)):
        if bound is not None:
            words.append(f"{op} {bound}")
    return " " + " and ".join(words) if words else ""


def _describe(t: mi.Type, path: str = "") -> str:
    """What a value of type `t` is, in words, as in "expected <this>"."""
    if isinstance(t, mi.Metadata):
        return _describe(t.type, path)
    if isinstance(t, mi.StrType):
        if t.pattern is not None:
            return _PATTERN_NAMES.get(t.pattern, f"a string matching {t.pattern}")
        if t.min_length == 1 and t.max_length is None:
            return "a non-empty string"
        return "a string"
    if isinstance(t, mi.IntType):
        if (t.ge, t.le) == _SKILL_LEVEL:
            return f"a skill level {t.ge}-{t.le}"
        return "an integer" + _bounds(t)
    if isinstance(t, mi.FloatType):
        unit = " of seconds" if path.endswith("seconds") else ""
        return f"a number{unit}" + _bounds(t)
    if isinstance(t, mi.BoolType):
        return "true or false"
    if isinstance(t, mi.NoneType):
        return "null"
    if isinstance(t, mi.LiteralType):
        values = _LITERAL_ORDER.get(frozenset(t.values), t.values)
        return "one of " + ", ".join(repr(v) for v in values)
    if isinstance(t, mi.ListType):
        return "a list"
    if isinstance(t, mi.DictType | mi.StructType):
        return "a mapping"
    if isinstance(t, mi.UnionType):
        return " or ".join(_describe(u, path) for u in t.types)
    return str(t)


def _describe_node(node: Node) -> str:
    """What the file has, in words, as in "got <this>"."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    text = str(node.value)
    if text == "":
        return "an empty value" if node.tag == _PLAIN_TAG else "an empty string"
    if node.tag == _PLAIN_TAG:
        value = _resolve_core(text)
        return repr(value) if isinstance(value, str) else text
    if _resolve_core(text) != text:  # a quoted "10" or "true": say it is a string
        return f"the string {text!r} (quoted, so text)"
    return repr(text)


def _did_you_mean(word: str, choices: Collection[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _listing(names: Collection[str], limit: int = 20) -> str:
    shown = list(names)[:limit]
    more = f", ... ({len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(shown) + more


# --- The loader -----------------------------------------------------------------------


class _Invalid:
    """The value of a node that had an error (the error is already recorded)."""


_INVALID: Final = _Invalid()

_ROOT_TYPE: Final = mi.type_info(SiteConfig)


class _Loader:
    """One load: the errors found so far and the marks of every node by path."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[ConfigError] = []
        self.value_marks: dict[str, Mark] = {}
        self.key_marks: dict[str, Mark] = {}

    # errors

    def _mark_of(self, path: str, *, key: bool) -> Mark | None:
        """The mark of `path` (its key's mark when `key` and known), else of the nearest
        ancestor that has one (a defaulted field has no mark of its own)."""
        probe: str | None = path
        while probe is not None:
            mark = (self.key_marks.get(probe) if key else None) or self.value_marks.get(probe)
            if mark is not None:
                return mark
            probe = _parent_path(probe)
            key = True  # an ancestor is best shown by its key: `covid:` rather than its body
        return None

    def error(
        self, path: str, message: str, *, mark: Mark | None = None, key: bool = False
    ) -> None:
        if mark is None:
            mark = self._mark_of(path, key=key)
        if mark is None:
            self.errors.append(ConfigError(self.file, 0, 0, path, message))
        else:
            self.errors.append(
                ConfigError(self.file, mark.line + 1, mark.column + 1, path, message)
            )

    def line_of(self, path: str, *, key: bool = True) -> str:
        mark = self._mark_of(path, key=key)
        return f"line {mark.line + 1}" if mark is not None else "unknown line"

    def _raise_if_errors(self) -> None:
        if self.errors:
            unique = list(dict.fromkeys(self.errors))  # an aliased node may err in several places
            unique.sort(key=lambda e: (e.line, e.column))
            raise ConfigErrors(unique)

    # the whole load

    def load(self, text: str) -> SiteConfig:
        root = self._compose(text)
        if root is None:
            self._raise_if_errors()
            self.error(
                "", "the file is empty; expected a mapping with site, skills, pools, queues, ivr"
            )
            self._raise_if_errors()
        assert root is not None
        value = self.value(root, _ROOT_TYPE, "")
        self._raise_if_errors()
        try:
            config = msgspec.convert(value, SiteConfig)
        except msgspec.ValidationError as exc:
            # The walk above should have caught everything msgspec checks; if it did not,
            # the operator still gets an error, not a traceback.
            error = ConfigError(self.file, 0, 0, "", f"invalid configuration: {exc}")
            raise ConfigErrors([error]) from None
        agents = _References(self, config).check()
        self._raise_if_errors()
        return msgspec.structs.replace(config, agents=agents, agent_groups=[])

    def _compose(self, text: str) -> Node | None:
        try:
            return yaml.compose(text, Loader=_NodeLoader)
        except yaml.MarkedYAMLError as exc:
            # The composer's errors (undefined alias, several documents) are not syntax.
            composing = isinstance(exc, yaml.composer.ComposerError)
            kind = "YAML error" if composing else "YAML syntax error"
            problem, context = exc.problem or "", exc.context or ""
            if context and exc.context_mark is not None:
                context = f"{context} at line {exc.context_mark.line + 1}"
            if not problem:
                message = context
            elif not context:
                message = problem
            elif problem.startswith("but "):  # PyYAML's "expected X" / "but found Y"
                message = f"{context}, {problem}"
            else:
                message = f"{problem} ({context})"
            self.error("", f"{kind}: {message}", mark=exc.problem_mark or exc.context_mark)
        except yaml.reader.ReaderError as exc:  # a control character, a lone surrogate
            line = text.count("\n", 0, exc.position) + 1
            column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
            message = f"YAML error: character #x{exc.character:04x} is not allowed in YAML text"
            self.errors.append(ConfigError(self.file, line, column, "", message))
        except yaml.YAMLError as exc:  # nothing else is raised today; never a traceback
            self.error("", f"YAML error: {exc}")
        return None

    # the typed walk

    def value(self, node: Node, t: mi.Type, path: str) -> object:
        """The Python value of `node` as type `t`, or `_INVALID` after recording why not."""
        self.value_marks.setdefault(path, node.start_mark)
        if isinstance(t, mi.Metadata):
            return self.value(node, t.type, path)
        if isinstance(t, mi.UnionType):
            return self._union(node, t, path)
        if isinstance(t, mi.StructType):
            pairs = self._pairs(node, t, path)
            if pairs is None:
                return _INVALID
            return self._struct(node, pairs, t, path)
        if isinstance(t, mi.DictType):
            return self._dict(node, t, path)
        if isinstance(t, mi.ListType):
            return self._list(node, t, path)
        if isinstance(t, mi.AnyType):
            return self._untyped(node, path)
        if isinstance(
            t, mi.StrType | mi.IntType | mi.FloatType | mi.BoolType | mi.NoneType | mi.LiteralType
        ):
            return self._scalar_as(node, t, path)
        # A type the schema does not use today: build it plainly, msgspec.convert judges.
        return self._untyped(node, path)

    def _expected(self, node: Node, t: mi.Type, path: str, hint: str = "") -> _Invalid:
        self.error(
            path,
            f"expected {_describe(t, path)}, got {_describe_node(node)}{hint}",
            mark=node.start_mark,
        )
        return _INVALID

    def _scalar(self, node: ScalarNode, path: str) -> Scalar | _Invalid:
        """A scalar's value: core-schema resolution for plain scalars, the text for quoted
        ones, and the explicit core tags honoured."""
        text = str(node.value)
        if node.tag == _PLAIN_TAG:
            return _resolve_core(text)
        if node.tag == _STR_TAG:
            return text
        wanted: dict[str, tuple[type, ...]] = {
            _NULL_TAG: (type(None),),
            _BOOL_TAG: (bool,),
            _INT_TAG: (int,),
            _FLOAT_TAG: (float, int),
        }
        if node.tag in wanted:
            value = _resolve_core(text)
            kinds = wanted[node.tag]
            if isinstance(value, kinds) and (node.tag == _BOOL_TAG or not isinstance(value, bool)):
                return float(value) if node.tag == _FLOAT_TAG and value is not None else value
            self.error(path, f"{text!r} is not a valid {_tag_name(node.tag)}", mark=node.start_mark)
            return _INVALID
        self.error(
            path, f"the YAML tag {_tag_name(node.tag)} is not supported here", mark=node.start_mark
        )
        return _INVALID

    def _is_null(self, node: Node) -> bool:
        if not isinstance(node, ScalarNode):
            return False
        if node.tag == _PLAIN_TAG:
            return _resolve_core(str(node.value)) is None
        return node.tag == _NULL_TAG

    def _scalar_as(self, node: Node, t: mi.Type, path: str) -> object:
        if not isinstance(node, ScalarNode):
            return self._expected(node, t, path)
        value = self._scalar(node, path)
        if isinstance(value, _Invalid):
            return value
        if isinstance(t, mi.NoneType):
            return None if value is None else self._expected(node, t, path)
        if isinstance(t, mi.BoolType):
            if isinstance(value, bool):
                return value
            hint = " (YAML 1.2: write true or false)" if isinstance(value, str) else ""
            return self._expected(node, t, path, hint)
        if isinstance(t, mi.IntType):
            if not isinstance(value, int) or isinstance(value, bool):
                return self._expected(node, t, path)
            return value if self._in_bounds(value, t) else self._expected(node, t, path)
        if isinstance(t, mi.FloatType):
            if not _is_number(value):
                return self._expected(node, t, path)
            assert isinstance(value, int | float)
            if not math.isfinite(value):
                return self._expected(node, t, path, " (numbers must be finite)")
            return value if self._in_bounds(value, t) else self._expected(node, t, path)
        # Strings and literals: a plain number stands for its source text (`id: 1001`).
        if _is_number(value) and node.tag == _PLAIN_TAG:
            value = str(node.value)
        if isinstance(t, mi.LiteralType):
            if isinstance(value, str) and value in t.values:
                return value
            words = [v for v in t.values if isinstance(v, str)]
            hint = _did_you_mean(value, words) if isinstance(value, str) else ""
            return self._expected(node, t, path, hint)
        assert isinstance(t, mi.StrType)
        if not isinstance(value, str):
            return self._expected(node, t, path)
        problem = _string_problem(value, t)
        if problem is not None:
            return self._expected(node, t, path, problem)
        return value

    @staticmethod
    def _in_bounds(value: float, t: mi.IntType | mi.FloatType) -> bool:
        return not (
            (t.ge is not None and value < t.ge)
            or (t.gt is not None and value <= t.gt)
            or (t.le is not None and value > t.le)
            or (t.lt is not None and value >= t.lt)
            or (t.multiple_of is not None and value % t.multiple_of != 0)
        )

    def _union(self, node: Node, t: mi.UnionType, path: str) -> object:
        others = [u for u in t.types if not isinstance(u, mi.NoneType)]
        if len(others) < len(t.types) and self._is_null(node):
            return None
        if len(others) == 1:
            return self.value(node, others[0], path)
        structs = [u for u in others if isinstance(u, mi.StructType)]
        if structs and len(structs) == len(others) and structs[0].tag_field is not None:
            return self._tagged(node, structs, path)
        # Any other union (the schema has none today): the first member that fits.
        for member in others:
            before = len(self.errors)
            result = self.value(node, member, path)
            if len(self.errors) == before:
                return result
            del self.errors[before:]
        return self._expected(node, t, path)

    def _tagged(self, node: Node, structs: list[mi.StructType], path: str) -> object:
        tag_field = str(structs[0].tag_field)
        by_tag = {str(s.tag): s for s in structs}
        kinds = ", ".join(by_tag)
        if not isinstance(node, MappingNode):
            self.error(
                path,
                f"expected a mapping with `{tag_field}` ({kinds}), got {_describe_node(node)}",
                mark=node.start_mark,
            )
            return _INVALID
        pairs = self._pairs(node, None, path)
        if pairs is None:
            return _INVALID
        tag_nodes = [(k, v) for name, k, v in pairs if name == tag_field]
        if not tag_nodes:
            self.error(
                _key_path(path, tag_field),
                f"missing `{tag_field}`: expected one of {kinds}",
                key=True,
            )
            return _INVALID
        key_node, tag_node = tag_nodes[0]
        tag_path = _key_path(path, tag_field)
        self.key_marks.setdefault(tag_path, key_node.start_mark)
        self.value_marks.setdefault(tag_path, tag_node.start_mark)
        tag = self._scalar(tag_node, tag_path) if isinstance(tag_node, ScalarNode) else _INVALID
        if not isinstance(tag, str) or tag not in by_tag:
            got = _describe_node(tag_node)
            hint = _did_you_mean(tag, by_tag) if isinstance(tag, str) else ""
            self.error(
                tag_path,
                f"unknown {tag_field} {got}{hint}; expected one of {kinds}",
                mark=tag_node.start_mark,
            )
            return _INVALID
        return self._struct(node, pairs, by_tag[tag], path)

    def _pairs(
        self, node: Node, t: mi.StructType | None, path: str
    ) -> list[tuple[str, Node, Node]] | None:
        """A mapping's (key text, key node, value node), merges applied, duplicate and
        non-scalar keys reported; None (error recorded) when `node` is no mapping."""
        if not isinstance(node, MappingNode):
            if t is not None:
                self._expected(node, t, path)
            else:
                self.error(
                    path, f"expected a mapping, got {_describe_node(node)}", mark=node.start_mark
                )
            return None
        if node.tag != _MAP_TAG:
            self.error(
                path,
                f"the YAML tag {_tag_name(node.tag)} is not supported here",
                mark=node.start_mark,
            )
            return None
        return self._flatten(node, path, {id(node)})

    def _flatten(
        self, node: MappingNode, path: str, seen: set[int]
    ) -> list[tuple[str, Node, Node]]:
        explicit: list[tuple[str, Node, Node]] = []
        first_seen: dict[str, Node] = {}
        merged: list[tuple[str, Node, Node]] = []
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.error(
                    path,
                    f"a mapping key must be a plain value, not {_describe_node(key_node)}",
                    mark=key_node.start_mark,
                )
                continue
            text = str(key_node.value)
            if text in first_seen:
                first = first_seen[text].start_mark
                self.error(
                    _key_path(path, text),
                    f"duplicate key {text!r} (first given at line {first.line + 1})",
                    mark=key_node.start_mark,
                )
                continue
            first_seen[text] = key_node
            if text == "<<" and key_node.tag == _PLAIN_TAG:
                merged.extend(self._merge_sources(value_node, path, seen))
            else:
                explicit.append((text, key_node, value_node))
        # Keys written here win over merged keys; among merged ones, the first wins.
        result = list(explicit)
        taken = {text for text, _, _ in explicit}
        for text, key_node, value_node in merged:
            if text not in taken:
                taken.add(text)
                result.append((text, key_node, value_node))
        return result

    def _merge_sources(self, node: Node, path: str, seen: set[int]) -> list[tuple[str, Node, Node]]:
        sources = node.value if isinstance(node, SequenceNode) else [node]
        pairs: list[tuple[str, Node, Node]] = []
        for source in sources:
            if not isinstance(source, MappingNode):
                self.error(
                    path,
                    "`<<` merges a mapping (an alias like *defaults) or a list of them,"
                    f" got {_describe_node(source)}",
                    mark=source.start_mark,
                )
                continue
            if id(source) in seen:
                self.error(path, "`<<` merges a mapping into itself", mark=source.start_mark)
                continue
            pairs.extend(self._flatten(source, path, seen | {id(source)}))
        return pairs

    def _struct(
        self, node: Node, pairs: list[tuple[str, Node, Node]], t: mi.StructType, path: str
    ) -> object:
        fields = {f.encode_name: f for f in t.fields}
        allowed = list(fields)
        out: dict[str, object] = {}
        ok = True
        for text, key_node, value_node in pairs:
            field_path = _key_path(path, text)
            self.key_marks.setdefault(field_path, key_node.start_mark)
            if t.tag_field is not None and text == t.tag_field:
                out[text] = t.tag
                continue
            field = fields.get(text)
            if field is None:
                self.error(
                    field_path,
                    f"unknown key {text!r}{_did_you_mean(text, allowed)};"
                    f" allowed keys: {', '.join(allowed)}",
                    mark=key_node.start_mark,
                )
                ok = False
                continue
            value = self.value(value_node, field.type, field_path)
            if value is _INVALID:
                ok = False
            else:
                out[text] = value
        given = {text for text, _, _ in pairs}
        for field in t.fields:
            if field.required and field.encode_name not in given:
                self.error(
                    _key_path(path, field.encode_name),
                    f"required key {field.encode_name!r} is missing",
                    key=True,
                )
                ok = False
        return out if ok else _INVALID

    def _dict(self, node: Node, t: mi.DictType, path: str) -> object:
        pairs = self._pairs(node, None, path)
        if pairs is None:
            return _INVALID
        out: dict[object, object] = {}
        ok = True
        for text, key_node, value_node in pairs:
            entry_path = _key_path(path, text)
            self.key_marks.setdefault(entry_path, key_node.start_mark)
            key = self._key(text, key_node, t.key_type, entry_path)
            value = self.value(value_node, t.value_type, entry_path)
            if key is _INVALID or value is _INVALID:
                ok = False
            else:
                out[key] = value
        if t.min_length is not None and len(out) < t.min_length:
            self.error(
                path,
                f"expected at least {t.min_length} entries, got {len(out)}",
                mark=node.start_mark,
            )
            ok = False
        if t.max_length is not None and len(out) > t.max_length:
            self.error(
                path,
                f"expected at most {t.max_length} entries, got {len(out)}",
                mark=node.start_mark,
            )
            ok = False
        return out if ok else _INVALID

    def _key(self, text: str, key_node: Node, t: mi.Type, path: str) -> object:
        """A dict key: its source text when the schema wants a string (`0:` is "0")."""
        if isinstance(t, mi.StrType):
            problem = _string_problem(text, t)
            if problem is None:
                return text
            self.error(
                path,
                f"a key here must be {_describe(t)}, got {text!r}{problem}",
                mark=key_node.start_mark,
            )
            return _INVALID
        before = len(self.errors)
        key = self.value(key_node, t, path)
        if len(self.errors) > before:
            return _INVALID
        return key

    def _list(self, node: Node, t: mi.ListType, path: str) -> object:
        if not isinstance(node, SequenceNode):
            hint = ""
            if isinstance(node, ScalarNode) and not self._is_null(node):
                hint = f" (write a list: [{node.value}], or one `- ` item per line)"
            return self._expected(node, t, path, hint)
        if node.tag != _SEQ_TAG:
            self.error(
                path,
                f"the YAML tag {_tag_name(node.tag)} is not supported here",
                mark=node.start_mark,
            )
            return _INVALID
        out: list[object] = []
        ok = True
        for index, item in enumerate(node.value):
            value = self.value(item, t.item_type, _index_path(path, index))
            if value is _INVALID:
                ok = False
            else:
                out.append(value)
        if t.min_length is not None and len(node.value) < t.min_length:
            self.error(
                path,
                f"expected at least {t.min_length} item{'s' if t.min_length != 1 else ''},"
                f" got {len(node.value)}",
                mark=node.start_mark,
            )
            ok = False
        if t.max_length is not None and len(node.value) > t.max_length:
            self.error(
                path,
                f"expected at most {t.max_length} items, got {len(node.value)}",
                mark=node.start_mark,
            )
            ok = False
        return out if ok else _INVALID

    def _untyped(self, node: Node, path: str) -> object:
        self.value_marks.setdefault(path, node.start_mark)
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        if isinstance(node, SequenceNode):
            return [self._untyped(item, _index_path(path, i)) for i, item in enumerate(node.value)]
        pairs = self._pairs(node, None, path) or []
        return {text: self._untyped(v, _key_path(path, text)) for text, _, v in pairs}


def _string_problem(value: str, t: mi.StrType) -> str | None:
    """None when `value` fits `t`, else a hint to append to "expected ..., got ..."
    ("" when the expectation says it all)."""
    if t.min_length is not None and len(value) < t.min_length:
        return "" if t.min_length == 1 else f" (at least {t.min_length} characters)"
    if t.max_length is not None and len(value) > t.max_length:
        return f" (at most {t.max_length} characters)"
    if t.pattern is None:
        return None
    if re.search(t.pattern, value) is None:
        if t.pattern == _CLOCK_PATTERN and re.fullmatch(r"[0-9]:[0-5][0-9]", value):
            return f" (write the hour with two digits: '0{value}')"
        return ""
    if t.pattern == _DATE_PATTERN:
        try:
            datetime.date.fromisoformat(value)
        except ValueError:
            return " (no such day in the calendar)"
    if t.pattern == _OFFSET_PATTERN and (int(value[1:3]) > 14 or int(value[4:6]) > 59):
        return " (offsets run from -14:00 to +14:00)"
    return None


_CLOCK_PATTERN: Final = str(_meta(schema.ClockTime).pattern)
_DATE_PATTERN: Final = str(_meta(schema.Date).pattern)
_OFFSET_PATTERN: Final = str(_meta(schema.UtcOffset).pattern)


# --- Cross-references -----------------------------------------------------------------


MIN_VENDOR_CALL_SECONDS: Final = 10
"""The shortest a vendor's line is busy with one call on average (ringing, a greeting,
one answer): what bounds the calls an hour `max_concurrent` lines can carry."""

_WEEK_MINUTES: Final = 7 * 1440
_ALL_WEEK: Final = (1 << _WEEK_MINUTES) - 1


def _span(start: int, end: int) -> int:
    """The minutes [start, end) of the week as bits (end <= 7 days)."""
    return ((1 << (end - start)) - 1) << start if end > start else 0


def _windows_mask(windows: Sequence[TimeWindow]) -> int:
    """The minutes of the week (Monday 00:00 = bit 0) inside any of `windows`, as
    `engine.localtime.in_window` reads them: a window whose end is before its start
    runs past midnight into the next day."""
    mask = 0
    for window in windows:
        start, end = _clock(window.start), _clock(window.end)
        for day in window.days:
            base = schema.DAYS.index(day) * 1440
            if start < end:
                mask |= _span(base + start, base + end)
            elif start > end:
                mask |= _span(base + start, base + 1440)
                following = (base + 1440) % _WEEK_MINUTES
                mask |= _span(following, following + end)
    return mask


def _clock(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _describe_week(mask: int, limit: int = 4) -> str:
    """The minutes of `mask` in words: "mon 18:00-tue 09:00, ..." (at most `limit`
    spans, then how many more), "at no hour" or "at every hour"."""
    if mask == 0:
        return "at no hour"
    if mask == _ALL_WEEK:
        return "at every hour"
    spans: list[tuple[int, int]] = []
    minute = 0
    while minute < _WEEK_MINUTES:
        if mask >> minute & 1:
            end = minute
            while end < _WEEK_MINUTES and mask >> end & 1:
                end += 1
            spans.append((minute, end))
            minute = end
        else:
            minute += 1
    if len(spans) > 1 and spans[0][0] == 0 and spans[-1][1] == _WEEK_MINUTES:
        first = spans.pop(0)  # Sunday night runs on into Monday morning
        spans[-1] = (spans[-1][0], _WEEK_MINUTES + first[1])

    def at(minute: int) -> str:
        day, rest = divmod(minute % _WEEK_MINUTES, 1440)
        return f"{schema.DAYS[day]} {rest // 60:02d}:{rest % 60:02d}"

    words = [f"{at(a)}-{at(b)}" for a, b in spans[:limit]]
    more = f" and {len(spans) - limit} more" if len(spans) > limit else ""
    return ", ".join(words) + more


def _queue_reach(ivr: schema.Ivr) -> dict[str, int]:
    """Queue -> the minutes of the week at which some IVR path leads a caller to it,
    whatever keys they press. A schedule's branch gets the minutes its window holds
    and no earlier branch's did, `otherwise` the rest; `on_holiday` any minute (a
    holiday may fall on any day). Queues no route leads to are absent."""
    reach_node: dict[str, int] = {}
    reach_queue: dict[str, int] = {}
    work: list[tuple[str, int]] = []

    def deliver(route: Route | None, mask: int) -> None:
        if route is None or mask == 0:
            return
        if route.queue is not None:
            reach_queue[route.queue] = reach_queue.get(route.queue, 0) | mask
        elif route.goto in ivr.nodes:
            new = mask & ~reach_node.get(route.goto, 0)
            if new:
                reach_node[route.goto] = reach_node.get(route.goto, 0) | new
                work.append((route.goto, new))

    for entry in (ivr.entry, *ivr.by_dnis.values()):
        deliver(Route(goto=entry), _ALL_WEEK)
    while work:
        name, mask = work.pop()
        node = ivr.nodes[name]
        if isinstance(node, schema.MenuNode):
            for route in node.options.values():
                deliver(route, mask)
            deliver(node.on_fail, mask)
        elif isinstance(node, schema.AnnounceNode | schema.SendLinkNode):
            deliver(node.next, mask)
        elif isinstance(node, schema.ScheduleNode):
            left = mask
            for branch in node.branches:
                window = _windows_mask([branch.window])
                deliver(branch.then, left & window)
                left &= ~window
            deliver(node.otherwise, left)
            deliver(node.on_holiday, mask)
    return reach_queue


def _why_nobody(
    skill: str, level: int, holders: list[Agent], pools: set[str], in_service: set[str]
) -> str:
    """Why no agent can take a queue's calls, in words."""
    if not holders:
        return f"no agent holds skill {skill!r} at level {level} or above"
    admitted = [agent for agent in holders if agent.pool in pools]
    if not admitted:
        theirs = sorted({agent.pool for agent in holders})
        return (
            f"the {len(holders)} agent(s) holding skill {skill!r} at level {level} or above"
            f" are in pool(s) {', '.join(theirs)}, which the queue never admits"
            f" (it admits {', '.join(sorted(pools)) or 'none'})"
        )
    idle = sorted({agent.pool for agent in admitted} - in_service)
    return (
        f"the agents holding skill {skill!r} are in pool(s) {', '.join(idle)}, whose size is 0"
        " at the site's distancing level and at every surge stage"
    )


def _silent_routes(name: str, node: schema.IvrNode) -> list[tuple[str, Route]]:
    """The routes a caller at `node` may follow without pressing a key, with their
    field paths (see `_References._ivr_loops`)."""
    path = _key_path("ivr.nodes", name)
    routes: list[tuple[str, Route | None]] = []
    if isinstance(node, schema.MenuNode):
        routes.append((_key_path(path, "on_fail"), node.on_fail))
    elif isinstance(node, schema.AnnounceNode | schema.SendLinkNode):
        routes.append((_key_path(path, "next"), node.next))
    elif isinstance(node, schema.ScheduleNode):
        for index, branch in enumerate(node.branches):
            routes.append((_key_path(_index_path(_key_path(path, "branches"), index), "then"),
                           branch.then))
        routes.append((_key_path(path, "otherwise"), node.otherwise))
        routes.append((_key_path(path, "on_holiday"), node.on_holiday))
    return [(p, r) for p, r in routes if r is not None and r.queue is None and r.goto]


def _kind(node: schema.IvrNode) -> str:
    return str(type(node).__struct_config__.tag)


def _cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """The strongly connected components of `graph` that hold a cycle (more than one
    node, or a node with a route to itself), each in the graph's order, the components
    in the order of their first node (Tarjan's algorithm, without recursion: a long
    chain of nodes must not exhaust Python's stack)."""
    order = {name: i for i, name in enumerate(graph)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, next_edge = work[-1]
            targets = graph[node]
            if next_edge < len(targets):
                work[-1] = (node, next_edge + 1)
                target = targets[next_edge]
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    found.append(sorted(component, key=order.__getitem__))
    found.sort(key=lambda component: order[component[0]])
    return found


def _shortest_cycle(start: str, graph: dict[str, list[str]], within: set[str]) -> list[str]:
    """The nodes of a shortest cycle from `start` back to it inside `within` (a
    strongly connected component holding `start`), `start` first."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for target in graph[node]:
                if target == start:
                    cycle = [node]
                    while cycle[-1] != start:
                        cycle.append(previous[cycle[-1]])
                    return cycle[::-1]
                if target in within and target not in previous:
                    previous[target] = node
                    following.append(target)
        frontier = following
    raise ValueError(f"{start!r} is on no cycle")  # callers pass a cyclic component


def _structs(value: object, path: str) -> Iterator[tuple[str, msgspec.Struct]]:
    """Every struct inside `value` (itself included) with its path, in file order."""
    if isinstance(value, msgspec.Struct):
        yield path, value
        for name in value.__struct_fields__:
            yield from _structs(getattr(value, name), _key_path(path, name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _structs(item, _index_path(path, index))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _structs(item, _key_path(path, str(key)))


class _References:
    """The second pass: names that must name something, orders that must hold."""

    def __init__(self, loader: _Loader, config: SiteConfig) -> None:
        self.loader = loader
        self.config = config

    def check(self) -> list[Agent]:
        """Record every reference error; return the expanded roster."""
        self._site()
        self._queues()
        for name, vendor in self.config.vendors.items():
            for index, skill in enumerate(vendor.skills):
                skill_path = _index_path(_key_path(_key_path("vendors", name), "skills"), index)
                self._ref(skill_path, skill, self.config.skills, "skill", "skills")
        self._ivr()
        self._surge()
        for path, struct in _structs(self.config, ""):
            if isinstance(struct, Route):
                self._route(path, struct)
            elif isinstance(struct, TimeWindow) and struct.start == struct.end:
                self.loader.error(
                    _key_path(path, "end"),
                    f"start and end are both {struct.end}: the window never opens"
                    " (leave both out for the whole day)",
                )
        self._figures()
        roster = self._agents()
        if not self.loader.errors:  # answering needs every name to name something
            self._answerable(roster)
        return roster

    def _figures(self) -> None:
        """The ranges that involve two fields (one field's ranges are the schema's)."""
        for name, vendor in self.config.vendors.items():
            path = _key_path("vendors", name)
            lines = vendor.max_concurrent * 3600 // MIN_VENDOR_CALL_SECONDS
            if vendor.max_per_hour is not None and vendor.max_per_hour > lines:
                self.loader.error(
                    _key_path(path, "max_per_hour"),
                    f"{vendor.max_per_hour} calls an hour cannot go through"
                    f" max_concurrent {vendor.max_concurrent} lines: even calls of"
                    f" {MIN_VENDOR_CALL_SECONDS} s carry at most {lines} an hour",
                )
            hourly = min(lines, vendor.max_per_hour or lines)
            if vendor.max_per_day is not None and vendor.max_per_day > 24 * hourly:
                self.loader.error(
                    _key_path(path, "max_per_day"),
                    f"{vendor.max_per_day} calls a day is more than 24 hours at"
                    f" {hourly} an hour ({24 * hourly})",
                )
        simulation = self.config.simulation
        if simulation is not None:
            agents = simulation.agents
            if agents.answer_max_seconds < agents.answer_min_seconds:
                self.loader.error(
                    "simulation.agents.answer_max_seconds",
                    f"{agents.answer_max_seconds:g} is below answer_min_seconds"
                    f" ({agents.answer_min_seconds:g})",
                )
        stages = [stage.stage for stage in self.config.surge.stages]
        for name, queue in self.config.queues.items():
            for index, rule in enumerate(queue.overflow):
                wanted = rule.when.stage_at_least
                if wanted is not None and wanted > max(stages, default=0):
                    defined = f"stages {', '.join(map(str, stages))}" if stages else "none"
                    rule_path = _index_path(_key_path(_key_path("queues", name), "overflow"), index)
                    self.loader.error(
                        _key_path(_key_path(rule_path, "when"), "stage_at_least"),
                        f"surge stage {wanted} is never reached (surge.stages defines"
                        f" {defined}): the rule can never hold",
                    )

    def _answerable(self, roster: list[Agent]) -> None:
        """Refuse a queue no agent or vendor can ever answer.

        A queue's callers can be answered by an agent of a pool it admits (at the
        start or after a relax step) holding its skill at the lowest level it relaxes
        to, whose pool can be in service (a size above 0 at the site's distancing level
        or at some surge stage), or by a vendor of one of its overflow rules; and only
        at an hour when callers reach it (through the IVR's schedules; a queue no route
        leads to, at any hour) and that agent's shift or that vendor's hours hold."""
        config = self.config
        reach = _queue_reach(config.ivr)
        in_service = {
            name
            for name, pool in config.pools.items()
            if pool.size_by_distancing_level is None
            or pool.size_by_distancing_level.get(config.site.distancing_level, 0) > 0
            or any(stage.pool_sizes.get(name, 0) > 0 for stage in config.surge.stages)
        }
        stages = max((stage.stage for stage in config.surge.stages), default=0)
        for name, queue in config.queues.items():
            path = _key_path("queues", name)
            pools = set(queue.pools).union(*(step.pools for step in queue.relax))
            level = min([queue.min_level, *(s.min_level for s in queue.relax if s.min_level)])
            vendors = [
                vendor
                for rule in queue.overflow
                if (rule.when.stage_at_least or 0) <= stages
                for vendor in rule.vendors
            ]
            holders = [
                agent
                for agent in roster
                if any(g.skill == queue.skill and g.level >= level for g in agent.skills)
            ]
            able = [a for a in holders if a.pool in pools and a.pool in in_service]
            if not able and not vendors:
                if not pools:
                    self.loader.error(
                        _key_path(path, "pools"),
                        "no pool is admitted, and no relax step admits one nor an overflow"
                        " rule names a vendor: no caller of this queue can ever be answered",
                    )
                    continue
                why = _why_nobody(queue.skill, level, holders, pools, in_service)
                self.loader.error(
                    _key_path(path, "skill"),
                    f"no caller of this queue can ever be answered: {why}, and no overflow"
                    " rule names a vendor",
                )
                continue
            works = 0
            for agent in able:
                shift = config.shifts.get(agent.shift) if agent.shift is not None else None
                works |= _ALL_WEEK if shift is None else _windows_mask(shift.windows)
            for vendor_name in vendors:
                hours = config.vendors[vendor_name].hours
                works |= _ALL_WEEK if hours is None else _windows_mask(hours.open)
            reached = reach.get(name, _ALL_WEEK)
            if reached & works == 0:
                self.loader.error(
                    path,
                    f"no caller of this queue can ever be answered: callers reach it"
                    f" {_describe_week(reached)} (the IVR's schedules), and the"
                    f" {len(able)} agent(s) and {len(set(vendors))} vendor(s) who can take its"
                    f" calls work only {_describe_week(works)}",
                    key=True,
                )

    def _ref(
        self,
        path: str,
        name: str,
        known: Collection[str],
        what: str,
        section: str,
        *,
        key: bool = False,
    ) -> None:
        if name in known:
            return
        if known:
            defined = f"; {section} has: {_listing(known)}"
        else:
            defined = f"; no {what} is defined (under `{section}`)"
        self.loader.error(
            path, f"unknown {what} {name!r}{_did_you_mean(name, known)}{defined}", key=key
        )

    def _site(self) -> None:
        site = self.config.site
        if site.default_language not in site.languages:
            # Both have defaults; say so, or "'en'" puzzles an operator who never wrote it.
            written = "site.default_language" in self.loader.value_marks
            self.loader.error(
                "site.default_language",
                f"{site.default_language!r}{'' if written else ' (the default)'} is not one"
                f" of site.languages ({', '.join(site.languages)})",
            )
        for name, pool in self.config.pools.items():
            levels = pool.size_by_distancing_level
            if levels is not None and site.distancing_level not in levels:
                self.loader.error(
                    _key_path(_key_path("pools", name), "size_by_distancing_level"),
                    f"no size for the site's distancing level {site.distancing_level!r}"
                    f" (site.distancing_level); levels given: {', '.join(levels)}",
                    key=True,
                )

    def _queues(self) -> None:
        for name, queue in self.config.queues.items():
            path = _key_path("queues", name)
            self._ref(_key_path(path, "skill"), queue.skill, self.config.skills, "skill", "skills")
            for index, pool in enumerate(queue.pools):
                self._ref(
                    _index_path(_key_path(path, "pools"), index),
                    pool,
                    self.config.pools,
                    "pool",
                    "pools",
                )
            level, level_from = queue.min_level, "the queue's min_level"
            previous_after: float | None = None
            for index, step in enumerate(queue.relax):
                step_path = _index_path(_key_path(path, "relax"), index)
                if previous_after is not None and step.after_seconds <= previous_after:
                    self.loader.error(
                        _key_path(step_path, "after_seconds"),
                        f"steps must come in order of waiting time: {step.after_seconds:g} is not"
                        f" after the previous step's {previous_after:g}",
                    )
                previous_after = step.after_seconds
                if step.min_level is not None:
                    if step.min_level > level:
                        self.loader.error(
                            _key_path(step_path, "min_level"),
                            f"relaxing never tightens: {step.min_level} is above {level},"
                            f" {level_from}",
                        )
                    else:
                        level, level_from = step.min_level, f"the min_level of relax[{index}]"
                for pool_index, pool in enumerate(step.pools):
                    self._ref(
                        _index_path(_key_path(step_path, "pools"), pool_index),
                        pool,
                        self.config.pools,
                        "pool",
                        "pools",
                    )
            for index, rule in enumerate(queue.overflow):
                rule_path = _index_path(_key_path(path, "overflow"), index)
                if not rule.vendors:
                    self.loader.error(_key_path(rule_path, "vendors"), "name at least one vendor")
                for vendor_index, vendor in enumerate(rule.vendors):
                    self._ref(
                        _index_path(_key_path(rule_path, "vendors"), vendor_index),
                        vendor,
                        self.config.vendors,
                        "vendor",
                        "vendors",
                    )
                when = rule.when
                conditions = msgspec.structs.asdict(when)
                if all(v is None for v in conditions.values()):
                    self.loader.error(
                        _key_path(rule_path, "when"),
                        f"give at least one condition: {', '.join(conditions)}",
                        key=True,
                    )

    def _ivr(self) -> None:
        ivr = self.config.ivr
        self._ref("ivr.entry", ivr.entry, ivr.nodes, "IVR node", "ivr.nodes")
        for dnis, entry in ivr.by_dnis.items():
            self._ref(_key_path("ivr.by_dnis", dnis), entry, ivr.nodes, "IVR node", "ivr.nodes")
        self._ivr_loops()

    def _ivr_loops(self) -> None:
        """Refuse every loop a caller who presses nothing could go round forever.

        Without input a caller follows an announcement's and a link's `next`, a
        menu's `on_fail` (after its retries; a menu without one disconnects), and any
        branch of a schedule (`then`, `otherwise`, `on_holiday`: which one depends on
        the hour). Those routes form a graph over the nodes; a route to a queue, a
        hang-up, a link without `next` and a menu without `on_fail` end the walk.
        When the graph has no cycle, every walk ends in a queue or a hang-up after at
        most as many steps as there are nodes; each cycle is reported once, at the
        route that closes it, with the nodes it goes through."""
        nodes = self.config.ivr.nodes
        edges = {name: _silent_routes(name, node) for name, node in nodes.items()}
        graph = {
            name: [route.goto for _, route in routes if route.goto in nodes]
            for name, routes in edges.items()
        }
        for component in _cycles(graph):
            start = component[0]
            cycle = _shortest_cycle(start, graph, set(component))
            steps: list[str] = []
            closing = ""
            for here, there in zip(cycle, [*cycle[1:], start], strict=True):
                closing = next(path for path, route in edges[here] if route.goto == there)
                field = closing[len(_key_path("ivr.nodes", here)) + 1 :]
                steps.append(f"{here} ({_kind(nodes[here])}, {field})")
            walk = " -> ".join([*steps, start])
            self.loader.error(
                _key_path(closing, "goto"),
                f"a caller who presses nothing goes round {walk} forever: end the loop"
                " with a queue or a hang-up, or a menu that disconnects after its retries"
                " (no `on_fail`)",
            )

    def _route(self, path: str, route: Route) -> None:
        if (route.goto is None) == (route.queue is None):
            which = "both" if route.goto is not None else "neither"
            self.loader.error(
                path,
                f"a route needs exactly one of `goto` (an IVR node) and `queue`; it has {which}",
                key=True,
            )
        if route.goto is not None:
            self._ref(
                _key_path(path, "goto"), route.goto, self.config.ivr.nodes, "IVR node", "ivr.nodes"
            )
        if route.queue is not None:
            self._ref(_key_path(path, "queue"), route.queue, self.config.queues, "queue", "queues")
        if route.language is not None:
            self._ref(
                _key_path(path, "language"),
                route.language,
                self.config.site.languages,
                "language",
                "site.languages",
            )

    def _surge(self) -> None:
        previous: schema.SurgeStage | None = None
        for index, stage in enumerate(self.config.surge.stages):
            path = _index_path("surge.stages", index)
            if previous is None and stage.stage != 1:
                self.loader.error(
                    _key_path(path, "stage"), f"the first stage must be stage 1, got {stage.stage}"
                )
            if previous is not None and stage.stage <= previous.stage:
                self.loader.error(
                    _key_path(path, "stage"),
                    f"stages must be numbered upwards: {stage.stage} follows {previous.stage}",
                )
            if (
                previous is not None
                and stage.enter_at_calls_per_day <= previous.enter_at_calls_per_day
            ):
                self.loader.error(
                    _key_path(path, "enter_at_calls_per_day"),
                    f"must be above the previous stage's {previous.enter_at_calls_per_day}",
                )
            leave = stage.leave_below_calls_per_day
            if leave is not None and leave >= stage.enter_at_calls_per_day:
                self.loader.error(
                    _key_path(path, "leave_below_calls_per_day"),
                    f"must be below enter_at_calls_per_day ({stage.enter_at_calls_per_day}),"
                    " or the stage never settles",
                )
            for pool in stage.pool_sizes:
                self._ref(
                    _key_path(_key_path(path, "pool_sizes"), pool),
                    pool,
                    self.config.pools,
                    "pool",
                    "pools",
                    key=True,
                )
            previous = stage

    def _grants(self, path: str, pool: str, skills: list[SkillGrant], shift: str | None) -> None:
        """What an agent and an agent group have in common."""
        self._ref(_key_path(path, "pool"), pool, self.config.pools, "pool", "pools")
        if shift is not None:
            self._ref(_key_path(path, "shift"), shift, self.config.shifts, "shift", "shifts")
        first: dict[str, int] = {}
        for index, grant in enumerate(skills):
            grant_path = _key_path(_index_path(_key_path(path, "skills"), index), "skill")
            self._ref(grant_path, grant.skill, self.config.skills, "skill", "skills")
            if grant.skill in first:
                earlier = _key_path(
                    _index_path(_key_path(path, "skills"), first[grant.skill]), "skill"
                )
                self.loader.error(
                    grant_path,
                    f"skill {grant.skill!r} is listed twice"
                    f" (first at {self.loader.line_of(earlier, key=False)})",
                )
            else:
                first[grant.skill] = index

    def _agents(self) -> list[Agent]:
        roster: list[Agent] = []
        owner: dict[str, str] = {}  # agent id -> path of the entry that defined it
        clashes: dict[tuple[str, str], list[str]] = {}  # (first, second) -> ids

        def enlist(agent: Agent, path: str) -> None:
            if agent.id in owner:
                clashes.setdefault((owner[agent.id], path), []).append(agent.id)
            else:
                owner[agent.id] = path
            roster.append(agent)

        for index, agent in enumerate(self.config.agents):
            path = _index_path("agents", index)
            self._grants(path, agent.pool, agent.skills, agent.shift)
            enlist(agent, path)
        total = len(self.config.agents)
        for index, group in enumerate(self.config.agent_groups):
            path = _index_path("agent_groups", index)
            self._grants(path, group.pool, group.skills, group.shift)
            total += group.count
            if total > MAX_AGENTS:
                self.loader.error(
                    _key_path(path, "count"),
                    f"the site would have {total} agents, more than {MAX_AGENTS}:"
                    " is this count a typo?",
                )
                continue
            if self._templates_ok(path, group):
                for agent in expand_agent_group(group):
                    enlist(agent, path)
        for (first, second), ids in clashes.items():
            if len(ids) == 1:
                what = f"agent id {ids[0]!r} is"
            else:
                more = f" and {len(ids) - 3} more" if len(ids) > 3 else ""
                what = f"agent ids {', '.join(repr(i) for i in ids[:3])}{more} are"
            self.loader.error(
                second if second.startswith("agents[") else _key_path(second, "first_id"),
                f"{what} given twice: by {first} ({self.loader.line_of(first)}) and by {second}",
            )
        return roster

    def _templates_ok(self, path: str, group: AgentGroup) -> bool:
        """`expand_agent_group` formats these templates; a stray `{name}` would raise."""
        ok = True
        for field_name, template in (("endpoint", group.endpoint), ("name", group.name)):
            try:
                template.format(id=str(group.first_id), n=1, pool=group.pool)
            except (KeyError, IndexError, ValueError, AttributeError, TypeError) as exc:
                self.loader.error(
                    _key_path(path, field_name),
                    f"bad template {template!r} ({type(exc).__name__}: {exc});"
                    " it may use {id}, {n} and {pool}",
                )
                ok = False
        return ok
