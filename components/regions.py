"""The two regions of a stack and their explicit AWS providers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.settings import Settings

# CloudFront's control region: its CLOUDFRONT-scope WAF web ACLs and its log deliveries are created there.
EDGE_REGION = "us-east-1"


@dataclass(frozen=True)
class Region:
    """One region of the pair: its role, its name and the provider that deploys there."""

    role: str  # "primary" | "secondary"
    name: str  # e.g. "us-east-1"
    provider: aws.Provider

    def opts(self, parent: pulumi.Resource, **kwargs) -> pulumi.ResourceOptions:
        """Options of a child resource that lives in this region."""
        return pulumi.ResourceOptions(parent=parent, provider=self.provider, **kwargs)

    def invoke_opts(self, parent: pulumi.Resource | None = None) -> pulumi.InvokeOptions:
        return pulumi.InvokeOptions(parent=parent, provider=self.provider)


@dataclass(frozen=True)
class RegionPair:
    primary: Region
    secondary: Region

    def __iter__(self) -> Iterator[Region]:
        return iter((self.primary, self.secondary))

    def other(self, region: Region) -> Region:
        return self.secondary if region.role == "primary" else self.primary


def create_region_pair(settings: Settings) -> RegionPair:
    """Two explicit providers, each tagging what it creates with project, stack and role."""

    def region(role: str) -> Region:
        name = settings.region(role)
        provider = aws.Provider(
            f"aws-{role}",
            region=name,
            default_tags=aws.ProviderDefaultTagsArgs(tags={**settings.tags, "region-role": role}),
        )
        return Region(role=role, name=name, provider=provider)

    return RegionPair(primary=region("primary"), secondary=region("secondary"))


def region_named(
    pair: RegionPair,
    name: str,
    *,
    resource_name: str,
    role: str,
    tags: Mapping[str, str],
    parent: pulumi.Resource | None = None,
) -> Region:
    """The stack's region called `name` if it is one of the pair, else a provider of its own for it
    (named `resource_name`, tagging with `tags` plus region-role = `role`)."""
    for region in pair:
        if region.name == name:
            return region
    provider = aws.Provider(
        resource_name,
        region=name,
        default_tags=aws.ProviderDefaultTagsArgs(tags={**tags, "region-role": role}),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return Region(role=role, name=name, provider=provider)
