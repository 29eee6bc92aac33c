"""`rpc.discover` over JSON-RPC: an OpenRPC document of the catalogue, valid against the meta-schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from aiohttp.test_utils import TestClient
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from bridge.openrpc import schema_for
from tests.app.conftest import PROCEDURES
from tests.app.wire import json_error, json_result

# The meta-schemas, vendored from npm packages (tests/data/openrpc-meta-schema.LICENSE.txt).
DATA = Path(__file__).parents[1] / "data"
META_SCHEMA = json.loads((DATA / "openrpc-meta-schema.json").read_text())
# The OpenRPC meta-schema refers to this one for every JSON Schema in a document.
JSON_SCHEMA_TOOLS = Resource.from_contents(
    json.loads((DATA / "json-schema-tools-meta-schema.json").read_text()), default_specification=DRAFT7
)
SCHEMAS = Registry().with_resources(
    [
        ("https://meta.json-schema.tools", JSON_SCHEMA_TOOLS),
        ("https://meta.json-schema.tools/", JSON_SCHEMA_TOOLS),
    ]
)


async def test_the_document_is_valid_openrpc(client: TestClient[Any, Any]) -> None:
    """The answer validates against the OpenRPC meta-schema (JSON Schema draft 7)."""
    document = await json_result(client, "rpc.discover")
    jsonschema.Draft7Validator(META_SCHEMA, registry=SCHEMAS).validate(document)
    assert document["openrpc"] == "1.3.2"
    broken = {**document, "methods": [{"name": "x", "params": "not a list", "result": {}}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(META_SCHEMA, registry=SCHEMAS).validate(broken)


async def test_every_procedure_is_described_with_params_result_help_and_errors(
    client: TestClient[Any, Any],
) -> None:
    """Names, params as JSON Schema from their XML-RPC types, results, help, and fault codes by reference."""
    document = await json_result(client, "rpc.discover")
    methods = {method["name"]: method for method in document["methods"]}
    assert set(methods) == set(PROCEDURES)
    subtract = methods["subtract"]
    assert subtract["params"] == [
        {"name": "minuend", "schema": {"type": "integer"}, "required": True},
        {"name": "subtrahend", "schema": {"type": "integer"}, "required": True},
    ]
    assert subtract["result"] == {"name": "result", "schema": {"type": "integer"}}
    assert subtract["description"].startswith("Subtract")
    assert methods["sum"]["paramStructure"] == "by-position"
    assert methods["echo"]["params"][0]["schema"] == {}
    errors = document["components"]["errors"]
    referenced = {ref["$ref"].rsplit("/", 1)[1] for ref in subtract["errors"]}
    assert {errors[name]["code"] for name in referenced} >= {-32602, -32603, -32003, -32004}


async def test_a_versioned_path_describes_only_that_version(client: TestClient[Any, Any]) -> None:
    """/rpc/v1 lists v1 procedures and says so in info.version; v2-only ones are left out."""
    document = await json_result(client, "rpc.discover", path="/rpc/v1")
    names = {method["name"] for method in document["methods"]}
    assert "v1.only" in names and "v2.only" not in names
    assert document["info"]["version"] == "1"


async def test_rpc_discover_takes_no_parameters(client: TestClient[Any, Any]) -> None:
    """Parameters are refused with -32602."""
    assert (await json_error(client, "rpc.discover", [1]))["code"] == -32602


@pytest.mark.parametrize(
    ("type_name", "schema"),
    [
        ("int", {"type": "integer"}),
        ("double", {"type": "number"}),
        ("string", {"type": "string"}),
        ("boolean", {"type": "boolean"}),
        ("base64", {"type": "string", "contentEncoding": "base64"}),
        ("dateTime.iso8601", {"type": "string", "format": "date-time"}),
        ("array", {"type": "array"}),
        ("struct", {"type": "object"}),
        ("nil", {"type": "null"}),
        ("", {}),
    ],
)
def test_xmlrpc_type_names_map_to_json_schema(type_name: str, schema: dict[str, Any]) -> None:
    """Each procedure type name has its JSON Schema; an undeclared type accepts anything."""
    assert schema_for(type_name) == schema
