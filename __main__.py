"""Active/passive multi-region application: the whole architecture, top-down.

    site (CloudFront, both regions' site buckets)   -> the browser origin
    photo buckets, replicated both ways              -> object store
    global tables + the initial `active` state       -> data and routing state
    per region: routing API + photos API             -> DynamoDB direct, fenced writes
    per region: Cognito identity                     -> users sign in in either region
    operator access                                  -> the only principal that switches state
    per region: alarm topic + the alarms of the metrics it publishes, one dashboard -> monitoring
    optional: primary health check -> failover state machine in the secondary       -> auto failover
    uiConfig.json + web app files                    -> written to the site

The securityProfile (baseline | hardened) and its overrides add, each where it belongs: customer managed KMS keys
(kmsEnabled), WAF web ACLs on the APIs and CloudFront (wafEnabled), log buckets with the S3 and CloudFront access
logs (accessLogs), X-Ray (xrayTracing) and the log retention (logRetentionDays).
"""

from typing import Any

import pulumi
import pulumi_aws as aws

from components.auto_failover import AutoFailover, AutoFailoverArgs
from components.contract import Out, RegionOut, Table
from components.contract import ui_config as build_ui_config
from components.global_tables import GlobalTables, GlobalTablesArgs
from components.identity import Identity, IdentityArgs, PhotoKey
from components.identity import role_arn as app_user_role_arn
from components.kms import MultiRegionKey, MultiRegionKeyArgs, ops_key_statements
from components.log_bucket import AccessLogs, AccessLogsArgs
from components.monitoring import AlarmThresholds, Monitoring, MonitoringArgs, WatchedApi, replication_rule_ids
from components.object_store import ObjectStore, ObjectStoreArgs
from components.operator import OperatorAccess, OperatorAccessArgs
from components.regions import EDGE_REGION, Region, create_region_pair, region_named
from components.rest_api import ApiGatewayAccount, DynamoRestApi, DynamoRestApiArgs
from components.rest_api import log_group_patterns as api_log_groups
from components.routes import PHOTOS_ROUTES, ROUTING_ROUTES, template_values
from components.settings import settings_from_pulumi
from components.waf import WebAcl, WebAclArgs
from components.waf import log_group_patterns as waf_log_groups
from components.website import SiteContent, SiteContentArgs, SiteHosting, SiteHostingArgs, built_site

settings = settings_from_pulumi()
site_dist = built_site(settings.deploy_site_files)  # stops here, before anything is created, if not built
regions = create_region_pair(settings)
# Adopting kept buckets needs their names (the import ids) as plain strings, hence the account id too.
account_id = (
    aws.get_caller_identity(opts=regions.primary.invoke_opts()).account_id
    if settings.adopt_retained
    else aws.get_caller_identity_output(opts=regions.primary.invoke_opts()).account_id
)
# CloudFront's WAF web ACL and log delivery live in us-east-1: one of the stack's regions, or a provider of its own.
edge = (
    region_named(regions, EDGE_REGION, resource_name="aws-edge", role="edge", tags=settings.tags)
    if settings.waf_enabled or settings.access_logs
    else None
)


# Hardened: customer managed keys, one per purpose (components/kms.py); the site's own comes with the site.
def stack_key(purpose: str, encrypts: str, **options: Any) -> MultiRegionKey:
    """A multi-Region key of the stack named after its purpose."""
    return MultiRegionKey(f"{purpose}-key", MultiRegionKeyArgs(
        prefix=settings.prefix, purpose=purpose, description=f"{settings.prefix} {encrypts}", regions=regions,
        account_id=account_id, **options))


data_key = ops_key = None
if settings.kms_enabled:
    # Retained (and adopted) with the data it protects: kept tables and photos stay readable.
    data_key = stack_key("data", "tables and photo buckets", retain=settings.retain_data,
                         adopt_retained=settings.adopt_retained)
    ops_key = stack_key(
        "ops", "log groups and alarm topics",
        service_statements=ops_key_statements(
            account_id, [*api_log_groups(settings.prefix), *waf_log_groups(settings.prefix)]),
        # CloudFront's web ACL logs where the ACL lives, us-east-1: one more replica when it is not one of the pair.
        extra_regions=[edge] if edge and edge.role == "edge" and settings.waf_enabled else [],
    )


def waf(
    name: str,
    scope: str,
    region: Region,
    cors_origin: pulumi.Input[str] | None = None,
    associated_arns: dict[str, pulumi.Input[str]] | None = None,
) -> WebAcl:
    """A web ACL of the stack (components/waf.py) with the configured rate limit."""
    return WebAcl(
        name,
        WebAclArgs(
            acl_name=f"{settings.prefix}-{name}",
            scope=scope,
            region=region,
            rate_limit=settings.waf_rate_limit,
            log_retention_days=settings.log_retention_days,
            log_kms_key_arn=ops_key.arn_in(region) if ops_key else None,
            cors_origin=cors_origin,
            associated_arns=associated_arns or {},
        ),
    )


