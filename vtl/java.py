"""Java semantics of the values a Velocity template sees in API Gateway.

API Gateway runs Velocity 1.7 on the JVM: strings are `java.lang.String` (UTF-16), JSON objects
are maps, JSON arrays are lists. This module gives Python values the same methods, string forms,
truthiness, equality and arithmetic, so templates behave as they will on AWS.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum
from typing import Any


class VtlError(Exception):
    """A template failed the way Velocity would fail (API Gateway answers 500 for these)."""


class JsonList(list):
    """A JSON array from `$input.path`/`$util.parseJson`: rendered as compact JSON, as API Gateway does."""


class MapEntry:
    """An element of `$map.entrySet()`."""

    def __init__(self, key: Any, value: Any) -> None:
        self.key = key
        self.value = value


class Reading(StrEnum):
    """What a template gets for a JSON number or boolean, and what `$util` accepts: API Gateway does
    not document either, so the project's templates must render the same meaning under each."""

    JAVA = "java"
    """Integer/Long for integral numbers, Double otherwise, Boolean (Jayway JsonPath on json-smart);
    `$util` functions take Strings only (Velocity 1.7 converts no argument). The sandbox's reading."""
    LENIENT = "lenient"
    """As JAVA, but `$util` functions call toString() on any argument."""
    DOUBLE = "double"
    """Every JSON number a Double: 2048 -> "2048.0", 10485760 -> "1.048576E7"."""
    STRING = "string"
    """Numbers and booleans as Strings of their JSON text: 2048 -> "2048", true -> "true"."""


class HostObject:
    """Base of the built-in variables ($input, $util): only names in `java_methods` are callable."""

    java_methods: frozenset[str] = frozenset()

    def java_property(self, name: str) -> Any:
        return None


