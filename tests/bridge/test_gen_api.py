"""asyncapi.yaml's verb schemas and docs/verbs.md are generated from the verbs' argument models
(``python -m mqtt_bridge.gen_api``): committed files that differ from the models fail here, and
the generated schemas agree with the rig's own validation on the same payloads."""

from __future__ import annotations

from typing import Any

import pytest

from firmware_sim.commonverbs import COMMON_MODELS
from firmware_sim.errors import RequestError
from firmware_sim.platforms import POLICIES
from firmware_sim.verbargs import VerbArgs, parse
from mqtt_bridge import gen_api
from mqtt_bridge.schemas import document, first_error


@pytest.mark.parametrize("path", sorted(gen_api.outputs(), key=str), ids=lambda p: p.name)
def test_the_committed_file_is_what_the_models_give(path: Any) -> None:
    expected = gen_api.outputs()[path]
    assert path.read_text(encoding="utf-8") == expected, \
        f"{path.name} is stale: run .venv/bin/python -m mqtt_bridge.gen_api"


def test_check_mode_says_nothing_is_stale() -> None:
    assert gen_api.main(["--check"]) == 0


def test_the_generated_block_needs_its_markers() -> None:
    with pytest.raises(ValueError, match="markers"):
        gen_api.render_asyncapi("components:\n  schemas: {}\n")


def test_every_verb_of_every_platform_has_a_payload_schema() -> None:
    schemas = document()["components"]["schemas"]
    for platform, policy in POLICIES.items():
        for verb in policy.arg_models():
            name = gen_api.schema_name(platform, verb)
            assert name in schemas, name
            assert schemas[name]["allOf"][0] == {"$ref": "#/components/schemas/RequestEnvelope"}
    for name in gen_api.COMMON_SCHEMAS.values():
        assert name in schemas
    assert gen_api.schema_name("ios", "submit") == "IOSSubmitRequest"


def test_the_page_lists_every_verb_and_every_argument_with_unit_and_api_name() -> None:
    page = gen_api.VERBS_DOC_PATH.read_text(encoding="utf-8")
    for verb in COMMON_MODELS:
        assert f"### `{verb}`" in page
    for platform, policy in POLICIES.items():
        section = page.split(f"\n## {platform}\n", 1)[1].split("\n## ", 1)[0]
        for verb, model in policy.arg_models().items():
            assert f"### `{verb}`" in section, (platform, verb)
            for name in model.model_fields:
                assert f"| `{name}` |" in section, (platform, verb, name)
    row = next(line for line in page.splitlines() if line.startswith("| `repeat_cycle_time` |"))
    assert "| ms |" in row and "`repeatCycleTime`" in row and "≥ 0" in row


#: (model, schema name, payload, accepted?) — the rig's parse and the generated schema agree.
CASES: list[tuple[type[VerbArgs], str, dict[str, Any], bool]] = [
    (POLICIES["android"].arg_models()["enqueue"], "AndroidEnqueueRequest",
     {"type": "periodic", "repeat_interval": 900, "constraints": {"requires_charging": True}}, True),
    (POLICIES["android"].arg_models()["enqueue"], "AndroidEnqueueRequest", {"type": "weekly"}, False),
    (POLICIES["android"].arg_models()["enqueue"], "AndroidEnqueueRequest", {"initial_delay": -1}, False),
    (POLICIES["android"].arg_models()["enqueue"], "AndroidEnqueueRequest",
     {"constraints": {"requires_charging": "yes"}}, False),
    (POLICIES["harmonyos"].arg_models()["start_work"], "HarmonyOSStartWorkRequest",
     {"work_id": 1, "bundle_name": "b", "ability_name": "a", "network_type": "wifi"}, True),
    (POLICIES["harmonyos"].arg_models()["start_work"], "HarmonyOSStartWorkRequest",
     {"work_id": 1, "bundle_name": "b"}, False),
    (POLICIES["harmonyos"].arg_models()["start_work"], "HarmonyOSStartWorkRequest",
     {"work_id": "1", "bundle_name": "b", "ability_name": "a"}, False),
    (POLICIES["ios"].arg_models()["submit"], "IOSSubmitRequest",
     {"type": "processing", "identifier": "com.example.refresh", "earliest_begin_delay": 60}, True),
    (POLICIES["ios"].arg_models()["submit"], "IOSSubmitRequest", {"type": "refresh", "identifier": "a b"}, False),
    (POLICIES["wp8"].arg_models()["launch_for_test"], "WP8LaunchForTestRequest", {"name": "t", "delay": "30s"}, True),
    (POLICIES["wp8"].arg_models()["launch_for_test"], "WP8LaunchForTestRequest", {"name": "t", "delay": True}, False),
    (POLICIES["uwp"].arg_models()["request_extension"], "UWPRequestExtensionRequest", {"reason": 1}, True),
    (COMMON_MODELS["state"], "StateRequest", {"state": "background"}, True),
    (COMMON_MODELS["state"], "StateRequest", {"state": "asleep"}, False),
]


@pytest.mark.parametrize(("model", "name", "payload", "ok"), CASES, ids=lambda v: v if isinstance(v, str) else "")
def test_the_generated_schema_agrees_with_the_rig(model: type[VerbArgs], name: str, payload: dict[str, Any],
                                                  ok: bool) -> None:
    try:
        parse(model, payload)
        accepted = True
    except RequestError:
        accepted = False
    assert accepted is ok
    assert (first_error(name, {**payload, "transaction": "t-1"}) is None) is ok
