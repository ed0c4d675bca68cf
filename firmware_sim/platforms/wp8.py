"""Placeholder: the wp8 policy is being written (issue 2)."""

from __future__ import annotations

from dataclasses import dataclass

from firmware_sim.limits import Limits
from firmware_sim.policy import Policy


@dataclass(frozen=True)
class _Limits(Limits):
    pass


class WP8Policy(Policy):
    platform = "wp8"
    limits_type = _Limits
