"""The one declaration of verb arguments (firmware_sim/verbargs.py, issue 15 item 6): every verb
of every platform has a pydantic model; requests are validated into typed models; a refusal is
one ``RequestError`` with the message, code and ``data.field`` the hand-written ``Args`` reader
gave (the reader is kept, so the two are compared here on the same input).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import pytest

from firmware_sim.args import MAX_ARG_DEPTH, MAX_NUMBER, Args
from firmware_sim.commonverbs import COMMON_MODELS, FORCE_TASK_RE, ForceArgs, RegisterArgs
from firmware_sim.errors import RequestError
from firmware_sim.platforms import POLICIES
from firmware_sim.platforms.android import ConstraintsArgs, EnqueueArgs
from firmware_sim.platforms.harmonyos import StartWorkArgs, StopWorkArgs
from firmware_sim.platforms.ios import SubmitArgs
from firmware_sim.platforms.wp8 import LaunchForTestArgs, ReportMemoryArgs
from firmware_sim.scheduler import COMMON_VERBS
from firmware_sim.verbargs import Duration, Flag, Id, Int, Number, Text, VerbArgs, arg, choice, parse


def refusal(model: type[VerbArgs], raw: Any, code: str = "invalid_args") -> RequestError:
    with pytest.raises(RequestError) as info:
        parse(model, raw, code=code)
    return info.value


# -- every verb has its declaration ---------------------------------------------------------------
@pytest.mark.parametrize("platform", sorted(POLICIES))
def test_every_platform_verb_and_register_has_a_model(platform: str) -> None:
    models = POLICIES[platform].arg_models()
    assert set(models) == {"register", *POLICIES[platform].verbs()}
    for verb, model in models.items():
        assert issubclass(model, VerbArgs), verb
        assert model.__doc__ and model.__doc__.strip(), f"{platform} {verb}: say what the verb does"
        for name, field in model.model_fields.items():
            assert field.description, f"{platform} {verb}.{name}: describe the argument"


def test_every_common_verb_has_a_model() -> None:
    assert set(COMMON_MODELS) == set(COMMON_VERBS)


def test_models_are_built_at_import_not_on_the_first_request() -> None:
    for policy in POLICIES.values():
        for model in policy.arg_models().values():
            assert model.__pydantic_complete__, model


# -- typed results ----------------------------------------------------------------------------------
def test_a_request_becomes_a_typed_model_with_camel_case_names_and_nested_objects() -> None:
    args = parse(EnqueueArgs, {"type": "periodic", "repeatInterval": 3600, "flexIntervalMs": 900_000,
                               "constraints": {"requiresCharging": True}, "transaction": "t-1"})
    assert isinstance(args, EnqueueArgs)
    assert (args.type, args.repeat_interval, args.flex_interval_ms) == ("periodic", 3600.0, 900_000.0)
    assert isinstance(args.repeat_interval, float)
    assert isinstance(args.constraints, ConstraintsArgs)
    assert args.constraints.requires_charging is True
    assert args.constraints.required_network_type == "not_required"  # the declared default


def test_choices_map_aliases_and_enum_numbers_to_one_name() -> None:
    work = parse(StartWorkArgs, {"work_id": 1.0, "bundle_name": "b", "ability_name": "a",
                                 "network_type": 2, "charger_type": "AC", "is_charging": True})
    assert (work.work_id, work.network_type, work.charger_type) == (1, "wifi", "ac")
    assert isinstance(work.work_id, int)
    assert parse(SubmitArgs, {"type": "app_refresh", "identifier": 7}).identifier == "7"


def test_null_means_not_given_and_transaction_is_not_an_argument() -> None:
    args = parse(SubmitArgs, {"type": "refresh", "identifier": "com.x.y", "earliest_begin": None,
                              "transaction": 5})
    assert args.earliest_begin is None
    assert refusal(SubmitArgs, {"type": "refresh", "identifier": "a", "colour": None}).message == \
        "'colour' is not a known argument"


def test_durations_take_seconds_or_text() -> None:
    assert parse(LaunchForTestArgs, {"name": "t", "delay": "1h30m"}).delay == 5400.0
    assert parse(LaunchForTestArgs, {"name": "t", "delay": 5}).delay == 5.0


def test_debug_verbs_take_numbers_and_reverse_dns_ids() -> None:
    """commonverbs.FORCE_TASK_RE: "reverse-DNS iOS identifiers included (255 characters, as
    ``BGTaskScheduler`` allows). wakebench bound"."""
    assert parse(ForceArgs, {"task_id": 7}).task_id == "7"
    assert parse(ForceArgs, {"task_id": "com.example.refresh"}).task_id == "com.example.refresh"
    assert FORCE_TASK_RE.pattern == r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$"
    assert refusal(ForceArgs, {"task_id": "a" * 256}).data == {"field": "task_id"}


