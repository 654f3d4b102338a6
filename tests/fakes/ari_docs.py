"""ARI's own API description (Swagger 1.2, Asterisk 22.10.1) as a checker of requests and events.

`../shared/asterisk/ari-api-docs/*.json` lists every resource, operation, parameter and model. The fake ARI
server runs every request it receives through `check_request` and every event it sends through
`check_event`, so neither the fake nor the client can invent an endpoint, a parameter or an event shape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

DOCS_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "asterisk" / "ari-api-docs"

# What Asterisk's ast_true()/ast_false() accept for a boolean query parameter.
_TRUE = {"yes", "true", "y", "t", "1", "on"}
_FALSE = {"no", "false", "n", "f", "0", "off"}
_INT = re.compile(r"-?\d+")
# ARI's timestamps: 2026-11-22T20:30:54.660+0000
_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?[+-]\d{4}")
_SCALARS = {"string", "int", "long", "double", "boolean", "Date", "object", "containers"}


@dataclass(frozen=True)
class Param:
    name: str
    param_type: str  # path | query | body
    required: bool
    data_type: str
    allow_multiple: bool
    allowed: tuple[str, ...] | None  # allowableValues LIST
    minimum: int | None = None  # allowableValues RANGE
    maximum: int | None = None


def _param(p: dict[str, Any]) -> Param:
    allowed = p.get("allowableValues") if isinstance(p.get("allowableValues"), dict) else {}
    is_list = allowed.get("valueType") == "LIST"
    is_range = allowed.get("valueType") == "RANGE"
    return Param(
        name=p["name"],
        param_type=p["paramType"],
        required=bool(p.get("required")),
        data_type=p.get("dataType", "string"),
        allow_multiple=bool(p.get("allowMultiple")),
        allowed=tuple(allowed["values"]) if is_list else None,
        minimum=allowed.get("min") if is_range else None,
        maximum=allowed.get("max") if is_range else None,
    )


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # template, e.g. /channels/{channelId}/play
    nickname: str
    resource: str  # file stem, e.g. channels
    params: tuple[Param, ...]
    response_class: str
    errors: Mapping[int, str]
    regex: re.Pattern[str]
    literal_segments: int

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


def _compile(template: str) -> tuple[re.Pattern[str], int]:
    parts, literals = [], 0
    for segment in template.strip("/").split("/"):
        if segment.startswith("{") and segment.endswith("}"):
            parts.append(f"(?P<{segment[1:-1]}>[^/]+)")
        else:
            parts.append(re.escape(segment))
            literals += 1
    return re.compile("/" + "/".join(parts)), literals


class AriDocs:
    def __init__(self, directory: Path = DOCS_DIR) -> None:
        self.directory = directory
        self.operations: list[Operation] = []
        self.models: dict[str, dict[str, Any]] = {}
        for file in sorted(directory.glob("*.json")):
            doc = json.loads(file.read_text(encoding="utf-8"))
            for name, model in doc.get("models", {}).items():
                self.models.setdefault(name, model)
            for api in doc.get("apis", []):
                regex, literals = _compile(api["path"])
                for op in api.get("operations", []):
                    params = tuple(_param(p) for p in op.get("parameters", []))
                    self.operations.append(
                        Operation(
                            method=op["httpMethod"],
                            path=api["path"],
                            nickname=op["nickname"],
                            resource=file.stem,
                            params=params,
                            response_class=op.get("responseClass", "void"),
                            errors={e["code"]: e["reason"] for e in op.get("errorResponses") or []},
                            regex=regex,
                            literal_segments=literals,
                        )
                    )
        # /channels/create must win over /channels/{channelId}: the most literal template first.
        self.operations.sort(key=lambda o: -o.literal_segments)
        events = self.models.get("Event", {})
        self.event_types = frozenset(events.get("subTypes", []))

    # --- requests ------------------------------------------------------------------------------------------

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]]:
        path = "/" + path.strip("/")
        on_path = [(op, m) for op in self.operations if (m := op.regex.fullmatch(path))]
        if not on_path:
            raise AssertionError(f"ARI has no resource {path} (not in ari-api-docs)")
        best = on_path[0][0].literal_segments
        for op, m in on_path:
            if op.method == method.upper() and op.literal_segments == best:
                return op, m.groupdict()
        for op, m in on_path:
            if op.method == method.upper():
                return op, m.groupdict()
        methods = sorted({op.method for op, _m in on_path})
        raise AssertionError(f"ARI has no {method.upper()} {path}: {on_path[0][0].path} allows {methods}")

    def check_request(self, method: str, path: str, params: Mapping[str, str], body: Any) -> str:
        op, path_values = self.match(method, path)
        where = f"{op.method} {path} ({op.resource}.{op.nickname})"
        for name, value in path_values.items():
            param = op.param(name)
            assert param is not None and param.param_type == "path", f"{where}: {name} is no path parameter"
            _check_value(where, param, value)
        query = {p.name: p for p in op.params if p.param_type == "query"}
        bodies = {p.name: p for p in op.params if p.param_type == "body"}
        given: set[str] = set()
        for name, value in params.items():
            param = query.get(name)
            if param is None:
                hint = " (a body parameter: send it in the JSON body)" if name in bodies else ""
                raise AssertionError(
                    f"{where}: unknown query parameter {name!r}{hint}; the docs allow {sorted(query)}"
                )
            _check_value(where, param, value)
            given.add(name)
        if body is not None:
            assert bodies or query, f"{where}: takes no body, got {body!r}"
            assert isinstance(body, dict), f"{where}: the body must be a JSON object, got {body!r}"
            for name, value in body.items():
                if name in bodies:
                    _check_body_param(where, bodies[name], value)
                elif name in query:
                    # "Other keys in the body object are interpreted as query parameters" (channels.json)
                    assert name not in params, f"{where}: {name} both in the query and in the body"
                    _check_value(where, query[name], value)
                else:
                    raise AssertionError(
                        f"{where}: unknown body key {name!r}; the docs allow {sorted(bodies) + sorted(query)}"
                    )
                given.add(name)
        for param in op.params:
            if param.required and param.param_type != "path" and param.name not in given:
                raise AssertionError(f"{where}: required {param.param_type} parameter {param.name!r} missing")
        return op.nickname

    # --- events and models ---------------------------------------------------------------------------------

    def check_event(self, event: Any) -> None:
        assert isinstance(event, dict), f"an event is a JSON object, got {event!r}"
        kind = event.get("type")
        assert isinstance(kind, str), f"event without a type: {event!r}"
        assert kind in self.event_types, f"{kind!r} is no event of events.json"
        self.check_model(kind, event, kind)

    def _properties(self, name: str) -> dict[str, dict[str, Any]]:
        """A model's properties with those of its bases (Message -> Event -> the event)."""
        model = self.models.get(name)
        assert model is not None, f"no model {name!r} in ari-api-docs"
        props: dict[str, dict[str, Any]] = {}
        for base_name, base in self.models.items():
            if name in base.get("subTypes", []):
                props.update(self._properties(base_name))
        props.update(model.get("properties", {}))
        return props

    def check_model(self, name: str, value: Any, where: str) -> None:
        assert isinstance(value, dict), f"{where}: a {name} is a JSON object, got {value!r}"
        props = self._properties(name)
        for prop, spec in props.items():
            if spec.get("required") and prop not in value:
                raise AssertionError(f"{where}: {name} lacks required property {prop!r}")
        for key, item in value.items():
            spec = props.get(key)
            if spec is None:
                raise AssertionError(f"{where}: {name} has no property {key!r} in ari-api-docs")
            self._check_type(spec["type"], item, f"{where}.{key}")
            allowed = spec.get("allowableValues")
            if isinstance(allowed, dict) and allowed.get("valueType") == "LIST":
                assert item in allowed["values"], f"{where}.{key}: {item!r} not in {allowed['values']}"

    def _check_type(self, kind: str, value: Any, where: str) -> None:
        if m := re.fullmatch(r"List\[(.+)\]", kind):
            assert isinstance(value, list), f"{where}: expected a list of {m.group(1)}, got {value!r}"
            for i, item in enumerate(value):
                self._check_type(m.group(1), item, f"{where}[{i}]")
            return
        if kind == "string":
            assert isinstance(value, str), f"{where}: expected a string, got {value!r}"
        elif kind in ("int", "long"):
            ok = isinstance(value, int) and not isinstance(value, bool)
            assert ok, f"{where}: expected an integer, got {value!r}"
        elif kind == "double":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            assert ok, f"{where}: expected a number, got {value!r}"
        elif kind == "boolean":
            assert isinstance(value, bool), f"{where}: expected a boolean, got {value!r}"
        elif kind == "Date":
            ok = isinstance(value, str) and _DATE.fullmatch(value) is not None
            assert ok, f"{where}: expected an ARI timestamp, got {value!r}"
        elif kind in ("object", "containers"):
            assert isinstance(value, dict), f"{where}: expected an object, got {value!r}"
        else:
            self.check_model(kind, value, where)


