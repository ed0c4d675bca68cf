"""Network type and connectivity: ``/sys/class/net`` for what an interface is, netlink for changes.

Three layers, each usable alone:

1. :func:`classify` (pure): what an interface is — ``wifi``, ``ethernet``, ``cellular``,
   ``bluetooth`` or ``ignore`` — from its :class:`InterfaceFacts`.
2. :func:`derive_signals` (pure): the device-level ``network`` and ``metered`` signals from the
   interfaces' states (:class:`InterfaceState`).
3. Sources: :func:`read_interfaces` / :func:`read_network` read a sysfs tree once (root
   injectable); :class:`NetworkWatcher` follows netlink ``RTM_NEWLINK`` / ``RTM_DELLINK``
   (pyroute2, ``RTMGRP_LINK``) and calls back on every change — there is no polling loop.

Classification (reference/pi-hardware.md section 5), first rule that matches wins:

* ``lo`` / ARPHRD_LOOPBACK → ignore.
* uevent ``DEVTYPE=wlan`` or a ``wireless/`` / ``phy80211/`` directory → wifi;
  ``DEVTYPE=wwan`` → cellular; ``DEVTYPE=bluetooth`` (bnep) → bluetooth.
* ARPHRD_PPP (512) / ARPHRD_RAWIP (519) → cellular.
* Name heuristics, for interfaces the kernel does not label (veth pairs in tests, USB dongles
  without DEVTYPE): ``wl*`` (wlan0, wlp2s0, wlx…) → wifi; ``ww*`` (wwan0, wwp0s…) and ``ppp*`` →
  cellular; ``eth*`` / ``en*`` → ethernet; ``bnep*`` → bluetooth. The two-letter prefixes are
  systemd's predictable-name prefixes (systemd.net-naming-scheme: en, wl, ww).
* Any other virtual interface (no ``device`` link in sysfs, or a netlink link kind such as
  bridge, veth, dummy, tun, wireguard: docker0, virbr0, veth…, wg0) → ignore.
* Any other physical ARPHRD_ETHER interface → ethernet. USB network gadgets (``usb0``,
  cdc_ether / rndis) land here: a HiLink modem and a tethered phone look the same, so a board
  that knows better declares it.
* Anything else (ARPHRD_NONE tun-like devices without a cellular name) → ignore.

An interface is *connected* when it is administratively up, has carrier, and its operstate is
not ``dormant`` (Wi-Fi associated but not yet authenticated), ``notpresent`` or ``testing``.
Carrier is what decides, because operstate lags it (the kernel's linkwatch updates operstate
after the carrier flag). Where carrier is unknown (``carrier`` reads EINVAL while the interface
is admin-down) operstate ``up`` decides. Connectivity is link-level: an address or a route to the
internet is not checked.

Preference when several are connected: ethernet > wifi > cellular > bluetooth (the cheapest,
fastest link a phone-like device would route over). ``metered`` is True exactly when the chosen
network is cellular (DESIGN.md section 2: "cellular ⇒ metered"); NetworkManager's per-connection
Metered setting is not read here.

Where state comes from (the netns question): the watcher takes every interface's *state*
(``IFLA_OPERSTATE``, ``IFF_UP``, ``IFLA_CARRIER``) and its name, ARPHRD (``ifi_type``) and link
kind from netlink, for the initial dump and for every event, so it works unchanged inside a
network namespace (``netns=``, pyroute2 opens the socket there). Only the facts netlink lacks
(DEVTYPE, ``wireless/``, ``device`` link) come from sysfs, and only when watching this process's
own namespace and ``<root>/<name>/ifindex`` matches the netlink index — ``/sys/class/net`` shows
the namespace of whoever mounted sysfs, so inside another namespace sysfs is not used and
classification falls back to netlink facts plus the name heuristics.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final, Literal

from pyroute2 import AsyncIPRoute
from pyroute2.netlink.rtnl import RTMGRP_LINK

from hal.errors import NetworkError

__all__ = [
    "DEFAULT_NET_ROOT",
    "PREFERENCE",
    "InterfaceFacts",
    "InterfaceKind",
    "InterfaceState",
    "NetworkSignals",
    "NetworkType",
    "NetworkWatcher",
    "classify",
    "derive_signals",
    "read_interfaces",
    "read_network",
]

DEFAULT_NET_ROOT: Final = Path("/sys/class/net")

NetworkType = Literal["none", "wifi", "ethernet", "cellular", "bluetooth"]
InterfaceKind = Literal["wifi", "ethernet", "cellular", "bluetooth", "ignore"]

#: Connected interfaces are chosen in this order (module docstring).
PREFERENCE: Final[tuple[NetworkType, ...]] = ("ethernet", "wifi", "cellular", "bluetooth")

# ARPHRD_* from include/uapi/linux/if_arp.h (reference section 5 lists 1, 512, 519, 65534).
ARPHRD_ETHER: Final = 1
ARPHRD_PPP: Final = 512
ARPHRD_RAWIP: Final = 519
ARPHRD_LOOPBACK: Final = 772
ARPHRD_NONE: Final = 65534

# Interface flags from include/uapi/linux/if.h.
IFF_UP: Final = 0x1
IFF_LOWER_UP: Final = 0x10000

#: Name prefixes for interfaces the kernel does not label (module docstring).
NAME_HEURISTICS: Final[tuple[tuple[str, InterfaceKind], ...]] = (
    ("wl", "wifi"),
    ("ww", "cellular"),
    ("ppp", "cellular"),
    ("eth", "ethernet"),
    ("en", "ethernet"),
    ("bnep", "bluetooth"),
)

#: operstate values (Documentation/networking/operstates.rst) under which a link carries nothing.
_NOT_CONNECTED_OPERSTATES: Final = frozenset({"dormant", "notpresent", "testing"})
_OPERSTATES: Final = frozenset(
    {"unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up"}
)


@dataclass(frozen=True, slots=True)
class InterfaceFacts:
    """What is known about an interface's nature (not its state)."""

    name: str
    devtype: str | None = None     # uevent DEVTYPE: wlan, wwan, bluetooth, bridge, ...
    arphrd: int | None = None      # sysfs ``type`` / netlink ``ifi_type``
    wireless: bool = False         # sysfs ``wireless/`` or ``phy80211/`` present
    virtual: bool = False          # no ``device`` link in sysfs / a netlink link kind
    link_kind: str | None = None   # netlink IFLA_INFO_KIND: veth, bridge, dummy, ...


