"""The JSONPath subset API Gateway templates use: `$`, `.name`, `['name']`, `[n]`, `[*]`, `.*`, `..name`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from vtl.java import JsonList, VtlError

_NAME = re.compile(r"[^.\[\]]+")
_BRACKET = re.compile(r"\[\s*(?:'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"|(-?\d+)|(\*))\s*\]")


@dataclass(frozen=True)
class _Step:
    kind: str  # "key" | "index" | "wildcard" | "scan"
    value: Any = None


def _parse(path: str) -> tuple[_Step, ...]:
    text = path.strip()
    if not text.startswith("$"):
        raise VtlError(f"invalid JSONPath {path!r}: must start with $")
    steps: list[_Step] = []
    i = 1
    while i < len(text):
        if text.startswith("..", i):
            match = _NAME.match(text, i + 2)
            if not match:
                raise VtlError(f"invalid JSONPath {path!r} at {i}")
            steps.append(_Step("scan", match.group(0)))
            i = match.end()
        elif text[i] == ".":
            if text.startswith("*", i + 1):
                steps.append(_Step("wildcard"))
                i += 2
                continue
            match = _NAME.match(text, i + 1)
            if not match:
                raise VtlError(f"invalid JSONPath {path!r} at {i}")
            steps.append(_Step("key", match.group(0)))
            i = match.end()
        elif text[i] == "[":
            match = _BRACKET.match(text, i)
            if not match:
                raise VtlError(f"invalid JSONPath {path!r} at {i}")
            single, double, index, star = match.groups()
            if star:
                steps.append(_Step("wildcard"))
            elif index is not None:
                steps.append(_Step("index", int(index)))
            else:
                key = single if single is not None else double
                steps.append(_Step("key", re.sub(r"\\(.)", r"\1", key)))
            i = match.end()
        else:
            raise VtlError(f"invalid JSONPath {path!r} at {i}")
    return tuple(steps)


def _scan(node: Any, name: str) -> list[Any]:
    found: list[Any] = []
    if isinstance(node, dict):
        if name in node:
            found.append(node[name])
        for value in node.values():
            found.extend(_scan(value, name))
    elif isinstance(node, list):
        for value in node:
            found.extend(_scan(value, name))
    return found


def select(document: Any, path: str) -> Any:
    """The value at `path`, None when absent; a list of matches when the path has * or ..."""
    steps = _parse(path)
    definite = all(step.kind in ("key", "index") for step in steps)
    nodes = [document]
    for step in steps:
        following: list[Any] = []
        for node in nodes:
            if step.kind == "key":
                if isinstance(node, dict) and step.value in node:
                    following.append(node[step.value])
            elif step.kind == "index":
                if isinstance(node, list) and -len(node) <= step.value < len(node):
                    following.append(node[step.value])
            elif step.kind == "wildcard":
                if isinstance(node, dict):
                    following.extend(node.values())
                elif isinstance(node, list):
                    following.extend(node)
            else:
                following.extend(_scan(node, step.value))
        nodes = following
    if definite:
        return nodes[0] if nodes else None
    return JsonList(nodes)
