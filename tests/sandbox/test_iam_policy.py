"""The IAM policy evaluator: operators, absent keys, set qualifiers, policy variables, principals,
and the same-account decision between identity and resource policies (IAM User Guide).

Pure functions: no cloud needed.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.private_bucket import deny_insecure_transport
from sandbox import iam_policy
from sandbox.iam_policy import ANONYMOUS, Caller, Decision, authorize, evaluate, is_allowed

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app-users"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/app-users/CognitoIdentityCredentials"
BUCKET = "arn:aws:s3:::photos"
CALLER = Caller(account=ACCOUNT, arns=frozenset({ROLE, SESSION}))


def policy(*statements: dict[str, Any], version: str = "2012-10-17") -> dict[str, Any]:
    return {"Version": version, "Statement": list(statements)}


def allow(condition: dict[str, Any] | None = None, resource: Any = "*", action: Any = "s3:GetObject",
          **extra: Any) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Action": action, "Resource": resource, **extra}
    if condition:
        statement["Condition"] = condition
    return statement


def allowed(condition: dict[str, Any], context: dict[str, Any]) -> bool:
    return is_allowed([policy(allow(condition))], "s3:GetObject", f"{BUCKET}/k", context)


# -- the decision ------------------------------------------------------------------------------------------------
def test_an_explicit_deny_wins_over_any_allow() -> None:
    documents = [policy(allow()), policy({"Effect": "Deny", "Action": "s3:*", "Resource": f"{BUCKET}/*"})]
    assert evaluate(documents, "s3:GetObject", f"{BUCKET}/k") is Decision.EXPLICIT_DENY
    assert evaluate(documents, "s3:GetObject", "arn:aws:s3:::other/k") is Decision.ALLOW


def test_nothing_allows_means_an_implicit_deny() -> None:
    assert evaluate([policy(allow(action="s3:PutObject"))], "s3:GetObject", BUCKET) is Decision.IMPLICIT_DENY
    assert evaluate([], "s3:GetObject", BUCKET) is Decision.IMPLICIT_DENY


def test_not_action_and_not_resource_match_everything_else() -> None:
    document = policy({"Effect": "Allow", "NotAction": "s3:Delete*", "NotResource": f"{BUCKET}/private/*"})
    assert is_allowed([document], "s3:GetObject", f"{BUCKET}/public/k")
    assert not is_allowed([document], "s3:DeleteObject", f"{BUCKET}/public/k")
    assert not is_allowed([document], "s3:GetObject", f"{BUCKET}/private/k")


def test_actions_ignore_case_and_resources_do_not() -> None:
    document = policy(allow(action="S3:getobject", resource=f"{BUCKET}/Public/*"))
    assert is_allowed([document], "s3:GetObject", f"{BUCKET}/Public/a")
    assert not is_allowed([document], "s3:GetObject", f"{BUCKET}/public/a")


# -- operators ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "condition,context,expected",
    [
        ({"StringEquals": {"k": ["a", "b"]}}, {"k": "b"}, True),
        ({"StringEquals": {"k": "a"}}, {"k": "A"}, False),
        ({"StringNotEquals": {"k": "a"}}, {"k": "b"}, True),
        ({"StringEqualsIgnoreCase": {"k": "abc"}}, {"k": "ABC"}, True),
        ({"StringNotEqualsIgnoreCase": {"k": "abc"}}, {"k": "ABC"}, False),
        ({"StringLike": {"k": "public/*"}}, {"k": "public/a/b"}, True),
        ({"StringLike": {"k": "ab?"}}, {"k": "abcd"}, False),
        ({"StringLike": {"k": "[ab]"}}, {"k": "a"}, False),  # no character classes in IAM
        ({"StringNotLike": {"k": "public/*"}}, {"k": "private/a"}, True),
        ({"NumericLessThan": {"s3:max-keys": "100"}}, {"s3:max-keys": "10"}, True),
        ({"NumericLessThanEquals": {"n": "10"}}, {"n": "10"}, True),
        ({"NumericGreaterThan": {"n": "10"}}, {"n": "10"}, False),
        ({"NumericGreaterThanEquals": {"n": "10"}}, {"n": "10.0"}, True),
        ({"NumericEquals": {"n": "10"}}, {"n": "ten"}, False),
        ({"NumericNotEquals": {"n": "10"}}, {"n": "11"}, True),
        ({"DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}}, {"aws:CurrentTime": "2026-06-01T00:00:00Z"},
         True),
        ({"DateLessThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}}, {"aws:CurrentTime": "2026-06-01T00:00:00Z"},
         False),
        ({"DateLessThanEquals": {"aws:EpochTime": "1767225600"}}, {"aws:EpochTime": "1767225600"}, True),
        ({"DateEquals": {"t": "2026-01-01T00:00:00Z"}}, {"t": "1767225600"}, True),
        ({"DateNotEquals": {"t": "2026-01-01T00:00:00Z"}}, {"t": "1767225601"}, True),
        ({"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": "False"}, True),
        ({"BinaryEquals": {"b": "QUJD"}}, {"b": "QUJD"}, True),
        ({"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}, {"aws:SourceIp": "127.0.0.1"}, True),
        ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "127.0.0.1"}, False),
        ({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "127.0.0.1"}, True),
        ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/app-*"}}, {"aws:PrincipalArn": ROLE}, True),
        ({"ArnEquals": {"aws:PrincipalArn": ROLE}}, {"aws:PrincipalArn": ROLE}, True),
        ({"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/ops-*"}}, {"aws:PrincipalArn": ROLE}, True),
        ({"ArnNotEquals": {"aws:PrincipalArn": ROLE}}, {"aws:PrincipalArn": ROLE}, False),
        ({"Null": {"s3:if-none-match": "true"}}, {}, True),
        ({"Null": {"s3:if-none-match": "false"}}, {"s3:if-none-match": "*"}, True),
        ({"Null": {"s3:if-none-match": "true"}}, {"s3:if-none-match": "*"}, False),
        ({"StringEquals": {"S3:If-None-Match": "*"}}, {"s3:if-none-match": "*"}, True),  # key names ignore case
        ({"Bogus": {"k": "a"}}, {"k": "a"}, False),  # an operator IAM does not have never matches
    ],
)
def test_each_condition_operator(condition: dict[str, Any], context: dict[str, Any], expected: bool) -> None:
    assert allowed(condition, context) is expected


def test_arn_wildcards_do_not_cross_the_colons_between_arn_parts() -> None:
    # "*" in the account part cannot swallow "iam::123...:role" of another layout
    assert not allowed({"ArnLike": {"a": "arn:aws:*:role/app-users"}}, {"a": ROLE})
    assert allowed({"ArnLike": {"a": "arn:aws:iam::*:role/*"}}, {"a": ROLE})


@pytest.mark.parametrize("operator", ["StringNotEquals", "StringNotLike", "ArnNotLike", "ArnNotEquals",
                                      "NotIpAddress", "NumericNotEquals", "DateNotEquals",
                                      "StringNotEqualsIgnoreCase"])
def test_negated_operators_match_when_the_key_is_absent(operator: str) -> None:
    assert allowed({operator: {"absent:key": "x"}}, {})


@pytest.mark.parametrize("operator", ["StringEquals", "StringLike", "ArnLike", "IpAddress", "Bool", "NumericEquals",
                                      "DateEquals"])
def test_positive_operators_fail_when_the_key_is_absent_unless_if_exists(operator: str) -> None:
    assert not allowed({operator: {"absent:key": "x"}}, {})
    assert allowed({f"{operator}IfExists": {"absent:key": "x"}}, {})


def test_if_exists_still_checks_a_key_that_is_present() -> None:
    assert not allowed({"StringEqualsIfExists": {"k": "a"}}, {"k": "b"})


@pytest.mark.parametrize(
    "condition,values,expected",
    [
        ({"ForAnyValue:StringEquals": {"tags": ["a", "b"]}}, ["x", "b"], True),
        ({"ForAnyValue:StringEquals": {"tags": ["a", "b"]}}, ["x", "y"], False),
        ({"ForAnyValue:StringEquals": {"tags": ["a"]}}, None, False),  # absent: nothing matches
        ({"ForAllValues:StringEquals": {"tags": ["a", "b"]}}, ["a", "b"], True),
        ({"ForAllValues:StringEquals": {"tags": ["a", "b"]}}, ["a", "x"], False),
        ({"ForAllValues:StringEquals": {"tags": ["a"]}}, None, True),  # absent or empty: vacuously true
        ({"ForAllValues:StringEquals": {"tags": ["a"]}}, [], True),
        ({"ForAnyValue:StringNotEquals": {"tags": ["a"]}}, ["a", "b"], True),
        ({"ForAllValues:StringNotEquals": {"tags": ["a"]}}, ["a", "b"], False),
        ({"ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"}},
         ["authenticated", "cognito-idp.us-east-1.amazonaws.com/pool"], True),
        ({"ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"}}, ["unauthenticated"],
         False),
    ],
)
def test_set_qualifiers_on_multivalued_keys(condition: dict[str, Any], values: list[str] | None,
                                            expected: bool) -> None:
    key = next(iter(next(iter(condition.values()))))
    context = {} if values is None else {key: values}
    assert allowed(condition, context) is expected


def test_every_block_every_key_must_hold_and_any_value_may_match() -> None:
    condition = {"StringEquals": {"a": ["1", "2"], "b": "3"}, "Bool": {"c": "true"}}
    assert allowed(condition, {"a": "2", "b": "3", "c": "true"})
    assert not allowed(condition, {"a": "2", "b": "3", "c": "false"})
    assert not allowed(condition, {"a": "2", "c": "true"})


# -- policy variables ---------------------------------------------------------------------------------------------
def resource_allowed(resource: str, target: str, context: dict[str, Any], version: str = "2012-10-17") -> bool:
    return is_allowed([policy(allow(resource=resource), version=version)], "s3:GetObject", target, context)


def test_variables_take_request_context_values_in_resources() -> None:
    context = {"aws:PrincipalTag/owner": "alice", "aws:username": "bob",
               "cognito-identity.amazonaws.com:sub": "us-east-1:1234"}
    assert resource_allowed(f"{BUCKET}/public/${{aws:PrincipalTag/owner}}/*", f"{BUCKET}/public/alice/p", context)
    assert not resource_allowed(f"{BUCKET}/public/${{aws:PrincipalTag/owner}}/*", f"{BUCKET}/public/eve/p", context)
    assert resource_allowed(f"{BUCKET}/home/${{aws:username}}", f"{BUCKET}/home/bob", context)
    assert resource_allowed(f"{BUCKET}/${{cognito-identity.amazonaws.com:sub}}/*", f"{BUCKET}/us-east-1:1234/x",
                            context)


def test_variable_names_ignore_case() -> None:
    context = {"aws:PrincipalTag/owner": "alice"}
    assert resource_allowed(f"{BUCKET}/${{AWS:PRINCIPALTAG/OWNER}}", f"{BUCKET}/alice", context)


def test_an_unresolved_variable_makes_the_resource_match_nothing() -> None:
    assert not resource_allowed(f"{BUCKET}/public/${{aws:PrincipalTag/owner}}/*", f"{BUCKET}/public//p", {})
    assert not resource_allowed(f"{BUCKET}/${{aws:PrincipalTag/owner}}*", f"{BUCKET}/anything", {})
    # a multivalued key is not a variable
    assert not resource_allowed(f"{BUCKET}/${{k}}", f"{BUCKET}/a", {"k": ["a", "b"]})


def test_an_unresolved_variable_in_a_condition_equals_nothing() -> None:
    assert not allowed({"StringEquals": {"s3:prefix": "home/${aws:username}/"}}, {"s3:prefix": "home//"})
    assert allowed({"StringNotEquals": {"s3:prefix": "home/${aws:username}/"}}, {"s3:prefix": "home//"})


def test_a_default_value_stands_in_for_a_missing_key() -> None:
    resource = f"{BUCKET}/public/${{aws:PrincipalTag/owner, 'nobody'}}/*"
    assert resource_allowed(resource, f"{BUCKET}/public/nobody/p", {})
    assert resource_allowed(resource, f"{BUCKET}/public/alice/p", {"aws:PrincipalTag/owner": "alice"})
    assert resource_allowed(f"{BUCKET}/${{k, 'it''s'}}", f"{BUCKET}/it's", {})


def test_escapes_are_literal_characters_not_wildcards() -> None:
    assert resource_allowed(f"{BUCKET}/a${{*}}b", f"{BUCKET}/a*b", {})
    assert not resource_allowed(f"{BUCKET}/a${{*}}b", f"{BUCKET}/axxb", {})
    assert resource_allowed(f"{BUCKET}/a${{?}}", f"{BUCKET}/a?", {})
    assert not resource_allowed(f"{BUCKET}/a${{?}}", f"{BUCKET}/ab", {})
    assert resource_allowed(f"{BUCKET}/${{$}}{{x}}", f"{BUCKET}/${{x}}", {})


def test_a_substituted_value_is_literal_so_a_tag_of_star_widens_nothing() -> None:
    context = {"aws:PrincipalTag/owner": "*"}
    assert not resource_allowed(f"{BUCKET}/public/${{aws:PrincipalTag/owner}}/*", f"{BUCKET}/public/alice/p", context)
    assert resource_allowed(f"{BUCKET}/public/${{aws:PrincipalTag/owner}}/*", f"{BUCKET}/public/*/p", context)


def test_variables_exist_only_in_the_2012_10_17_language() -> None:
    resource = f"{BUCKET}/${{aws:username}}"
    assert not resource_allowed(resource, f"{BUCKET}/bob", {"aws:username": "bob"}, version="2008-10-17")
    assert resource_allowed(resource, f"{BUCKET}/${{aws:username}}", {"aws:username": "bob"}, version="2008-10-17")


def test_variables_in_condition_values() -> None:
    condition = {"StringLike": {"s3:prefix": ["public/${aws:PrincipalTag/owner}/*"]}}
    assert allowed(condition, {"s3:prefix": "public/alice/x", "aws:PrincipalTag/owner": "alice"})
    assert not allowed(condition, {"s3:prefix": "public/eve/x", "aws:PrincipalTag/owner": "alice"})


# -- principals and the same-account decision -----------------------------------------------------------------------
def bucket_policy(effect: str, principal: Any, key: str = "Principal", **extra: Any) -> dict[str, Any]:
    return policy({"Effect": effect, key: principal, "Action": "s3:*", "Resource": f"{BUCKET}/*", **extra})


@pytest.mark.parametrize(
    "principal,names_caller",
    [
        ("*", True),
        ({"AWS": "*"}, True),
        ({"AWS": ROLE}, True),  # a role ARN names every session of the role
        ({"AWS": [SESSION]}, True),
        ({"AWS": f"arn:aws:iam::{ACCOUNT}:role/someone-else"}, False),
        ({"Service": "s3.amazonaws.com"}, False),
    ],
)
def test_bucket_policy_principals(principal: Any, names_caller: bool) -> None:
    verdict = authorize([], [bucket_policy("Allow", principal)], "s3:GetObject", f"{BUCKET}/k", {}, CALLER)
    assert verdict.allowed is names_caller


def test_the_account_principal_denies_everyone_in_it_but_grants_nothing_by_itself() -> None:
    for account in (ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root"):
        grant = authorize([], [bucket_policy("Allow", {"AWS": account})], "s3:GetObject", f"{BUCKET}/k", {}, CALLER)
        assert not grant.allowed
        deny = authorize([policy(allow())], [bucket_policy("Deny", {"AWS": account})], "s3:GetObject",
                         f"{BUCKET}/k", {}, CALLER)
        assert deny.decision is Decision.EXPLICIT_DENY


def test_not_principal_applies_to_everyone_else() -> None:
    documents = [bucket_policy("Deny", {"AWS": ROLE}, key="NotPrincipal")]
    other = Caller(account=ACCOUNT, arns=frozenset({f"arn:aws:iam::{ACCOUNT}:role/ops"}))
    assert evaluate(documents, "s3:GetObject", f"{BUCKET}/k", principal=other) is Decision.EXPLICIT_DENY
    assert evaluate(documents, "s3:GetObject", f"{BUCKET}/k", principal=CALLER) is Decision.IMPLICIT_DENY


def test_same_account_identity_or_bucket_policy_allows_and_any_deny_wins() -> None:
    identity, bucket = [policy(allow())], [bucket_policy("Allow", {"AWS": ROLE})]
    assert authorize(identity, [], "s3:GetObject", f"{BUCKET}/k", {}, CALLER).allowed
    assert authorize([], bucket, "s3:GetObject", f"{BUCKET}/k", {}, CALLER).allowed
    denied = authorize(identity, [bucket_policy("Deny", "*")], "s3:GetObject", f"{BUCKET}/k", {}, CALLER)
    assert denied.decision is Decision.EXPLICIT_DENY and denied.policy_type == "resource-based"
    assert denied.reason("s3:GetObject") == "with an explicit deny in a resource-based policy"
    none = authorize([], [], "s3:GetObject", f"{BUCKET}/k", {}, CALLER)
    assert none.reason("s3:GetObject") == "because no identity-based policy allows the s3:GetObject action"


def test_the_anonymous_principal_has_no_identity_policies() -> None:
    assert not authorize([policy(allow())], [], "s3:GetObject", f"{BUCKET}/k", {}, ANONYMOUS).allowed
    assert authorize([], [bucket_policy("Allow", "*")], "s3:GetObject", f"{BUCKET}/k", {}, ANONYMOUS).allowed


def test_trust_policies_name_the_federated_principal_and_have_no_resource() -> None:
    trust = policy({"Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringEquals": {"cognito-identity.amazonaws.com:aud": "pool-1"}}})
    cognito = Caller(federated="cognito-identity.amazonaws.com")
    context = {"cognito-identity.amazonaws.com:aud": "pool-1"}
    assert is_allowed([trust], "sts:AssumeRoleWithWebIdentity", ROLE, context, principal=cognito)
    assert not is_allowed([trust], "sts:AssumeRoleWithWebIdentity", ROLE, {"cognito-identity.amazonaws.com:aud": "x"},
                          principal=cognito)
    assert not is_allowed([trust], "sts:AssumeRoleWithWebIdentity", ROLE, context, principal=CALLER)


# -- the program's own statements ---------------------------------------------------------------------------------
def test_the_programs_deny_insecure_transport_denies_plain_http_and_nothing_else() -> None:
    bucket = [json.dumps(policy(deny_insecure_transport(BUCKET)))]
    identity = [policy(allow(action="s3:*"))]
    over_http = authorize(identity, bucket, "s3:PutObject", f"{BUCKET}/public/k", {"aws:SecureTransport": "false"},
                          CALLER)
    assert over_http.decision is Decision.EXPLICIT_DENY
    assert authorize(identity, bucket, "s3:PutObject", f"{BUCKET}/public/k", {"aws:SecureTransport": "true"},
                     CALLER).allowed


def test_conditions_on_finds_the_statements_that_condition_an_action_on_a_resource_by_a_key() -> None:
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/public/*",
         "Condition": {"StringNotEquals": {"S3:If-None-Match": "*"}}},
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
         "Condition": {"Null": {"s3:if-match": "false"}}}]}
    keys = ("s3:if-none-match", "s3:if-match")
    assert iam_policy.conditions_on([policy], "s3:PutObject", "arn:aws:s3:::b/public/k", keys)  # any case, any effect
    assert not iam_policy.conditions_on([policy], "s3:PutObject", "arn:aws:s3:::b/private/k", keys)  # not covered
    assert not iam_policy.conditions_on([policy], "s3:PutObject", "arn:aws:s3:::b/public/k", ("aws:SourceIp",))
    assert iam_policy.conditions_on([json.dumps(policy)], "s3:GetObject", "arn:aws:s3:::b/x", keys)