def classify(facts: InterfaceFacts) -> InterfaceKind:
    """What kind of network an interface is; rules in the module docstring."""
    name = facts.name
    if name == "lo" or facts.arphrd == ARPHRD_LOOPBACK:
        return "ignore"
    if facts.devtype == "wlan" or facts.wireless:
        return "wifi"
    if facts.devtype == "wwan":
        return "cellular"
    if facts.devtype == "bluetooth":
        return "bluetooth"
    if facts.arphrd in (ARPHRD_PPP, ARPHRD_RAWIP):
        return "cellular"
    for prefix, kind in NAME_HEURISTICS:
        if name.startswith(prefix):
            return kind
    if facts.virtual or facts.link_kind is not None:
        return "ignore"
    if facts.arphrd == ARPHRD_ETHER:
        return "ethernet"
    return "ignore"


@dataclass(frozen=True, slots=True)
class InterfaceState:
    """One interface's kind and link state."""

    name: str
    kind: InterfaceKind
    operstate: str = "unknown"     # lowercase, as in sysfs
    admin_up: bool | None = None   # IFF_UP
    carrier: bool | None = None    # None: unknown (sysfs EINVAL while admin-down)

    @property
    def connected(self) -> bool:
        """True if this link can carry traffic now (rule in the module docstring)."""
        if self.kind == "ignore" or self.admin_up is False:
            return False
        if self.operstate in _NOT_CONNECTED_OPERSTATES:
            return False
        if self.carrier is not None:
            return self.carrier
        return self.operstate == "up"


@dataclass(frozen=True, slots=True)
class NetworkSignals:
    """The device-level network signals, plus the interface they were taken from."""

    network: NetworkType = "none"
    metered: bool = False
    interface: str | None = None


def derive_signals(interfaces: Iterable[InterfaceState]) -> NetworkSignals:
    """``network`` / ``metered`` from interface states: best connected kind by :data:`PREFERENCE`.

    Ties within a kind go to the first name in sort order, so the result does not depend on the
    order interfaces were seen.
    """
    connected = sorted((i for i in interfaces if i.connected), key=lambda i: i.name)
    for network in PREFERENCE:
        for iface in connected:
            if iface.kind == network:
                return NetworkSignals(network, network == "cellular", iface.name)
    return NetworkSignals()


