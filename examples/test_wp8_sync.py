"""Example: test an app prototype's background sync against a wakebench rig.

Run it with ``.venv/bin/python -m pytest examples/`` (a sim rig with an embedded broker is
started per test), or against a running rig::

    .venv/bin/python -m pytest examples/ --wakebench-broker mqtt://127.0.0.1:PORT --wakebench-rig bench
"""

import pytest


@pytest.mark.asyncio
async def test_resource_intensive_sync_is_revoked_when_the_charger_goes(wakebench_rig, wakebench_app):
    # WP8 runs a resource-intensive agent only on external power, screen locked, battery >= 90 %
    await wakebench_rig.set(charger="ac", screen_locked=True, battery_level=95)
    mail = await wakebench_app("mail", platform="wp8")
    task = await mail.request("add", name="sync", type="resource_intensive")
    assert task["name"] == "sync"
    await mail.expect("wake", task_id="sync", within="1s")

    await wakebench_rig.set(charger="none")
    revoke = await mail.expect("revoke", task_id="sync", reason="charger_removed", within="1s")
    assert revoke["signals"]["charger"] == "none"


@pytest.mark.asyncio
async def test_capacitor_before_exit_answers_with_its_budget(wakebench_rig, wakebench_app):
    upload = await wakebench_app("upload", platform="capacitor")
    task = await upload.request("before_exit")
    await upload.expect("wake", task_id=task["task_id"], within="1s")
    await upload.request("finish", task_id=task["task_id"])
