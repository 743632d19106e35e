"""The VTL engine renders mapping templates the way API Gateway (Velocity 1.7 on the JVM) does."""

from __future__ import annotations

import json

import airspeed
import pytest

import vtl
from vtl import InvalidJsonBodyError, Reading, VtlError, escape_javascript, render, substitute

UNDO_QUOTE = """.replaceAll("\\\\'", "'")"""  # the real templates' `.replaceAll("\\'", "'")`


def text(template: str, **kwargs) -> str:
    return render(template, **kwargs).text


# -- $util.escapeJavaScript ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("plain text 123", "plain text 123"),
        ('say "hi"', 'say \\"hi\\"'),
        ("it's", "it\\'s"),
        ("back\\slash", "back\\\\slash"),
        ("</script>", "<\\/script>"),
        ("\b\f\n\r\t", "\\b\\f\\n\\r\\t"),
        ("\x00\x01\x1f", "\\u0000\\u0001\\u001F"),
        ("\x7f", "\x7f"),  # commons-lang leaves DEL alone
        ("\x80é", "\\u0080\\u00E9"),
        ("€ \u2028", "\\u20AC \\u2028"),
        ("😀", "\\uD83D\\uDE00"),  # UTF-16 code units, upper-case hex
    ],
)
def test_escape_javascript_matches_commons_lang(raw: str, escaped: str) -> None:
    assert escape_javascript(raw) == escaped
    assert text("$util.escapeJavaScript($input.path('$.v'))", body=json.dumps({"v": raw})) == escaped


def test_escaped_string_with_quote_undone_is_valid_json_for_any_input() -> None:
    nasty = "it's \"quoted\" \\' \\\\' back\\slash\n\ttab </script> 😀 \u2028 \x01" + "x" * 1000
    template = '{"v": "$util.escapeJavaScript($input.path(\'$.v\'))' + UNDO_QUOTE + '"}'
    assert json.loads(text(template, body=json.dumps({"v": nasty}))) == {"v": nasty}


def test_util_string_functions_take_strings_only_unless_the_reading_is_lenient() -> None:
    body = json.dumps({"n": 42, "b": True, "m": {"a": "x"}})
    for name in ("n", "b", "m"):
        for reading in (Reading.JAVA, Reading.DOUBLE):
            with pytest.raises(VtlError, match="takes a String"):
                render(f"$util.escapeJavaScript($input.path('$.{name}'))", body=body, reading=reading)
    template = ("$util.escapeJavaScript($input.path('$.n'))|$util.escapeJavaScript($input.path('$.b'))|"
                "$util.escapeJavaScript($input.path('$.m'))|$util.escapeJavaScript($input.path('$.missing'))")
    assert text(template, body=body, reading=Reading.LENIENT) == "42|true|{a=x}|"
    assert text(template.replace("$.m", "$.n"), body=body, reading=Reading.STRING) == "42|true|42|"
    assert text('$util.escapeJavaScript("$input.path(\'$.n\')")', body=body) == "42"  # quoted: a String


# -- $input -------------------------------------------------------------------------------------------------------


def test_params_lookup_prefers_path_then_querystring_then_header() -> None:
    params = {"path": {"id": "from-path"}, "querystring": {"id": "from-query", "q": "query-only"},
              "header": {"id": "from-header", "q": "header-q", "X-Trace": "trace"}}
    out = text("$input.params('id')|$input.params('q')|$input.params('x-trace')|[$input.params('absent')]",
               params=params)
    assert out == "from-path|query-only|trace|[]"


def test_params_without_name_is_the_map_of_the_three_kinds() -> None:
    params = {"path": {"photoId": "p1"}, "querystring": {"limit": "5"}, "header": {"Accept": "x"}}
    template = "$input.params().path.photoId $input.params().querystring.get('limit') " \
               "#foreach($kind in $input.params().keySet())$kind#if($foreach.hasNext),#end#end"
    assert text(template, params=params) == "p1 5 path,querystring,header"


