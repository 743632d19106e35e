"""`.sandbox/session.json` holds the operator's keys, the control token and the demo password: nobody but its
owner may read it, not even for the instant between writing it and a later chmod."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from sandbox.up import Sandbox

SECRETS = {"operator": {"secretAccessKey": "s3cret"}, "controlToken": "t0ken"}


@pytest.fixture()
def permissive_umask(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """umask 0 (a plain open() creates 0666) and no chmod afterwards: only the mode a file is created with counts."""
    monkeypatch.setattr(os, "chmod", lambda *_args, **_kwargs: None)
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def write(path: Path) -> Path:
    return Sandbox.write_session(SimpleNamespace(session=lambda: SECRETS), path)  # type: ignore[arg-type]


def test_the_session_file_is_created_owner_only(tmp_path: Path, permissive_umask: None) -> None:
    path = write(tmp_path / ".sandbox" / "session.json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == SECRETS
    assert not path.with_suffix(".tmp").exists()


def test_a_leftover_world_readable_temporary_file_is_not_reused(tmp_path: Path, permissive_umask: None) -> None:
    path = tmp_path / "session.json"
    leftover = path.with_suffix(".tmp")
    leftover.write_text("{}")  # created 0666 under this umask
    assert stat.S_IMODE(leftover.stat().st_mode) & 0o044
    write(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
