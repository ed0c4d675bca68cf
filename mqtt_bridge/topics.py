"""Every MQTT topic of the wakebench API (DESIGN.md section 7), built and parsed in one place.

Nothing else in the bridge formats a topic string. Builders refuse ids outside
``[a-z0-9_-]{1,64}`` (the scheduler's own id rule) so a request can never make the bridge
publish outside its namespace, and parsing an incoming topic says precisely what is wrong.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Final

from firmware_sim.args import ID_RE
from mqtt_bridge.errors import TopicError

#: A prefix is one or more topic levels; no wildcards, no ``$`` system topics.
_PREFIX_LEVEL_RE: Final = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_SLUG_RE: Final = re.compile(r"[^a-z0-9_-]+")
_HA_UNSAFE_RE: Final = re.compile(r"[^A-Za-z0-9_-]")
#: Longest task-id slug before a hash suffix is appended (keeps topic levels short).
_SLUG_MAX: Final = 48

DEFAULT_PREFIX: Final = "wakebench"
DEFAULT_HA_PREFIX: Final = "homeassistant"


def valid_id(value: object) -> bool:
    """True if ``value`` is a usable rig / app / verb / task id (``[a-z0-9_-]{1,64}``)."""
    return isinstance(value, str) and ID_RE.match(value) is not None


def check_id(kind: str, value: object) -> str:
    """Return ``value`` if it is a valid id.

    Raises:
        TopicError: naming ``kind`` and the offending value.
    """
    if not valid_id(value):
        raise TopicError(f"{kind} id must match [a-z0-9_-]{{1,64}}, not {value!r}")
    return str(value)


def check_prefix(prefix: object, *, kind: str = "base topic prefix") -> str:
    """Return ``prefix`` if every level of it is plain text (no ``+``, ``#``, ``$`` or empty level).

    Raises:
        TopicError: naming the bad level.
    """
    if not isinstance(prefix, str) or not prefix:
        raise TopicError(f"{kind} must be a non-empty string, not {prefix!r}")
    for level in prefix.split("/"):
        if not _PREFIX_LEVEL_RE.match(level):
            raise TopicError(f"{kind} level {level!r} of {prefix!r} must match [A-Za-z0-9_.-]{{1,64}}")
    return prefix


def task_level(task_id: str) -> str:
    """The topic level of a task: the id itself when valid, else a slug plus a short hash.

    Platform task identifiers may be reverse-DNS (``com.example.refresh``); the hash keeps
    distinct ids distinct after slugging. The payload always carries the real ``task_id``.
    """
    if valid_id(task_id):
        return task_id
    digest = hashlib.sha1(task_id.encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()[:8]
    slug = _SLUG_RE.sub("_", task_id.lower()).strip("_")[:_SLUG_MAX] or "task"
    return f"{slug}-{digest}"


@dataclass(frozen=True, slots=True)
class AppRequestTopic:
    """``<base>/apps/<app>/request/<verb>``."""

    app: str
    verb: str


@dataclass(frozen=True, slots=True)
class BridgeRequestTopic:
    """``<base>/bridge/request/<verb>``."""

    verb: str


@dataclass(frozen=True, slots=True)
class SignalsSetTopic:
    """``<base>/signals/set``."""


@dataclass(frozen=True, slots=True)
class HAStatusTopic:
    """Home Assistant's birth / will topic (``homeassistant/status``)."""


@dataclass(frozen=True, slots=True)
class InvalidTopic:
    """A topic in the bridge's subscriptions that is not a valid request; ``code`` says why."""

    code: str
    error: str
    app: str | None = None


Incoming = AppRequestTopic | BridgeRequestTopic | SignalsSetTopic | HAStatusTopic | InvalidTopic


@dataclass(frozen=True, slots=True)
class Topics:
    """Topic builders for one rig under ``<prefix>/<rig>``.

    Raises:
        TopicError: on construction, for a bad prefix or rig id.
    """

    rig: str
    prefix: str = DEFAULT_PREFIX
    ha_prefix: str = DEFAULT_HA_PREFIX

    def __post_init__(self) -> None:
        check_id("rig", self.rig)
        check_prefix(self.prefix)
        check_prefix(self.ha_prefix, kind="Home Assistant discovery prefix")

    # -- out -------------------------------------------------------------------------------
    @property
    def base(self) -> str:
        """``<prefix>/<rig>``."""
        return f"{self.prefix}/{self.rig}"

    def bridge_state(self) -> str:
        """Retained ``{"state": "online" | "offline"}``; also the last will."""
        return f"{self.base}/bridge/state"

    def bridge_info(self) -> str:
        """Retained version / board / platforms / speed."""
        return f"{self.base}/bridge/info"

    def bridge_event(self) -> str:
        """Rig-level events and errors that have no response topic."""
        return f"{self.base}/bridge/event"

    def bridge_request(self, verb: str) -> str:
        """Where a dashboard sends a rig verb."""
        return f"{self.base}/bridge/request/{check_id('verb', verb)}"

    def bridge_response(self, verb: str) -> str:
        """Where the answer to a rig verb goes."""
        return f"{self.base}/bridge/response/{check_id('verb', verb)}"

    def signals(self) -> str:
        """Retained signal snapshot."""
        return f"{self.base}/signals"

    def signals_set(self) -> str:
        """Dashboard-style signal command (no reply)."""
        return f"{self.base}/signals/set"

    def app_root(self, app: str) -> str:
        """``<base>/apps/<app>`` (ACLs and response-topic checks)."""
        return f"{self.base}/apps/{check_id('app', app)}"

    def app_request(self, app: str, verb: str) -> str:
        """Where an app sends ``verb``."""
        return f"{self.app_root(app)}/request/{check_id('verb', verb)}"

    def app_response(self, app: str, verb: str) -> str:
        """Where the answer to an app's ``verb`` goes."""
        return f"{self.app_root(app)}/response/{check_id('verb', verb)}"

    def app_events(self, app: str) -> str:
        """The app's event stream (QoS 1, ``seq`` per app)."""
        return f"{self.app_root(app)}/events"

    def app_state(self, app: str) -> str:
        """Retained ``{"app", "platform", "state", "t"}`` of the app (QoS 1), for late viewers."""
        return f"{self.app_root(app)}/state"

    def app_task(self, app: str, task_id: str) -> str:
        """Retained state of one task (see :func:`task_level` for non-id task names)."""
        return f"{self.app_root(app)}/tasks/{task_level(task_id)}"

    def ha_device_config(self) -> str:
        """Home Assistant device-based discovery topic of this rig."""
        return f"{self.ha_prefix}/device/{self.ha_object_id()}/config"

    def ha_object_id(self) -> str:
        """``wakebench_<rig>``: the device's discovery object id (HA allows ``[a-zA-Z0-9_-]``)."""
        return f"{_HA_UNSAFE_RE.sub('_', self.prefix)}_{self.rig}"

    def ha_status(self) -> str:
        """Home Assistant's birth message topic."""
        return f"{self.ha_prefix}/status"

    # -- in --------------------------------------------------------------------------------
    def subscriptions(self, *, ha: bool = False) -> tuple[str, ...]:
        """Topic filters the bridge subscribes to (``#`` catches extra levels to refuse them)."""
        subs = (f"{self.base}/apps/+/request/#", f"{self.base}/bridge/request/#", self.signals_set())
        return (*subs, self.ha_status()) if ha else subs

    def parse(self, topic: str) -> Incoming:
        """Classify an incoming topic; never raises."""
        if topic == self.signals_set():
            return SignalsSetTopic()
        if topic == self.ha_status():
            return HAStatusTopic()
        head = self.base + "/"
        if not topic.startswith(head):
            return InvalidTopic("invalid_topic", f"topic {_short(topic)!r} is not under {self.base}/")
        levels = topic[len(head):].split("/")
        if levels[:2] == ["bridge", "request"]:
            if len(levels) != 3:
                return InvalidTopic("invalid_topic", f"expected {self.base}/bridge/request/<verb>, "
                                    f"not {_short(topic)!r}")
            if not valid_id(levels[2]):
                return InvalidTopic("invalid_verb", f"verb must match [a-z0-9_-]{{1,64}}, not {_short(levels[2])!r}")
            return BridgeRequestTopic(levels[2])
        if len(levels) >= 3 and levels[0] == "apps" and levels[2] == "request":
            app = levels[1]
            if not valid_id(app):
                return InvalidTopic("invalid_app_id", f"app id must match [a-z0-9_-]{{1,64}}, not {_short(app)!r}")
            if len(levels) != 4:
                return InvalidTopic("invalid_topic", f"expected {self.base}/apps/<app>/request/<verb>, "
                                    f"not {_short(topic)!r}", app)
            if not valid_id(levels[3]):
                return InvalidTopic("invalid_verb", f"verb must match [a-z0-9_-]{{1,64}}, not {_short(levels[3])!r}", app)
            return AppRequestTopic(app, levels[3])
        return InvalidTopic("invalid_topic", f"{_short(topic)!r} is not a request topic")

    def may_reply_to(self, response_topic: str, app: str | None) -> bool:
        """Whether an MQTT 5 Response Topic is safe to publish to.

        Refused: ``$`` system topics, wildcards, anything under any ``<prefix>/`` rig namespace
        or the Home Assistant prefix — except the requesting app's own ``<base>/apps/<app>/``,
        and there not its ``events``, ``tasks``, ``response`` or ``request`` levels (the rig's).
        """
        if not response_topic or len(response_topic) > _MAX_REPLY_TOPIC or response_topic.startswith("$"):
            return False
        if any(c in response_topic for c in "+#\x00"):
            return False
        if app is not None and valid_id(app) and response_topic.startswith(self.app_root(app) + "/"):
            # never a topic the rig publishes (events, tasks, responses) or reads (requests)
            return response_topic[len(self.app_root(app)) + 1:].split("/", maxsplit=1)[0] not in _RIG_APP_LEVELS
        return not (response_topic == self.prefix or response_topic.startswith(self.prefix + "/")
                    or response_topic.startswith(self.ha_prefix + "/"))


#: Levels under ``apps/<app>/`` the rig owns: a Response Topic there is refused (issue #11).
_RIG_APP_LEVELS: Final = frozenset({"events", "tasks", "response", "request"})
#: Longest Response Topic the bridge will publish to (bytes of text; wakebench default).
_MAX_REPLY_TOPIC: Final = 1024


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
