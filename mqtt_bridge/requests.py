"""Request handling: every message on a request topic gets exactly one answer, whatever it holds.

:meth:`RequestRouter.handle` takes the raw topic and payload (and the MQTT 5 Response Topic /
Correlation Data), checks them in a fixed order — topic, retained flag, rate limit, size, JSON,
envelope, common-verb arguments — and hands good requests to the scheduler driver. The envelope,
the rig verbs' arguments and the signal values are the pydantic models of
:mod:`mqtt_bridge.rigverbs` (their asyncapi.yaml schemas are generated from them); the app verbs'
arguments are their :class:`~firmware_sim.verbargs.VerbArgs` models. Every
refusal echoes the request's ``transaction`` (read from the payload even when the refusal came
first) and its MQTT 5 Correlation Data. A request the bounded intake queue cannot hold is
answered ``overloaded`` by :meth:`RequestRouter.shed`. Every answer given without the
scheduler (a refusal, a rig verb) is also told to ``on_answer``, so the rig terminal shows
every outside request and its answer, not only those the scheduler served. Answers go to
the ``emit`` callable as :class:`~mqtt_bridge.publisher.Outgoing` messages; nothing here talks
to the network, so the whole path can be fuzzed in-process.

Over 500 lines on purpose: the whole refusal order (topic, retained, rate, size, JSON, schema)
and the rig verbs are one path that must answer every message exactly once; kept in one module
so that order reads top to bottom and is fuzzed as one unit (tests/bridge/test_fuzz.py).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, cast

from firmware_sim import Response, SignalError
from firmware_sim.commonverbs import COMMON_MODELS
from firmware_sim.driver import SchedulerDriver
from firmware_sim.errors import RequestError
from firmware_sim.verbargs import VerbArgs, parse
from mqtt_bridge.config import BridgeConfig
from mqtt_bridge.payloads import dumps, wall_iso
from mqtt_bridge.publisher import Outgoing
from mqtt_bridge.ratelimit import RateLimiter
from mqtt_bridge.rigverbs import (
    UNKNOWN_KEY,
    InjectFaultArgs,
    RigRequestError,
    SignalValues,
    TransactionValue,
    envelope_transaction,
    transaction_problem,
)
from mqtt_bridge.topics import (
    AppRequestTopic,
    BridgeRequestTopic,
    HAStatusTopic,
    InvalidTopic,
    SignalsSetTopic,
    Topics,
)
from wbcommon.faults import NOT_SUPPORTED_ON_HARDWARE, Fault, FaultRefusedError
from wbcommon.validation import SignalValue

log = logging.getLogger(__name__)

#: Sets checked signal values on the board (all or none).
SetSignals = Callable[[Mapping[str, SignalValue]], Awaitable[None]]
Emit = Callable[[Outgoing], object]

BRIDGE_VERBS: Final[tuple[str, ...]] = ("set_signals", "health_check", "info", "inject_fault", "continue")
__all__ = ["BRIDGE_VERBS", "RIG_WHO", "UNKNOWN_KEY", "AnswerListener", "ContinueManual", "Emit",
           "InjectFault", "RefusedError", "RequestMeta", "RequestRouter", "SetSignals"]
#: Applies a validated fault on the board (:mod:`wbcommon.faults`); returns the answer's data.
InjectFault = Callable[[Fault], Awaitable[dict[str, Any]]]
#: ``bridge/request/continue``: releases the manual steps waiting for a human; returns the
#: answer's data, or None when no step was waiting (answered ``nothing_waiting``).
ContinueManual = Callable[[], dict[str, Any] | None]
#: Told of every answer the bridge gives by itself, without the scheduler: a request refused
#: before it (bad JSON, oversize, rate limit, schema, retained, overloaded, invalid topic) and
#: every rig verb. Called as ``(who, verb, args, response)``: ``who`` is the app id, ``"rig"``
#: for rig verbs and ``signals/set``, ``"?"`` for a topic naming no app; ``args`` the decoded
#: arguments, or None when the payload could not be read. Must not raise (errors are logged).
AnswerListener = Callable[[str, str, Any, Response], None]
#: ``who`` of rig verbs and ``signals/set`` for :data:`AnswerListener`.
RIG_WHO: Final = "rig"
#: Common verbs whose own arguments the bridge checks (with their models) before the scheduler
#: sees them, so a bad ``register`` is ``invalid_args`` before ``too_many_apps``, and a bad
#: ``state`` is ``invalid_args`` (not ``not_registered`` or the platform's code) on every rig.
_VERB_MODELS: Final[dict[str, type[VerbArgs]]] = {"register": COMMON_MODELS["register"],
                                                   "state": COMMON_MODELS["state"]}
#: Rate-limiter keys that are not app ids (ids cannot contain ``:``).
_BRIDGE_KEY: Final = ":bridge"
_SIGNALS_KEY: Final = ":signals"
_INVALID_KEY: Final = ":invalid"


@dataclass(frozen=True, slots=True)
class RequestMeta:
    """What MQTT 5 adds to a request: where else to answer, and what to echo."""

    response_topic: str | None = None
    correlation: bytes | None = None
    #: The message arrived with the RETAIN flag: a stored request, never executed.
    retained: bool = False


class RefusedError(Exception):
    """Internal: the request is answered with an error before reaching the scheduler."""

    def __init__(self, code: str, error: str) -> None:
        super().__init__(error)
        self.code = code
        self.error = error


class RequestRouter:
    """Answers requests and dashboard commands for one rig.

    Args:
        driver: the scheduler driver that serves app verbs.
        topics: the rig's topic builders.
        config: limits (request size, rate, apps) and expiry.
        emit: where outgoing messages go (the publish pipeline).
        set_signals: sets signals on the board (relay / sim); None when nothing is settable.
        settable: names ``set_signals`` may set.
        info: builds the ``bridge/info`` payload.
        health: builds ``health_check`` data.
        on_app_request: called with the app id after each request the scheduler served.
        on_ha_online: called when Home Assistant announces ``online``.
        limiter: per-app token buckets (default from ``config``).
        inject_fault: applies ``inject_fault`` (None: refused ``not_supported_on_hardware``).
        continue_manual: releases waiting manual steps (None: ``nothing_waiting``, never any).
        on_answer: told of each answer given without the scheduler (:data:`AnswerListener`).
    """

    def __init__(
        self,
        driver: SchedulerDriver,
        topics: Topics,
        config: BridgeConfig,
        emit: Emit,
        *,
        set_signals: SetSignals | None = None,
        settable: frozenset[str] = frozenset(),
        info: Callable[[], dict[str, Any]],
        health: Callable[[], dict[str, Any]],
        on_app_request: Callable[[str], None] | None = None,
        on_ha_online: Callable[[], None] | None = None,
        limiter: RateLimiter | None = None,
        inject_fault: InjectFault | None = None,
        continue_manual: ContinueManual | None = None,
        on_answer: AnswerListener | None = None,
    ) -> None:
        self.inject_fault = inject_fault
        self.continue_manual = continue_manual
        self.on_answer = on_answer
        self.driver = driver
        self.topics = topics
        self.config = config
        self.emit = emit
        self.set_signals = set_signals
        self.settable = settable if set_signals is not None else frozenset()
        self.info = info
        self.health = health
        self.on_app_request = on_app_request
        self.on_ha_online = on_ha_online
        self.limiter = limiter or RateLimiter(config.rate_per_s, config.rate_burst,
                                              max_keys=config.max_apps + 3)
        self.handled = 0
        #: Requests answered ``overloaded`` by :meth:`shed` / ``retained_request``.
        self.shed_total = 0
        self.retained_refused = 0

    async def handle(self, topic: str, payload: bytes, meta: RequestMeta | None = None) -> None:
        """Answer one incoming message. Never raises (a bug becomes ``internal_error``)."""
        self.handled += 1
        meta = meta or RequestMeta()
        target = self.topics.parse(topic)
        try:
            if meta.retained and not isinstance(target, HAStatusTopic | InvalidTopic):
                if payload:  # an empty retained message only clears a stored one: nothing to answer
                    self._refuse_retained(target, payload, meta)
            elif isinstance(target, AppRequestTopic):
                await self._app_request(target, payload, meta)
            elif isinstance(target, BridgeRequestTopic):
                await self._bridge_request(target, payload, meta)
            elif isinstance(target, SignalsSetTopic):
                await self._signals_set(payload)
            elif isinstance(target, HAStatusTopic):
                if payload.strip() == b"online" and self.on_ha_online is not None:
                    self.on_ha_online()
            else:
                self._invalid_topic(topic, target, payload, meta)
        except Exception:  # the bridge must keep serving whatever a request does
            log.exception("request on %r failed", topic[:200])
            if isinstance(target, AppRequestTopic | BridgeRequestTopic):
                self._respond(target, None, meta, Response("error", {}, "internal_error",
                                                           "internal error in the bridge (logged)"))

    # -- app requests --------------------------------------------------------------------------
    async def _app_request(self, target: AppRequestTopic, payload: bytes, meta: RequestMeta) -> None:
        transaction = None
        body: dict[str, Any] | None = None
        try:
            self._rate(target.app)
            body = self._decode(payload)
            transaction = self._envelope(body)
            args = {k: v for k, v in body.items() if k != "transaction"}
            model = _VERB_MODELS.get(target.verb)
            if model is not None:
                _check_common(target.verb, model, args)
            if (target.verb == "register" and not self.driver.has_app(target.app)
                    and len(self.driver.app_ids()) >= self.config.max_apps):
                raise RefusedError("too_many_apps", f"this rig serves at most {self.config.max_apps} apps; "
                              f"{target.app!r} cannot register")
        except RefusedError as exc:
            if transaction is None:
                transaction = self._salvage_transaction(payload)
            refusal = Response("error", {}, exc.code, exc.error)
            self._respond(target, transaction, meta, refusal)
            self._told(target.app, target.verb, body, refusal)
            return

        def answer(response: Response) -> None:
            # runs inside the driver's lock, before the request's events: must never raise
            try:
                self._respond(target, transaction, meta, response)
            except Exception:
                log.exception("cannot encode the response to %s/%s", target.app, target.verb)
                self._respond(target, transaction, meta, Response(
                    "error", {}, "internal_error", "the response could not be encoded (logged)"))

        await self.driver.request(target.app, target.verb, args, on_response=answer)
        if self.on_app_request is not None:
            self.on_app_request(target.app)

    # -- rig verbs -------------------------------------------------------------------------------
    async def _bridge_request(self, target: BridgeRequestTopic, payload: bytes, meta: RequestMeta) -> None:
        transaction = None
        body: dict[str, Any] | None = None
        try:
            self._rate(_BRIDGE_KEY)
            body = self._decode(payload)
            transaction = self._envelope(body)
            if target.verb == "set_signals":
                data = await self._apply_signals(body)
            elif target.verb == "health_check":
                data = self.health()
            elif target.verb == "info":
                data = self.info()
            elif target.verb == "inject_fault":
                data = await self._inject_fault(body)
            elif target.verb == "continue":
                data = self._continue()
            else:
                raise RefusedError("unknown_verb", f"unknown rig verb {target.verb!r} (known: {', '.join(BRIDGE_VERBS)})")
        except RefusedError as exc:
            if transaction is None:
                transaction = self._salvage_transaction(payload)
            response = Response("error", {}, exc.code, exc.error)
        else:
            response = Response("ok", data)
        self._respond(target, transaction, meta, response)
        self._told(RIG_WHO, target.verb, body, response)

    async def _signals_set(self, payload: bytes) -> None:
        transaction = None
        body: dict[str, Any] | None = None
        try:
            self._rate(_SIGNALS_KEY)
            body = self._decode(payload)
            transaction = self._envelope(body)
            await self._apply_signals(body)
        except RefusedError as exc:
            if transaction is None:
                transaction = self._salvage_transaction(payload)
            self.rig_event("signals_set_error", {"code": exc.code, "error": exc.error,
                                                 "transaction": transaction})
            self._told(RIG_WHO, "signals/set", body, Response("error", {}, exc.code, exc.error))
            return
        self._told(RIG_WHO, "signals/set", body, Response("ok", {}))

    def _continue(self) -> dict[str, Any]:
        """``bridge/request/continue``: release the manual steps waiting for a human."""
        data = None if self.continue_manual is None else self.continue_manual()
        if data is None:
            raise RefusedError("nothing_waiting", "no manual step is waiting for a hand on the bench")
        return data

    async def _apply_signals(self, body: dict[str, Any]) -> dict[str, Any]:
        """``set_signals`` / ``signals/set``: names, then values, checked by
        :class:`~mqtt_bridge.rigverbs.SignalValues` (all or none), then set on the board."""
        try:
            request = SignalValues.parse(body, self.settable)
        except RigRequestError as exc:
            raise RefusedError(exc.code, exc.message) from None
        if request.unknown is not None:
            return await self._mark_unknown(request.unknown)
        values = request.values
        if not values:
            return {"applied": {}, "signals": self.driver.signals.to_dict()}
        assert self.set_signals is not None  # settable is empty without it
        try:
            await self.set_signals(values)
        except SignalError as exc:
            raise RefusedError("invalid_signal", str(exc)) from None
        except Exception as exc:
            log.exception("set_signals(%r) failed", values)
            raise RefusedError("set_failed", f"the board could not set {', '.join(sorted(values))}: {exc}") from None
        # A signal marked unknown by hand is known again once set. The board publishes only
        # changes, so a set to the value the rig already holds is made known here (a changed
        # value arrives from the board and clears the mark itself).
        held = self.driver.signals
        again = frozenset(n for n, v in values.items() if n in held.stale and getattr(held, n) == v)
        if again:
            await self.driver.update_signals({}, fresh=again)
        return {"applied": values, "signals": self.driver.signals.to_dict()}

    async def _mark_unknown(self, names: tuple[str, ...]) -> dict[str, Any]:
        """``{"unknown": [names]}``: those signals become unknown in one snapshot and one
        evaluation, until the board measures a new value or a set sets one (the scenario
        step's ``set: {unknown: [...]}``, same words)."""
        await self.driver.update_signals({}, stale=frozenset(names))
        return {"applied": {}, "unknown": sorted(set(names)),
                "signals": self.driver.signals.to_dict()}

    # -- refusals that never reach the scheduler --------------------------------------------
    def _refuse_retained(self, target: AppRequestTopic | BridgeRequestTopic | SignalsSetTopic,
                         payload: bytes, meta: RequestMeta) -> None:
        """A retained request is a stored command that would replay on every reconnect (a
        retained ``crash`` crashed the app each time): answer ``retained_request``, run nothing."""
        self.retained_refused += 1
        code, error = "retained_request", ("retained requests are never executed; publish requests "
                                           "without the retain flag (and clear this one with an empty "
                                           "retained message)")
        transaction = self._salvage_transaction(payload)
        refusal = Response("error", {}, code, error)
        self._told(*_who(target), self._salvage_args(payload), refusal)
        if isinstance(target, SignalsSetTopic):
            self.rig_event("signals_set_error", {"code": code, "error": error, "transaction": transaction})
            return
        self._respond(target, transaction, meta, refusal)

    def shed(self, topic: str, payload: bytes, meta: RequestMeta | None = None) -> None:
        """Answer a request the intake queue has no room for with ``overloaded`` (never raises).

        Called synchronously from the MQTT client's message callback when the bounded intake
        queue is full, so a flood is answered, not dropped with only a log line.
        """
        self.shed_total += 1
        meta = meta or RequestMeta()
        try:
            target = self.topics.parse(topic)
            error = (f"the rig's request queue is full ({self.config.max_queued_requests} requests); "
                     "retry later")
            transaction = self._salvage_transaction(payload)
            if not isinstance(target, InvalidTopic | HAStatusTopic):
                self._told(*_who(target), None, Response("error", {}, "overloaded", error))
            if isinstance(target, AppRequestTopic | BridgeRequestTopic):
                self._respond(target, transaction, meta, Response("error", {}, "overloaded", error))
            elif isinstance(target, SignalsSetTopic):
                self.rig_event("signals_set_error", {"code": "overloaded", "error": error,
                                                     "transaction": transaction})
        except Exception:
            log.exception("cannot answer a shed request on %r", topic[:200])

    def _salvage_transaction(self, payload: bytes) -> TransactionValue | None:
        """The ``transaction`` of a payload refused before it was decoded (rate limit, overload,
        retained), so even a refusal can be matched to its request; None when unreadable."""
        if len(payload) > self.config.max_request_bytes:
            return None
        try:
            return _transaction(self._decode(payload))
        except RefusedError:
            return None

    def _salvage_args(self, payload: bytes) -> dict[str, Any] | None:
        """The arguments of a payload refused before it was decoded (for the terminal)."""
        if len(payload) > self.config.max_request_bytes:
            return None
        try:
            return self._decode(payload)
        except RefusedError:
            return None

    def _told(self, who: str, verb: str, args: Any, response: Response) -> None:
        """Tell :attr:`on_answer` of an answer given without the scheduler (never raises)."""
        if self.on_answer is None:
            return
        try:
            self.on_answer(who, verb, args, response)
        except Exception:
            log.exception("the answer listener failed on %s %s", who, verb)

    async def _inject_fault(self, body: dict[str, Any]) -> dict[str, Any]:
        """``bridge/request/inject_fault``: ``{"gauge": "nack", "for": 120}`` (wbcommon.faults)."""
        try:
            fault = InjectFaultArgs.parse(body)
        except RigRequestError as exc:
            raise RefusedError(exc.code, exc.message) from None
        if self.inject_fault is None:
            raise RefusedError(NOT_SUPPORTED_ON_HARDWARE, "this rig has no emulated parts to break")
        try:
            data = await self.inject_fault(fault)
        except FaultRefusedError as exc:
            raise RefusedError(exc.code, str(exc)) from None
        except Exception as exc:
            log.exception("inject_fault(%r) failed", fault)
            raise RefusedError("internal_error", f"the fault could not be injected: {exc}") from None
        self.rig_event("fault_injected", {"fault": fault.to_dict(), **data})
        return data

    # -- checks ------------------------------------------------------------------------------
    def _rate(self, key: str) -> None:
        if not self.limiter.allow(key):
            raise RefusedError("rate_limited", f"more than {self.config.rate_burst} requests in a burst or "
                          f"{self.config.rate_per_s:g}/s sustained; slow down")

    def _decode(self, payload: bytes) -> dict[str, Any]:
        if len(payload) > self.config.max_request_bytes:
            raise RefusedError("payload_too_large", f"request is {len(payload)} bytes; the limit is "
                          f"{self.config.max_request_bytes}")
        if not payload.strip():
            return {}
        try:
            body = json.loads(payload.decode("utf-8"), parse_constant=_reject_constant,
                              parse_float=_finite_float)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise RefusedError("invalid_json", f"request is not valid UTF-8 JSON: {_short(str(exc))}") from None
        if not isinstance(body, dict):
            raise RefusedError("invalid_payload", f"request must be a JSON object, not {type(body).__name__}")
        return body

    @staticmethod
    def _envelope(body: dict[str, Any]) -> TransactionValue | None:
        """The request's valid ``transaction`` (or None); refused ``invalid_payload`` when the
        envelope is wrong (:class:`~mqtt_bridge.rigverbs.RequestEnvelope`)."""
        try:
            return envelope_transaction(body)
        except RigRequestError as exc:
            raise RefusedError(exc.code, exc.message) from None

    # -- answers -----------------------------------------------------------------------------
    def _respond(self, target: AppRequestTopic | BridgeRequestTopic, transaction: Any,
                 meta: RequestMeta, response: Response) -> None:
        body = response.to_dict()
        body["transaction"] = transaction
        payload = dumps(body)
        expiry = self.config.response_expiry_s
        if isinstance(target, AppRequestTopic):
            topic = self.topics.app_response(target.app, target.verb)
            app: str | None = target.app
        else:
            topic = self.topics.bridge_response(target.verb)
            app = None
        self.emit(Outgoing(topic, payload, qos=1, correlation=meta.correlation, expiry=expiry))
        self._reply_to(meta, app, payload)

    def _reply_to(self, meta: RequestMeta, app: str | None, payload: bytes) -> None:
        if meta.response_topic is None:
            return
        if not self.topics.may_reply_to(meta.response_topic, app):
            log.info("ignoring Response Topic %r (outside what the bridge may publish to)",
                     meta.response_topic[:200])
            return
        self.emit(Outgoing(meta.response_topic, payload, qos=1, correlation=meta.correlation,
                           expiry=self.config.response_expiry_s))

    def _invalid_topic(self, topic: str, target: InvalidTopic, payload: bytes, meta: RequestMeta) -> None:
        code, error = target.code, target.error
        transaction = None
        if not self.limiter.allow(_INVALID_KEY):
            code, error = "rate_limited", "too many requests on invalid topics; slow down"
        else:
            with contextlib.suppress(RefusedError):  # the topic is what is wrong, not the payload
                transaction = _transaction(self._decode(payload))
        body: dict[str, Any] = {"status": "error", "code": code, "error": error, "data": {}, "transaction": transaction}
        self._reply_to(meta, target.app, dumps(body))
        self._told(target.app or "?", _short(topic, 80), None, Response("error", {}, code, error))
        self.rig_event("request_error", {"topic": _short(topic, 200), "code": code, "error": error,
                                         "transaction": transaction})

    def rig_event(self, kind: str, data: dict[str, Any]) -> None:
        """Publish a rig event on ``bridge/event`` (QoS 0, not retained).

        Rig events are durable like app events: a sensor fault reported while the broker is
        unreachable (at start-up, typically) waits in the outbox.
        """
        now = self.driver.clock.now()
        self.emit(Outgoing(self.topics.bridge_event(), dumps({
            "type": kind, "data": data, "t": round(now, 6), "ts": wall_iso(self.driver, now)}),
            qos=0, durable=True))


def _who(target: AppRequestTopic | BridgeRequestTopic | SignalsSetTopic) -> tuple[str, str]:
    """``(who, verb)`` of a request topic, as :data:`AnswerListener` names them."""
    if isinstance(target, AppRequestTopic):
        return target.app, target.verb
    if isinstance(target, BridgeRequestTopic):
        return RIG_WHO, target.verb
    return RIG_WHO, "signals/set"


def _transaction(body: dict[str, Any]) -> TransactionValue | None:
    """The request's ``transaction`` if it is valid (else None; the envelope check reports it)."""
    value = body.get("transaction")
    if value is None or transaction_problem(value) is not None:
        return None
    return cast(TransactionValue, value)


def _check_common(verb: str, model: type[VerbArgs], args: dict[str, Any]) -> None:
    """A common verb's own arguments checked by its model (``invalid_args``). Only the model's
    fields: other names are the platform's settings (``register``), which the scheduler checks
    with the platform's model and code."""
    try:
        parse(model, {k: args[k] for k in model.names if k in args})
    except RequestError as exc:
        raise RefusedError("invalid_args", f"{verb}: {exc.message}") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {_short(text, 40)} is out of range")
    return value


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