def test_input_json_and_path_select_with_jsonpath() -> None:
    body = json.dumps({"a": {"b": [10, {"c": "x"}]}, "list": [{"n": 1}, {"n": 2}], "key with space": "k"})
    assert text("$input.json('$.a.b[1]')", body=body) == '{"c":"x"}'
    assert text("$input.json('$')", body=body) == json.dumps(json.loads(body), separators=(",", ":"))
    assert text("$input.path('$.a.b[0]')", body=body) == "10"
    assert text("$input.path('$.a.b').size()", body=body) == "2"
    assert text("$input.path(\"$['key with space']\")", body=body) == "k"
    assert text("$input.json('$.list[*].n')", body=body) == "[1,2]"
    assert text("[$input.path('$.nope')] $input.json('$.nope')", body=body) == "[] null"


def test_jsonpath_filters_slices_negative_indexes_and_paths_without_root() -> None:
    body = json.dumps({"list": [{"n": 1}, {"n": 2}, {"n": 3}], "a": {"b": "c"}})
    assert text("$input.json('$.list[?(@.n > 1)].n')", body=body) == "[2,3]"
    assert text("$input.json('$.list[0:2]')", body=body) == '[{"n":1},{"n":2}]'
    assert text("$input.path('$.list[-1].n')", body=body) == "3"
    assert text("$input.path('a.b')", body=body) == "c"  # Jayway reads a path without `$` from the root
    assert text("$input.path('$..n').size()", body=body) == "3"
    with pytest.raises(VtlError, match="invalid JSONPath"):
        render("$input.path('$.[[')", body=body)


@pytest.mark.parametrize(
    ("reading", "expected"),
    [
        (Reading.JAVA, "2048|10485760|2.5|true|2049|2048"),
        (Reading.LENIENT, "2048|10485760|2.5|true|2049|2048"),
        (Reading.DOUBLE, "2048.0|1.048576E7|2.5|true|2049.0|2048"),
        (Reading.STRING, "2048|10485760|2.5|true|20481|2048"),  # String + 1 concatenates
    ],
)
def test_json_numbers_and_booleans_under_each_reading(reading: Reading, expected: str) -> None:
    body = json.dumps({"i": 2048, "big": 10485760, "f": 2.5, "b": True})
    template = ("$input.path('$.i')|$input.path('$.big')|$input.path('$.f')|$input.path('$.b')|"
                "#set($n = $input.path('$.i') + 1)$n|$input.json('$.i')")
    assert text(template, body=body, reading=reading) == expected


def test_maps_render_like_java_and_json_arrays_like_json() -> None:
    body = json.dumps({"a": 1, "b": [{"c": 5}], "d": {"e": "f"}})
    assert text("$input.path('$')", body=body) == '{a=1, b=[{"c":5}], d={e=f}}'


def test_empty_body_reads_as_an_empty_object_and_invalid_json_fails() -> None:
    assert text("$input.body|$input.json('$')") == "{}|{}"
    with pytest.raises(InvalidJsonBodyError, match="Could not parse request body into json"):
        render("$input.path('$.a')", body="not json")


# -- $context -------------------------------------------------------------------------------------------------------


def test_response_override_sets_status_and_headers() -> None:
    rendered = render('#set($context.responseOverride.status = 409)'
                      '#set($context.responseOverride.header.Retry-After = "5"){"code": "X"}')
    assert (rendered.status_override, rendered.header_overrides, rendered.text) == (409, {"Retry-After": "5"},
                                                                                    '{"code": "X"}')
    assert render("{}").status_override is None


def test_response_override_with_an_invalid_status_fails_the_template() -> None:
    with pytest.raises(VtlError, match="responseOverride.status"):
        render('#set($context.responseOverride.status = "abc")')


def test_context_error_message_string_is_a_quoted_json_string() -> None:
    out = text('{"message": $context.error.messageString}', context={"error": {"message": 'bad "body"'}})
    assert json.loads(out) == {"message": 'bad "body"'}


def test_context_identity_is_merged_and_unknown_references_render_empty() -> None:
    context = {"requestId": "r-1", "requestTimeEpoch": 1767225600123, "identity": {"cognitoIdentityId": "us:1"}}
    out = text("$context.requestId|$context.requestTimeEpoch|$context.identity.cognitoIdentityId|"
               "[$context.identity.userArn]|[$context.nothing.deeper]|[$undefined]|[$util.nothing()]",
               context=context)
    assert out == "r-1|1767225600123|us:1|[]|[]|[]|[]"


