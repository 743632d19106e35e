"""ops/README.md states the contract's owner rules as they are (finding 12 of the security review)."""

from __future__ import annotations

import re

from components.contract import OWNER_CLAIM, OWNER_TAG, USERNAME_PATTERN
from ops.factory import ROOT

README = (ROOT / "ops" / "README.md").read_text()


def test_ops_readme_says_the_owner_is_the_user_pool_username_not_an_identity_id() -> None:
    assert "The owner of a photo or comment is the author's **user-pool username**" in README
    assert f"`{OWNER_CLAIM}`" in README and f"session tag `{OWNER_TAG}`" in README
    assert f"`{USERNAME_PATTERN}`" in README  # the pattern sync-users enforces, as the contract defines it
    # The reviewer's stale sentence: the identity-pool id named as the photo owner.
    assert not re.search(r"identity-pool id[^.]*\(photo `owner`\)", README)
    assert "is never the owner" in README
