"""The platform policies, by platform name. Adding a platform = adding a module here."""

from __future__ import annotations

from typing import Final

from firmware_sim.platforms.android import AndroidPolicy
from firmware_sim.platforms.capacitor import CapacitorPolicy
from firmware_sim.platforms.harmonyos import HarmonyOSPolicy
from firmware_sim.platforms.ios import IOSPolicy
from firmware_sim.platforms.uwp import UWPPolicy
from firmware_sim.platforms.wp8 import WP8Policy
from firmware_sim.policy import Policy

POLICIES: Final[dict[str, type[Policy]]] = {
    "capacitor": CapacitorPolicy,
    "ios": IOSPolicy,
    "uwp": UWPPolicy,
    "wp8": WP8Policy,
    "harmonyos": HarmonyOSPolicy,
    "android": AndroidPolicy,
}

__all__ = ["POLICIES"]
