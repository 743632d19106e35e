"""The two regions of a stack and their explicit AWS providers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.settings import Settings


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