# --- sysfs ---------------------------------------------------------------------------------


def _read_attr(path: Path, *, einval_is_unknown: bool = False) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        if einval_is_unknown and exc.errno == errno.EINVAL:
            return None
        raise NetworkError(f"{path}: read failed: {exc.strerror or exc}") from exc


def _read_int(path: Path, *, base: int = 10) -> int | None:
    text = _read_attr(path)
    if text is None:
        return None
    try:
        return int(text, base)
    except ValueError:
        raise NetworkError(f"{path}: expected an integer, got {text[:40]!r}") from None


def _read_uevent(path: Path) -> dict[str, str]:
    text = _read_attr(path) or ""
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def _sysfs_facts(base: Path) -> InterfaceFacts:
    return InterfaceFacts(
        name=base.name,
        devtype=_read_uevent(base / "uevent").get("DEVTYPE"),
        arphrd=_read_int(base / "type"),
        wireless=(base / "wireless").is_dir() or (base / "phy80211").exists(),
        virtual=not (base / "device").exists(),
    )


def _sysfs_state(base: Path, kind: InterfaceKind) -> InterfaceState:
    operstate = (_read_attr(base / "operstate") or "unknown").lower()
    if operstate not in _OPERSTATES:
        raise NetworkError(f"{base / 'operstate'}: unknown operstate {operstate[:40]!r}")
    flags = _read_int(base / "flags", base=16)
    carrier_text = _read_attr(base / "carrier", einval_is_unknown=True)  # EINVAL when admin-down
    if carrier_text not in (None, "0", "1"):
        raise NetworkError(f"{base / 'carrier'}: expected 0 or 1, got {carrier_text[:40]!r}")
    return InterfaceState(
        name=base.name,
        kind=kind,
        operstate=operstate,
        admin_up=None if flags is None else bool(flags & IFF_UP),
        carrier=None if carrier_text is None else carrier_text == "1",
    )


def read_interfaces(*, root: Path = DEFAULT_NET_ROOT) -> tuple[InterfaceState, ...]:
    """Read every interface under ``root`` once, sorted by name.

    Raises:
        NetworkError: ``root`` is missing, or an attribute is unreadable / unparseable (names
            the file). ``carrier`` reading EINVAL (admin-down) is not an error: carrier unknown.
    """
    root = Path(root)
    try:
        entries = sorted(root.iterdir())
    except OSError as exc:
        raise NetworkError(f"{root}: cannot list interfaces: {exc.strerror or exc}") from exc
    states = []
    for base in entries:
        if base.is_dir():
            states.append(_sysfs_state(base, classify(_sysfs_facts(base))))
    return tuple(states)


def read_network(*, root: Path = DEFAULT_NET_ROOT) -> NetworkSignals:
    """The network signals from one sysfs read."""
    return derive_signals(read_interfaces(root=root))


# --- netlink -------------------------------------------------------------------------------


def _netlink_facts(msg: Any) -> InterfaceFacts:
    kind = msg.get(("linkinfo", "kind"))
    return InterfaceFacts(
        name=str(msg.get("ifname")),
        arphrd=int(msg["ifi_type"]),
        virtual=kind is not None,
        link_kind=None if kind is None else str(kind),
    )


def _netlink_state(msg: Any, kind: InterfaceKind) -> InterfaceState:
    flags = int(msg["flags"])
    carrier = msg.get("carrier")  # IFLA_CARRIER; older kernels: the IFF_LOWER_UP flag
    return InterfaceState(
        name=str(msg.get("ifname")),
        kind=kind,
        operstate=str(msg.get("operstate") or "unknown").lower(),
        admin_up=bool(flags & IFF_UP),
        carrier=bool(flags & IFF_LOWER_UP) if carrier is None else bool(carrier),
    )


