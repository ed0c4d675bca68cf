"""NetworkWatcher against real netlink, in a private network namespace per test.

Each test gets ``wbtest-<random>`` with veth pairs named like a Pi's interfaces (``wlan0``,
``wwan0``, ``eth0``; their peers ``peer-*`` are up so carrier follows the named end). Links
change with ``ip -n NS link set ...`` exactly as a user would, and the watcher must report the
new network signals within the latency budget. Skipped where namespaces cannot be created.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from hal.errors import NetworkError
from hal.network import NetworkSignals, NetworkWatcher

pytestmark = pytest.mark.netns

#: issue 3: "checks the HAL reports the change within 100 ms"
LATENCY_BUDGET = 0.1  # s, from launching `ip` to the on_change callback
WAIT = 2.0  # s; how long to wait before calling it a failure (the budget is asserted apart)

INTERFACES = ("wlan0", "wwan0", "eth0")


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=False)


@pytest.fixture
def netns() -> Iterator[str]:
    if shutil.which("ip") is None:
        pytest.skip("iproute2 `ip` is not installed")
    if os.geteuid() != 0:
        pytest.skip("creating network namespaces needs root")
    name = f"wbtest-{secrets.token_hex(4)}"
    added = _ip("netns", "add", name)
    if added.returncode != 0:
        pytest.skip(f"cannot create a network namespace: {added.stderr.strip()}")
    try:
        for ifname in INTERFACES:
            for args in (
                ("link", "add", ifname, "type", "veth", "peer", "name", f"peer-{ifname}"),
                ("link", "set", f"peer-{ifname}", "up"),
            ):
                done = _ip("-n", name, *args)
                assert done.returncode == 0, done.stderr
        yield name
    finally:
        _ip("netns", "del", name)


class Changes:
    """on_change target: every reported NetworkSignals with the loop time it arrived."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[float, NetworkSignals]] = asyncio.Queue()

    def __call__(self, signals: NetworkSignals) -> None:
        self.queue.put_nowait((asyncio.get_running_loop().time(), signals))


Watched = tuple[str, NetworkWatcher, Changes]


@pytest.fixture
async def watched(netns: str) -> AsyncIterator[Watched]:
    changes = Changes()
    watcher = NetworkWatcher(on_change=changes, netns=netns)
    await watcher.start()
    yield netns, watcher, changes
    await watcher.close()


async def change(
    ns: str, changes: Changes, *args: str
) -> tuple[NetworkSignals, float]:
    """Run ``ip -n ns *args``; return the next reported signals and the latency since launch."""
    loop = asyncio.get_running_loop()
    launched = loop.time()
    proc = await asyncio.create_subprocess_exec(
        "ip", "-n", ns, *args, stderr=asyncio.subprocess.PIPE
    )
    try:
        arrived, signals = await asyncio.wait_for(changes.queue.get(), timeout=WAIT)
    finally:
        _, stderr = await proc.communicate()
    assert proc.returncode == 0, stderr
    return signals, arrived - launched


async def test_fresh_namespace_has_no_network_and_classifies_by_name(watched: Watched) -> None:
    _, watcher, changes = watched
    assert watcher.signals == NetworkSignals("none", False, None)
    kinds = {name: state.kind for name, state in watcher.interfaces.items()}
    assert kinds == {
        "lo": "ignore",
        "wlan0": "wifi", "peer-wlan0": "ignore",
        "wwan0": "cellular", "peer-wwan0": "ignore",
        "eth0": "ethernet", "peer-eth0": "ignore",
    }
    assert changes.queue.empty()


async def test_bringing_wlan0_up_reports_wifi_within_100_ms(watched: Watched) -> None:
    ns, watcher, changes = watched
    signals, latency = await change(ns, changes, "link", "set", "wlan0", "up")
    assert signals == NetworkSignals("wifi", False, "wlan0")
    assert latency < LATENCY_BUDGET, f"{latency * 1000:.1f} ms"
    assert watcher.signals == signals


async def test_losing_wifi_with_the_modem_up_falls_back_to_metered_cellular(watched: Watched) -> None:
    ns, _, changes = watched
    signals, latency = await change(ns, changes, "link", "set", "wwan0", "up")
    assert signals == NetworkSignals("cellular", True, "wwan0")
    assert latency < LATENCY_BUDGET, f"{latency * 1000:.1f} ms"
    signals, latency = await change(ns, changes, "link", "set", "wlan0", "up")
    assert signals == NetworkSignals("wifi", False, "wlan0")  # Wi-Fi preferred, not metered
    assert latency < LATENCY_BUDGET, f"{latency * 1000:.1f} ms"
    signals, latency = await change(ns, changes, "link", "set", "wlan0", "down")
    assert signals == NetworkSignals("cellular", True, "wwan0")
    assert latency < LATENCY_BUDGET, f"{latency * 1000:.1f} ms"
    signals, latency = await change(ns, changes, "link", "set", "wwan0", "down")
    assert signals == NetworkSignals("none", False, None)
    assert latency < LATENCY_BUDGET, f"{latency * 1000:.1f} ms"


