"""The payload schemas of ``asyncapi.yaml``, for checking payloads against the document.

The AsyncAPI document is the single description of the API. The rig validates requests with the
pydantic models the document's request schemas are generated from (``python -m
mqtt_bridge.gen_api``), so nothing at run time imports this module; the tests use it to check
that every payload the bridge publishes, and the payload examples, match the document, so the
document cannot drift from the code. It needs jsonschema, which the ``[dev]`` extra installs.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any, Final

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

#: AsyncAPI 3.x's default schema format (3.0 and 3.1 alike) is a superset of JSON Schema draft 7.
_DOC_URI: Final = "urn:wakebench:mqtt-api"
ASYNCAPI_FILE: Final = "asyncapi.yaml"


@functools.cache
def document() -> dict[str, Any]:
    """The parsed AsyncAPI document shipped in this package."""
    text = resources.files("mqtt_bridge").joinpath(ASYNCAPI_FILE).read_text(encoding="utf-8")
    doc: dict[str, Any] = yaml.safe_load(text)
    return doc


@functools.cache
def _registry() -> Registry[Any]:
    resource: Resource[Any] = Resource.from_contents(document(), default_specification=DRAFT7)
    registry: Registry[Any] = Registry().with_resource(_DOC_URI, resource)
    return registry


def schema_names() -> tuple[str, ...]:
    """Names under ``components.schemas``."""
    return tuple(document()["components"]["schemas"])


@functools.cache
def validator(name: str) -> jsonschema.protocols.Validator:
    """A draft-7 validator for ``components.schemas.<name>``.

    Raises:
        KeyError: no such schema in the document.
    """
    if name not in document()["components"]["schemas"]:
        raise KeyError(f"{ASYNCAPI_FILE} has no components.schemas.{name}")
    return jsonschema.Draft7Validator({"$ref": f"{_DOC_URI}#/components/schemas/{name}"},
                                      registry=_registry())


def first_error(name: str, payload: Any) -> str | None:
    """A one-line description of what is wrong with ``payload`` for schema ``name``, or None."""
    error = jsonschema.exceptions.best_match(validator(name).iter_errors(payload))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path)
    message = error.message if len(error.message) <= 200 else error.message[:200] + "…"
    return f"{where or 'payload'}: {message}"


def enum(name: str, *path: str) -> tuple[Any, ...]:
    """The ``enum`` of ``components.schemas.<name>`` (or of a nested property ``path``)."""
    node: Any = document()["components"]["schemas"][name]
    for key in path:
        node = node["properties"][key]
    return tuple(node["enum"])
