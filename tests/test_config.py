"""Stack configuration: declared once in Pulumi.yaml, validated with one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from components.settings import ConfigError, config_schema, derive_prefix, load_settings
from harness.program import stack_config
from tests.conftest import ROOT, run_with


def settings_from(values: dict[str, str], region: str | None = "us-east-1", stack: str = "prod"):
    return load_settings(values.get, region, "multi-region-app", stack)


def test_every_config_key_is_declared_with_type_and_description():
    schema = config_schema()
    assert "secondaryRegion" in schema and "default" not in schema["secondaryRegion"]
    for key, spec in schema.items():
        assert spec.get("type") in {"string", "boolean", "integer", "array"}, key
        assert spec.get("description"), key
    assert schema["retainData"]["default"] is True
    assert schema["autoFailover"]["default"] is False


def test_project_file_uses_pip_toolchain_in_dot_venv():
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": ".venv"}}


def test_prod_stack_is_us_east_1_with_tokyo_secondary():
    config = stack_config("prod")
    assert config["aws:region"] == "us-east-1"
    assert config["multi-region-app:secondaryRegion"] == "ap-northeast-1"


def test_defaults_apply_when_only_regions_are_set():
    s = settings_from({"secondaryRegion": "eu-west-1"})
    assert (s.primary_region, s.secondary_region) == ("us-east-1", "eu-west-1")
    assert s.retain_data is True and s.auto_failover is False
    assert s.prefix == "multi-region-app-prod"
    assert s.site_origins == ()


def test_same_region_twice_is_refused_with_a_clear_message():
    with pytest.raises(ConfigError, match="secondaryRegion must differ from aws:region"):
        settings_from({"secondaryRegion": "us-east-1"})


@pytest.mark.parametrize("region", ["us-east", "US-EAST-1", "useast1", "us-east-1a", "eu_west_1"])
def test_malformed_region_is_refused(region):
    with pytest.raises(ConfigError, match="is not an AWS region name"):
        settings_from({"secondaryRegion": region})


def test_malformed_primary_region_is_refused():
    with pytest.raises(ConfigError, match=r"aws:region = 'mars-1' is not an AWS region name"):
        settings_from({"secondaryRegion": "eu-west-1"}, region="mars-1")


def test_missing_secondary_region_names_the_key_and_the_fix():
    with pytest.raises(
        ConfigError, match=r"missing required config multi-region-app:secondaryRegion.*pulumi config set"
    ):
        settings_from({})


def test_missing_primary_region_names_aws_region():
    with pytest.raises(ConfigError, match="missing required config aws:region"):
        settings_from({"secondaryRegion": "eu-west-1"}, region=None)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("retainData", "yes", "must be true or false"),
        ("apiThrottleRateLimit", "fast", "must be a whole number"),
        ("apiThrottleRateLimit", "0", "must be between 1 and"),
        ("siteOrigins", "http://x", "must be a list of strings"),
        ("siteOrigins", '["https://ok.example", "ftp://bad/path"]', "'ftp://bad/path'"),
        ("apiOrigin", "http://localhost:5173/app", "apiOrigin.*with no path"),
        ("namePrefix", "Bad_Prefix", "must be 2..24 characters"),
        ("namePrefix", "a" * 25, "must be 2..24 characters"),
        ("alarmEmail", "not-an-email", "is not an e-mail address"),
        ("siteDomain", "photos.example.com", "go together"),
        ("appId", "has space", "appId"),
    ],
)
def test_bad_values_are_refused_with_the_key_named(key, value, message):
    with pytest.raises(ConfigError, match=message):
        settings_from({"secondaryRegion": "eu-west-1", key: value})


def test_certificate_must_be_in_us_east_1_for_cloudfront():
    with pytest.raises(ConfigError, match="us-east-1"):
        settings_from(
            {
                "secondaryRegion": "eu-west-1",
                "siteDomain": "photos.example.com",
                "siteCertificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/abc",
            }
        )


def test_stacks_get_distinct_prefixes_and_app_ids():
    dev, prod = (
        settings_from({"secondaryRegion": "eu-west-1"}, stack="dev"),
        settings_from({"secondaryRegion": "eu-west-1"}),
    )
    assert dev.prefix != prod.prefix and dev.app_id != prod.app_id
    assert settings_from({"secondaryRegion": "eu-west-1"}, stack="dev").app_id == dev.app_id  # deterministic


def test_long_stack_names_keep_a_unique_valid_prefix():
    a, b = (
        derive_prefix("multi-region-app", "feature-one-very-long"),
        derive_prefix("multi-region-app", "feature-two-very-long"),
    )
    assert a != b and len(a) <= 24 and len(b) <= 24


def test_program_refuses_bad_config_before_creating_anything():
    with pytest.raises(ConfigError, match="must differ"):
        run_with({"secondaryRegion": "us-east-1"})


def test_preview_prints_one_line_error_for_bad_stack_config(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "harness.preview", "--stack", "does-not-exist"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "error: no stack file Pulumi.does-not-exist.yaml"


def test_the_readme_configuration_tables_name_every_config_key():
    readme = (ROOT / "README.md").read_text()
    missing = [key for key in config_schema() if f"`{key}`" not in readme]
    assert missing == []