def test_request_time_epoch_is_a_number_usable_in_arithmetic() -> None:
    assert text("#set($t = $context.requestTimeEpoch + 1)$t", context={"requestTimeEpoch": 1000}) == "1001"


# -- Java methods -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("$s.length()", "14"),
        ("$e.length()", "2"),  # UTF-16: an emoji is two chars
        ("$s.substring(6)", "World, !"),
        ("$s.substring(0, 5)", "Hello"),
        ("$s.indexOf('o')", "4"),
        ("$s.indexOf('o', 5)", "7"),
        ("$s.indexOf('z')", "-1"),
        ("$s.lastIndexOf('o')", "7"),
        ("$s.replace('l', 'L')", "HeLLo WorLd, !"),
        ("$s.replaceAll('(l+)', '[$1]')", "He[ll]o Wor[l]d, !"),
        ("$s.replaceAll('o', '\\$')", "Hell$ W$rld, !"),
        ("$s.replaceFirst('l', '_')", "He_lo World, !"),
        ("$s.matches('Hello')", "false"),  # whole string, not a search
        ("$s.matches('Hello.*')", "true"),
        ("$s.contains('World')", "true"),
        ("$s.startsWith('Hell')", "true"),
        ("$s.endsWith('!')", "true"),
        ("$s.toLowerCase()", "hello world, !"),
        ("$s.toUpperCase()", "HELLO WORLD, !"),
        ("[$p.trim()]", "[padded]"),
        ("$p.isEmpty()", "false"),
        ("$s.equals('Hello World, !')", "true"),
        ("$s.split(',').size()", "2"),
        ("$c.split(',')", "[a, , b]"),  # trailing empty strings dropped, as Java does
        ("$s.charAt(1)", "e"),
    ],
)
def test_java_string_methods(expression: str, expected: str) -> None:
    template = "#set($s = 'Hello World, !')#set($e = '😀')#set($p = '  padded \t')#set($c = 'a,,b,,')" + expression
    assert text(template) == expected


def test_java_string_method_failures_fail_the_template() -> None:
    with pytest.raises(VtlError, match="substring"):
        render("#set($s = 'abc')$s.substring(5)")


def test_list_and_map_methods() -> None:
    body = json.dumps({"l": ["a", "b"], "m": {"k": "v", "n": 2}, "e": []})
    template = ("$input.path('$.l').size() $input.path('$.l').get(1) $input.path('$.l').contains('a') "
                "$input.path('$.e').isEmpty() $input.path('$.m').get('k') $input.path('$.m').containsKey('n') "
                "$input.path('$.m').keySet() $input.path('$.m').size() "
                "#foreach($e in $input.path('$.m').entrySet())$e.key=$e.value;#end")
    assert text(template, body=body) == "2 b true true v true [k, n] 2 k=v;n=2;"


# -- directives -----------------------------------------------------------------------------------------------------


def test_reference_right_after_hash_is_interpolated_everywhere_on_a_line() -> None:
    body = json.dumps({"id": "7"})
    template = "#set($id = $input.path('$.id'))photo#$id and tag#$id, #${id} # $id ## comment #$id\n" \
               "#* block #$id *#end #set($k = \"key#$id\")$k"
    assert text(template, body=body) == "photo#7 and tag#7, #7 # 7 end key#7"


def test_directives_and_hash_literals_survive_the_hash_handling() -> None:
    template = ('#set($t = "com.amazonaws.dynamodb.v20120810#TransactionCanceledException")'
                '#if($t.endsWith("#TransactionCanceledException"))yes#{else}no#end '
                '"#s = :w" #state $t.replaceAll(\'^.*#\', \'\')')
    assert text(template) == 'yes "#s = :w" #state TransactionCanceledException'


def test_foreach_has_next_joins_items_and_index_counts_from_zero() -> None:
    body = json.dumps({"items": ["a", "b", "c"]})
    template = "[#foreach($x in $input.path('$.items'))$foreach.index:$x#if($foreach.hasNext),#end#end]"
    assert text(template, body=body) == "[0:a,1:b,2:c]"


