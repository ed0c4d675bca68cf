"""Validating verb arguments: pydantic v2 vs jsonschema vs msgspec (issue 15 item 6). One table.

Typical payloads of three verbs — Android ``enqueue`` (periodic, with nested constraints),
HarmonyOS ``start_work`` (a WorkInfo of 8 fields) and iOS ``submit`` — each valid, and each with
one mistake (a wrong type, an unknown name, a value below its range). Per candidate, the median
µs per payload:

- ``wakebench parse (pydantic)``: what the rig runs — ``verbargs.parse``: central rules
  (camelCase names, ±2**53, depth), the pydantic model, and the error mapped to one
  ``RequestError`` with today's message;
- ``pydantic model_validate``: the models alone on snake_case input (plus the check for unknown
  names that ``parse`` makes after the model's rules);
- ``Args (before)``: the hand-written reader the policies used until this change;
- ``jsonschema Draft7``: the verbs' generated schemas (``asyncapi.yaml``) with a compiled
  ``Draft7Validator`` (``best_match`` for the error);
- ``msgspec convert``: hand-written ``msgspec.Struct`` twins of the three models.

What each offers beside speed is printed under the table. Run:
``.venv/bin/python bench/bench_validation.py [--n N]``
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Annotated, Any

import jsonschema
import msgspec

from firmware_sim.args import Args
from firmware_sim.errors import RequestError
from firmware_sim.platforms.android import BACKOFF_POLICIES, NETWORK_TYPES, WORK_TYPES, EnqueueArgs
from firmware_sim.platforms.harmonyos import StartWorkArgs
from firmware_sim.platforms.ios import SubmitArgs
from firmware_sim.verbargs import VerbArgs, parse

ENQUEUE = {"type": "periodic", "id": "sync", "repeatInterval": 3600, "flex_interval": 900,
           "backoff_policy": "linear", "constraints": {"required_network_type": "unmetered",
                                                       "requires_charging": True}}
START_WORK = {"work_id": 7, "bundle_name": "com.example.mail", "ability_name": "MailWork",
              "network_type": "wifi", "is_charging": True, "charger_type": "ac",
              "repeatCycleTime": 1_800_000, "is_repeat": True}
SUBMIT = {"type": "processing", "identifier": "com.example.refresh", "earliest_begin_delay": 600,
          "requires_external_power": True}
CASES: list[tuple[str, type[VerbArgs], dict[str, Any]]] = [
    ("android enqueue", EnqueueArgs, ENQUEUE),
    ("android enqueue, wrong type", EnqueueArgs, {**ENQUEUE, "repeatInterval": "hourly"}),
    ("harmonyos start_work", StartWorkArgs, START_WORK),
    ("harmonyos start_work, unknown name", StartWorkArgs, {**START_WORK, "colour": "red"}),
    ("ios submit", SubmitArgs, SUBMIT),
    ("ios submit, below range", SubmitArgs, {**SUBMIT, "earliest_begin_delay": -5}),
]


# -- the hand-written reader, as the policies used it ---------------------------------------------
def _args_enqueue(raw: dict[str, Any]) -> Any:
    args = Args(raw)
    out = {"type": args.choice("type", WORK_TYPES, "one_time"), "id": args.id("id", None)}
    for name in ("repeat_interval", "flex_interval", "initial_delay", "backoff_delay"):
        out[name] = args.number(name, None, minimum=0)
        out[f"{name}_ms"] = args.number(f"{name}_ms", None, minimum=0)
    out["backoff_policy"] = args.choice("backoff_policy", BACKOFF_POLICIES, "exponential")
    inner = args.mapping("constraints", None)
    if inner is not None:
        out["constraints"] = {"required_network_type": inner.choice(
            "required_network_type", NETWORK_TYPES, "not_required")}
        for name in ("requires_charging", "requires_battery_not_low", "requires_storage_not_low",
                     "requires_device_idle"):
            out["constraints"][name] = inner.bool(name, False)
        inner.done()
    args.done()
    return out


def _args_start_work(raw: dict[str, Any]) -> Any:
    from firmware_sim.platforms.harmonyos import (
        BATTERY_STATUSES,
        CHARGER_TYPES,
        STORAGE_REQUESTS,
    )
    from firmware_sim.platforms.harmonyos import NETWORK_TYPES as HM_NETWORKS
    args = Args(raw, code="401")
    out = {"work_id": args.int("work_id", minimum=0), "bundle_name": args.str("bundle_name"),
           "ability_name": args.str("ability_name"),
           "network_type": args.choice("network_type", HM_NETWORKS, None),
           "is_charging": args.bool("is_charging", None),
           "charger_type": args.choice("charger_type", CHARGER_TYPES, None),
           "battery_level": args.int("battery_level", None, minimum=0),
           "battery_status": args.choice("battery_status", BATTERY_STATUSES, None),
           "storage_request": args.choice("storage_request", STORAGE_REQUESTS, None),
           "is_repeat": args.bool("is_repeat", None),
           "repeat_cycle_time": args.int("repeat_cycle_time", None, minimum=0),
           "repeat_count": args.int("repeat_count", None, minimum=0),
           "is_persisted": args.bool("is_persisted", False),
           "is_deep_idle": args.bool("is_deep_idle", None),
           "idle_wait_time": args.int("idle_wait_time", None, minimum=0),
           "parameters": args.any("parameters", None)}
    args.done()
    return out


def _args_submit(raw: dict[str, Any]) -> Any:
    args = Args(raw)
    out = {"type": args.choice("type", {"refresh": "refresh", "app_refresh": "refresh",
                                        "processing": "processing"}),
           "identifier": args.str("identifier")}
    for name in ("earliest_begin", "earliest_begin_date", "earliest_begin_delay"):
        out[name] = args.number(name, None, minimum=0.0)
    out["requires_external_power"] = args.bool("requires_external_power", False)
    out["requires_network_connectivity"] = args.bool("requires_network_connectivity", False)
    args.done()
    return out


ARGS_READERS: dict[type[VerbArgs], Callable[[dict[str, Any]], Any]] = {
    EnqueueArgs: _args_enqueue, StartWorkArgs: _args_start_work, SubmitArgs: _args_submit}


# -- msgspec twins of the three models -----------------------------------------------------------
NonNegative = Annotated[float, msgspec.Meta(ge=0)]


class MsConstraints(msgspec.Struct, forbid_unknown_fields=True):
    required_network_type: str = "not_required"
    requires_charging: bool = False
    requires_battery_not_low: bool = False
    requires_storage_not_low: bool = False
    requires_device_idle: bool = False


class MsEnqueue(msgspec.Struct, forbid_unknown_fields=True, rename=None):
    type: str = "one_time"
    id: str | None = None
    repeat_interval: NonNegative | None = None
    repeat_interval_ms: NonNegative | None = None
    flex_interval: NonNegative | None = None
    flex_interval_ms: NonNegative | None = None
    initial_delay: NonNegative | None = None
    initial_delay_ms: NonNegative | None = None
    backoff_policy: str = "exponential"
    backoff_delay: NonNegative | None = None
    backoff_delay_ms: NonNegative | None = None
    constraints: MsConstraints | None = None


class MsStartWork(msgspec.Struct, forbid_unknown_fields=True, rename=None):
    work_id: Annotated[int, msgspec.Meta(ge=0)]
    bundle_name: str
    ability_name: str
    network_type: str | int | None = None
    is_charging: bool | None = None
    charger_type: str | int | None = None
    battery_level: Annotated[int, msgspec.Meta(ge=0, le=100)] | None = None
    battery_status: str | int | None = None
    storage_request: str | int | None = None
    is_repeat: bool | None = None
    repeat_cycle_time: Annotated[int, msgspec.Meta(ge=0)] | None = None
    repeat_count: Annotated[int, msgspec.Meta(ge=0)] | None = None
    is_persisted: bool = False
    is_deep_idle: bool | None = None
    idle_wait_time: Annotated[int, msgspec.Meta(ge=0)] | None = None
    parameters: dict[str, str | int | float | bool] | None = None


class MsSubmit(msgspec.Struct, forbid_unknown_fields=True, rename=None):
    type: str
    identifier: str
    earliest_begin: NonNegative | None = None
    earliest_begin_date: NonNegative | None = None
    earliest_begin_delay: NonNegative | None = None
    requires_external_power: bool = False
    requires_network_connectivity: bool = False


MS_TYPES: dict[type[VerbArgs], type[msgspec.Struct]] = {
    EnqueueArgs: MsEnqueue, StartWorkArgs: MsStartWork, SubmitArgs: MsSubmit}


# -- candidates -------------------------------------------------------------------------------------
def _snake(raw: dict[str, Any]) -> dict[str, Any]:
    from firmware_sim.args import snake
    return {snake(k): v for k, v in raw.items()}


def candidates() -> dict[str, Callable[[type[VerbArgs], dict[str, Any]], Any]]:
    # snake_case names only here, so unknown names can be refused by the schema itself
    validators = {model: jsonschema.Draft7Validator({**model.payload_schema(), "additionalProperties": False})
                  for model in MS_TYPES}

    def wakebench(model: type[VerbArgs], raw: dict[str, Any]) -> Any:
        try:
            return parse(model, raw)
        except RequestError as exc:
            return exc

    def pydantic_alone(model: type[VerbArgs], raw: dict[str, Any]) -> Any:
        try:
            result = model.model_validate(raw)
        except ValueError as exc:
            return exc
        if not raw.keys() <= model.names:  # unknown names: parse checks them after the rules
            return ValueError(f"unknown: {sorted(raw.keys() - model.names)}")
        return result

    def args_before(model: type[VerbArgs], raw: dict[str, Any]) -> Any:
        try:
            return ARGS_READERS[model](raw)
        except RequestError as exc:
            return exc

    def json_schema(model: type[VerbArgs], raw: dict[str, Any]) -> Any:
        return jsonschema.exceptions.best_match(validators[model].iter_errors(raw)) or raw

    def ms(model: type[VerbArgs], raw: dict[str, Any]) -> Any:
        try:
            return msgspec.convert(raw, MS_TYPES[model])
        except msgspec.ValidationError as exc:
            return exc

    return {"wakebench parse (pydantic)": wakebench, "pydantic model_validate": pydantic_alone,
            "Args (before)": args_before, "jsonschema Draft7": json_schema, "msgspec convert": ms}


#: Candidates given the payload with snake_case names: they do not map camelCase names.
SNAKE_INPUT = {"pydantic model_validate", "jsonschema Draft7", "msgspec convert"}


def refused(result: Any) -> bool:
    """Whether a candidate's result is a refusal (an error object, or jsonschema's best match)."""
    return isinstance(result, Exception | jsonschema.exceptions.ValidationError)


def measure(fn: Callable[[type[VerbArgs], dict[str, Any]], Any], model: type[VerbArgs],
            raw: dict[str, Any], n: int) -> float:
    """Median µs per call over 5 rounds of ``n`` calls."""
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            fn(model, raw)
        rounds.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(rounds)


OFFERS = [
    ("wakebench parse (pydantic)", "yes (model instance, mypy-checked)", "yes (model_json_schema)",
     "field path + wakebench message, one error"),
    ("pydantic model_validate", "yes", "yes", "loc tuple per error, all errors"),
    ("Args (before)", "no (Any)", "no", "field name, first error"),
    ("jsonschema Draft7", "no (the input dict)", "it is the schema", "JSON path per error, all errors"),
    ("msgspec convert", "yes (Struct)", "yes (msgspec.json.schema)", "`$.path` in one message, first error"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="calls per round (default 2000)")
    n = parser.parse_args().n
    cands = candidates()
    names = list(cands)
    width = max(len(c[0]) for c in CASES)
    print(f"verb argument validation, median µs per payload ({n} calls x 5 rounds)")
    header = f"{'payload':<{width}}  " + "  ".join(f"{name:>26}" for name in names)
    print(header)
    print("-" * len(header))
    for label, model, raw in CASES:
        snake_raw = _snake(raw)
        for name in names:  # every candidate must accept the valid and refuse the broken payloads
            result = cands[name](model, snake_raw if name in SNAKE_INPUT else raw)
            if refused(result) != ("," in label):
                raise SystemExit(f"{name} on {label!r} gave {result!r}")
        cells = [measure(cands[name], model, snake_raw if name in SNAKE_INPUT else raw, n) for name in names]
        print(f"{label:<{width}}  " + "  ".join(f"{c:>26.1f}" for c in cells))
    print()
    print(f"{'candidate':<28} {'typed result':<38} {'JSON Schema export':<26} error location")
    for row in OFFERS:
        print(f"{row[0]:<28} {row[1]:<38} {row[2]:<26} {row[3]}")


if __name__ == "__main__":
    main()
