"""`python -m sandbox up --allow-origin`: which extra browser origins (a dev server) the sandbox answers."""

from __future__ import annotations

import pytest

from sandbox.__main__ import EXIT_USAGE, parser


def test_allow_origin_is_repeatable_and_defaults_to_none() -> None:
    assert parser().parse_args(["up"]).allow_origin == []
    args = parser().parse_args(["up", "--allow-origin", "http://localhost:5173", "--allow-origin", "https://dev.test"])
    assert args.allow_origin == ["http://localhost:5173", "https://dev.test"]


@pytest.mark.parametrize("origin", ["localhost:5173", "http://localhost:5173/app", "*", "javascript:alert(1)"])
def test_allow_origin_refuses_anything_but_an_origin(origin: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parser().parse_args(["up", "--allow-origin", origin])
    assert exit_.value.code == EXIT_USAGE
    assert "not an origin" in capsys.readouterr().err
