"""Placeholder: the android policy is being written (issue 2)."""

from __future__ import annotations

from dataclasses import dataclass

from firmware_sim.limits import Limits
from firmware_sim.policy import Policy


@dataclass(frozen=True)
class _Limits(Limits):
    pass


class AndroidPolicy(Policy):
    platform = "android"
    limits_type = _Limits
