"""The monkey-patches of `patches.py` still fit the library they patch.

A new moto may rename or reshape what we replace; these tests fail first, by name, so that a
version bump is a reviewed change (re-read each patch against the new code, then move the pin)
and never a strange failure far away.
"""

from __future__ import annotations

import inspect
import re
from importlib.metadata import version
from pathlib import Path

import pytest

import patches

ROOT = Path(__file__).resolve().parent.parent


def pinned_in_constraints(package: str) -> str:
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        match = re.match(rf"^{re.escape(package)}==(\S+)$", line.strip(), re.IGNORECASE)
        if match:
            return match[1]
    raise AssertionError(f"{package} is not pinned in constraints.txt")


@pytest.mark.parametrize("package", sorted(patches.PINNED))
def test_the_installed_version_is_the_one_the_patches_were_written_for(package: str) -> None:
    installed, pinned = version(package), patches.PINNED[package]
    assert installed == pinned, (
        f"{package} {installed} is installed but patches.py was written against {pinned}: re-read every patch of "
        f"the '{package}' section against the new code, then update patches.PINNED"
    )
    assert pinned_in_constraints(package) == pinned, f"constraints.txt pins another {package} than patches.PINNED"


@pytest.mark.parametrize("purpose", sorted(patches.MOTO_TARGETS))
def test_every_patched_moto_attribute_still_exists_on_its_class(purpose: str) -> None:
    owner, name = patches.MOTO_TARGETS[purpose]
    assert name in owner.__dict__, f"moto's {owner.__name__}.{name} ({purpose}) is gone: patches.py must follow"


# The parameters each patch relies on (bound by name or passed through positionally).
EXPECTED_PARAMETERS = {
    "s3 put_object": ["self", "bucket_name", "key_name", "value"],
    "s3 delete_object": ["self", "bucket_name", "key_name", "version_id"],
    "s3 put_object_tagging": ["self", "key", "tags"],
    "s3 delete_object_tagging": ["self", "bucket_name", "key_name", "version_id"],
    "s3 bucket policy check": ["self", "action", "resource"],
    "dynamodb stream record": ["self", "old", "new"],
    "cognito lookup by client id": ["self", "client_id"],
}


@pytest.mark.parametrize("purpose", sorted(EXPECTED_PARAMETERS))
def test_patched_methods_keep_the_parameters_the_patches_use(purpose: str) -> None:
    owner, name = patches.MOTO_TARGETS[purpose]
    parameters = list(inspect.signature(owner.__dict__[name]).parameters)
    expected = EXPECTED_PARAMETERS[purpose]
    assert parameters[: len(expected)] == expected, f"{owner.__name__}.{name} now takes {parameters}"


def test_the_object_headers_patch_wraps_a_property() -> None:
    owner, name = patches.MOTO_TARGETS["s3 object response headers"]
    assert isinstance(owner.__dict__[name], property)


def test_patches_are_reversible() -> None:
    owner, name = patches.MOTO_TARGETS["s3 bucket policy check"]
    original = owner.__dict__[name]
    applied = patches.Patches()
    patches.ignore_s3_bucket_policies(applied)
    assert owner.__dict__[name] is not original
    applied.restore()
    assert owner.__dict__[name] is original