# The site comes first: its URL is the one browser origin the APIs and buckets allow.
site = SiteHosting(
    "site",
    SiteHostingArgs(
        prefix=settings.prefix,
        regions=regions,
        account_id=account_id,
        domain=settings.site_domain,
        certificate_arn=settings.site_certificate_arn,
        noncurrent_version_days=settings.noncurrent_version_days,
        kms=settings.kms_enabled,
        web_acl_arn=waf("site-waf", "CLOUDFRONT", edge).arn if settings.waf_enabled else None,
    ),
)

store = ObjectStore(
    "photos",
    ObjectStoreArgs(
        prefix=settings.prefix,
        regions=regions,
        account_id=account_id,
        cors_origins=[site.url, *settings.extra_origins],
        noncurrent_version_days=settings.noncurrent_version_days,
        # The app users' roles (created below, names known now) may never overwrite or delete a photo.
        app_user_role_arns=[
            pulumi.Output.from_input(account_id).apply(
                lambda account, name=region.name: app_user_role_arn(account, settings.prefix, name))
            for region in regions
        ],
        retain_data=settings.retain_data,
        kms_key_arns=data_key.arns if data_key else None,
        adopt_retained=settings.adopt_retained,
    ),
)

tables = GlobalTables(
    "tables",
    GlobalTablesArgs(
        prefix=settings.prefix,
        regions=regions,
        app_id=settings.app_id,
        retain_data=settings.retain_data,
        kms_key_arns=data_key.arns if data_key else None,
        adopt_retained=settings.adopt_retained,
    ),
)

routing_apis: dict[str, DynamoRestApi] = {}
photos_apis: dict[str, DynamoRestApi] = {}
for region in regions:
    gateway_account = (
        [ApiGatewayAccount(f"apigw-account-{region.role}", prefix=settings.prefix, region=region,
                           account_id=account_id)]
        if settings.manage_api_gateway_account
        else []
    )
    for apis, kind, routes in ((routing_apis, "routing", ROUTING_ROUTES), (photos_apis, "photos", PHOTOS_ROUTES)):
        apis[region.role] = DynamoRestApi(
            f"{kind}-api-{region.role}",
            DynamoRestApiArgs(
                api_name=settings.name(kind, region.role),
                region=region,
                account_id=account_id,
                routes=routes,
                template_values=template_values(settings.app_id, tables.names, region.role),
                table_arns=tables.arns_in(region, account_id),
                cors_origin=settings.api_origin or site.url,
                throttle_rate_limit=settings.api_throttle_rate_limit,
                throttle_burst_limit=settings.api_throttle_burst_limit,
                log_retention_days=settings.log_retention_days,
                log_kms_key_arn=ops_key.arn_in(region) if ops_key else None,
                xray_tracing=settings.xray_tracing,
            ),
            opts=pulumi.ResourceOptions(depends_on=gateway_account),
        )
    if settings.waf_enabled:  # one web ACL in front of both stages of the region
        waf(f"api-waf-{region.role}", "REGIONAL", region, cors_origin=settings.api_origin or site.url,
            associated_arns={kind: apis[region.role].stage_arn
                             for kind, apis in (("routing", routing_apis), ("photos", photos_apis))})

all_apis = [*routing_apis.values(), *photos_apis.values()]
identities = {
    region.role: Identity(
        f"identity-{region.role}",
        IdentityArgs(
            prefix=settings.prefix,
            region=region,
            bucket_arns=list(store.bucket_arns.values()),
            invoke_arns=[arn for api in all_apis for arn in api.app_invoke_arns],
            owner_invoke_arns=[arn for api in all_apis for arn in api.owner_invoke_arns],
            retain_data=settings.retain_data,
            photo_keys=[
                PhotoKey(r.name, store.bucket_arns[r.role], data_key.arn_in(r)) for r in regions
            ] if data_key else [],
            adopt_retained=settings.adopt_retained,
        ),
    )
    for region in regions
}

operator = OperatorAccess(
    "operator",
    OperatorAccessArgs(
        prefix=settings.prefix,
        region=regions.primary,
        invoke_arns=[arn for api in all_apis for arn in api.operator_invoke_arns],
        app_config_table_arns=[tables.arns_in(region, account_id)[Table.APP_CONFIG] for region in regions],
        audit_table_arns=[tables.arns_in(region, account_id)[Table.STATE_AUDIT] for region in regions],
        data_table_arns=[tables.arns_in(region, account_id)[t] for region in regions for t in ("comments", "photos")],
        user_pool_arns=[identities[role].user_pool_arn for role in ("primary", "secondary")],
        photo_bucket_arns=list(store.bucket_arns.values()),
        marker_table_arns=[tables.arns_in(regions.primary, account_id)[Table.PHOTOS]],
        trusted_principals=settings.operator_principals,
        require_mfa=settings.operator_require_mfa,
    ),
)

