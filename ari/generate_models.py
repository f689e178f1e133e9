"""Generate `ari/models.py` from Asterisk's ARI description in `ari/spec/*.json`.

    python ari/generate_models.py [--spec DIR] [--out FILE]

The description is Swagger 1.1 (events.json says 1.2; its models section has the same
shape). Each file's "models" maps a name to `{id, description, properties, subTypes?,
discriminator?}`; a property is `{type, required?, description?, allowableValues?}`
with `type` one of string, int, long, double, boolean, object, Date, `List[X]` or the
name of another model. Inheritance is written top-down: `Message` (discriminator
`type`) lists `MissingParams` and `Event` as `subTypes`, and `Event` lists every event.
Swagger 1.2's bottom-up `extends` is honoured too, though Asterisk does not use it.

What comes out (the choices, and why):

* one frozen msgspec Struct per model, keyword-only (a subclass adds required fields
  after the base's optional ones), fields in the spec's order and named as in the JSON
  (a Python keyword such as `from` becomes `from_` with `msgspec.field(name="from")`);
* a field not in `required` is `X | None = None`; unknown JSON fields are ignored
  (Asterisk adds fields across versions) and `omit_defaults` leaves absent fields out
  when encoding, as Asterisk does (a virtual PBX encodes these records);
* a model with subtypes becomes `<Name>Base`, and `<Name>` is the union of its concrete
  descendants, tagged by the discriminator (`tag_field="type"`, `tag="<EventName>"`),
  so `msgspec.json.Decoder(Event)` picks the class from the `type` field;
* `allowableValues` are listed in the field's comment, not enforced with `Literal`: a
  newer Asterisk may add a state, and the adapter must not drop its events for that;
* `Date` stays text (`AriDate`), see the note in the generated module.

Output is deterministic: classes sorted by name (bases before their subtypes), fields in
spec order, no timestamps; `tests/test_ari_models.py` checks that `ari/models.py` is
what this script writes.
"""

from __future__ import annotations

import argparse
import json
import keyword
import re
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SPEC_DIR = HERE / "spec"
OUT_FILE = HERE / "models.py"
LINE_LENGTH = 100

_PRIMITIVES = {
    "string": "str",
    "int": "int",
    "long": "int",
    "double": "float",
    "boolean": "bool",
    "object": "dict[str, Any]",
    "Date": "AriDate",
}
_LIST = re.compile(r"^List\[(\w+)\]$")

# Struct options every generated class repeats: msgspec does not inherit `kw_only`, and
# mypy refuses a non-frozen subclass of a frozen dataclass-like class. `omit_defaults`
# leaves None fields out when encoding, as Asterisk does.
_OPTIONS = "frozen=True, kw_only=True, omit_defaults=True"


class SpecError(Exception):
    """The ARI description has a shape this generator does not understand."""


@dataclass(frozen=True)
class Prop:
    name: str
    type: str
    required: bool
    description: str
    allowable: tuple[str, ...]


@dataclass(frozen=True)
class Model:
    id: str
    description: str
    source: str
    props: tuple[Prop, ...]
    subtypes: tuple[str, ...]
    discriminator: str | None
    extends: str | None


