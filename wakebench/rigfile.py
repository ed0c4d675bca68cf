"""What a rig TOML file may say, as pydantic models (``wakebench.config`` builds the config).

One model per table (``[rig]``, ``[broker]``, ...), derived from
:class:`wbcommon.validation.Strict` so unknown keys are refused; the ``[board]`` table is the
boards layer's own :class:`boards.config.BoardTable`. Each value type below words its error the
way ``wakebench run`` prints it (``broker.keepalive: must be whole seconds from 1 to 65535, not
'x'``). Checks that read files or need the catalogue (the password file, TLS files, the board's
name) run when the validated file is built into a :class:`~wakebench.config.RigConfig`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Annotated, ClassVar, Final, Literal

from pydantic import BeforeValidator, Field, ValidationInfo, create_model, field_validator, model_validator

from boards.config import BoardTable
from firmware_sim.errors import ConfigError
from firmware_sim.platforms import POLICIES
from wbcommon.validation import InvalidFieldError, SignalValue, Strict, describe, signal_values

__all__ = ["MAX_REQUEST_RATE", "RIG_ID_RE", "BrokerTable", "RigFile", "RigTable"]

#: Rig ids: the second level of every topic. wakebench bound (MQTT topic level, DESIGN.md).
RIG_ID_RE: Final = re.compile(r"^[a-z0-9_-]{1,64}$")
#: Largest per-app request rate / burst a rig accepts: beyond 10,000/s the bridge (~2,600
#: answers/s, docs/benchmarks.md) cannot keep up anyway. wakebench bound.
MAX_REQUEST_RATE: Final = 10_000
#: TCP ports (RFC 793: 16 bits; 0 is "any", which the file may not ask for).
PORT_MAX: Final = 65535
#: MQTT keepalive is a 16-bit number of seconds (MQTT 3.1.1 section 3.1.2.10, MQTT 5 3.1.2.10).
KEEPALIVE_MAX_S: Final = 65535

# -- value types ------------------------------------------------------------------------------


def _is_number(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def _string(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidFieldError(f"must be a non-empty string, not {describe(value)}")
    return value


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidFieldError(f"must be true or false, not {value!r}")
    return value


def _positive(value: object) -> float:
    if not _is_number(value) or value <= 0:  # type: ignore[operator]  # a finite number here
        raise InvalidFieldError(f"must be a positive number, not {value!r}")
    return float(value)  # type: ignore[arg-type]  # a finite number here


def _port(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= PORT_MAX:
        raise InvalidFieldError(f"must be a port from 1 to {PORT_MAX}, not {value!r}")
    return value


def _rig_id(value: object) -> str:
    text = _string(value)
    if not RIG_ID_RE.match(text):
        raise InvalidFieldError(f"must match [a-z0-9_-]{{1,64}}, not {text!r}")
    return text


def _state_sync(value: object) -> str:
    text = _string(value)
    if text not in ("normal", "full"):
        raise InvalidFieldError(f"must be 'normal' or 'full', not {text!r}")
    return text


def _seed(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidFieldError(f"must be a whole number, not {value!r}")
    return value


def _request_rate(value: object) -> float:
    rate = _positive(value)
    if rate > MAX_REQUEST_RATE:
        raise InvalidFieldError(f"must be at most {MAX_REQUEST_RATE} requests/s, not {rate:g}")
    return rate


def _request_burst(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_REQUEST_RATE:
        raise InvalidFieldError(f"must be a whole number from 1 to {MAX_REQUEST_RATE}, not {value!r}")
    return value


def _protocol(value: object) -> str:
    if str(value) not in ("5", "3.1.1"):
        raise InvalidFieldError(f"must be \"5\" or \"3.1.1\", not {value!r}")
    return str(value)


def _keepalive(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= KEEPALIVE_MAX_S:
        raise InvalidFieldError(f"must be whole seconds from 1 to {KEEPALIVE_MAX_S}, not {value!r}")
    return value


def _ws_url(value: object) -> str:
    text = _string(value)
    if not re.match(r"^wss?://[^\s/]+", text):
        raise InvalidFieldError(f"must be a ws:// or wss:// URL, not {text!r}")
    return text


Text = Annotated[str, BeforeValidator(_string)]
Flag = Annotated[bool, BeforeValidator(_boolean)]
Positive = Annotated[float, BeforeValidator(_positive)]
Port = Annotated[int, BeforeValidator(_port)]

# -- the tables -------------------------------------------------------------------------------


class RigTable(Strict):
    """``[rig]``."""

    id: Annotated[str, BeforeValidator(_rig_id)] | None = None
    board: Text | None = None
    state_dir: Text | None = None
    state_sync: Annotated[Literal["normal", "full"], BeforeValidator(_state_sync)] | None = None
    seed: Annotated[int, BeforeValidator(_seed)] | None = None
    speed: Positive | None = None
    request_rate: Annotated[float, BeforeValidator(_request_rate)] | None = None
    request_burst: Annotated[int, BeforeValidator(_request_burst)] | None = None


class BrokerTable(Strict):
    """``[broker]``: absent, wakebench starts an embedded broker."""

    url: Text | None = None
    username: Text | None = None
    password: Text | None = None
    password_file: Text | None = None
    ca_file: Text | None = None
    cert_file: Text | None = None
    key_file: Text | None = None
    insecure: Flag | None = None
    protocol: Annotated[Literal["5", "3.1.1"], BeforeValidator(_protocol)] | None = None
    keepalive: Annotated[int, BeforeValidator(_keepalive)] | None = None
    client_id: Text | None = None

    @model_validator(mode="after")
    def _consistent(self) -> BrokerTable:
        if self.password is not None and self.password_file is not None:
            raise InvalidFieldError("give password or password_file, not both", at=("password_file",))
        if self.url is None and self.model_fields_set - {"url"}:
            raise InvalidFieldError("broker options need broker.url (without it an embedded broker is used)")
        return self


class EmbeddedBrokerTable(Strict):
    """``[embedded_broker]``: the broker started when ``[broker]`` is absent."""

    websockets: Flag | None = None
    ws_port: Port | None = None
    ws_cert_file: Text | None = None
    ws_key_file: Text | None = None

    @model_validator(mode="after")
    def _pair(self) -> EmbeddedBrokerTable:
        if (self.ws_cert_file is None) != (self.ws_key_file is None):
            missing = "ws_key_file" if self.ws_key_file is None else "ws_cert_file"
            raise InvalidFieldError("wss needs both ws_cert_file and ws_key_file", at=(missing,))
        return self


class WebTable(Strict):
    """``[web]``: the live web view ``run`` serves."""

    enabled: Flag | None = None
    host: Text | None = None
    port: Port | None = None
    controls: Flag | None = None
    ws_url: Annotated[str, BeforeValidator(_ws_url)] | None = None


class HomeAssistantTable(Strict):
    """``[homeassistant]``: MQTT discovery."""

    discovery: Flag | None = None
    prefix: Text | None = None


class PollTable(Strict):
    """``[poll]``: the sensor poll period."""

    interval: Positive | None = None


class _PlatformLimits(Strict):
    """Base of ``[limits]``: one optional table of overrides per platform (made below)."""

    @field_validator("*", mode="before")
    @classmethod
    def _known_limits(cls, value: object, info: ValidationInfo) -> object:
        platform = str(info.field_name)
        if not isinstance(value, Mapping):
            raise InvalidFieldError(f"must be a table ([limits.{platform}]), not {describe(value)}")
        limits = POLICIES[platform].limits_type()
        for name, override in value.items():
            try:
                limits.with_overrides({name: override})
            except ConfigError as exc:
                raise InvalidFieldError(str(exc), at=(str(name),)) from None
        return dict(value)


#: ``[limits.<platform>]`` tables: a key per platform of :data:`firmware_sim.platforms.POLICIES`,
#: each checked by that platform's ``Limits.with_overrides``.
LimitsTable: type[_PlatformLimits] = create_model(  # type: ignore[call-overload]
    "LimitsTable", __base__=_PlatformLimits,
    **{platform: (dict[str, object] | None, None) for platform in POLICIES},
)


class RigFile(Strict):
    """A whole rig TOML file."""

    UNKNOWN_WORD: ClassVar[str] = "table"

    rig: RigTable = RigTable()
    board: BoardTable | None = None
    broker: BrokerTable = BrokerTable()
    embedded_broker: EmbeddedBrokerTable = EmbeddedBrokerTable()
    web: WebTable = WebTable()
    homeassistant: HomeAssistantTable = HomeAssistantTable()
    poll: PollTable = PollTable()
    signals: Annotated[dict[str, SignalValue], BeforeValidator(signal_values)] = Field(default_factory=dict)
    limits: LimitsTable = LimitsTable()  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _one_board(self) -> RigFile:
        if self.board is not None and self.rig.board is not None:
            raise InvalidFieldError("give rig.board or a [board] table, not both", at=("rig", "board"))
        return self

    def limit_overrides(self) -> dict[str, dict[str, object]]:
        """The ``[limits.<platform>]`` tables given, by platform."""
        tables = {name: getattr(self.limits, name) for name in POLICIES}
        return {name: dict(table) for name, table in tables.items() if table is not None}