async def test_ethernet_is_preferred_over_wifi(watched: Watched) -> None:
    ns, _, changes = watched
    await change(ns, changes, "link", "set", "wlan0", "up")
    signals, latency = await change(ns, changes, "link", "set", "eth0", "up")
    assert signals == NetworkSignals("ethernet", False, "eth0")
    assert latency < LATENCY_BUDGET, f"{latency * 1000:.1f} ms"


async def test_carrier_loss_while_admin_up_reports_no_network(watched: Watched) -> None:
    # the far end going down is "cable pulled" / "AP gone": wlan0 stays admin-up, loses carrier
    ns, watcher, changes = watched
    await change(ns, changes, "link", "set", "wlan0", "up")
    signals, latency = await change(ns, changes, "link", "set", "peer-wlan0", "down")
    assert signals == NetworkSignals("none", False, None)
    assert latency < LATENCY_BUDGET, f"{latency * 1000:.1f} ms"
    wlan0 = watcher.interfaces["wlan0"]
    assert (wlan0.admin_up, wlan0.carrier) == (True, False)


async def test_removed_interface_is_forgotten(watched: Watched) -> None:
    ns, watcher, changes = watched
    await change(ns, changes, "link", "set", "wwan0", "up")
    signals, latency = await change(ns, changes, "link", "del", "wwan0")
    assert signals == NetworkSignals("none", False, None)
    assert latency < LATENCY_BUDGET, f"{latency * 1000:.1f} ms"
    assert "wwan0" not in watcher.interfaces


async def test_renamed_interface_is_classified_again(watched: Watched) -> None:
    ns, watcher, changes = watched
    assert _ip("-n", ns, "link", "set", "eth0", "name", "wlan1").returncode == 0
    signals, _ = await change(ns, changes, "link", "set", "wlan1", "up")
    assert signals == NetworkSignals("wifi", False, "wlan1")
    assert watcher.interfaces["wlan1"].kind == "wifi"


async def test_a_failing_callback_stops_the_watcher_and_reports_an_error(netns: str) -> None:
    errors: asyncio.Queue[NetworkError] = asyncio.Queue()

    def broken(signals: NetworkSignals) -> None:
        raise ValueError("dashboard is down")

    watcher = NetworkWatcher(on_change=broken, on_error=errors.put_nowait, netns=netns)
    await watcher.start()
    assert _ip("-n", netns, "link", "set", "wlan0", "up").returncode == 0
    error = await asyncio.wait_for(errors.get(), timeout=WAIT)
    assert netns in str(error) and "dashboard is down" in str(error)
    await watcher.close()
    await watcher.close()


async def test_missing_namespace_is_a_network_error() -> None:
    watcher = NetworkWatcher(on_change=lambda s: None, netns=f"wbtest-absent-{secrets.token_hex(4)}")
    with pytest.raises(NetworkError, match="cannot watch links in network namespace 'wbtest-absent"):
        await watcher.start()


def test_sysfs_inside_the_namespace_reads_admin_down_carrier_as_unknown(netns: str) -> None:
    # `ip netns exec` mounts the namespace's own sysfs; there `carrier` of an admin-down veth
    # really returns EINVAL (reference section 5), which the reader must take as "unknown".
    assert _ip("-n", netns, "link", "set", "wwan0", "up").returncode == 0
    script = (
        "import json; from hal.network import read_interfaces, read_network; "
        "print(json.dumps([[s.name, s.kind, s.operstate, s.admin_up, s.carrier] "
        "for s in read_interfaces()] + [read_network().network]))"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        ["ip", "netns", "exec", netns, sys.executable, "-c", script],
        capture_output=True, text=True, check=False, cwd=root, timeout=30,
    )
    assert done.returncode == 0, done.stderr
    *states, network = json.loads(done.stdout)
    by_name = {name: rest for name, *rest in states}
    assert by_name["wlan0"] == ["wifi", "down", False, None]  # EINVAL → carrier unknown
    assert by_name["wwan0"] == ["cellular", "up", True, True]
    assert by_name["peer-wlan0"][0] == "ignore"  # virtual, no device link, no real name
    assert network == "cellular"


async def test_in_our_own_namespace_sysfs_facts_refine_netlink_when_the_index_matches(
    tmp_path: Path,
) -> None:
    # netlink has no DEVTYPE; in our own namespace the watcher reads it from sysfs, but only for
    # the device whose ifindex matches (sysfs may show another namespace's interfaces).
    names = [name for _, name in socket.if_nameindex() if name != "lo"]
    if not names:
        pytest.skip("this namespace has no interface besides lo")
    name = names[0]
    kinds = []
    for tree, ifindex in (("right", socket.if_nametoindex(name)), ("wrong", 10**6)):
        base = tmp_path / tree / name
        base.mkdir(parents=True)
        (base / "ifindex").write_text(f"{ifindex}\n")
        (base / "uevent").write_text(f"INTERFACE={name}\nDEVTYPE=wwan\n")
        (base / "device").mkdir()
        async with NetworkWatcher(on_change=lambda s: None, sysfs_root=tmp_path / tree) as w:
            kinds.append(w.interfaces[name].kind)
    assert kinds[0] == "cellular"  # DEVTYPE=wwan from sysfs
    assert kinds[1] != "cellular" or name.startswith(("ww", "ppp"))  # not trusted: netlink only