def _check_value(where: str, param: Param, value: Any) -> None:
    """One query/path value: a URL string, or (in a JSON body) a JSON scalar."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int | float):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        raise AssertionError(f"{where}: {param.name} must be a scalar, got {value!r}")
    items = text.split(",") if param.allow_multiple else [text]
    for item in items:
        if param.data_type in ("int", "long"):
            assert _INT.fullmatch(item), f"{where}: {param.name}={item!r} is not an integer"
            if param.minimum is not None:
                assert int(item) >= param.minimum, f"{where}: {param.name}={item} < {param.minimum}"
            if param.maximum is not None:
                assert int(item) <= param.maximum, f"{where}: {param.name}={item} > {param.maximum}"
        elif param.data_type == "boolean":
            ok = item.lower() in _TRUE | _FALSE
            assert ok, f"{where}: {param.name}={item!r} is not a boolean"
        if param.allowed is not None:
            assert item in param.allowed, f"{where}: {param.name}={item!r} not in {list(param.allowed)}"


def _check_body_param(where: str, param: Param, value: Any) -> None:
    if param.data_type == "containers" and param.name in ("variables", "fields"):
        if param.name == "fields":
            assert isinstance(value, list), f"{where}: fields must be a list"
            return
        assert isinstance(value, dict), f"{where}: variables must be an object of name -> value"
        for name, item in value.items():
            if isinstance(item, dict):
                assert isinstance(item.get("value"), str), f"{where}: variables.{name}.value must be a string"
                extra = set(item) - {"value", "report_events"}
                assert not extra, f"{where}: variables.{name} has unknown keys {extra}"
                report = item.get("report_events", False)
                assert isinstance(report, bool), f"{where}: variables.{name}.report_events must be a boolean"
            else:
                # json_to_ast_variables: "Only string values in the 'variables' object allowed"
                assert isinstance(item, str), f"{where}: variables.{name} must be a string, got {item!r}"
    else:
        assert isinstance(value, dict), f"{where}: {param.name} must be an object"


@cache
def docs() -> AriDocs:
    return AriDocs()


def check_request(method: str, path: str, params: Mapping[str, str], body: Any) -> str:
    """The nickname of the ARI operation `method path` (relative to /ari); AssertionError if the docs
    have no such operation, or a parameter is unknown, missing, or of the wrong type or value."""
    return docs().check_request(method, path, params, body)


def check_event(event: dict[str, Any]) -> None:
    """AssertionError unless `event` is an event of events.json with the properties its model requires."""
    docs().check_event(event)
