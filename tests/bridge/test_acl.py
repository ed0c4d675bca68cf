"""`wakebench acl`: a Mosquitto ACL file confining each app to its own topics."""

from __future__ import annotations

import pytest

from mqtt_bridge import TopicError, render_acl
from wakebench.cli import main


def test_each_app_gets_only_its_subtree() -> None:
    text = render_acl("bench1", ["mail", "sync"])
    blocks = text.split("\n\n")
    rig = next(b for b in blocks if "user wakebench-bench1" in b)
    assert "topic readwrite wakebench/bench1/#" in rig
    assert "topic write homeassistant/device/wakebench_bench1/config" in rig
    mail = next(b for b in blocks if "\nuser mail\n" in b)
    assert "topic write wakebench/bench1/apps/mail/request/#" in mail
    assert "topic read wakebench/bench1/apps/mail/#" in mail
    assert "sync" not in mail.split("\n", 1)[1]
    assert "readwrite" not in mail


def test_bad_ids_are_refused() -> None:
    with pytest.raises(TopicError):
        render_acl("bench1", ["Mail"])
    with pytest.raises(TopicError):
        render_acl("bench 1", ["mail"])
    with pytest.raises(ValueError, match="twice"):
        render_acl("bench1", ["mail", "mail"])


def test_cli_prints_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["acl", "--rig", "bench1", "--app", "mail", "--app", "sync", "--rig-user", "rigsvc"]) == 0
    out = capsys.readouterr().out
    assert out == render_acl("bench1", ["mail", "sync"], rig_user="rigsvc")
    assert "user rigsvc" in out


def test_cli_bad_app_exits_2_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["acl", "--rig", "bench1", "--app", "Mail"]) == 2
    assert "app id must match" in capsys.readouterr().err


def test_the_safe_listener_settings_are_impossible_to_miss(capsys: pytest.CaptureFixture[str]) -> None:
    """Issue #11: without use_username_as_clientid an app can take over another's client id."""
    text = render_acl("bench1", ["mail"])
    head = text.split("\nuser ", 1)[0]
    assert "REQUIRED" in head and "use_username_as_clientid true" in head
    assert "allow_anonymous false" in head and "per_listener_settings true" in head
    assert main(["acl", "--rig", "bench1", "--app", "mail"]) == 0
    err = capsys.readouterr().err
    assert "use_username_as_clientid true" in err and "allow_anonymous false" in err
