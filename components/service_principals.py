"""Confused-deputy conditions: an AWS service that a trust or key policy names acts for this account only.

A statement whose principal is a service (`states.amazonaws.com`, `s3.amazonaws.com` ...) lets that service act
for whichever customer's resource asks it, unless the statement names the account (`aws:SourceAccount`) and, where
the service sets it, the resource it acts for (`aws:SourceArn`)
([confused deputy](https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html)).

A service that does not put a key in the request context fails a plain `StringEquals`/`ArnLike` on it: the role or
key would stop working (services that pass neither key exist). So each caller says whether the service documents
the keys for this use: documented -> the plain operators; not documented -> their `...IfExists` forms, which IAM
recommends for "condition keys that are available only in some circumstances"
([global condition keys](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html)):
they refuse another account whenever the service says which account it acts for, and never break the stack's own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any


def source_condition(account_id: str, source_arns: Sequence[str] = (), *, documented: bool) -> dict[str, Any]:
    """`aws:SourceAccount` is `account_id` (and `aws:SourceArn` one of `source_arns`, `*` allowed), strictly when
    the service documents the keys, else only when the service sets them."""
    suffix = "" if documented else "IfExists"
    condition: dict[str, Any] = {f"StringEquals{suffix}": {"aws:SourceAccount": account_id}}
    if source_arns:
        arns = list(source_arns)
        condition[f"ArnLike{suffix}"] = {"aws:SourceArn": arns[0] if len(arns) == 1 else arns}
    return condition


def service_trust_policy(service: str, condition: dict[str, Any]) -> str:
    """`service` may assume the role, under `condition` (a `source_condition`)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sts:AssumeRole",
                    "Condition": condition,
                }
            ],
        }
    )
