"""`sync-users`: the secondary pool gets the primary's missing users, once."""

from __future__ import annotations

import json


def attributes(user):
    return {a["Name"]: a["Value"] for a in user["Attributes"] if a["Name"] in ("email", "email_verified")}


def test_sync_users_creates_every_missing_user_across_pages(ops, world):
    for i in range(65):  # more than one ListUsers page (60)
        world.add_user("primary", f"user{i:02d}", f"user{i:02d}@example.com")
    result = ops("sync-users", "--suppress-invite", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["created"]) == 65 and data["skipped"] == 0
    copied = world.users("secondary")
    assert sorted(copied) == [f"user{i:02d}" for i in range(65)]
    assert attributes(copied["user64"]) == {"email": "user64@example.com", "email_verified": "true"}
    assert "created 65, skipped 0 (already in the secondary pool), 0 only in the secondary pool" in result.stderr


def test_sync_users_is_idempotent(ops, world):
    for name in ("ana", "bo"):
        world.add_user("primary", name, f"{name}@example.com")
    assert ops("sync-users", "--suppress-invite").exit_code == 0
    again = ops("sync-users", "--suppress-invite", "--json")
    assert again.exit_code == 0
    assert json.loads(again.stdout)["created"] == [] and json.loads(again.stdout)["skipped"] == 2
    assert sorted(world.users("secondary")) == ["ana", "bo"]


def test_sync_users_dry_run_creates_nothing(ops, world):
    world.add_user("primary", "ana", "ana@example.com")
    world.add_user("primary", "bo", "bo@example.com")
    world.add_user("secondary", "bo", "bo@example.com")
    world.add_user("secondary", "zed", "zed@example.com")
    result = ops("sync-users", "--dry-run")
    assert result.exit_code == 0
    assert result.stderr.startswith("would create 1, skipped 1 (already in the secondary pool), 1 only in the "
                                    "secondary pool (left alone)\nwould create: ana\n")
    assert sorted(world.users("secondary")) == ["bo", "zed"]


def test_sync_users_keeps_disabled_users_disabled_and_leaves_extra_users(ops, world):
    world.add_user("primary", "gone", "gone@example.com", enabled=False)
    world.add_user("secondary", "zed", "zed@example.com")
    assert ops("sync-users", "--suppress-invite").exit_code == 0
    users = world.users("secondary")
    assert users["gone"]["Enabled"] is False
    assert "zed" in users


def test_sync_users_reports_users_that_get_no_invitation(ops, world):
    world.add_user("primary", "noemail")
    world.add_user("primary", "ana", "ana@example.com")
    result = ops("sync-users", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["withoutInvite"] == ["noemail"]
    assert "no invitation for 1 user(s) without an e-mail address: noemail" in result.stderr
    assert sorted(world.users("secondary")) == ["ana", "noemail"]


def sign_in_once(world, role: str, username: str) -> None:
    """The user chose their own password: no longer FORCE_CHANGE_PASSWORD."""
    world.cognito(role).admin_set_user_password(UserPoolId=world.pool(role), Username=username,
                                                Password="Chosen-Password-1!", Permanent=True)


def test_resend_renews_the_invitation_of_copied_users_who_never_signed_in_there(ops, world, monkeypatch):
    for name in ("ana", "bo", "cy"):
        world.add_user("primary", name, f"{name}@example.com")
    world.add_user("primary", "nomail")
    assert ops("sync-users", "--suppress-invite").exit_code == 0
    sign_in_once(world, "secondary", "bo")
    sent = []
    real = world.factory.client(world.factory.stack_target("prod"), "cognito-idp", world.secondary)
    original = real.admin_create_user
    monkeypatch.setattr(real, "admin_create_user", lambda **kw: (sent.append(kw), original(**kw))[1])
    result = ops("sync-users", "--resend", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["resent"] == ["ana", "cy"] and data["withoutInvite"] == ["nomail"]
    assert [(k["Username"], k["MessageAction"], k["DesiredDeliveryMediums"]) for k in sent] == [
        ("ana", "RESEND", ["EMAIL"]), ("cy", "RESEND", ["EMAIL"])]
    assert "resent 2 invitation(s)" in result.stderr


def test_resend_dry_run_sends_nothing(ops, world):
    world.add_user("primary", "ana", "ana@example.com")
    assert ops("sync-users", "--suppress-invite").exit_code == 0
    result = ops("sync-users", "--resend", "--dry-run", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["resent"] == ["ana"]
    assert "would resend 1 invitation(s)" in result.stderr


def test_resend_with_suppress_invite_is_a_usage_error(ops, world):
    result = ops("sync-users", "--resend", "--suppress-invite")
    assert result.exit_code == 2
    assert result.stderr == "error: --resend sends invitations, --suppress-invite sends none: choose one\n"


def test_sync_users_refuses_usernames_the_app_cannot_use_by_name_and_copies_the_others(ops, world):
    for name in ("ana", "Bob", "eve/x", "-dash", "x" * 65, "ok.name_1-2"):
        world.add_user("primary", name, "someone@example.com")
    for args in (["--dry-run"], []):
        result = ops("sync-users", "--suppress-invite", "--json", *args)
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output
        data = json.loads(result.stdout)
        assert sorted(data["refused"]) == sorted(["Bob", "eve/x", "-dash", "x" * 65])
        assert "refused: username 'eve/x' does not match ^[a-z0-9][a-z0-9._-]{0,63}$" in result.stderr
        assert "4 user(s) of the primary pool have usernames the app cannot use" in result.stderr
    assert sorted(world.users("secondary")) == ["ana", "ok.name_1-2"]  # the valid ones, once (not the dry run)


def test_sync_users_with_only_valid_usernames_refuses_nothing(ops, world):
    world.add_user("primary", "ana", "ana@example.com")
    result = ops("sync-users", "--suppress-invite", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["refused"] == {}