def load_models(spec_dir: Path) -> dict[str, Model]:
    """Read the models of every `*.json` in `spec_dir`; raise SpecError on a duplicate."""
    models: dict[str, Model] = {}
    for path in sorted(spec_dir.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        for key, raw in doc.get("models", {}).items():
            if raw.get("id", key) != key:
                raise SpecError(f"{path.name}: model {key!r} has id {raw.get('id')!r}")
            if key in models:
                raise SpecError(f"{path.name}: model {key!r} also in {models[key].source}")
            props = tuple(_prop(path.name, key, n, p) for n, p in raw["properties"].items())
            models[key] = Model(
                id=key,
                description=raw.get("description", ""),
                source=path.name,
                props=props,
                subtypes=tuple(raw.get("subTypes", ())),
                discriminator=raw.get("discriminator"),
                extends=raw.get("extends"),
            )
    return models


def _prop(source: str, model: str, name: str, raw: dict[str, Any]) -> Prop:
    allowable = raw.get("allowableValues")
    values: tuple[str, ...] = ()
    if allowable is not None:
        if allowable.get("valueType") != "LIST":
            raise SpecError(f"{source}: {model}.{name}: allowableValues {allowable!r}")
        values = tuple(str(v) for v in allowable["values"])
    return Prop(
        name=name,
        type=raw["type"],
        required=bool(raw.get("required", False)),
        description=raw.get("description", ""),
        allowable=values,
    )


def _parents(models: dict[str, Model]) -> dict[str, str]:
    """Child -> parent, from `subTypes` (Asterisk) and `extends` (Swagger 1.2)."""
    parent: dict[str, str] = {}
    for m in models.values():
        for sub in m.subtypes:
            if sub not in models:
                raise SpecError(f"{m.source}: {m.id} lists unknown subtype {sub!r}")
            parent[sub] = m.id
        if m.extends is not None:
            parent[m.id] = m.extends
    for child, base in parent.items():
        if base not in models:
            raise SpecError(f"{models[child].source}: {child} extends unknown {base!r}")
    return parent


def render(spec_dir: Path = SPEC_DIR) -> str:
    """The text of `models.py` for the description in `spec_dir`."""
    models = load_models(spec_dir)
    parent = _parents(models)
    children: dict[str, list[str]] = {}
    for child, base in parent.items():
        children.setdefault(base, []).append(child)
    bases = {name for name in children}

    def ancestors(name: str) -> list[str]:
        chain = []
        while name in parent:
            name = parent[name]
            chain.append(name)
        return chain

    def leaves(name: str) -> list[str]:
        if name not in children:
            return [name]
        return sorted(leaf for c in children[name] for leaf in leaves(c))

    def class_name(name: str) -> str:
        return f"{name}Base" if name in bases else name

    def discriminator_of(name: str) -> str | None:
        for n in [name, *ancestors(name)]:
            if models[n].discriminator is not None:
                return models[n].discriminator
        return None

    def py_type(t: str, where: str) -> str:
        if t in _PRIMITIVES:
            return _PRIMITIVES[t]
        m = _LIST.match(t)
        if m:
            return f"list[{py_type(m.group(1), where)}]"
        if t in models:
            return t  # a base's spec name is the union of its subtypes
        raise SpecError(f"{where}: unknown type {t!r}")

    api_version = json.loads((spec_dir / "resources.json").read_text(encoding="utf-8"))[
        "apiVersion"
    ]
    out: list[str] = [_HEADER.format(api_version=api_version).rstrip("\n")]

    plain = sorted(n for n in models if n not in parent and n not in bases)
    hierarchy = sorted((n for n in models if n in parent or n in bases), key=_depth_key(ancestors))
    out.append(_section("Resources: what REST calls return and events carry."))
    for name in plain:
        out.append(_class(models[name], "msgspec.Struct", _OPTIONS, None, py_type))
    out.append(_section("Messages and events, tagged by their `type` field."))
    for name in hierarchy:
        model = models[name]
        disc = discriminator_of(name)
        if name in parent:
            base = class_name(parent[name])
            opts = _OPTIONS if name in bases else f'tag="{name}", {_OPTIONS}'
        else:
            base = "msgspec.Struct"
            opts = f'{_OPTIONS}, tag_field="{disc}"' if disc else _OPTIONS
        out.append(_class(model, base, opts, disc, py_type))
    out.append(_section("Unions: decode into these to dispatch on `type`."))
    # Deepest first, so that a union names the unions of its subtypes (Message =
    # Event | MissingParams) rather than listing every leaf again.
    for name in sorted(bases, key=lambda n: (-len(ancestors(n)), n)):
        out.append(_union(name, sorted(children[name]), models[name].description))
    event_leaves = leaves("Event") if "Event" in bases else []
    out.append(_FOOTER.format(event_types=_event_types(event_leaves)))
    return "\n".join(out)


def _depth_key(ancestors: Any) -> Any:
    def key(name: str) -> tuple[int, str]:
        return (len(ancestors(name)), name)

    return key


def _section(title: str) -> str:
    return f"\n\n# {'-' * 96}\n# {title}"


def _doc_line(description: str, indent: str) -> list[str]:
    """The description's first sentence (or paragraph), as a docstring."""
    para = " ".join(description.strip().split("\n\n")[0].split())
    if not para:
        para = "(No description in the ARI spec.)"
    if len(indent) + len(para) + 6 > LINE_LENGTH and ". " in para:
        para = para.split(". ")[0] + "."
    para = para.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if para.endswith('"'):
        para += " "
    if len(indent) + len(para) + 6 <= LINE_LENGTH:
        return [f'{indent}"""{para}"""']
    wrapped = textwrap.wrap(para, LINE_LENGTH - len(indent) - 3)
    return [f'{indent}"""{wrapped[0]}', *(f"{indent}{w}" for w in wrapped[1:]), f'{indent}"""']


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if not text or text.endswith((".", "?", "!")) else text + "."


def _comment(text: str, indent: str) -> list[str]:
    text = " ".join(text.split())
    if not text:
        return []
    width = LINE_LENGTH - len(indent) - 2
    return [f"{indent}# {line}" for line in textwrap.wrap(text, width)]


def _header(name: str, base: str, opts: str) -> list[str]:
    one = f"class {name}({base}, {opts}):"
    if len(one) <= LINE_LENGTH:
        return [one]
    args = f"    {base}, {opts}"
    if len(args) <= LINE_LENGTH:
        return [f"class {name}(", args, "):"]
    parts = [base, *(p.strip() for p in opts.split(","))]
    return [f"class {name}(", *(f"    {p}," for p in parts), "):"]


def _class(
    model: Model,
    base: str,
    opts: str,
    discriminator: str | None,
    py_type: Any,
) -> str:
    is_base = bool(model.subtypes)
    name = f"{model.id}Base" if is_base else model.id
    lines = ["", ""]
    lines += _header(name, base, opts)
    lines += _doc_line(model.description, "    ")
    fields: list[str] = []
    for p in model.props:
        if discriminator is not None and p.name == discriminator:
            continue  # msgspec writes and reads the tag itself
        typ = py_type(p.type, f"{model.source}: {model.id}.{p.name}")
        note = _sentence(p.description)
        if p.allowable:
            note = f"{note} One of: {', '.join(repr(v) for v in p.allowable)}."
        if p.type == "Date":
            note = f"{note} ARI date text, see AriDate."
        fields.append("")
        fields += _comment(note, "    ")
        attr = f"{p.name}_" if keyword.iskeyword(p.name) else p.name
        if p.required:
            default = f' = msgspec.field(name="{p.name}")' if attr != p.name else ""
            fields.append(f"    {attr}: {typ}{default}")
        else:
            default = f'msgspec.field(default=None, name="{p.name}")' if attr != p.name else "None"
            fields.append(f"    {attr}: {typ} | None = {default}")
    lines += fields
    return "\n".join(lines)


def _union(name: str, members: list[str], description: str) -> str:
    lines = ["", ""]
    lines += _comment(f"{name}: {_sentence(description)} Its subtypes, or their unions.", "")
    one_line = f"{name}: TypeAlias = {' | '.join(members)}"
    if len(one_line) <= 100:  # as ruff format would write it
        lines.append(one_line)
        return "\n".join(lines)
    lines.append(f"{name}: TypeAlias = (")
    lines += [f"    {m}" if i == 0 else f"    | {m}" for i, m in enumerate(members)]
    lines.append(")")
    return "\n".join(lines)


def _event_types(members: list[str]) -> str:
    return "\n".join(f"    {m!r}: {m},".replace("'", '"') for m in members)


_HEADER = '''\
"""Typed records for Asterisk's ARI {api_version}: every resource model and every event.

GENERATED by `python ari/generate_models.py` from `ari/spec/*.json`; do not edit by
hand (change the generator and run it again; a test checks this file is up to date).

Field names are those of the JSON. A field the spec does not mark `required` is
`X | None = None`. Unknown fields are ignored: Asterisk adds fields across versions.
Encoding leaves out fields that are None, as Asterisk does.

A model with subtypes (`Message`, `Event`) is generated as `<Name>Base`; `<Name>` is
the union of its subtypes, tagged by the JSON field `type`. WebSocket frames are decoded
by `ari.frames.decode_event`.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import msgspec

AriDate: TypeAlias = str
# An ARI timestamp, kept as the text Asterisk sent, e.g. "2026-11-21T20:44:26.123+0000".
# It is ISO 8601 but not RFC 3339 (the offset has no colon), which msgspec's datetime
# decoder refuses; the adapter takes its clock from the engine, not from these stamps,
# so they are kept verbatim for logs and parsed only where needed
# (`datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%f%z")`).
'''

_FOOTER = '''

# {dashes}
# Every event `type` the spec knows (decoding helpers: `ari/frames.py`).

EVENT_TYPES: dict[str, type[EventBase]] = {{
{event_types}
}}
"""Every event `type` the spec knows, mapped to its record class."""
'''.replace("{dashes}", "-" * 96)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--spec", type=Path, default=SPEC_DIR, help="folder of ARI *.json")
    parser.add_argument("--out", type=Path, default=OUT_FILE, help="file to write")
    args = parser.parse_args(argv)
    text = render(args.spec)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
