"""Bridge configuration: where the broker is (:class:`BrokerConfig`) and how the bridge behaves
(:class:`BridgeConfig`). Both are frozen and validated on construction.

Numbers here are wakebench defaults, not platform limits; each says why it was chosen.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from mqtt_bridge.errors import BridgeConfigError, TopicError
from mqtt_bridge.topics import DEFAULT_HA_PREFIX, DEFAULT_PREFIX, check_id, check_prefix
from wbcommon import files

Protocol = Literal["5", "3.1.1"]
PROTOCOLS: Final[tuple[str, ...]] = ("5", "3.1.1")
_PROTOCOL_ALIASES: Final[dict[str, Protocol]] = {
    "5": "5", "5.0": "5", "v5": "5", "mqttv5": "5",
    "3.1.1": "3.1.1", "311": "3.1.1", "v311": "3.1.1", "4": "3.1.1", "mqttv311": "3.1.1",
}

#: IANA-registered MQTT ports (RFC 6335 registry: 1883 mqtt, 8883 secure-mqtt).
MQTT_PORT: Final = 1883
MQTTS_PORT: Final = 8883
#: Keep-alive (s). MQTT 3.1.1 §3.1.2.10: the broker drops a silent client after 1.5 × keep-alive
#: and publishes its last will, so 30 s marks a dead rig ``offline`` within 45 s. wakebench default.
DEFAULT_KEEPALIVE_S: Final = 30
#: Largest request payload the bridge parses (bytes). Requests are a few hundred bytes; 64 KiB
#: leaves room for big WorkInfo/constraint objects while bounding JSON parsing. wakebench default.
MAX_REQUEST_BYTES: Final = 64 * 1024
#: Per-app request rate limit (token bucket): sustained rate and burst. An app sends a handful of
#: requests per task (register, submit, finish), so 10/s is far above any real app, while 256 apps
#: at 10/s (2,560/s) stay just under what the bridge publishes (~2,600 answers/s at QoS 1,
#: docs/benchmarks.md): a runaway loop cannot starve the others. Burst 20: a prototype's start-up burst
#: (register + a dozen submits) passes. ``rig.request_rate`` / ``--request-rate`` and
#: ``rig.request_burst`` / ``--request-burst`` change them. wakebench default.
DEFAULT_RATE_PER_S: Final = 10.0
DEFAULT_RATE_BURST: Final = 20
#: Incoming requests queued while earlier ones are served; beyond either bound a request is
#: answered ``overloaded`` at once (never dropped). 5,000 stays below the publisher's 10,000
#: buffered messages, so every queued request's answer has room; 16 MiB bounds memory against
#: large payloads (256 requests of the 64 KiB maximum). wakebench default.
MAX_QUEUED_REQUESTS: Final = 5000
MAX_QUEUED_REQUEST_BYTES: Final = 16 * 1024 * 1024
#: Most apps one rig serves; a ``register`` beyond it is refused (``too_many_apps``), which keeps
#: every per-app table bounded. wakebench default.
DEFAULT_MAX_APPS: Final = 256
#: Outbox bound while the broker is unreachable: whichever is hit first; then the oldest event is
#: dropped and the drop reported on ``bridge/event`` after reconnect. ~10 min of a busy rig.
DEFAULT_OUTBOX_MAX_EVENTS: Final = 10_000
DEFAULT_OUTBOX_MAX_BYTES: Final = 16 * 1024 * 1024
#: Every publish is given up (and the connection treated as broken) after this long (s).
DEFAULT_PUBLISH_TIMEOUT_S: Final = 5.0
#: Reconnect backoff (s): doubles from min to max, ±20 % jitter so a fleet does not reconnect in step.
DEFAULT_RECONNECT_MIN_S: Final = 0.1
DEFAULT_RECONNECT_MAX_S: Final = 10.0
#: MQTT 5 Message Expiry of responses (s): an answer nobody read within a minute is stale.
DEFAULT_RESPONSE_EXPIRY_S: Final = 60

_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off", ""})
_QUERY_KEYS: Final = ("ca", "cert", "key", "insecure", "protocol", "keepalive", "client_id", "prefix")


def package_version() -> str:
    """The installed wakebench version (``0+unknown`` when running from a bare checkout)."""
    try:
        return metadata.version("wakebench")
    except metadata.PackageNotFoundError:  # pragma: no cover - the package is installed in the venv
        return "0+unknown"


@dataclass(frozen=True, slots=True)
class BrokerConfig:
    """How to reach the MQTT broker.

    Args:
        host: broker host name or address.
        port: TCP port (1883 plain, 8883 TLS by default).
        username: user name (None: anonymous).
        password: password (never shown by ``repr`` or :meth:`url`).
        tls: connect with TLS.
        ca_file: CA bundle to verify the broker (None: the system store).
        cert_file: client certificate (PEM) for mutual TLS; needs ``key_file`` unless combined.
        key_file: private key of ``cert_file``.
        insecure: skip certificate and host-name verification (tests, self-signed labs).
        protocol: ``"5"`` (default; response topic, correlation data, expiry) or ``"3.1.1"``.
        keepalive: keep-alive in seconds.
        client_id: MQTT client id (the bridge defaults to ``wakebench-<rig>``; apps use their id).
        prefix: base topic prefix (``wakebench``).

    Raises:
        BridgeConfigError: naming the field that is wrong.
    """

    host: str = "localhost"
    port: int = MQTT_PORT
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    insecure: bool = False
    protocol: Protocol = "5"
    keepalive: int = DEFAULT_KEEPALIVE_S
    client_id: str | None = None
    prefix: str = DEFAULT_PREFIX

    def __post_init__(self) -> None:
        if not isinstance(self.host, str) or not self.host:
            raise BridgeConfigError(f"broker host must be a non-empty string, not {self.host!r}")
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 0 < self.port < 65536:
            raise BridgeConfigError(f"broker port must be 1-65535, not {self.port!r}")
        if self.protocol not in PROTOCOLS:
            raise BridgeConfigError(f"protocol must be one of {', '.join(PROTOCOLS)}, not {self.protocol!r}")
        if isinstance(self.keepalive, bool) or not isinstance(self.keepalive, int) or not 0 < self.keepalive <= 65535:
            raise BridgeConfigError(f"keepalive must be 1-65535 s, not {self.keepalive!r}")
        if self.password is not None and self.username is None:
            raise BridgeConfigError("a broker password needs a username")
        if (self.ca_file or self.cert_file or self.key_file or self.insecure) and not self.tls:
            raise BridgeConfigError("ca_file / cert_file / key_file / insecure need tls=True (mqtts://)")
        if self.key_file and not self.cert_file:
            raise BridgeConfigError("key_file given without cert_file")
        if self.client_id is not None and (not self.client_id or len(self.client_id.encode()) > 65535):
            raise BridgeConfigError(f"client_id must be 1-65535 bytes, not {self.client_id!r}")
        try:
            check_prefix(self.prefix)
        except TopicError as exc:
            raise BridgeConfigError(str(exc)) from None

    @property
    def mqtt5(self) -> bool:
        """True when the bridge speaks MQTT 5."""
        return self.protocol == "5"

    @classmethod
    def from_url(cls, url: str, **overrides: Any) -> BrokerConfig:
        """Parse ``mqtt://[user[:password]@]host[:port][?options]`` or ``mqtts://...``.

        Options (query string): ``ca``, ``cert``, ``key`` (file paths), ``insecure`` (1/0),
        ``protocol`` (5 or 3.1.1), ``keepalive`` (s), ``client_id``, ``prefix``. User name and
        password are percent-decoded. Keyword ``overrides`` replace parsed fields.

        Raises:
            BridgeConfigError: naming the part of the URL that is wrong (never the password).
        """
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise BridgeConfigError(f"broker URL {_redact(url)!r}: {exc}") from None
        if parts.scheme not in ("mqtt", "mqtts"):
            raise BridgeConfigError(
                f"broker URL {_redact(url)!r}: scheme must be mqtt:// or mqtts://, not {parts.scheme!r}")
        if not parts.hostname:
            raise BridgeConfigError(f"broker URL {_redact(url)!r} has no host")
        if parts.path not in ("", "/"):
            raise BridgeConfigError(f"broker URL {_redact(url)!r}: unexpected path {parts.path!r}")
        tls = parts.scheme == "mqtts"
        values: dict[str, Any] = {
            "host": parts.hostname,
            "port": port if port is not None else (MQTTS_PORT if tls else MQTT_PORT),
            "username": unquote(parts.username) if parts.username is not None else None,
            "password": unquote(parts.password) if parts.password is not None else None,
            "tls": tls,
        }
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            values.update(_query_option(url, key, value))
        values.update(overrides)
        return cls(**values)

    def url(self) -> str:
        """The broker as a URL without the password (for logs and ``run``'s banner)."""
        user = f"{self.username}@" if self.username else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{host}:{self.port}"

    def with_client_id(self, client_id: str) -> BrokerConfig:
        """A copy with another client id."""
        return replace(self, client_id=client_id)

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context (None without TLS).

        Raises:
            BridgeConfigError: a CA, certificate or key file cannot be read (names the file).
        """
        if not self.tls:
            return None
        for name, path in (("ca", self.ca_file), ("cert", self.cert_file), ("key", self.key_file)):
            if path:  # OpenSSL would read /dev/zero until memory runs out: bound it first
                try:
                    files.check_regular_file(path, field=name)
                except files.FileFormatError as exc:
                    raise BridgeConfigError(f"cannot load {name} file: {exc}") from None
        try:
            ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=self.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise BridgeConfigError(f"cannot load CA file {self.ca_file!r}: {exc}") from None
        if self.cert_file:
            try:
                ctx.load_cert_chain(self.cert_file, self.key_file)
            except (OSError, ssl.SSLError) as exc:
                raise BridgeConfigError(
                    f"cannot load client certificate {self.cert_file!r} / key {self.key_file!r}: {exc}"
                ) from None
        if self.insecure:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx


def _query_option(url: str, key: str, value: str) -> dict[str, Any]:
    where = f"broker URL {_redact(url)!r}"
    if key in ("ca", "cert", "key"):
        if not value:
            raise BridgeConfigError(f"{where}: option {key!r} needs a file path")
        return {{"ca": "ca_file", "cert": "cert_file", "key": "key_file"}[key]: value}
    if key == "insecure":
        if value.lower() in _TRUE:
            return {"insecure": True}
        if value.lower() in _FALSE:
            return {"insecure": False}
        raise BridgeConfigError(f"{where}: option 'insecure' must be 1 or 0, not {value!r}")
    if key == "protocol":
        proto = _PROTOCOL_ALIASES.get(value.lower())
        if proto is None:
            raise BridgeConfigError(f"{where}: option 'protocol' must be 5 or 3.1.1, not {value!r}")
        return {"protocol": proto}
    if key == "keepalive":
        try:
            return {"keepalive": int(value)}
        except ValueError:
            raise BridgeConfigError(f"{where}: option 'keepalive' must be whole seconds, not {value!r}") from None
    if key in ("client_id", "prefix"):
        return {key: value}
    raise BridgeConfigError(f"{where}: unknown option {key!r} (known: {', '.join(_QUERY_KEYS)})")


def _redact(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return url
    creds, _, tail = rest.partition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{tail}" if ":" in creds else url


@dataclass(frozen=True, slots=True)
class BridgeConfig:
    """How the bridge behaves for one rig.

    Args:
        rig: rig id (``[a-z0-9_-]{1,64}``), the second topic level.
        board: board name for ``bridge/info`` and Home Assistant.
        speed: rig clock speed (``--speed``) for ``bridge/info``.
        version: software version for ``bridge/info`` (the installed wakebench version).
        state_dir: directory of the outbox file; None keeps the outbox in memory (still bounded).
        max_request_bytes: larger request payloads are refused (``payload_too_large``).
        rate_per_s, rate_burst: per-app token bucket (``rate_limited`` beyond it).
        max_queued_requests, max_queued_request_bytes: intake queue bound (``overloaded`` beyond it).
        max_apps: most registered apps (``too_many_apps`` beyond it).
        outbox_max_events, outbox_max_bytes: outbox bound (oldest dropped and reported).
        publish_timeout_s: a publish not acknowledged in time breaks the connection.
        reconnect_min_s, reconnect_max_s: reconnect backoff range.
        response_expiry_s: MQTT 5 Message Expiry of responses (None: none).
        event_expiry_s: MQTT 5 Message Expiry of events (None: events never expire).
        ha_discovery: publish Home Assistant device discovery.
        ha_prefix: Home Assistant discovery prefix.

    Raises:
        BridgeConfigError: naming the field that is wrong.
    """

    rig: str
    board: str = "sim"
    speed: float = 1.0
    version: str = field(default_factory=package_version)
    state_dir: Path | None = None
    max_request_bytes: int = MAX_REQUEST_BYTES
    rate_per_s: float = DEFAULT_RATE_PER_S
    rate_burst: int = DEFAULT_RATE_BURST
    max_queued_requests: int = MAX_QUEUED_REQUESTS
    max_queued_request_bytes: int = MAX_QUEUED_REQUEST_BYTES
    max_apps: int = DEFAULT_MAX_APPS
    outbox_max_events: int = DEFAULT_OUTBOX_MAX_EVENTS
    outbox_max_bytes: int = DEFAULT_OUTBOX_MAX_BYTES
    publish_timeout_s: float = DEFAULT_PUBLISH_TIMEOUT_S
    reconnect_min_s: float = DEFAULT_RECONNECT_MIN_S
    reconnect_max_s: float = DEFAULT_RECONNECT_MAX_S
    response_expiry_s: int | None = DEFAULT_RESPONSE_EXPIRY_S
    event_expiry_s: int | None = None
    ha_discovery: bool = False
    ha_prefix: str = DEFAULT_HA_PREFIX

    def __post_init__(self) -> None:
        try:
            check_id("rig", self.rig)
            check_prefix(self.ha_prefix, kind="Home Assistant discovery prefix")
        except TopicError as exc:
            raise BridgeConfigError(str(exc)) from None
        for name in ("max_request_bytes", "rate_burst", "max_apps", "outbox_max_events", "outbox_max_bytes",
                     "max_queued_requests", "max_queued_request_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise BridgeConfigError(f"{name} must be a positive integer, not {value!r}")
        for name in ("speed", "rate_per_s", "publish_timeout_s", "reconnect_min_s", "reconnect_max_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise BridgeConfigError(f"{name} must be a positive number, not {value!r}")
        if self.reconnect_max_s < self.reconnect_min_s:
            raise BridgeConfigError(
                f"reconnect_max_s ({self.reconnect_max_s}) is below reconnect_min_s ({self.reconnect_min_s})")
        for name in ("response_expiry_s", "event_expiry_s"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise BridgeConfigError(f"{name} must be None or a positive whole number of seconds, not {value!r}")
        if self.state_dir is not None and not isinstance(self.state_dir, Path):
            object.__setattr__(self, "state_dir", Path(self.state_dir))
