"""Pulumi ComponentResources of the multi-region application.

Kept import-free so that `ops/` and tests can import `components.contract`
without loading pulumi_aws.
"""
