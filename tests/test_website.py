"""The web site: private site buckets in both regions behind one CloudFront distribution
(OAC, HTTPS, failover primary -> secondary, security headers), and its content
(uiConfig.json from the stack outputs, the built web app) in both buckets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components import website
from components.contract import Out, ui_config
from components.settings import ConfigError
from harness.fake_cloud import FakeCloud
from harness.program import ProgramRun, run_program, stack_config
from tests.conftest import PRIMARY, ROOT, SECONDARY

REGIONS = {"primary": PRIMARY, "secondary": SECONDARY}
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"
SITE_PROGRAM = ROOT / "tests" / "programs" / "site_content.py"
DOMAIN = "photos.example.com"
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"

# A built web app as Vite lays it out (plus a stray uiConfig.json the program must not upload).
DIST_FILES = {
    "index.html": ("text/html; charset=utf-8", "no-cache"),
    "assets/index-B1a2c3D4.js": ("text/javascript; charset=utf-8", "public, max-age=31536000, immutable"),
    "assets/index-Cx9y8z7W.css": ("text/css; charset=utf-8", "public, max-age=31536000, immutable"),
    "assets/index-B1a2c3D4.js.map": ("application/json", "public, max-age=31536000, immutable"),
    "assets/inter-AbCdEf12.woff2": ("font/woff2", "public, max-age=31536000, immutable"),
    "assets/worker-Zz9_x-1Q.mjs": ("text/javascript; charset=utf-8", "public, max-age=31536000, immutable"),
    "favicon.svg": ("image/svg+xml", "public, max-age=300"),
    "img/hero image.webp": ("image/webp", "public, max-age=300"),
    "manifest.json": ("application/json", "public, max-age=300"),
    "robots.txt": ("text/plain; charset=utf-8", "public, max-age=300"),
}


def site_objects(run: ProgramRun) -> dict[tuple[str, str], object]:
    """(region, key) -> the BucketObjectv2 registration."""
    found = {}
    for reg in run.of_type(OBJECT):
        assert (reg.region, reg.inputs["key"]) not in found, f"two objects for {reg.inputs['key']} in {reg.region}"
        found[(reg.region, reg.inputs["key"])] = reg
    return found


def site_bucket(run: ProgramRun, role: str):
    return run.one("aws:s3/bucket:Bucket", f"site-{role}")


def run_site(dist_dir: Path, **config: str) -> ProgramRun:
    config = {**stack_config("prod"), "multi-region-app:testDistDir": str(dist_dir),
              **{f"multi-region-app:{key}": value for key, value in config.items()}}
    return run_program(FakeCloud(), config, program=SITE_PROGRAM)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dist")
    for key in [*DIST_FILES, "uiConfig.json"]:
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"content of {key}")
    return root


@pytest.fixture(scope="module")
def with_app(dist: Path) -> ProgramRun:
    return run_site(dist)


def test_site_buckets_are_private_owner_enforced_and_encrypted_in_both_regions(prod):
    for role, region in REGIONS.items():
        bucket = site_bucket(prod, role)
        assert bucket.region == region
        assert bucket.inputs["bucket"] == f"multi-region-app-prod-site-{region}-123456789012"
        assert bucket.inputs["forceDestroy"] is True
        block = prod.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", f"site-{role}")
        assert (block.region, block.inputs["bucket"]) == (region, bucket.id)
        for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
            assert block.inputs[flag] is True
        ownership = prod.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls", f"site-{role}")
        assert ownership.inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
        encryption = prod.one(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", f"site-{role}"
        )
        # The hardened profile (Pulumi.prod.yaml) uses the site's own key (tests/test_hardened.py).
        assert encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"


def test_cloudfront_reads_the_buckets_through_an_origin_access_control_not_a_legacy_identity(prod):
    assert [r for r in prod.resources if "originAccessIdentity" in r.type] == []
    oac = prod.one("aws:cloudfront/originAccessControl:OriginAccessControl", "site")
    assert oac.region == PRIMARY
    assert oac.inputs["originAccessControlOriginType"] == "s3"
    assert oac.inputs["signingBehavior"] == "always"
    assert oac.inputs["signingProtocol"] == "sigv4"
    origins = prod.one(DISTRIBUTION, "site").inputs["origins"]
    assert len(origins) == 2
    for origin in origins:
        assert origin["originAccessControlId"] == oac.id
        assert "originAccessIdentity" not in json.dumps(origin)


def test_origin_group_fails_over_from_the_primary_bucket_to_the_secondary_bucket(prod):
    distribution = prod.one(DISTRIBUTION, "site")
    assert distribution.region == PRIMARY
    origins = {o["originId"]: o["domainName"] for o in distribution.inputs["origins"]}
    [group] = distribution.inputs["originGroups"]
    members = [m["originId"] for m in group["members"]]
    assert [origins[m] for m in members] == [
        site_bucket(prod, "primary").outputs["bucketRegionalDomainName"],
        site_bucket(prod, "secondary").outputs["bucketRegionalDomainName"],
    ]
    assert sorted(group["failoverCriteria"]["statusCodes"]) == [403.0, 404.0, 500.0, 502.0, 503.0, 504.0]
    assert distribution.inputs["defaultCacheBehavior"]["targetOriginId"] == group["originId"]


def test_viewers_are_redirected_to_https_and_get_compressed_cached_read_only_responses(prod):
    behaviour = prod.one(DISTRIBUTION, "site").inputs["defaultCacheBehavior"]
    assert behaviour["viewerProtocolPolicy"] == "redirect-to-https"
    assert sorted(behaviour["allowedMethods"]) == ["GET", "HEAD", "OPTIONS"]
    assert sorted(behaviour["cachedMethods"]) == ["GET", "HEAD"]
    assert behaviour["compress"] is True
    assert behaviour["cachePolicyId"] == "658327ea-f89d-4fab-a63d-7e88639e58f6"  # managed CachingOptimized


def test_every_response_carries_the_security_headers(prod):
    policy = prod.one("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy", "site")
    assert prod.one(DISTRIBUTION, "site").inputs["defaultCacheBehavior"]["responseHeadersPolicyId"] == policy.id
    headers = policy.inputs["securityHeadersConfig"]
    assert headers["strictTransportSecurity"] == {
        "accessControlMaxAgeSec": 63072000.0,
        "includeSubdomains": True,
        "preload": True,
        "override": True,
    }
    assert headers["contentTypeOptions"] == {"override": True}
    assert headers["frameOptions"] == {"frameOption": "DENY", "override": True}
    assert headers["referrerPolicy"] == {"referrerPolicy": "strict-origin-when-cross-origin", "override": True}
    assert headers["xssProtection"]["protection"] is True
    directives = dict(
        (d.split()[0], d.split()[1:]) for d in headers["contentSecurityPolicy"]["contentSecurityPolicy"].split("; ")
    )
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    for directive in ("connect-src", "img-src"):
        assert {"'self'", "https://*.amazonaws.com"} <= set(directives[directive])
    assert directives["frame-ancestors"] == ["'none'"]


def test_client_side_routes_are_answered_with_index_html(prod):
    distribution = prod.one(DISTRIBUTION, "site").inputs
    assert distribution["defaultRootObject"] == "index.html"
    responses = sorted(distribution["customErrorResponses"], key=lambda r: r["errorCode"])
    assert [(r["errorCode"], r["responseCode"], r["responsePagePath"]) for r in responses] == [
        (403.0, 200.0, "/index.html"),
        (404.0, 200.0, "/index.html"),
    ]
    assert all(r["errorCachingMinTtl"] <= 60 for r in responses)


def test_distribution_uses_the_cloudfront_name_and_certificate_without_a_custom_domain(prod):
    distribution = prod.one(DISTRIBUTION, "site")
    inputs = distribution.inputs
    assert inputs["enabled"] is True
    assert inputs["priceClass"] == "PriceClass_100"
    assert inputs["httpVersion"] == "http2and3"
    assert inputs["isIpv6Enabled"] is True
    assert inputs["viewerCertificate"] == {"cloudfrontDefaultCertificate": True}
    assert not inputs.get("aliases")
    assert prod.outputs[Out.SITE_URL] == f"https://{distribution.outputs['domainName']}"
    assert prod.outputs[Out.SITE_DISTRIBUTION_ID] == distribution.id
    for role in REGIONS:
        assert prod.outputs[role]["siteBucketName"] == site_bucket(prod, role).id


def test_custom_domain_sets_the_alias_the_acm_certificate_and_the_site_url(run_config):
    run = run_config(siteDomain=DOMAIN, siteCertificateArn=CERTIFICATE)
    inputs = run.one(DISTRIBUTION, "site").inputs
    assert inputs["aliases"] == [DOMAIN]
    assert inputs["viewerCertificate"] == {
        "acmCertificateArn": CERTIFICATE,
        "sslSupportMethod": "sni-only",
        "minimumProtocolVersion": "TLSv1.2_2021",
    }
    assert run.outputs[Out.SITE_URL] == f"https://{DOMAIN}"


def test_site_buckets_allow_reads_only_by_this_distribution_and_only_over_tls(prod):
    distribution_arn = prod.one(DISTRIBUTION, "site").outputs["arn"]
    for role, region in REGIONS.items():
        bucket = site_bucket(prod, role)
        policy = prod.one("aws:s3/bucketPolicy:BucketPolicy", f"site-{role}")
        assert (policy.region, policy.inputs["bucket"]) == (region, bucket.id)
        arn = bucket.outputs["arn"]
        allow, deny = json.loads(policy.inputs["policy"])["Statement"]
        assert allow == {
            "Sid": "AllowCloudFrontRead",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": f"{arn}/*",
            "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
        }
        assert deny["Effect"] == "Deny" and deny["Principal"] == "*"
        assert deny["Resource"] == [arn, f"{arn}/*"]
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        # The policy is put after the public access block (S3 checks one against the other).
        block = prod.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", f"site-{role}")
        assert block.urn in policy.options["depends_on"]


def test_ui_config_json_in_both_site_buckets_matches_the_stack_output(prod):
    objects = site_objects(prod)
    expected = ui_config(prod.outputs)
    assert prod.outputs[Out.UI_CONFIG] == expected
    for role, region in REGIONS.items():
        config = objects[(region, "uiConfig.json")]
        assert config.inputs["bucket"] == site_bucket(prod, role).id
        assert json.loads(config.inputs["content"]) == expected
        assert config.inputs["contentType"] == "application/json"
        assert config.inputs["cacheControl"] == "no-cache, no-store, must-revalidate"


def test_without_a_built_web_app_up_stops_before_creating_anything_with_one_line(tmp_path):
    recorded = []

    class Recording(FakeCloud):
        def create(self, reg):
            recorded.append(reg)
            return super().create(reg)

    config = {**stack_config("prod"), "multi-region-app:testDistDir": str(tmp_path / "no-such-dist")}
    with pytest.raises(ConfigError) as stopped:
        run_program(Recording(), config, program=SITE_PROGRAM)
    message = str(stopped.value)
    assert "\n" not in message and "index.html is missing" in message
    assert "make web" in message and "deploySiteFiles false" in message
    assert recorded == []


def test_the_real_program_checks_webapp_dist_first(monkeypatch, tmp_path):
    monkeypatch.setattr(website, "WEBAPP_DIST", tmp_path / "dist")
    with pytest.raises(ConfigError, match=r"dist/index.html is missing"):
        run_program(FakeCloud(), stack_config("prod"))


def test_with_deploy_site_files_false_only_ui_config_is_written(tmp_path):
    run = run_site(tmp_path / "no-such-dist", deploySiteFiles="false")
    assert sorted(site_objects(run)) == sorted([(PRIMARY, "uiConfig.json"), (SECONDARY, "uiConfig.json")])


def test_built_web_app_is_uploaded_to_both_buckets_with_content_types_and_cache_control(with_app, dist):
    objects = site_objects(with_app)
    for role, region in REGIONS.items():
        keys = sorted(key for (r, key) in objects if r == region)
        assert keys == sorted([*DIST_FILES, "uiConfig.json"])
        # The program's uiConfig.json wins over a stray copy in the build output.
        assert json.loads(objects[(region, "uiConfig.json")].inputs["content"]) == {
            "appId": "test-app",
            "uiRegion": "us-east-1",
        }
        for key, (content_type, cache_control) in DIST_FILES.items():
            reg = objects[(region, key)]
            assert reg.inputs["bucket"] == site_bucket(with_app, role).id
            assert (reg.inputs["contentType"], reg.inputs["cacheControl"]) == (content_type, cache_control), key
            assert Path(reg.inputs["source"].path) == dist / key


def test_site_file_resource_names_are_unique_and_stable_across_runs(with_app, dist):
    names = sorted(reg.name for reg in with_app.of_type(OBJECT))
    assert len(names) == len(set(names)) == 2 * (len(DIST_FILES) + 1)
    assert sorted(reg.name for reg in run_site(dist).of_type(OBJECT)) == names


def test_a_build_without_index_html_is_rejected(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "app.js").write_text("console.log(1)")
    with pytest.raises(ConfigError, match="index.html is missing"):
        run_site(tmp_path)
    with pytest.raises(ValueError, match="dist_dir .* has no index.html"):
        website.site_files(tmp_path)
