"""An AWS WAF web ACL (config wafEnabled): a regional one in front of both API stages of a region, or a
CLOUDFRONT one (created in us-east-1) in front of the site.

Rules, in order (the first that blocks ends the evaluation):
  0  rate-limit-per-ip        more than `rate_limit` requests from one client IP in 5 minutes -> 429
                              (first, so that every request counts, blocked ones included)
  1  aws-common-rule-set      AWS managed AWSManagedRulesCommonRuleSet, in count mode: it only labels
  2  aws-known-bad-inputs     AWS managed AWSManagedRulesKnownBadInputsRuleSet (Log4j, Java deserialization...),
                              in count mode: it only labels
  3  block-managed-matches    any label of those two groups -> 403
Labels, not the groups' own block action, decide: a managed rule's own block answers with WAF's bare 403, while
the label rule answers with the JSON error body every API answer has ({"code", "message"}, what the web app's
api.ts reads) and, for the APIs, the CORS origin so the browser lets the app read it. Matching the groups' whole
label namespaces keeps every rule AWS adds to them blocking.

Every request the ACL sees is logged to the CloudWatch Logs group `aws-waf-logs-<acl name>` (AWS WAF logs only to
groups named so) in the ACL's region, kept and encrypted like the stack's other logs; the SigV4 `authorization`
and `x-amz-security-token` headers (a signed-in user's temporary credentials) are redacted from the records.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.regions import EDGE_REGION, Region
from components.settings import LOG_RETENTION_DAYS, WAF_RATE_LIMIT_MAX, WAF_RATE_LIMIT_MIN

RATE_WINDOW_SECONDS = 300
# (rule name, managed rule group, its label namespace)
MANAGED_GROUPS = (
    ("aws-common-rule-set", "AWSManagedRulesCommonRuleSet", "awswaf:managed:aws:core-rule-set:"),
    ("aws-known-bad-inputs", "AWSManagedRulesKnownBadInputsRuleSet", "awswaf:managed:aws:known-bad-inputs:"),
)
# Custom responses: key -> (status, body), the APIs' error shape. Defined once in waf-responses.json, which the web
# app's tests read too (webapp/src/api.test.ts).
RESPONSES_FILE = Path(__file__).resolve().parent / "waf-responses.json"
RESPONSES: dict[str, tuple[int, dict[str, str]]] = {
    key: (answer["status"], answer["body"]) for key, answer in json.loads(RESPONSES_FILE.read_text()).items()
}
BLOCKED, THROTTLED = "blocked", "throttled"
SCOPES = ("REGIONAL", "CLOUDFRONT")
LOG_GROUP_PREFIX = "aws-waf-logs-"
REDACTED_HEADERS = ("authorization", "x-amz-security-token")


def log_group_name(acl_name: str) -> str:
    return f"{LOG_GROUP_PREFIX}{acl_name}"


def log_group_patterns(acl_name_prefix: str) -> list[str]:
    """Names (with *) of the log groups of every web ACL whose name starts with `acl_name_prefix`."""
    return [log_group_name(f"{acl_name_prefix}*")]


@dataclass
class WebAclArgs:
    acl_name: str
    """Name of the web ACL (and prefix of its metric names); required, unique per scope and region."""
    scope: str
    """REGIONAL (API Gateway stages) or CLOUDFRONT; required."""
    region: Region
    """Where the ACL is created: the stages' region, or us-east-1 for CLOUDFRONT; required."""
    rate_limit: int = 2000
    """Requests one client IP may send in 5 minutes before 429; default 2000."""
    cors_origin: pulumi.Input[str] | None = None
    """Origin sent as Access-Control-Allow-Origin with the blocked answers (the APIs' CORS origin); default None."""
    log_retention_days: int = 30
    """Retention of the ACL's log group, a CloudWatch Logs period; default 30."""
    log_kms_key_arn: pulumi.Input[str] | None = None
    """Customer managed key (of the ACL's region) encrypting its log group; default None."""
    associated_arns: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """REGIONAL only: label (a resource-name fragment) -> ARN of an API stage to protect; default none (a
    distribution names its ACL itself)."""


def response_bodies() -> list[aws.wafv2.WebAclCustomResponseBodyArgs]:
    return [
        aws.wafv2.WebAclCustomResponseBodyArgs(key=key, content=json.dumps(body), content_type="APPLICATION_JSON")
        for key, (_, body) in RESPONSES.items()
    ]


def _validate(args: WebAclArgs) -> None:
    if args.scope not in SCOPES:
        raise ValueError(f"WebAclArgs.scope must be one of {', '.join(SCOPES)}, got {args.scope!r}")
    if args.scope == "CLOUDFRONT" and args.region.name != EDGE_REGION:
        raise ValueError(f"WebAclArgs.region must be {EDGE_REGION} for a CLOUDFRONT web ACL, got {args.region.name}")
    if args.scope == "CLOUDFRONT" and args.associated_arns:
        raise ValueError("WebAclArgs.associated_arns is for REGIONAL web ACLs: a distribution names its ACL itself")
    if args.log_retention_days not in LOG_RETENTION_DAYS:
        raise ValueError(f"WebAclArgs.log_retention_days must be a CloudWatch Logs period, "
                         f"got {args.log_retention_days}")
    if not WAF_RATE_LIMIT_MIN <= args.rate_limit <= WAF_RATE_LIMIT_MAX:
        raise ValueError(
            f"WebAclArgs.rate_limit must be between {WAF_RATE_LIMIT_MIN} and {WAF_RATE_LIMIT_MAX}, "
            f"got {args.rate_limit}"
        )


