"""Placeholder: the ios policy is being written (issue 2)."""

from __future__ import annotations

from dataclasses import dataclass

from firmware_sim.limits import Limits
from firmware_sim.policy import Policy


@dataclass(frozen=True)
class _Limits(Limits):
    pass


class IOSPolicy(Policy):
    platform = "ios"
    limits_type = _Limits