# Every alarm lives in the region that publishes its metric and notifies that region's topic.
monitoring = Monitoring(
    "monitoring",
    MonitoringArgs(
        prefix=settings.prefix,
        regions=regions,
        bucket_names=store.bucket_names,
        replication_rule_ids=replication_rule_ids(store.replications),
        table_names=tables.names,
        apis=[
            WatchedApi(kind=kind, region=region, api_name=apis[region.role].rest_api.name,
                       stage=apis[region.role].stage.stage_name)
            for region in regions
            for kind, apis in (("routing", routing_apis), ("photos", photos_apis))
        ],
        alarm_email=settings.alarm_email,
        topic_kms_key_arns=ops_key.arns if ops_key else None,
        thresholds=AlarmThresholds(
            api_5xx_percent=settings.alarm_api_5xx_percent,
            api_4xx_percent=settings.alarm_api_4xx_percent,
            bucket_replication_seconds=settings.alarm_bucket_replication_seconds,
            table_replication_seconds=settings.alarm_table_replication_seconds,
        ),
    ),
)

# Optional: the secondary switches itself to failover when the primary's health check fails.
auto_failover = (
    AutoFailover(
        "auto-failover",
        AutoFailoverArgs(
            prefix=settings.prefix,
            regions=regions,
            account_id=account_id,
            app_id=settings.app_id,
            app_config_table_name=tables.names[Table.APP_CONFIG],
            audit_table_name=tables.names[Table.STATE_AUDIT],
            routing_api_id=routing_apis["primary"].api_id,
            routing_api_name=routing_apis["primary"].rest_api.name,
            routing_stage=routing_apis["primary"].stage.stage_name,
            alarm_topic_arns={region.name: monitoring.topic_arns[region.role] for region in regions},
            topic_kms_key_arns={region.name: ops_key.arn_in(region) for region in regions} if ops_key else {},
            error_percent=settings.auto_failover_error_percent,
            unhealthy_minutes=settings.auto_failover_minutes,
            tags=settings.tags,
        ),
    )
    if settings.auto_failover
    else None
)

# Hardened: each region's bucket access logs, and CloudFront's, into a log bucket per region.
if settings.access_logs:
    AccessLogs(
        "access-logs",
        AccessLogsArgs(
            prefix=settings.prefix,
            regions=regions,
            account_id=account_id,
            sources={r.role: {"photos": store.buckets[r.role], "site": site.buckets[r.role]} for r in regions},
            retention_days=settings.log_retention_days,
            distribution_arn=site.distribution.arn,
            edge=edge,
            retain_data=settings.retain_data,
            adopt_retained=settings.adopt_retained,
        ),
    )


def region_outputs(role: str) -> dict[str, pulumi.Input[str]]:
    region = regions.primary if role == "primary" else regions.secondary
    identity = identities[role]
    return {
        RegionOut.REGION: region.name,
        RegionOut.STATE_URL: pulumi.Output.concat(routing_apis[role].invoke_url, "/state/", settings.app_id),
        RegionOut.ROUTING_API: routing_apis[role].invoke_url,
        RegionOut.PHOTOS_API: photos_apis[role].invoke_url,
        RegionOut.ROUTING_API_ID: routing_apis[role].api_id,
        RegionOut.PHOTOS_API_ID: photos_apis[role].api_id,
        RegionOut.BUCKET: store.bucket_names[role],
        RegionOut.SITE_BUCKET: site.bucket_names[role],
        RegionOut.USER_POOL_ID: identity.user_pool_id,
        RegionOut.USER_POOL_CLIENT_ID: identity.user_pool_client_id,
        RegionOut.IDENTITY_POOL_ID: identity.identity_pool_id,
        RegionOut.AUTH_ROLE_ARN: identity.authenticated_role_arn,
    }


outputs: dict[str, pulumi.Input] = {
    Out.APP_ID: settings.app_id,
    Out.PRIMARY: region_outputs("primary"),
    Out.SECONDARY: region_outputs("secondary"),
    Out.TABLES: tables.names,
    Out.OPERATOR_ROLE_ARN: operator.role_arn,
    Out.SITE_URL: site.url,
    Out.SITE_DISTRIBUTION_ID: site.distribution_id,
    Out.ALARM_TOPIC_ARNS: monitoring.topic_arns,
    Out.ALARM_NAMES: monitoring.alarm_names,
    Out.DASHBOARD_NAME: monitoring.dashboard_name,
    Out.DASHBOARD_URL: monitoring.dashboard_url,
}
if auto_failover:
    outputs[Out.AUTO_FAILOVER] = auto_failover.outputs
ui_config = pulumi.Output.from_input(outputs).apply(build_ui_config)

SiteContent(
    "site-content",
    SiteContentArgs(
        hosting=site,
        ui_config=ui_config,
        dist_dir=site_dist,
    ),
)

for key, value in outputs.items():
    pulumi.export(key, value)
pulumi.export(Out.UI_CONFIG, ui_config)