class WebAcl(pulumi.ComponentResource):
    """A web ACL with the managed common and known-bad-inputs rules and a per-IP rate limit."""

    arn: pulumi.Output[str]
    web_acl: aws.wafv2.WebAcl
    log_group: aws.cloudwatch.LogGroup
    associations: list[aws.wafv2.WebAclAssociation]

    def __init__(self, name: str, args: WebAclArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("multi-region-app:security:WebAcl", name, None, opts)
        _validate(args)

        def visibility(metric: str) -> aws.wafv2.WebAclRuleVisibilityConfigArgs:
            return aws.wafv2.WebAclRuleVisibilityConfigArgs(
                cloudwatch_metrics_enabled=True, metric_name=f"{args.acl_name}-{metric}", sampled_requests_enabled=True
            )

        def block(key: str) -> aws.wafv2.WebAclRuleActionArgs:
            headers = (
                [aws.wafv2.WebAclRuleActionBlockCustomResponseResponseHeaderArgs(
                    name="Access-Control-Allow-Origin", value=args.cors_origin)]
                if args.cors_origin is not None
                else None
            )
            return aws.wafv2.WebAclRuleActionArgs(
                block=aws.wafv2.WebAclRuleActionBlockArgs(
                    custom_response=aws.wafv2.WebAclRuleActionBlockCustomResponseArgs(
                        response_code=RESPONSES[key][0], custom_response_body_key=key, response_headers=headers
                    )
                )
            )

        rules = [
            aws.wafv2.WebAclRuleArgs(
                name="rate-limit-per-ip",
                priority=0,
                action=block(THROTTLED),
                statement=aws.wafv2.WebAclRuleStatementArgs(
                    rate_based_statement=aws.wafv2.WebAclRuleStatementRateBasedStatementArgs(
                        limit=args.rate_limit, aggregate_key_type="IP", evaluation_window_sec=RATE_WINDOW_SECONDS
                    )
                ),
                visibility_config=visibility("rate-limit-per-ip"),
            ),
            *(
                aws.wafv2.WebAclRuleArgs(
                    name=rule_name,
                    priority=priority,
                    override_action=aws.wafv2.WebAclRuleOverrideActionArgs(
                        count=aws.wafv2.WebAclRuleOverrideActionCountArgs()
                    ),
                    statement=aws.wafv2.WebAclRuleStatementArgs(
                        managed_rule_group_statement=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs(
                            name=group, vendor_name="AWS"
                        )
                    ),
                    visibility_config=visibility(rule_name),
                )
                for priority, (rule_name, group, _) in enumerate(MANAGED_GROUPS, start=1)
            ),
            aws.wafv2.WebAclRuleArgs(
                name="block-managed-matches",
                priority=len(MANAGED_GROUPS) + 1,
                action=block(BLOCKED),
                statement=aws.wafv2.WebAclRuleStatementArgs(
                    or_statement=aws.wafv2.WebAclRuleStatementOrStatementArgs(
                        statements=[
                            aws.wafv2.WebAclRuleStatementArgs(
                                label_match_statement=aws.wafv2.WebAclRuleStatementLabelMatchStatementArgs(
                                    scope="NAMESPACE", key=namespace
                                )
                            )
                            for _, _, namespace in MANAGED_GROUPS
                        ]
                    )
                ),
                visibility_config=visibility("block-managed-matches"),
            ),
        ]
        self.web_acl = aws.wafv2.WebAcl(
            f"{name}-acl",
            name=args.acl_name,
            description=f"{args.acl_name}: AWS managed rules and a per-IP rate limit",
            scope=args.scope,
            default_action=aws.wafv2.WebAclDefaultActionArgs(allow=aws.wafv2.WebAclDefaultActionAllowArgs()),
            custom_response_bodies=response_bodies(),
            rules=rules,
            visibility_config=aws.wafv2.WebAclVisibilityConfigArgs(
                cloudwatch_metrics_enabled=True, metric_name=args.acl_name, sampled_requests_enabled=True
            ),
            opts=args.region.opts(self),
        )
        self.associations = [
            aws.wafv2.WebAclAssociation(
                f"{name}-{label}", resource_arn=arn, web_acl_arn=self.web_acl.arn, opts=args.region.opts(self)
            )
            for label, arn in sorted(args.associated_arns.items())
        ]
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=log_group_name(args.acl_name),
            retention_in_days=args.log_retention_days,
            kms_key_id=args.log_kms_key_arn,
            opts=args.region.opts(self),
        )
        aws.wafv2.WebAclLoggingConfiguration(
            f"{name}-logging",
            resource_arn=self.web_acl.arn,
            log_destination_configs=[self.log_group.arn],
            redacted_fields=[
                aws.wafv2.WebAclLoggingConfigurationRedactedFieldArgs(
                    single_header=aws.wafv2.WebAclLoggingConfigurationRedactedFieldSingleHeaderArgs(name=header)
                )
                for header in REDACTED_HEADERS
            ],
            opts=args.region.opts(self),
        )
        self.arn = self.web_acl.arn
        self.register_outputs({"arn": self.arn})
