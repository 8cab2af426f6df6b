"""Graph's CSDL ($metadata) as the fake's rule book: entity, complex and enum types.

Read once per process from ``tests/data/graph/cleanMetadata.v1.0.xml.gz`` (the cleaned
v1.0 metadata of microsoftgraph/msgraph-metadata). The fake checks every JSON body it is sent
and every ``$select`` against it, and answers 400 as Graph does for a property the type does
not have, so a typo in the product (``toRecipient``, ``bodyType``) fails a test instead of
silently doing nothing.
"""

from __future__ import annotations

import gzip
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parents[1] / "data" / "graph"
METADATA = CORPUS / "cleanMetadata.v1.0.xml.gz"
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
NAMESPACE = "microsoft.graph."


@dataclass
class TypeInfo:
    name: str
    base: str | None
    props: dict[str, str] = field(default_factory=dict)  # name -> type ("graph.x", "Edm.String")


@dataclass
class Schema:
    types: dict[str, TypeInfo]
    enums: dict[str, frozenset[str]]
    actions: dict[str, dict[str, str]]  # bound action name -> parameter name -> type

    def properties(self, type_name: str) -> dict[str, str]:
        """Every property (structural and navigation) of a type, inherited ones included."""
        out: dict[str, str] = {}
        name: str | None = _short(type_name)
        while name:
            info = self.types.get(name)
            if info is None:
                raise KeyError(f"no type {type_name} in the metadata")
            for prop, typ in info.props.items():
                out.setdefault(prop, typ)
            name = _short(info.base) if info.base else None
        return out

    def check_body(self, type_name: str, body: Any, where: str = "") -> list[str]:
        """Problems with ``body`` as a value of ``type_name`` (empty when Graph accepts it)."""
        if not isinstance(body, dict):
            return [f"{where or type_name}: expected an object"]
        props = self.properties(type_name)
        problems: list[str] = []
        for key, value in body.items():
            if key.startswith("@odata."):
                continue
            if key not in props:
                problems.append(
                    f"The property '{key}' does not exist on type 'microsoft.graph.{_short(type_name)}'."
                )
                continue
            problems.extend(self.check_value(props[key], value, f"{where}{key}"))
        return problems

    def check_value(self, typ: str, value: Any, where: str) -> list[str]:
        if value is None:
            return []
        if typ.startswith("Collection(") and typ.endswith(")"):
            if not isinstance(value, list):
                return [f"{where}: expected an array"]
            inner = typ[len("Collection(") : -1]
            return [p for i, v in enumerate(value) for p in self.check_value(inner, v, f"{where}[{i}].")]
        short = _short(typ)
        if short in self.enums:
            ok = isinstance(value, str) and value.casefold() in self.enums[short]
            return [] if ok else [f"{where}: {value!r} is not a {short} value"]
        if short in self.types:
            return self.check_body(short, value, f"{where}.")
        return _check_edm(typ, value, where)

    def check_select(self, type_name: str, names: list[str]) -> list[str]:
        props = self.properties(type_name)
        return [
            f"Could not find a property named '{n}' on type 'microsoft.graph.{type_name}'."
            for n in names
            if n and n not in props
        ]


def _short(name: str | None) -> str:
    if not name:
        return ""
    for prefix in ("graph.", NAMESPACE):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def _check_edm(typ: str, value: Any, where: str) -> list[str]:
    expected: dict[str, tuple[type, ...]] = {
        "Edm.String": (str,),
        "Edm.Boolean": (bool,),
        "Edm.Int32": (int,),
        "Edm.Int64": (int,),
        "Edm.DateTimeOffset": (str,),
    }
    kinds = expected.get(typ)
    if kinds is None or isinstance(value, kinds):
        if typ.startswith("Edm.Int") and isinstance(value, bool):
            return [f"{where}: expected {typ}"]
        return []
    return [f"{where}: expected {typ}, got {type(value).__name__}"]


@lru_cache(maxsize=1)
def load(path: Path = METADATA) -> Schema:
    """Parse the metadata once (about a second) and keep it for the process."""
    with gzip.open(path, "rb") as fh:
        root = ET.parse(fh).getroot()
    types: dict[str, TypeInfo] = {}
    enums: dict[str, frozenset[str]] = {}
    actions: dict[str, dict[str, str]] = {}
    for schema in root.iter(f"{EDM}Schema"):
        if schema.get("Namespace") != "microsoft.graph":
            continue
        for node in schema:
            tag = node.tag.removeprefix(EDM)
            name = node.get("Name", "")
            if tag in ("EntityType", "ComplexType"):
                info = TypeInfo(name, node.get("BaseType"))
                for prop in node:
                    if prop.tag in (f"{EDM}Property", f"{EDM}NavigationProperty"):
                        info.props[prop.get("Name", "")] = prop.get("Type", "")
                types[name] = info
            elif tag == "EnumType":
                enums[name] = frozenset(
                    m.get("Name", "").casefold() for m in node if m.tag == f"{EDM}Member"
                )
            elif tag == "Action" and node.get("IsBound") == "true":
                params = [(p.get("Name", ""), p.get("Type", "")) for p in node.iter(f"{EDM}Parameter")]
                actions.setdefault(name, {}).update({n: t for n, t in params[1:]})
    return Schema(types, enums, actions)