def test_foreach_over_a_map_iterates_values_and_skips_null_and_scalars() -> None:
    body = json.dumps({"m": {"a": 1, "b": 2}, "s": "str"})
    template = "#foreach($v in $input.path('$.m'))$v#end|#foreach($v in $input.path('$.none'))x#end|" \
               "#foreach($v in $input.path('$.s'))x#end"
    assert text(template, body=body) == "12||"


def test_if_uses_velocity_truthiness() -> None:
    template = '#if("")empty-is-true#end #if($missing)x#{else}null-is-false#end #if(!$missing)not-null#end ' \
               '#if($f)x#{else}false-is-false#end #if($z)zero-is-true#end'
    assert text(template).startswith("empty-is-true null-is-false not-null")
    assert text("#set($f = false)#set($z = 0)#if($f)x#{else}false#end #if($z)zero-is-true#end") == \
        "false zero-is-true"


def test_set_to_null_leaves_the_variable_unchanged() -> None:
    assert text("#set($x = 'kept')#set($x = $input.path('$.missing'))$x") == "kept"


def test_set_inside_foreach_is_visible_after_the_loop() -> None:
    assert text("#foreach($i in [1, 2, 3])#set($last = $i)#end$last") == "3"


def test_equality_and_arithmetic_follow_velocity() -> None:
    body = json.dumps({"n": 5, "half": 2.5})
    template = "#set($n = $input.path('$.n'))" \
               "#if($n == 5)num #end#if($n == '5')str #end$n + 1 = #set($m = $n + 1)$m, " \
               "#set($q = -7 / 2)$q, #set($r = -7 % 2)$r, #set($s = 'a' + $n)$s"
    assert text(template, body=body) == "num str 5 + 1 = 6, -3, -1, a5"


# -- $util ------------------------------------------------------------------------------------------------------------


def test_util_base64_url_and_json_helpers() -> None:
    template = "$util.base64Encode('héllo')|$util.base64Decode('aMOpbGxv')|$util.urlEncode('a b&c=d/é~*')|" \
               "$util.urlDecode('a+b%26c')|$util.parseJson('{\"a\": [1]}').a.get(0)|$util.toJson($input.path('$'))"
    assert text(template, body='{"k": "v"}') == "aMOpbGxv|héllo|a+b%26c%3Dd%2F%C3%A9%7E*|a b&c|1|{\"k\":\"v\"}"


# -- gateway responses: substitution only -----------------------------------------------------------------------


def test_substitution_replaces_context_stage_variables_and_request_parameters() -> None:
    out = substitute('$context.error.responseType ${context.stage} $stageVariables.v [$stageVariables.none] '
                     '$method.request.header.x-trace $method.request.querystring.q $method.request.path.id',
                     context={"stage": "prod", "error": {"responseType": "THROTTLED"}}, stage_variables={"v": "1"},
                     params={"header": {"X-Trace": "t"}, "querystring": {"q": "a b"}, "path": {"id": "7"}})
    assert out == "THROTTLED prod 1 [] t a b 7"


def test_substitution_leaves_directives_comments_util_and_unknown_references_as_written() -> None:
    template = ('## a comment\n#set($x = "$context.stage")\n#if($x)yes#end $util.escapeJavaScript($x) '
                '$input.path(\'$.a\') $!context.stage $context.nothing $context.identity $x.y')
    assert substitute(template, context={"stage": "prod"}) == (
        '## a comment\n#set($x = "prod")\n#if($x)yes#end $util.escapeJavaScript($x) '
        '$input.path(\'$.a\') $!context.stage $context.nothing $context.identity $x.y')


@pytest.mark.parametrize("message", ['plain', 'with "quotes" and \\ backslash', "line\nbreak\ttab", "emoji 😀 é",
                                     "</script>", "$context.stage #set($x = 1)"])
def test_message_string_is_one_json_string_whatever_the_message(message: str) -> None:
    out = substitute('{"message": $context.error.messageString, "raw": "$context.stage"}',
                     context={"stage": "prod", "error": {"message": message}})
    assert json.loads(out) == {"message": message, "raw": "prod"}


def test_engine_semantics_do_not_leak_into_other_airspeed_users() -> None:
    assert vtl.render("#if($u)yes#{else}no#end").text == "no"
    # Plain airspeed keeps its own (Python) semantics outside vtl.render.
    assert airspeed.Template("#if($u)yes#{else}no#end").merge({}) == "yes"