# -- string forms ---------------------------------------------------------------------------------------


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _double_to_string(value: float) -> str:
    """Double.toString: plain digits in [1e-3, 1e7), else computerized scientific notation."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    if 1e-3 <= abs(value) < 1e7:
        text = repr(value)
        return text if ("." in text or "e" in text) else text + ".0"
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    digits_text = "".join(map(str, digits)).rstrip("0") or "0"
    exp10 = len(digits) + int(exponent) - 1
    mantissa = digits_text[0] + "." + (digits_text[1:] or "0")
    return ("-" if sign else "") + f"{mantissa}E{exp10}"


def to_java_string(value: Any) -> str:
    """String.valueOf(value) for the Java type API Gateway would hold."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _double_to_string(value)
    if isinstance(value, JsonList):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_json_default)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{to_java_string(k)}={to_java_string(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(to_java_string(v) for v in value) + "]"
    if isinstance(value, MapEntry):
        return f"{to_java_string(value.key)}={to_java_string(value.value)}"
    if isinstance(value, HostObject):
        return repr(value)
    return str(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, MapEntry):
        return {value.key: value.value}
    return to_java_string(value)


def to_json(value: Any) -> str:
    """Compact JSON text of a value (JSON arrays and objects as JSON, not Java's toString)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def from_json(value: Any, reading: Reading = Reading.JAVA) -> Any:
    """Parsed JSON as a template sees it: arrays render as JSON (as API Gateway's JsonPath results do),
    numbers and booleans as `reading` says."""
    if isinstance(value, dict):
        return {k: from_json(v, reading) for k, v in value.items()}
    if isinstance(value, list):
        return JsonList(from_json(v, reading) for v in value)
    if isinstance(value, (bool, int, float)):
        if reading is Reading.STRING:
            return json.dumps(value)
        if reading is Reading.DOUBLE and is_number(value):
            return float(value)
    return value


def java_type(value: Any) -> str:
    """The Java class name a value would have in API Gateway's Velocity (for error messages)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer" if -(2**31) <= value < 2**31 else "Long"
    if isinstance(value, float):
        return "Double"
    if isinstance(value, str):
        return "String"
    if isinstance(value, dict):
        return "Map"
    if isinstance(value, list):
        return "List"
    return type(value).__name__


# -- UTF-16 view (Java's String indexes code units) ----------------------------------------------------


def utf16_units(text: str) -> str:
    """The string with every astral character split into its surrogate pair: one char per UTF-16 unit."""
    if text.isascii():
        return text
    out = []
    for char in text:
        code = ord(char)
        if code > 0xFFFF:
            code -= 0x10000
            out.append(chr(0xD800 + (code >> 10)))
            out.append(chr(0xDC00 + (code & 0x3FF)))
        else:
            out.append(char)
    return "".join(out)


def from_utf16_units(units: str) -> str:
    """Join surrogate pairs back into characters (lone surrogates stay, as in a Java String)."""
    if units.isascii():
        return units
    return units.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


# -- escapeJavaScript -------------------------------------------------------------------------------------

_JS_ESCAPES = {"'": "\\'", '"': '\\"', "\\": "\\\\", "/": "\\/", "\b": "\\b", "\n": "\\n", "\t": "\\t",
               "\f": "\\f", "\r": "\\r"}


def escape_javascript(text: str) -> str:
    """Apache commons-lang StringEscapeUtils.escapeJavaScript, which API Gateway's $util uses.

    Per UTF-16 unit: ' " \\ / and \\b \\f \\n \\r \\t get a backslash; other units below 0x20 and every
    unit above 0x7f become \\uXXXX (upper-case hex), so an emoji is a surrogate pair. DEL (0x7f)
    is left as is, like commons-lang does.
    """
    out = []
    for char in utf16_units(text):
        code = ord(char)
        if code > 0x7F:
            out.append(f"\\u{code:04X}")
        elif char in _JS_ESCAPES:
            out.append(_JS_ESCAPES[char])
        elif code < 0x20:
            out.append(f"\\u{code:04X}")
        else:
            out.append(char)
    return "".join(out)


# -- java.util.regex -> re ----------------------------------------------------------------------------------

_POSIX_CLASSES = {
    "Lower": "a-z", "Upper": "A-Z", "ASCII": "\\x00-\\x7F", "Alpha": "a-zA-Z", "Digit": "0-9",
    "Alnum": "a-zA-Z0-9", "Punct": "!-/:-@\\[-`{-~", "Graph": "!-~", "Print": " -~", "Blank": " \\t",
    "Cntrl": "\\x00-\\x1F\\x7F", "XDigit": "0-9a-fA-F", "Space": " \\t\\n\\x0B\\f\\r",
}


def java_regex(pattern: str) -> re.Pattern[str]:
    """Compile a java.util.regex pattern with Python's re (3.11 has possessive and atomic groups)."""
    return _compile_java_regex(pattern)


_REGEX_CACHE: dict[str, re.Pattern[str]] = {}


def _compile_java_regex(pattern: str) -> re.Pattern[str]:
    cached = _REGEX_CACHE.get(pattern)
    if cached is not None:
        return cached
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if nxt == "Q":  # \Q...\E quotes everything in between
                end = pattern.find("\\E", i + 2)
                literal = pattern[i + 2:] if end < 0 else pattern[i + 2:end]
                out.append(re.escape(literal))
                i = len(pattern) if end < 0 else end + 2
                continue
            if nxt in "pP" and i + 2 < len(pattern) and pattern[i + 2] == "{":
                end = pattern.find("}", i + 3)
                name = pattern[i + 3:end] if end > 0 else ""
                name = name[2:] if name.startswith("Is") else name
                if name not in _POSIX_CLASSES:
                    raise VtlError(f"unsupported regex class \\{nxt}{{{name}}} in {pattern!r}")
                body = _POSIX_CLASSES[name]
                if in_class:
                    if nxt == "P":
                        raise VtlError(f"unsupported negated class inside [...] in {pattern!r}")
                    out.append(body)
                else:
                    out.append(("[^" if nxt == "P" else "[") + body + "]")
                i = end + 1
                continue
            if nxt == "z" and not in_class:
                out.append("\\Z")
            elif nxt == "Z" and not in_class:
                out.append("(?=\\n?\\Z)")
            else:
                out.append(char + nxt)
            i += 2
            continue
        if in_class:
            if char == "]":
                in_class = False
            elif char == "[":
                out.append("\\[")  # Java's nested-class union is rare; keep a literal [ for re
                i += 1
                continue
            out.append(char)
            i += 1
            continue
        if char == "[":
            in_class = True
            out.append(char)
            i += 1
            # a ] right after [ or [^ is a literal in Java as in re
            if pattern.startswith("^", i):
                out.append("^")
                i += 1
            if pattern.startswith("]", i):
                out.append("\\]")
                i += 1
            continue
        if pattern.startswith("(?<", i) and i + 3 < len(pattern) and pattern[i + 3] not in "=!":
            out.append("(?P<")
            i += 3
            continue
        out.append(char)
        i += 1
    try:
        compiled = re.compile("".join(out))
    except re.error as error:
        raise VtlError(f"invalid regular expression {pattern!r}: {error}") from None
    if len(_REGEX_CACHE) < 512:
        _REGEX_CACHE[pattern] = compiled
    return compiled


def _java_replacement(regex: re.Pattern[str], replacement: str) -> Callable[[re.Match[str]], str]:
    """Matcher.appendReplacement: $n and ${name} are groups, a backslash quotes the next char."""
    parts: list[str | int] = []
    literal: list[str] = []
    i = 0
    while i < len(replacement):
        char = replacement[i]
        if char == "\\":
            if i + 1 >= len(replacement):
                raise VtlError("character to be escaped is missing")
            literal.append(replacement[i + 1])
            i += 2
        elif char == "$":
            i += 1
            if i >= len(replacement):
                raise VtlError("Illegal group reference: group index is missing")
            if replacement[i] == "{":
                end = replacement.find("}", i)
                if end < 0:
                    raise VtlError("named capturing group is missing trailing '}'")
                name = replacement[i + 1:end]
                if name not in regex.groupindex:
                    raise VtlError(f"No group with name {{{name}}}")
                group: int = regex.groupindex[name]
                i = end + 1
            else:
                if not replacement[i].isdigit():
                    raise VtlError("Illegal group reference")
                group = int(replacement[i])
                i += 1
                # Java takes more digits only while they still name an existing group
                while i < len(replacement) and replacement[i].isdigit():
                    candidate = group * 10 + int(replacement[i])
                    if candidate > regex.groups:
                        break
                    group = candidate
                    i += 1
                if group > regex.groups:
                    raise VtlError(f"No group {group}")
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(group)
        else:
            literal.append(char)
            i += 1
    if literal:
        parts.append("".join(literal))

    def expand(match: re.Match[str]) -> str:
        return "".join(p if isinstance(p, str) else (match.group(p) or "") for p in parts)

    return expand


def _java_split(text: str, pattern: str, limit: int = 0) -> list[str]:
    regex = java_regex(pattern)
    parts: list[str] = []
    last, matched = 0, False
    for match in regex.finditer(text):
        if limit > 0 and len(parts) == limit - 1:
            break
        if match.end() == 0:  # a zero-width match at the start never yields a leading ""
            continue
        matched = True
        parts.append(text[last:match.start()])
        last = match.end()
    if not matched:
        return [text]
    parts.append(text[last:])
    if limit == 0:
        while parts and parts[-1] == "":
            parts.pop()
    return parts


# -- methods --------------------------------------------------------------------------------------------------


def _index_error(what: str) -> VtlError:
    return VtlError(f"{what} out of range")


def _substring(text: str, begin: int, end: int | None = None) -> str:
    units = utf16_units(text)
    stop = len(units) if end is None else end
    if begin < 0 or stop > len(units) or begin > stop:
        raise _index_error(f"String index begin {begin}, end {stop}, length {len(units)}")
    return from_utf16_units(units[begin:stop])


def _index_of(text: str, target: str, start: int = 0) -> int:
    units = utf16_units(text)
    return units.find(utf16_units(to_java_string(target)), max(start, 0))


def _last_index_of(text: str, target: str, start: int | None = None) -> int:
    units = utf16_units(text)
    needle = utf16_units(to_java_string(target))
    if start is None:
        return units.rfind(needle)
    if start < 0:
        return -1
    return units.rfind(needle, 0, start + len(needle))


def _char_at(text: str, index: int) -> str:
    units = utf16_units(text)
    if not 0 <= index < len(units):
        raise _index_error(f"String index {index}")
    return units[index]


def _compare_to(a: Any, b: Any) -> int:
    if is_number(a) and is_number(b):
        return (a > b) - (a < b)
    ua, ub = utf16_units(to_java_string(a)), utf16_units(to_java_string(b))
    for ca, cb in zip(ua, ub, strict=False):
        if ca != cb:
            return ord(ca) - ord(cb)
    return len(ua) - len(ub)


_WHITESPACE_TO_TRIM = "".join(chr(c) for c in range(0x21))

STRING_METHODS: dict[str, Callable[..., Any]] = {
    "length": lambda s: len(utf16_units(s)),
    "isEmpty": lambda s: len(s) == 0,
    "charAt": _char_at,
    "equals": lambda s, other: isinstance(other, str) and s == other,
    "equalsIgnoreCase": lambda s, other: isinstance(other, str) and s.lower() == other.lower(),
    "contains": lambda s, part: to_java_string(part) in s,
    "startsWith": lambda s, prefix, offset=0: utf16_units(s).startswith(utf16_units(prefix), offset),
    "endsWith": lambda s, suffix: s.endswith(suffix),
    "indexOf": _index_of,
    "lastIndexOf": _last_index_of,
    "substring": _substring,
    "subSequence": _substring,
    "replace": lambda s, old, new: s.replace(to_java_string(old), to_java_string(new)),
    "replaceAll": lambda s, pattern, repl: java_regex(pattern).sub(_java_replacement(java_regex(pattern), repl), s),
    "replaceFirst": lambda s, pattern, repl: java_regex(pattern).sub(
        _java_replacement(java_regex(pattern), repl), s, count=1),
    "matches": lambda s, pattern: java_regex(pattern).fullmatch(s) is not None,
    "split": lambda s, pattern, limit=0: _java_split(s, pattern, limit),
    "toLowerCase": lambda s: s.lower(),
    "toUpperCase": lambda s: s.upper(),
    "trim": lambda s: s.strip(_WHITESPACE_TO_TRIM),
    "concat": lambda s, other: s + other,
    "toString": lambda s: s,
    "compareTo": _compare_to,
}


def _list_get(items: list[Any], index: int) -> Any:
    if not isinstance(index, int) or not 0 <= index < len(items):
        raise _index_error(f"Index {index} for length {len(items)}")
    return items[index]


def _list_add(items: list[Any], *args: Any) -> Any:
    if len(args) == 2:
        items.insert(args[0], args[1])
        return None
    items.append(args[0])
    return True


def _list_set(items: list[Any], index: int, value: Any) -> Any:
    previous = _list_get(items, index)
    items[index] = value
    return previous


def _list_remove(items: list[Any], what: Any) -> Any:
    if isinstance(what, int) and not isinstance(what, bool):
        previous = _list_get(items, what)
        del items[what]
        return previous
    for i, item in enumerate(items):
        if java_equals(item, what):
            del items[i]
            return True
    return False


def _list_index_of(items: list[Any], value: Any) -> int:
    return next((i for i, item in enumerate(items) if java_equals(item, value)), -1)


LIST_METHODS: dict[str, Callable[..., Any]] = {
    "size": len,
    "isEmpty": lambda items: len(items) == 0,
    "get": _list_get,
    "contains": lambda items, value: _list_index_of(items, value) >= 0,
    "indexOf": _list_index_of,
    "add": _list_add,
    "addAll": lambda items, more: items.extend(more) or True,
    "set": _list_set,
    "remove": _list_remove,
    "subList": lambda items, a, b: items[a:b],
    "toString": to_java_string,
}


def _map_put(mapping: dict[Any, Any], key: Any, value: Any) -> Any:
    previous = mapping.get(key)
    mapping[key] = value
    return previous


MAP_METHODS: dict[str, Callable[..., Any]] = {
    "get": lambda m, key: m.get(key),
    "getOrDefault": lambda m, key, default: m.get(key, default),
    "containsKey": lambda m, key: key in m,
    "containsValue": lambda m, value: any(java_equals(v, value) for v in m.values()),
    "keySet": lambda m: list(m.keys()),
    "values": lambda m: list(m.values()),
    "entrySet": lambda m: [MapEntry(k, v) for k, v in m.items()],
    "size": len,
    "isEmpty": lambda m: len(m) == 0,
    "put": _map_put,
    "putAll": lambda m, other: m.update(other),
    "remove": lambda m, key: m.pop(key, None),
    "toString": to_java_string,
}

NUMBER_METHODS: dict[str, Callable[..., Any]] = {
    "toString": to_java_string,
    "intValue": lambda n: int(n),
    "longValue": lambda n: int(n),
    "doubleValue": lambda n: float(n),
    "floatValue": lambda n: float(n),
    "equals": lambda n, other: type(n) is type(other) and n == other,
    "compareTo": _compare_to,
}

BOOLEAN_METHODS: dict[str, Callable[..., Any]] = {
    "toString": to_java_string,
    "booleanValue": lambda b: b,
    "equals": lambda b, other: isinstance(other, bool) and b == other,
}

ENTRY_METHODS: dict[str, Callable[..., Any]] = {
    "getKey": lambda e: e.key,
    "getValue": lambda e: e.value,
    "toString": to_java_string,
}


def _methods_of(value: Any) -> dict[str, Callable[..., Any]] | None:
    if isinstance(value, str):
        return STRING_METHODS
    if isinstance(value, bool):
        return BOOLEAN_METHODS
    if is_number(value):
        return NUMBER_METHODS
    if isinstance(value, dict):
        return MAP_METHODS
    if isinstance(value, list):
        return LIST_METHODS
    if isinstance(value, MapEntry):
        return ENTRY_METHODS
    return None


def invoke(target: Any, name: str, args: list[Any]) -> Any:
    """`$target.name(args)`: None (an empty reference) when Java would find no such method."""
    if target is None:
        return None
    if isinstance(target, HostObject):
        if name not in target.java_methods:
            return None
        method = getattr(target, name)
    else:
        methods = _methods_of(target)
        if methods is None or name not in methods:
            return None
        bound = methods[name]

        def method(*a: Any) -> Any:
            return bound(target, *a)

    try:
        return method(*args)
    except VtlError as error:
        if type(error) is not VtlError:
            raise  # a specific failure (e.g. a body that is not JSON) keeps its type
        raise VtlError(f"{name}() failed: {error}") from None
    except TypeError as error:
        # Velocity finds no method with that signature: the reference stays unresolved (empty).
        if "argument" in str(error) or "positional" in str(error):
            return None
        raise VtlError(f"{name}() failed: {error}") from None
    except (ValueError, IndexError, KeyError, re.error) as error:
        raise VtlError(f"{name}() failed: {error}") from None


def get_property(target: Any, name: str) -> Any:
    """`$target.name`: a map's get(name), else getName()/isName() as Velocity's introspector does."""
    if target is None:
        return None
    if isinstance(target, dict):
        return target.get(name)
    if isinstance(target, HostObject):
        return target.java_property(name)
    if isinstance(target, MapEntry):
        return {"key": target.key, "value": target.value}.get(name)
    capitalized = name[:1].upper() + name[1:]
    for getter in (f"get{capitalized}", f"is{capitalized}"):
        methods = _methods_of(target) or {}
        if getter in methods:
            return invoke(target, getter, [])
    return None


def get_index(target: Any, index: Any) -> Any:
    """`$target[index]` (Velocity 1.7 index notation on lists and maps)."""
    if isinstance(target, list):
        if not isinstance(index, int) or isinstance(index, bool):
            raise VtlError(f"list index must be an integer, got {to_java_string(index)}")
        if index < 0:
            index += len(target)  # Velocity 1.7 counts negative indexes from the end
        return _list_get(target, index)
    if isinstance(target, dict):
        return target.get(index)
    return None


# -- operators ----------------------------------------------------------------------------------------------------


def truthy(value: Any) -> bool:
    """Velocity 1.7 #if: null and false are false; everything else (even "" and 0) is true."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    return True


def java_equals(a: Any, b: Any) -> bool:
    """Velocity 1.7 `==`: numbers by value, same classes by equals(), otherwise by toString()."""
    if a is None or b is None:
        return a is None and b is None
    if is_number(a) and is_number(b):
        return a == b
    same_kind = (isinstance(a, str) and isinstance(b, str)) or (isinstance(a, bool) and isinstance(b, bool)) \
        or (isinstance(a, dict) and isinstance(b, dict)) or (isinstance(a, list) and isinstance(b, list))
    if same_kind:
        return a == b
    return to_java_string(a) == to_java_string(b)


def java_add(a: Any, b: Any) -> Any:
    """`+`: string concatenation when either side is a string, else arithmetic."""
    if isinstance(a, str) or isinstance(b, str):
        if a is None or b is None:
            return None
        return to_java_string(a) + to_java_string(b)
    if is_number(a) and is_number(b):
        return a + b
    return None


def java_divide(a: Any, b: Any) -> Any:
    """`/`: integer division truncates toward zero; division by zero gives null (Velocity logs it)."""
    if not (is_number(a) and is_number(b)) or b == 0:
        return None
    if isinstance(a, int) and isinstance(b, int):
        quotient = abs(a) // abs(b)
        return quotient if (a >= 0) == (b >= 0) else -quotient
    return a / b


def java_modulo(a: Any, b: Any) -> Any:
    """`%`: the remainder takes the dividend's sign, as in Java."""
    if not (is_number(a) and is_number(b)) or b == 0:
        return None
    if isinstance(a, int) and isinstance(b, int):
        return int(math.fmod(a, b))
    return math.fmod(a, b)
