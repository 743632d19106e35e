"""Known failures and their exit codes (contract.Exit: one table for `python -m ops` and `python -m sandbox`).

A known failure prints one line (`error: ...`) on stderr and exits with its code; anything
else is a bug and keeps its traceback (a crash is never reported as a usage error).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore import exceptions as boto_errors
from pulumi.automation import errors as auto_errors

from components.contract import EXIT_CODES, Exit, exit_code_table

__all__ = ["EXIT_CODES", "exit_code_table"]

OK = Exit.OK
FAILED = Exit.FAILED
USAGE = Exit.USAGE
CONFLICT = Exit.CONFLICT
UNREACHABLE = Exit.UNREACHABLE
NO_SANDBOX = Exit.NO_SANDBOX


class OpsError(Exception):
    """A known failure: one-line message, exit code."""

    exit_code = FAILED

    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(OpsError):
    exit_code = USAGE


class ConflictError(OpsError):
    exit_code = CONFLICT


class UnreachableError(OpsError):
    exit_code = UNREACHABLE


class NoSandboxError(OpsError):
    exit_code = NO_SANDBOX


def http_status(error: boto_errors.ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def is_unreachable(error: BaseException) -> bool:
    """Connection refused, DNS failure, timeouts, or a 5xx answer: the region is not serving."""
    if isinstance(error, (boto_errors.ConnectionError, boto_errors.HTTPClientError)):
        return True
    return isinstance(error, boto_errors.ClientError) and http_status(error) >= 500


def describe(error: BaseException) -> str:
    """A short reason for a botocore/AWS failure."""
    if isinstance(error, boto_errors.ClientError):
        err = error.response.get("Error", {})
        code = err.get("Code") or http_status(error)
        message = err.get("Message") or ""
        return f"{code}: {message}".rstrip(": ")
    return str(error) or type(error).__name__


def _command_error(error: auto_errors.CommandError) -> str:
    # CommandError keeps only str(CommandResult): "... stdout: <out>\n stderr: <err>".
    text = str(error)
    marker = text.rfind("\n stderr: ")
    lines = [line for line in text[marker + len("\n stderr: "):].splitlines() if line.strip()] if marker >= 0 else []
    last = lines[-1].strip() if lines else "see the output above"
    return f"pulumi failed: {last}"


# Exceptions raised by libraries, in the order they are tried: (class, exit code, message).
KNOWN_FAILURES: list[tuple[type[BaseException], int, Callable[[Any], str]]] = [
    (OpsError, FAILED, str),  # its own exit_code wins, see to_exit()
    (boto_errors.NoCredentialsError, USAGE, lambda e: "no AWS credentials: configure them (aws configure, "
                                                      "AWS_PROFILE) or use --sandbox"),
    (boto_errors.NoRegionError, USAGE, lambda e: "no AWS region configured"),
    (boto_errors.ConnectionError, UNREACHABLE, lambda e: f"endpoint unreachable: {e}"),
    (boto_errors.HTTPClientError, UNREACHABLE, lambda e: f"endpoint unreachable: {e}"),
    (boto_errors.ClientError, FAILED, lambda e: f"AWS refused the request: {describe(e)}"),
    (auto_errors.StackNotFoundError, USAGE, lambda e: "no such stack: check the name with `pulumi stack ls`"),
    (auto_errors.ConcurrentUpdateError, CONFLICT, lambda e: "another update of this stack is running"),
    (auto_errors.CommandError, FAILED, _command_error),
]


def to_exit(error: BaseException) -> tuple[int, str] | None:
    """(exit code, one-line message) of a known failure, None for anything else."""
    for cls, code, message in KNOWN_FAILURES:
        if isinstance(error, cls):
            if isinstance(error, OpsError):
                return error.exit_code, str(error)
            if isinstance(error, boto_errors.ClientError) and is_unreachable(error):
                return UNREACHABLE, f"endpoint unreachable: {describe(error)}"
            return code, message(error)
    return None
