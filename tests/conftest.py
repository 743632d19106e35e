"""Shared fixtures: the program run once under mocks with Pulumi.prod.yaml's config."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from harness.fake_cloud import FakeCloud  # noqa: E402
from harness.program import ProgramRun, run_program, stack_config  # noqa: E402

PRIMARY, SECONDARY = "us-east-1", "ap-northeast-1"


def run_with(overrides: Mapping[str, str] | None = None, **kw: str) -> ProgramRun:
    """Run the program with Pulumi.prod.yaml's config plus overrides: project keys
    without prefix (retainData="false"); "aws:region" keeps its namespace."""
    config = stack_config("prod")
    for key, value in {**(overrides or {}), **kw}.items():
        config[key if ":" in key else f"multi-region-app:{key}"] = value
    return run_program(FakeCloud(), config)


@pytest.fixture(scope="session")
def prod() -> ProgramRun:
    """The program as `pulumi up` would run it with only Pulumi.prod.yaml's config (the hardened profile)."""
    return run_program(FakeCloud(), stack_config("prod"))


@pytest.fixture(scope="session")
def run_config() -> Callable[..., ProgramRun]:
    return run_with


@pytest.fixture(scope="session")
def baseline() -> ProgramRun:
    """Pulumi.prod.yaml with the cheap profile (a dev stack): no WAF, no customer managed keys, no access logs."""
    return run_with(securityProfile="baseline")
