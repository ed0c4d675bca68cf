"""Network classification and signals, on fake /sys/class/net trees (reference section 5).

Reference: "`operstate` ∈ unknown/notpresent/down/lowerlayerdown/testing/dormant/up; `carrier`
0/1 but read returns EINVAL when the iface is admin-down; `type` = ARPHRD (1 ether incl.
wlan/usb0/cdc_ether, 512 PPP, 519 RAWIP, 65534 NONE); `uevent` DEVTYPE=wlan / DEVTYPE=wwan;
`/sys/class/net/<if>/wireless/` or `phy80211/` exists for Wi-Fi."
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hal.errors import HalError, NetworkError
from hal.network import (
    InterfaceFacts,
    InterfaceState,
    NetworkSignals,
    classify,
    derive_signals,
    read_interfaces,
    read_network,
)


def iface(
    root: Path,
    name: str,
    *,
    arphrd: int = 1,
    devtype: str | None = None,
    operstate: str = "up",
    carrier: str | None = "1",
    flags: str = "0x1003",
    physical: bool = True,
    wireless: str | None = None,
) -> Path:
    """Create ``root/name`` the way net-sysfs shows an interface."""
    base = root / name
    base.mkdir(parents=True)
    uevent = f"INTERFACE={name}\nIFINDEX=2\n" + (f"DEVTYPE={devtype}\n" if devtype else "")
    (base / "uevent").write_text(uevent)
    (base / "type").write_text(f"{arphrd}\n")
    (base / "operstate").write_text(f"{operstate}\n")
    (base / "flags").write_text(f"{flags}\n")
    if carrier is not None:
        (base / "carrier").write_text(f"{carrier}\n")
    if physical:
        (base / "device").mkdir()
    if wireless:
        (base / wireless).mkdir()
    return base


# --- classify -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "kind"),
    [
        (InterfaceFacts("lo", arphrd=772), "ignore"),
        (InterfaceFacts("wlan0", devtype="wlan", arphrd=1), "wifi"),
        (InterfaceFacts("mlan0", arphrd=1, wireless=True), "wifi"),  # wireless/ dir, odd name
        (InterfaceFacts("usb0", devtype="wwan", arphrd=1), "cellular"),  # DEVTYPE beats the name
        (InterfaceFacts("wwan0", devtype="wwan", arphrd=65534), "cellular"),  # qmi_wwan raw-ip
        (InterfaceFacts("ppp0", arphrd=512, virtual=True), "cellular"),
        (InterfaceFacts("rmnet_data0", arphrd=519), "cellular"),
        (InterfaceFacts("bnep0", devtype="bluetooth", arphrd=1, virtual=True), "bluetooth"),
        (InterfaceFacts("eth0", arphrd=1), "ethernet"),
        (InterfaceFacts("end0", arphrd=1), "ethernet"),  # Pi 5 / newer RPi OS naming
        (InterfaceFacts("enx001122334455", arphrd=1), "ethernet"),
        (InterfaceFacts("usb0", arphrd=1), "ethernet"),  # gadget / HiLink: ambiguous, physical
        (InterfaceFacts("docker0", devtype="bridge", arphrd=1, virtual=True), "ignore"),
        (InterfaceFacts("virbr0", arphrd=1, virtual=True, link_kind="bridge"), "ignore"),
        (InterfaceFacts("veth1a2b3c", arphrd=1, virtual=True, link_kind="veth"), "ignore"),
        (InterfaceFacts("wg0", arphrd=65534, virtual=True, link_kind="wireguard"), "ignore"),
        (InterfaceFacts("tun0", arphrd=65534, virtual=True, link_kind="tun"), "ignore"),
        (InterfaceFacts("can0", arphrd=280), "ignore"),
    ],
    ids=lambda v: v if isinstance(v, str) else v.name,
)
def test_classify(facts: InterfaceFacts, kind: str) -> None:
    assert classify(facts) == kind


@pytest.mark.parametrize(
    ("name", "kind"),
    [("wlan0", "wifi"), ("wlp2s0", "wifi"), ("wwan0", "cellular"), ("wwp0s20u4", "cellular"),
     ("ppp0", "cellular"), ("eth1", "ethernet"), ("enp3s0", "ethernet"), ("bnep0", "bluetooth")],
)
def test_veth_named_like_a_real_interface_takes_the_name_heuristic(name: str, kind: str) -> None:
    # veth has no DEVTYPE; the netns tests and USB dongles rely on names.
    assert classify(InterfaceFacts(name, arphrd=1, virtual=True, link_kind="veth")) == kind


# --- connected ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "connected"),
    [
        (InterfaceState("eth0", "ethernet", "up", admin_up=True, carrier=True), True),
        (InterfaceState("eth0", "ethernet", "down", admin_up=True, carrier=False), False),
        (InterfaceState("eth0", "ethernet", "down", admin_up=False, carrier=None), False),
        # Wi-Fi associated, 802.1X not done yet: carrier on but dormant
        (InterfaceState("wlan0", "wifi", "dormant", admin_up=True, carrier=True), False),
        # ppp reports operstate unknown; carrier decides
        (InterfaceState("ppp0", "cellular", "unknown", admin_up=True, carrier=True), True),
        (InterfaceState("ppp0", "cellular", "unknown", admin_up=True, carrier=False), False),
        # carrier came first, operstate not updated yet (linkwatch lag)
        (InterfaceState("wlan0", "wifi", "lowerlayerdown", admin_up=True, carrier=True), True),
        (InterfaceState("eth0", "ethernet", "up", admin_up=None, carrier=None), True),
        (InterfaceState("eth0", "ethernet", "unknown", admin_up=None, carrier=None), False),
        (InterfaceState("eth0", "ethernet", "notpresent", admin_up=True, carrier=True), False),
        (InterfaceState("docker0", "ignore", "up", admin_up=True, carrier=True), False),
    ],
)
def test_connected(state: InterfaceState, connected: bool) -> None:
    assert state.connected is connected


# --- derive_signals -----------------------------------------------------------------------


def up(name: str, kind: str) -> InterfaceState:
    return InterfaceState(name, kind, "up", admin_up=True, carrier=True)  # type: ignore[arg-type]


def down(name: str, kind: str) -> InterfaceState:
    return InterfaceState(name, kind, "down", admin_up=False, carrier=None)  # type: ignore[arg-type]


def test_nothing_connected_is_network_none_and_not_metered() -> None:
    assert derive_signals([]) == NetworkSignals("none", False, None)
    assert derive_signals([down("wlan0", "wifi")]) == NetworkSignals("none", False, None)


def test_cellular_is_metered() -> None:
    # DESIGN.md section 2: "cellular ⇒ metered"
    assert derive_signals([up("wwan0", "cellular")]) == NetworkSignals("cellular", True, "wwan0")


@pytest.mark.parametrize(
    ("connected", "expected"),
    [
        (["ethernet", "wifi", "cellular", "bluetooth"], "ethernet"),
        (["wifi", "cellular", "bluetooth"], "wifi"),
        (["cellular", "bluetooth"], "cellular"),
        (["bluetooth"], "bluetooth"),
    ],
)
def test_preference_ethernet_over_wifi_over_cellular_over_bluetooth(
    connected: list[str], expected: str
) -> None:
    names = {"ethernet": "eth0", "wifi": "wlan0", "cellular": "wwan0", "bluetooth": "bnep0"}
    states = [up(names[k], k) for k in reversed(connected)]
    assert derive_signals(states).network == expected


def test_wifi_with_cellular_up_is_not_metered() -> None:
    signals = derive_signals([up("wwan0", "cellular"), up("wlan0", "wifi")])
    assert signals == NetworkSignals("wifi", False, "wlan0")


def test_same_kind_twice_picks_the_first_name_whatever_the_order() -> None:
    assert derive_signals([up("wlan1", "wifi"), up("wlan0", "wifi")]).interface == "wlan0"


# --- sysfs --------------------------------------------------------------------------------


def test_pi_with_wifi_up_and_ethernet_unplugged(tmp_path: Path) -> None:
    iface(tmp_path, "lo", arphrd=772, operstate="unknown", physical=False, flags="0x9")
    iface(tmp_path, "eth0", operstate="down", carrier="0")
    iface(tmp_path, "wlan0", devtype="wlan", wireless="wireless")
    states = {s.name: s for s in read_interfaces(root=tmp_path)}
    assert {n: s.kind for n, s in states.items()} == {
        "eth0": "ethernet", "lo": "ignore", "wlan0": "wifi",
    }
    assert states["eth0"].carrier is False
    assert read_network(root=tmp_path) == NetworkSignals("wifi", False, "wlan0")


def test_admin_down_interface_whose_carrier_reads_einval_is_disconnected(tmp_path: Path) -> None:
    # carrier is absent here; the real EINVAL read is exercised in test_network_netns.py
    iface(tmp_path, "eth0", operstate="down", carrier=None, flags="0x1002")
    (state,) = read_interfaces(root=tmp_path)
    assert (state.admin_up, state.carrier, state.connected) == (False, None, False)


def test_wifi_found_by_phy80211_link_without_devtype(tmp_path: Path) -> None:
    iface(tmp_path, "mlan0", wireless="phy80211")
    assert read_network(root=tmp_path).network == "wifi"


def test_qmi_modem_raw_ip_is_cellular_and_metered(tmp_path: Path) -> None:
    iface(tmp_path, "wwan0", arphrd=65534, devtype="wwan", operstate="unknown")
    assert read_network(root=tmp_path) == NetworkSignals("cellular", True, "wwan0")


def test_docker_bridge_up_is_not_a_network(tmp_path: Path) -> None:
    iface(tmp_path, "docker0", devtype="bridge", physical=False)
    iface(tmp_path, "veth0a1b2c", physical=False)
    assert read_network(root=tmp_path) == NetworkSignals()


def test_bluetooth_pan(tmp_path: Path) -> None:
    iface(tmp_path, "bnep0", devtype="bluetooth", physical=False)
    assert read_network(root=tmp_path).network == "bluetooth"


def test_missing_root_is_a_network_error(tmp_path: Path) -> None:
    with pytest.raises(NetworkError, match="absent: cannot list interfaces"):
        read_interfaces(root=tmp_path / "absent")


@pytest.mark.parametrize(
    ("attr", "text", "message"),
    [
        ("type", "ether", "type: expected an integer"),
        ("flags", "0xZZ", "flags: expected an integer"),
        ("carrier", "2", "carrier: expected 0 or 1"),
        ("operstate", "sideways", "operstate: unknown operstate"),
    ],
)
def test_unparseable_attribute_is_a_network_error_naming_the_file(
    tmp_path: Path, attr: str, text: str, message: str
) -> None:
    base = iface(tmp_path, "eth0")
    (base / attr).write_text(text)
    with pytest.raises(NetworkError, match=message) as info:
        read_interfaces(root=tmp_path)
    assert str(base / attr) in str(info.value)


def test_unreadable_attribute_is_a_network_error(tmp_path: Path) -> None:
    base = iface(tmp_path, "eth0")
    (base / "operstate").unlink()
    (base / "operstate").mkdir()  # EISDIR: not EINVAL, so an error
    with pytest.raises(NetworkError, match="operstate: read failed"):
        read_interfaces(root=tmp_path)


def test_network_error_is_a_hal_error() -> None:
    assert issubclass(NetworkError, HalError)