def test_register_reads_platform_and_leaves_the_settings_to_the_policy() -> None:
    assert parse(RegisterArgs, {"platform": "android", "bucket": "rare"}).platform == "android"
    assert refusal(RegisterArgs, {}).message == "'platform' is required"


# -- one error, as the hand-written reader gave it ------------------------------------------------
class _Sample(VerbArgs):
    """Every field type once, for comparing messages with ``Args``."""

    i: Int | None = arg(None, doc="an integer", ge=0, le=100)
    n: Number | None = arg(None, doc="a number", ge=0.0)
    f: Flag | None = arg(None, doc="a flag")
    t: Text | None = arg(None, doc="text")
    d: Id | None = arg(None, doc="an id")
    u: Duration | None = arg(None, doc="a duration")
    c: Annotated[str, choice(("one_time", "periodic"))] | None = arg(None, doc="a choice")
    m: Annotated[str, choice({"wifi": "wifi", 2: "wifi"})] | None = arg(None, doc="a mapping")


_READ = {
    "i": lambda a: a.int("i", None, minimum=0, maximum=100),
    "n": lambda a: a.number("n", None, minimum=0.0),
    "f": lambda a: a.bool("f", None),
    "t": lambda a: a.str("t", None),
    "d": lambda a: a.id("d", None),
    "u": lambda a: a.duration("u", None),
    "c": lambda a: a.choice("c", ("one_time", "periodic"), None),
    "m": lambda a: a.choice("m", {"wifi": "wifi", 2: "wifi"}, None),
}
BAD = ["x", True, -1, 101, 2.5, -0.5, [], {}, "A B", "-5s", 10**20, 3, "WIFI", "1" * 70]


@pytest.mark.parametrize("field", sorted(_READ))
@pytest.mark.parametrize("value", BAD, ids=repr)
def test_messages_and_fields_match_the_hand_written_reader(field: str, value: Any) -> None:
    try:
        expected: Any = _READ[field](Args({field: value}, code="401"))
    except RequestError as exc:
        got = refusal(_Sample, {field: value}, code="401")
        assert (got.code, got.message, got.data) == (exc.code, exc.message, exc.data)
    else:
        assert getattr(parse(_Sample, {field: value}), field) == expected


def test_the_first_field_in_declaration_order_is_reported_then_unknown_names_in_order() -> None:
    raw = {"zzz": 1, "aaa": 2, "earliest_begin": -1, "identifier": "bad id"}
    assert refusal(SubmitArgs, raw).message.startswith("'type' is required")
    raw["type"] = "refresh"
    assert refusal(SubmitArgs, raw).data == {"field": "identifier"}
    raw["identifier"] = "com.x"
    assert refusal(SubmitArgs, raw).message == "'earliest_begin' must be at least 0.0, not -1"
    del raw["earliest_begin"]
    assert refusal(SubmitArgs, raw).message == "'aaa' is not a known argument"