class NetworkWatcher:
    """Follows netlink link events and reports the network signals whenever they change.

    Use inside the event loop::

        async with NetworkWatcher(on_change=print) as watcher:
            print(watcher.signals)   # initial state, from a netlink dump
            ...                      # on_change(NetworkSignals) on every change

    Args:
        on_change: called on the loop's thread with the new :class:`NetworkSignals`.
        on_error: called with a :class:`NetworkError` if the netlink socket fails; the watcher
            then stops and the caller should mark the network signals stale.
        netns: watch this named network namespace (``ip netns``) instead of our own.
        sysfs_root: where to read DEVTYPE / ``wireless/`` / ``device`` for our own namespace;
            None uses netlink facts only. Ignored when ``netns`` is given (module docstring).
    """

    def __init__(
        self,
        *,
        on_change: Callable[[NetworkSignals], None],
        on_error: Callable[[NetworkError], None] | None = None,
        netns: str | None = None,
        sysfs_root: Path | None = DEFAULT_NET_ROOT,
    ) -> None:
        self._on_change = on_change
        self._on_error = on_error
        self._netns = netns
        self._sysfs_root = None if netns is not None or sysfs_root is None else Path(sysfs_root)
        self._interfaces: dict[int, InterfaceState] = {}
        self._facts: dict[int, InterfaceFacts] = {}
        self._signals = NetworkSignals()
        self._ipr: Any = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def signals(self) -> NetworkSignals:
        """The current network signals."""
        return self._signals

    @property
    def interfaces(self) -> Mapping[str, InterfaceState]:
        """Current state of every interface, by name."""
        return {state.name: state for state in self._interfaces.values()}

    def _where(self) -> str:
        return f"network namespace {self._netns!r}" if self._netns else "this network namespace"

    async def start(self) -> NetworkSignals:
        """Subscribe to link events, read every link once, start following; return the signals.

        Raises:
            NetworkError: the namespace does not exist or netlink cannot be opened.
        """
        if self._task is not None:
            return self._signals
        try:
            # flags=0: never create the namespace, only enter an existing one
            self._ipr = AsyncIPRoute(netns=self._netns, flags=0)
            # Subscribe before the dump: events racing the dump queue up and are applied after
            # it; each is a complete link state, so the last one applied is the truth.
            await self._ipr.bind(groups=RTMGRP_LINK)
            async for msg in await self._ipr.link("dump"):
                self._apply(msg, notify=False)
        except Exception as exc:  # OSError, pyroute2's NetlinkError, thread-check RuntimeError
            self._close_socket()
            raise NetworkError(f"cannot watch links in {self._where()}: {exc}") from exc
        self._signals = derive_signals(self._interfaces.values())
        self._task = asyncio.create_task(self._follow(), name="wakebench-netlink")
        return self._signals

    async def _follow(self) -> None:
        try:
            while not self._closing:
                # get() yields the messages of one datagram, then returns (also on close)
                async for msg in self._ipr.get():
                    self._apply(msg, notify=True)
        except Exception as exc:  # a socket error, or on_change raising: stop and say why
            if self._closing:
                return
            error = NetworkError(f"netlink link events from {self._where()} failed: {exc!r}")
            self._close_socket()
            if self._on_error is not None:
                self._on_error(error)

    def _apply(self, msg: Any, *, notify: bool) -> None:
        event = msg.get("event")
        index = msg.get("index")
        if index is None or msg.get("ifname") is None:
            return
        if event == "RTM_DELLINK":
            self._interfaces.pop(index, None)
            self._facts.pop(index, None)
        elif event == "RTM_NEWLINK":
            facts = self._facts.get(index)
            if facts is None or facts.name != msg.get("ifname"):  # new, or renamed
                facts = self._facts_for(msg)
                self._facts[index] = facts
            self._interfaces[index] = _netlink_state(msg, classify(facts))
        else:
            return
        if notify:
            signals = derive_signals(self._interfaces.values())
            if signals != self._signals:
                self._signals = signals
                self._on_change(signals)

    def _facts_for(self, msg: Any) -> InterfaceFacts:
        facts = _netlink_facts(msg)
        if self._sysfs_root is None:
            return facts
        base = self._sysfs_root / facts.name
        try:
            if _read_int(base / "ifindex") != msg.get("index"):
                return facts  # not the same device (sysfs of another namespace, or gone)
            sysfs = _sysfs_facts(base)
        except NetworkError:
            return facts
        return replace(sysfs, virtual=sysfs.virtual or facts.virtual, link_kind=facts.link_kind)

    def _close_socket(self) -> None:
        if self._ipr is not None:
            with contextlib.suppress(Exception):  # closing a half-open socket may fail too
                self._ipr.close()
            self._ipr = None

    async def close(self) -> None:
        """Stop following and close the netlink socket. Safe to call twice."""
        self._closing = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._close_socket()

    async def __aenter__(self) -> NetworkWatcher:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
