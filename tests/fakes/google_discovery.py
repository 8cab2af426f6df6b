"""Request checking for the Google fakes, driven by the discovery documents that ship inside
google-api-python-client (the machine-readable form of the reference pages).

Every request the fake receives is matched to a discovery method by HTTP method and path,
its query parameters are checked (unknown names, repeats, enums, integer minimums, required
ones) and its JSON body is checked against the method's request schema, so the fake answers
400 to what Google would reject instead of quietly accepting a typo.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import googleapiclient

DOCUMENTS = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"


class FakeError(Exception):
    """An error answer in Google's envelope: {"error": {"code", "message", "errors": [...]}}."""

    def __init__(
        self, status: int, reason: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.status,
                "message": self.message,
                "errors": [{"domain": "global", "reason": self.reason, "message": self.message}],
            }
        }


def bad_request(message: str, reason: str = "invalid") -> FakeError:
    return FakeError(400, reason, message)


@dataclass(frozen=True)
class Method:
    id: str
    http_method: str
    pattern: re.Pattern[str]
    path_names: tuple[str, ...]
    params: dict[str, Any]
    scopes: frozenset[str]
    request_ref: str | None
    literal_segments: int


class DiscoveryApi:
    """One API (calendar v3 or gmail v1) as its bundled discovery document describes it."""

    def __init__(self, name: str, version: str) -> None:
        doc = json.loads((DOCUMENTS / f"{name}.{version}.json").read_text(encoding="utf-8"))
        self.prefix = "/" + doc["servicePath"]
        self.schemas: dict[str, Any] = doc["schemas"]
        self.global_params: dict[str, Any] = doc["parameters"]
        methods = [_method(m, self.prefix) for m in _walk(doc["resources"])]
        # Literal segments first, so ".../drafts/send" wins over ".../drafts/{id}".
        self.methods = sorted(methods, key=lambda m: -m.literal_segments)

    def match(self, http_method: str, path: str) -> tuple[Method, dict[str, str]] | None:
        for m in self.methods:
            if m.http_method != http_method:
                continue
            found = m.pattern.fullmatch(path)
            if found:
                return m, {k: unquote(v) for k, v in found.groupdict().items()}
        return None

    def check_query(self, method: Method, query: dict[str, list[str]]) -> dict[str, Any]:
        """The query parameters, typed; raises FakeError(400) for anything Google refuses."""
        out: dict[str, Any] = {}
        for name, values in query.items():
            spec = method.params.get(name) or self.global_params.get(name)
            if spec is None or spec.get("location") != "query":
                raise bad_request(f"Unknown parameter: '{name}'", "badRequest")
            if not spec.get("repeated") and len(values) > 1:
                raise bad_request(f"Parameter '{name}' may be given only once")
            typed = [_typed(name, spec, v) for v in values]
            out[name] = typed if spec.get("repeated") else typed[0]
        for name, spec in method.params.items():
            if spec.get("required") and spec.get("location") == "query" and name not in out:
                raise bad_request(f"Required parameter: {name}", "required")
        return out

    def check_body(self, method: Method, body: Any) -> None:
        if method.request_ref is None:
            if body is not None:
                raise bad_request(f"{method.id} takes no request body")
            return
        if not isinstance(body, dict):
            raise bad_request("Invalid JSON payload received: expected an object", "parseError")
        self._check_value({"$ref": method.request_ref}, body, "resource")

    def _check_value(self, spec: dict[str, Any], value: Any, where: str) -> None:
        if value is None:
            return  # null clears a field in patch semantics
        if "$ref" in spec:
            spec = self.schemas[spec["$ref"]]
        kind = spec.get("type")
        if kind == "object":
            if not isinstance(value, dict):
                raise bad_request(f"Invalid value at '{where}': expected an object")
            props = spec.get("properties", {})
            extra = spec.get("additionalProperties")
            for key, item in value.items():
                sub = props.get(key) or extra
                if sub is None:
                    raise bad_request(
                        f"Invalid JSON payload received. Unknown name \"{key}\" at '{where}': "
                        "Cannot find field.", "invalidArgument"
                    )
                self._check_value(sub, item, f"{where}.{key}")
        elif kind == "array":
            if not isinstance(value, list):
                raise bad_request(f"Invalid value at '{where}': expected a list")
            for i, item in enumerate(value):
                self._check_value(spec.get("items", {}), item, f"{where}[{i}]")
        elif kind == "string" and not isinstance(value, str):
            raise bad_request(f"Invalid value at '{where}': expected a string")
        elif kind == "boolean" and not isinstance(value, bool):
            raise bad_request(f"Invalid value at '{where}': expected a boolean")
        elif kind == "integer" and (isinstance(value, bool) or not isinstance(value, int)):
            raise bad_request(f"Invalid value at '{where}': expected an integer")


def _walk(resources: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for res in resources.values():
        out.extend(res.get("methods", {}).values())
        out.extend(_walk(res.get("resources", {})))
    return out


def _method(m: dict[str, Any], prefix: str) -> Method:
    path: str = m["path"]
    names: list[str] = []
    regex = ""
    literal = 0
    for part in re.split(r"(\{\+?[A-Za-z_]+\})", path):
        if part.startswith("{"):
            name = part.strip("{}+")
            names.append(name)
            regex += f"(?P<{name}>.+)" if part.startswith("{+") else f"(?P<{name}>[^/]+)"
        else:
            regex += re.escape(part)
            literal += part.count("/") + (1 if part.strip("/") else 0)
    return Method(
        id=m["id"],
        http_method=m["httpMethod"],
        pattern=re.compile(re.escape(prefix) + regex),
        path_names=tuple(names),
        params=m.get("parameters", {}),
        scopes=frozenset(m.get("scopes", [])),
        request_ref=(m.get("request") or {}).get("$ref"),
        literal_segments=literal,
    )


def _typed(name: str, spec: dict[str, Any], value: str) -> Any:
    kind = spec.get("type")
    if "enum" in spec and value not in spec["enum"]:
        raise bad_request(f"Invalid value for '{name}': {value!r}")
    if kind == "boolean":
        if value not in ("true", "false"):
            raise bad_request(f"Invalid boolean value for '{name}': {value!r}")
        return value == "true"
    if kind == "integer":
        try:
            number = int(value)
        except ValueError:
            raise bad_request(f"Invalid integer value for '{name}': {value!r}") from None
        if "minimum" in spec and number < int(spec["minimum"]):
            raise bad_request(f"Invalid value for '{name}': below {spec['minimum']}")
        if "maximum" in spec and number > int(spec["maximum"]):
            raise bad_request(f"Invalid value for '{name}': above {spec['maximum']}")
        return number
    return value
