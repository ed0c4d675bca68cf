"""`wakebench acl --rig ID --app A [--app B ...]`: print a Mosquitto ACL file for a rig.

Each app (user name = client id = app id) may only send its own requests and read its own
responses, events and task states; the rig's own user gets the rig's base topic.
"""

from __future__ import annotations

import argparse
import sys

from mqtt_bridge.acl import SAFE_LISTENER_SETTINGS, default_rig_user, render_acl
from mqtt_bridge.errors import TopicError
from mqtt_bridge.topics import DEFAULT_HA_PREFIX, DEFAULT_PREFIX


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--rig``, ``--app`` (repeatable), ``--rig-user``, ``--prefix``, ``--ha-prefix``."""
    parser.add_argument("--rig", required=True, help="rig id ([a-z0-9_-])")
    parser.add_argument("--app", dest="apps", action="append", required=True, metavar="APP",
                        help="app id to confine (repeat for each app)")
    parser.add_argument("--rig-user", help="user name of the rig's bridge (default wakebench-<rig>)")
    parser.add_argument("--prefix", default=DEFAULT_PREFIX, help=f"base topic prefix (default {DEFAULT_PREFIX})")
    parser.add_argument("--ha-prefix", default=DEFAULT_HA_PREFIX,
                        help=f"Home Assistant discovery prefix (default {DEFAULT_HA_PREFIX})")


def run(args: argparse.Namespace) -> int:
    """Print the ACL; exit 2 with a message for a bad id."""
    try:
        rig_user = args.rig_user or default_rig_user(args.rig)
        text = render_acl(args.rig, args.apps, rig_user=rig_user, prefix=args.prefix, ha_prefix=args.ha_prefix)
    except (TopicError, ValueError) as exc:
        print(f"wakebench acl: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    print("wakebench acl: the listener using this file needs:\n  "
          + "\n  ".join(line.split("  #")[0].rstrip() for line in SAFE_LISTENER_SETTINGS), file=sys.stderr)
    return 0
