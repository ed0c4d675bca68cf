"""Linux power_supply class read from fake sysfs trees (reference/pi-hardware.md section 3).

ABI: "`type` ∈ Battery/UPS/Mains/USB/Wireless; `status` ∈ Unknown/Charging/Discharging/Not
charging/Full; `capacity` 0–100; `voltage_now` µV; `current_now`/`current_avg` µA (negative =
discharging); `temp` 0.1 °C; `online` 0/1/2; `present`."
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hal.errors import HalError, SysfsError
from hal.power_supply import (
    PowerSupplyReading,
    PowerSupplySource,
    charger_from,
    read_supplies,
    read_supply,
)


def supply(root: Path, name: str, **attrs: str | int) -> Path:
    """Create ``root/name/`` with one file per attribute, as the kernel prints them."""
    base = root / name
    base.mkdir(parents=True)
    for attr, value in attrs.items():
        (base / attr).write_text(f"{value}\n")
    return base


def test_max17040_battery_without_supplier_reads_in_si_units(tmp_path: Path) -> None:
    # max17040_battery: psy "battery"; online, present, voltage_now, capacity, status
    # ("Unknown" without a supplier), no current_now.
    supply(tmp_path, "battery", type="Battery", status="Unknown", capacity=87,
           voltage_now=3987000, online=1, present=1)
    reading = read_supply("battery", root=tmp_path)
    assert reading == PowerSupplyReading(
        name="battery", type="Battery", status="Unknown", capacity=87.0, online=True,
        present=True, voltage=reading.voltage, current=None, temperature=None,
    )
    assert reading.voltage == pytest.approx(3.987)
    assert reading.charging is None  # Unknown status says nothing


def test_bq27441_discharging_current_is_negative_amps_and_temp_in_celsius(tmp_path: Path) -> None:
    supply(tmp_path, "bq27441-0", type="Battery", status="Discharging", capacity=64,
           voltage_now=3801000, current_now=-350000, temp=251)
    reading = read_supply("bq27441-0", root=tmp_path)
    assert reading.current == pytest.approx(-0.350)
    assert reading.temperature == pytest.approx(25.1)
    assert reading.charging is False


@pytest.mark.parametrize(
    ("status", "charging"),
    [("Charging", True), ("Discharging", False), ("Not charging", False), ("Full", False),
     ("Unknown", None)],
)
def test_charging_follows_status(tmp_path: Path, status: str, charging: bool | None) -> None:
    supply(tmp_path, "battery", type="Battery", status=status)
    assert read_supply("battery", root=tmp_path).charging is charging


def test_missing_attributes_are_none(tmp_path: Path) -> None:
    supply(tmp_path, "battery")
    assert read_supply("battery", root=tmp_path) == PowerSupplyReading(name="battery")


# --- charger ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "charger"),
    [("Mains", "ac"), ("USB", "usb"), ("Wireless", "wireless"), ("USB_DCP", "usb")],
)
def test_online_supplier_type_names_the_charger(tmp_path: Path, kind: str, charger: str) -> None:
    supply(tmp_path, "battery", type="Battery", status="Charging")
    supply(tmp_path, "charger", type=kind, online=1)
    snap = PowerSupplySource(root=tmp_path).read()
    assert snap.charger == charger
    assert snap.external_power is True
    assert snap.charging is True


def test_unplugged_suppliers_report_no_charger(tmp_path: Path) -> None:
    supply(tmp_path, "battery", type="Battery", status="Discharging")
    supply(tmp_path, "ac", type="Mains", online=0)
    supply(tmp_path, "usb", type="USB", online=0)
    snap = PowerSupplySource(root=tmp_path).read()
    assert (snap.charger, snap.external_power, snap.charging) == ("none", False, False)


def test_online_2_programmable_counts_as_online(tmp_path: Path) -> None:
    # ABI online: 0 offline, 1 online (fixed), 2 online (programmable)
    supply(tmp_path, "usb", type="USB", online=2)
    assert charger_from(read_supplies(root=tmp_path)) == "usb"


def test_mains_wins_when_mains_and_usb_are_both_online(tmp_path: Path) -> None:
    supply(tmp_path, "ac", type="Mains", online=1)
    supply(tmp_path, "usb", type="USB", online=1)
    assert charger_from(read_supplies(root=tmp_path)) == "ac"


def test_without_supplier_entries_the_charger_is_unknown(tmp_path: Path) -> None:
    supply(tmp_path, "battery", type="Battery", status="Full")
    snap = PowerSupplySource(root=tmp_path).read()
    assert snap.charger is None
    assert snap.external_power is None  # Full: plugged in or just unplugged, can't tell


@pytest.mark.parametrize(("status", "external"), [("Charging", True), ("Discharging", False)])
def test_without_supplier_the_battery_status_implies_the_plug(
    tmp_path: Path, status: str, external: bool
) -> None:
    supply(tmp_path, "battery", type="Battery", status=status)
    assert PowerSupplySource(root=tmp_path).read().external_power is external


def test_supplier_with_unreadable_online_leaves_the_charger_unknown(tmp_path: Path) -> None:
    supply(tmp_path, "ac", type="Mains")
    assert charger_from(read_supplies(root=tmp_path)) is None


def test_named_battery_is_chosen_among_several(tmp_path: Path) -> None:
    supply(tmp_path, "BAT0", type="Battery", capacity=10)
    supply(tmp_path, "cw2015-battery", type="Battery", capacity=55)
    named = PowerSupplySource(root=tmp_path, battery="cw2015-battery").read().battery
    first = PowerSupplySource(root=tmp_path).read().battery  # first Battery entry by name
    assert named is not None and named.capacity == 55
    assert first is not None and first.capacity == 10


def test_missing_named_battery_lists_what_exists(tmp_path: Path) -> None:
    supply(tmp_path, "BAT0", type="Battery")
    with pytest.raises(SysfsError, match=r"battery: no such power supply \(found: BAT0\)"):
        PowerSupplySource(root=tmp_path, battery="battery").read()


def test_missing_class_directory_reads_as_no_supplies(tmp_path: Path) -> None:
    snap = PowerSupplySource(root=tmp_path / "absent").read()
    assert snap.supplies == () and snap.battery is None and snap.charger is None


# --- bad input ----------------------------------------------------------------------------


def test_capacity_boundaries(tmp_path: Path) -> None:
    # ABI: capacity 0–100
    for name, value in (("low", 0), ("high", 100)):
        supply(tmp_path, name, capacity=value)
        assert read_supply(name, root=tmp_path).capacity == value
    for name, value in (("under", -1), ("over", 101)):
        supply(tmp_path, name, capacity=value)
        with pytest.raises(SysfsError, match=rf"{name}/capacity: expected an integer percentage"):
            read_supply(name, root=tmp_path)


@pytest.mark.parametrize(
    ("attr", "text"),
    [("voltage_now", "3.7V"), ("current_now", ""), ("temp", "hot"), ("status", "Charging fast"),
     ("type", "Nuclear"), ("online", "-1"), ("present", "yes")],
)
def test_unparseable_attribute_is_a_sysfs_error_naming_the_file(
    tmp_path: Path, attr: str, text: str
) -> None:
    base = supply(tmp_path, "battery")
    (base / attr).write_text(text + "\n")
    with pytest.raises(SysfsError, match=str(base / attr)):
        read_supply("battery", root=tmp_path)


def test_non_ascii_attribute_is_a_sysfs_error(tmp_path: Path) -> None:
    base = supply(tmp_path, "battery")
    (base / "status").write_bytes(b"\xff\xfe\n")
    with pytest.raises(SysfsError, match="status: not ASCII"):
        read_supply("battery", root=tmp_path)


def test_attribute_that_cannot_be_read_is_a_sysfs_error(tmp_path: Path) -> None:
    base = supply(tmp_path, "battery")
    (base / "voltage_now").mkdir()  # read fails with EISDIR, like EIO from a gauge off the bus
    with pytest.raises(SysfsError, match="voltage_now: read failed"):
        read_supply("battery", root=tmp_path)


def test_sysfs_error_is_a_hal_error_and_an_os_error() -> None:
    assert issubclass(SysfsError, HalError) and issubclass(SysfsError, OSError)