def test_rules_across_fields_come_before_unknown_names_as_the_policies_checked_them() -> None:
    """The policies checked these rules before rejecting unknown names (``Args.done()``)."""
    assert refusal(ReportMemoryArgs, {"byts": 5}).message == "'bytes' or 'mb' is required (exactly one of them)"
    assert refusal(ReportMemoryArgs, {"bytes": "x", "mb": 1}).message == \
        "'bytes' or 'mb' is required (exactly one of them)"  # before any field, as before
    assert refusal(StopWorkArgs, {"workid": 3}, code="401").message == "'work_id' is required"
    assert refusal(SubmitArgs, {"type": "refresh", "identifier": "a", "earliest_begin": 1,
                                "earliest_begin_delay": 2, "zzz": 1}).message == \
        "'earliest_begin_delay' cannot be combined with 'earliest_begin'"
    assert refusal(SubmitArgs, {"type": "refresh", "identifier": "a", "requiresExternalPower": True}).data == \
        {"field": "requires_external_power"}
    err = refusal(StartWorkArgs, {"work_id": 1, "bundle_name": "b", "ability_name": "a", "x": 1}, code="401")
    assert (err.message.startswith("The workinfo condition cannot be empty"), err.data) == \
        (True, {"field": "work_info"})
    both = refusal(EnqueueArgs, {"initial_delay": 1, "initialDelayMs": 5, "zzz": 1})
    assert both.message == "'initial_delay' give either initial_delay (s) or initial_delay_ms, not both"


def test_a_nested_object_names_its_path_and_its_own_field() -> None:
    err = refusal(EnqueueArgs, {"constraints": {"requiresCharging": "yes"}})
    assert err.message == "'constraints.requires_charging' must be true or false, not 'yes'"
    assert err.data == {"field": "requires_charging"}
    assert refusal(EnqueueArgs, {"constraints": {"x": 1}}).message == \
        "'constraints.x' is not a known argument"
    assert refusal(EnqueueArgs, {"constraints": [1]}).message == "constraints must be a JSON object"
    assert refusal(EnqueueArgs, {"constraints": [1]}).data == {}
    work = parse(StopWorkArgs, {"work": {"workId": 3, "abilityName": "not checked"}})
    assert work.work is not None and work.work.work_id == 3


def test_the_central_rules_come_first_with_their_messages() -> None:
    assert refusal(SubmitArgs, [1]).message == "arguments must be a JSON object"
    assert refusal(SubmitArgs, {"type": "refresh", "identifier": "a", "x": 2**54}).data == {"field": "x"}
    assert "given twice" in refusal(EnqueueArgs, {"repeatInterval": 1, "repeat_interval": 1}).message
    deep: Any = 1
    for _ in range(MAX_ARG_DEPTH + 1):
        deep = [deep]
    assert "nested deeper than 16 levels" in refusal(SubmitArgs, {"payload": deep}).message
    assert MAX_NUMBER == 2**53


def test_a_rule_of_one_field_keeps_its_message_and_its_range_is_documented() -> None:
    base = {"work_id": 1, "bundle_name": "b", "ability_name": "a"}
    assert refusal(StartWorkArgs, {**base, "battery_level": 101}, code="401").message == \
        "'battery_level' must be from 0 to 100, not 101"
    level = StartWorkArgs.payload_schema()["properties"]["battery_level"]["anyOf"][0]
    assert (level["minimum"], level["maximum"]) == (0, 100)
    assert refusal(StartWorkArgs, {**base, "bundle_name": ""}, code="401").message == \
        "'bundle_name' must not be empty"


def test_a_platform_error_code_is_kept() -> None:
    """HarmonyOS answers bad arguments with its BusinessError code 401."""
    assert POLICIES["harmonyos"].args_code == "401"
    assert refusal(StartWorkArgs, {}, code="401").code == "401"


def test_every_refusal_is_one_request_error_never_a_validation_error() -> None:
    for raw in ({"work_id": "x", "bundle_name": 3, "ability_name": None, "q": 1},
                {"work_id": -1, "bundle_name": "", "ability_name": "", "parameters": {"k": [1]}}):
        err = refusal(StartWorkArgs, raw, code="401")
        assert re.match(r"^'\w+' ", err.message), err.message
