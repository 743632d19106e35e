"""outputs / ui-config from a stack (fake pulumi CLI) or the sandbox session; deploy / destroy commands."""

from __future__ import annotations

import json

from components.contract import ui_config
from ops.factory import ROOT
from tests.ops.conftest import STACK, FakePulumi, WorldFactory

SELECT = ["stack", "select", "--stack", STACK]
HISTORY = ["stack", "history", "--json", "--show-secrets", "--page-size", "1", "--page", "1", "--stack", STACK]
OUTPUT = ["stack", "output", "--json", "--stack", STACK]
UP = ["up", "--yes", "--skip-preview", "--exec-kind", "auto.local", "--stack", STACK]
DESTROY = ["destroy", "--skip-preview", "--yes", "--exec-kind", "auto.local", "--stack", STACK]


def test_outputs_json_of_a_stack_come_from_the_automation_api(ops, world):
    result = ops("outputs", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == world.outputs
    assert world.pulumi.calls[:2] == [SELECT, OUTPUT]
    assert set(world.pulumi.cwds) == {str(ROOT)}  # the repo's program


def test_outputs_table_goes_to_stderr(ops, world):
    result = ops("outputs")
    assert result.exit_code == 0 and result.stdout == ""
    assert "primary.userPoolId" in result.stderr and world.outputs["appId"] in result.stderr


def test_outputs_of_the_sandbox_come_from_the_session_file(ops, world):
    session = world.session_file()
    result = ops("outputs", "--json", target=["--sandbox"], factory=WorldFactory(session_file=session))
    assert result.exit_code == 0
    assert json.loads(result.stdout) == world.outputs


def test_session_file_can_be_given_by_environment(ops, world, monkeypatch):
    monkeypatch.setenv("OPS_SESSION_FILE", str(world.session_file()))
    result = ops("outputs", "--json", target=["--sandbox"], factory=WorldFactory())
    assert result.exit_code == 0 and json.loads(result.stdout)["appId"] == world.outputs["appId"]


def test_ui_config_to_stdout_matches_the_contract(ops, world):
    result = ops("ui-config")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == ui_config(world.outputs)


def test_ui_config_to_a_file(ops, world, tmp_path):
    target = tmp_path / "uiConfig.json"
    result = ops("ui-config", "-o", str(target), target=["--sandbox"],
                 factory=WorldFactory(session_file=world.session_file()))
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(target.read_text()) == ui_config(world.outputs)
    assert result.stderr == f"wrote {target}\n"


def test_ui_config_of_an_undeployed_stack_is_a_config_error(ops, world):
    world.pulumi.outputs = {"appId": "x"}
    result = ops("ui-config")
    assert result.exit_code == 2
    assert result.stderr == (f"error: stack {STACK}: stack outputs lack primary, secondary: "
                             "is the stack deployed?\n")


def test_a_stack_without_outputs_is_a_config_error(ops, world):
    world.pulumi.outputs = {}
    result = ops("outputs")
    assert result.exit_code == 2
    assert result.stderr == (f"error: stack '{STACK}' has no outputs: deploy it first "
                             f"(python -m ops --stack {STACK} deploy)\n")


def test_an_unknown_stack_is_a_config_error(ops, world):
    result = ops("outputs", target=["--stack", "nope"])
    assert result.exit_code == 2
    assert result.stderr == "error: no such stack: check the name with `pulumi stack ls`\n"


def test_deploy_selects_the_stack_and_runs_up_streaming_to_stderr(ops, world):
    result = ops("deploy", "--json")
    assert result.exit_code == 0, result.output
    assert world.pulumi.calls == [SELECT, UP, OUTPUT, ["stack", "output", "--json", "--show-secrets", "--stack",
                                                       STACK], HISTORY]
    assert "up: progress line from pulumi" in result.stderr
    assert json.loads(result.stdout) == world.outputs


def test_deploy_creates_a_new_stack_with_its_regions(ops, world):
    result = ops("deploy", "--primary-region", "eu-west-1", "--secondary-region", "eu-central-1",
                 target=["--stack", "dev"])
    assert result.exit_code == 0, result.output
    assert world.pulumi.calls[:4] == [
        ["stack", "select", "--stack", "dev"],
        ["stack", "init", "dev"],
        ["config", "set", "aws:region", "--plaintext", "--stack", "dev", "--non-interactive", "--", "eu-west-1"],
        ["config", "set", "multi-region-app:secondaryRegion", "--plaintext", "--stack", "dev", "--non-interactive",
         "--", "eu-central-1"],
    ]
    assert world.pulumi.calls[4][0] == "up"


def test_a_failed_up_exits_1_with_pulumis_last_line(ops, world):
    world.pulumi.fail_on = "up"
    result = ops("deploy")
    assert result.exit_code == 1
    assert result.stderr.endswith("error: pulumi failed: error: up failed: AccessDenied\n")


def test_deploy_and_destroy_refuse_the_sandbox(ops, world):
    for command in ("deploy", "destroy"):
        result = ops(command, target=["--sandbox"])
        assert result.exit_code == 2
        assert result.stderr == (f"error: {command} works on a real stack only (--stack NAME); the sandbox deploys "
                                 "itself: make demo\n")


def test_destroy_keeps_data_by_default(ops, world):
    result = ops("destroy", "--yes")
    assert result.exit_code == 0, result.output
    assert world.pulumi.calls == [SELECT, DESTROY, HISTORY]
    assert "(data kept: retained buckets, tables and user pools remain in the account)" in result.stderr


RETAIN = "multi-region-app:retainData"
SHOW_CONFIG = ["config", "--show-secrets", "--json", "--stack", STACK]
RETAIN_FALSE = ["config", "set", RETAIN, "--plaintext", "--stack", STACK, "--non-interactive", "--", "false"]
RETAIN_TRUE = ["config", "set", RETAIN, "--plaintext", "--stack", STACK, "--non-interactive", "--", "true"]
RETAIN_RM = ["config", "rm", RETAIN, "--stack", STACK]


def test_destroy_delete_data_lifts_retention_then_destroys_then_removes_the_override(ops, world):
    result = ops("destroy", "--delete-data", input="y\n")
    assert result.exit_code == 0, result.output
    assert "AND DELETE ITS DATA" in result.stderr
    assert world.pulumi.commands("config", "up", "destroy") == [SHOW_CONFIG, RETAIN_FALSE, UP, DESTROY, RETAIN_RM]
    assert RETAIN not in world.pulumi.config  # Pulumi.prod.yaml as it was: the program's default (retain)


def test_a_keep_data_destroy_after_a_delete_data_one_finds_retain_data_as_it_was(ops, world):
    world.pulumi.config[RETAIN] = "true"
    assert ops("destroy", "--delete-data", "--yes").exit_code == 0
    assert world.pulumi.config == {RETAIN: "true"}
    assert world.pulumi.commands("config")[-1] == RETAIN_TRUE
    result = ops("destroy", "--yes")  # keeps the data: nothing left behind says otherwise
    assert result.exit_code == 0 and world.pulumi.config == {RETAIN: "true"}


def test_delete_data_puts_retain_data_back_when_lifting_retention_fails(ops, world):
    world.pulumi.config[RETAIN] = "true"
    world.pulumi.fail_on = "up"
    result = ops("destroy", "--delete-data", "--yes")
    assert result.exit_code == 1
    assert result.stderr.endswith("error: pulumi failed: error: up failed: AccessDenied\n")
    assert world.pulumi.commands("config", "up", "destroy") == [SHOW_CONFIG, RETAIN_FALSE, UP, RETAIN_TRUE]
    assert world.pulumi.config == {RETAIN: "true"}


def test_delete_data_removes_the_override_when_the_destroy_fails(ops, world):
    world.pulumi.fail_on = "destroy"
    result = ops("destroy", "--delete-data", "--yes")
    assert result.exit_code == 1
    assert world.pulumi.commands("config")[-1] == RETAIN_RM and RETAIN not in world.pulumi.config


def test_delete_data_names_the_fix_when_retain_data_cannot_be_put_back(ops, world):
    world.pulumi.fail_on = "config rm"
    result = ops("destroy", "--delete-data", "--yes")
    assert result.exit_code == 1
    assert result.stderr.endswith(
        f"error: stack {STACK} was destroyed, but {RETAIN} is still false in its config (pulumi failed: error: "
        f"config failed: AccessDenied): a later destroy would delete the data; run: pulumi config rm {RETAIN} "
        f"--stack {STACK}\n")


def test_destroy_asks_first_and_does_nothing_when_declined(ops, world):
    result = ops("destroy", "--delete-data", input="n\n")
    assert result.exit_code == 1
    assert result.stderr.endswith("error: destroy cancelled: nothing changed\n")
    assert world.pulumi.commands("config", "up", "destroy") == []


def test_delete_data_does_not_destroy_when_lifting_retention_fails(ops, world):
    world.pulumi.fail_on = "up"
    result = ops("destroy", "--delete-data", "--yes")
    assert result.exit_code == 1
    assert world.pulumi.commands("destroy") == []


def test_fake_pulumi_is_the_only_cli_boundary():
    # Guard for the tests above: building it must not run a `pulumi` binary.
    assert FakePulumi().calls == []
