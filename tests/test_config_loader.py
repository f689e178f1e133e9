"""The configuration loader as an operator meets it: a small site loads; each kind of
mistake is refused with the file, the line and the field path of the mistake."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import pytest

from acd.config.loader import ConfigError, ConfigErrors, _resolve_core, load_site, parse_site
from acd.config.schema import Agent, MenuNode, SiteConfig, SkillGrant

SITE = """\
site:
  name: Seoul 120 test
  utc_offset: "+09:00"
  languages: [ko, en]
  default_language: ko
skills:
  general: {name: General enquiries}
pools:
  house: {kind: in_house}
queues:
  general:
    skill: general
    pools: [house]
    min_level: 2
    wrap_up_seconds: 10
    relax:
      - {after_seconds: 30, min_level: 1}
shifts:
  day:
    windows:
      - {days: [mon, tue, wed, thu, fri], start: "09:00", end: 18:00}
ivr:
  entry: main
  nodes:
    main:
      kind: menu
      prompt: [sound:welcome]
      options:
        1: {queue: general}
        2: {queue: general, language: en}
        0: {goto: bye}
    bye:
      kind: hangup
agents:
  - {id: 7, endpoint: PJSIP/supervisor, pool: house, skills: [{skill: general, level: 5}]}
agent_groups:
  - count: 3
    first_id: 1001
    pool: house
    shift: day
    skills: [{skill: general, level: 3}]
"""


def edit(text: str, old: str, new: str) -> str:
    """`text` with the one occurrence of `old` replaced by `new`."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def line_of(text: str, snippet: str) -> int:
    """The 1-based line holding `snippet` (which must occur once)."""
    assert text.count(snippet) == 1, f"{snippet!r} occurs {text.count(snippet)} times"
    return text[: text.index(snippet)].count("\n") + 1


def refuse(text: str) -> list[ConfigError]:
    with pytest.raises(ConfigErrors) as info:
        parse_site(text, "site.yaml")
    return info.value.errors


def only(errors: list[ConfigError]) -> ConfigError:
    assert len(errors) == 1, "\n".join(map(str, errors))
    return errors[0]


# --- a good file ------------------------------------------------------------------------


def test_a_small_site_loads_and_expands_its_agent_groups() -> None:
    config = parse_site(SITE, "site.yaml")

    assert isinstance(config, SiteConfig)
    assert config.site.utc_offset == "+09:00"
    assert config.queues["general"].wrap_up_seconds == 10.0
    assert config.shifts["day"].windows[0].end == "18:00"  # plain 18:00 is text, not 1080
    menu = config.ivr.nodes["main"]
    assert isinstance(menu, MenuNode)
    assert list(menu.options) == ["1", "2", "0"]  # int-looking keys kept as their text
    assert menu.options["0"].goto == "bye"
    # Explicit agents first, then each group's agents; the groups are folded away.
    assert [a.id for a in config.agents] == ["7", "1001", "1002", "1003"]
    assert config.agents[1] == Agent(
        id="1001",
        endpoint="PJSIP/agent1001",
        pool="house",
        skills=[SkillGrant(skill="general", level=3)],
        name="house 1",
        shift="day",
    )
    assert config.agent_groups == []


def test_loading_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(SITE, encoding="utf-8")
    assert load_site(path) == parse_site(SITE)


def test_yaml_1_2_core_scalars() -> None:
    assert _resolve_core("9:00") == "9:00"  # YAML 1.1 would say 540
    assert _resolve_core("no") == "no"
    assert _resolve_core("on") == "on"
    assert _resolve_core("TRUE") is True
    assert _resolve_core("false") is False
    assert _resolve_core("~") is None
    assert _resolve_core("") is None
    assert _resolve_core("007") == 7
    assert _resolve_core("0x1F") == 31
    assert _resolve_core("0o17") == 15
    assert _resolve_core("1_000") == "1_000"
    assert _resolve_core("2020-01-01") == "2020-01-01"
    assert _resolve_core("1.5e3") == 1500.0
    assert _resolve_core("-.inf") == -math.inf
    nan = _resolve_core(".nan")
    assert isinstance(nan, float) and math.isnan(nan)


def test_yaml_no_is_a_string() -> None:
    text = edit(SITE, "languages: [ko, en]", "languages: [ko, en, no]")
    text = edit(text, "2: {queue: general, language: en}", "2: {queue: general, language: no}")
    config = parse_site(text)
    assert config.site.languages == ["ko", "en", "no"]
    menu = config.ivr.nodes["main"]
    assert isinstance(menu, MenuNode)
    assert menu.options["2"].language == "no"


def test_a_plain_number_where_text_is_wanted_is_taken_as_written() -> None:
    text = edit(SITE, "name: Seoul 120 test", "name: 120")
    config = parse_site(text)
    assert config.site.name == "120"
    assert config.agents[0].id == "7"


def test_anchors_aliases_and_merge_keys() -> None:
    text = edit(SITE, "  - {id: 7,", "  - &boss {id: 7,")
    text = edit(
        text, "agent_groups:\n", "  - {<<: *boss, id: 8, endpoint: PJSIP/deputy}\nagent_groups:\n"
    )
    config = parse_site(text)
    assert [(a.id, a.endpoint, a.skills[0].level) for a in config.agents[:2]] == [
        ("7", "PJSIP/supervisor", 5),
        ("8", "PJSIP/deputy", 5),
    ]


# --- one test per kind of mistake ---------------------------------------------------------


def test_misspelt_key_names_the_key_its_line_and_the_valid_keys() -> None:
    text = edit(SITE, "wrap_up_seconds: 10", "wrap_up_secnds: 10")
    error = only(refuse(text))
    assert (error.file, error.line, error.column) == (
        "site.yaml",
        line_of(text, "wrap_up_secnds"),
        5,
    )
    assert error.path == "queues.general.wrap_up_secnds"
    assert "unknown key 'wrap_up_secnds'" in error.message
    assert "did you mean 'wrap_up_seconds'?" in error.message
    assert "allowed keys: skill, pools, name, min_level" in error.message
    assert str(error).startswith(f"site.yaml:{error.line}:5: queues.general.wrap_up_secnds: ")


def test_wrong_type() -> None:
    text = edit(SITE, "wrap_up_seconds: 10", "wrap_up_seconds: ten")
    error = only(refuse(text))
    assert error.line == line_of(text, "wrap_up_seconds: ten")
    assert error.path == "queues.general.wrap_up_seconds"
    assert error.message == "expected a number of seconds from 0 to 3600, got 'ten'"


def test_a_quoted_number_is_text_and_a_boolean_is_not_a_number() -> None:
    text = edit(SITE, "count: 3", 'count: "3"')
    text = edit(text, "level: 3}", "level: true}")
    first, second = refuse(text)
    assert first.path == "agent_groups[0].count"
    assert first.message.startswith(
        "expected an integer from 1 to 100000, got the string '3' (quoted, so text)"
    )
    assert second.path == "agent_groups[0].skills[0].level"
    assert second.message == "expected a skill level 1-5, got true"


def test_skill_level_out_of_range() -> None:
    text = edit(SITE, "level: 5}", "level: 6}")
    error = only(refuse(text))
    assert error.line == line_of(text, "level: 6")
    assert error.column == line_and_column(text, "6}")[1]
    assert error.path == "agents[0].skills[0].level"
    assert error.message == "expected a skill level 1-5, got 6"


def line_and_column(text: str, snippet: str) -> tuple[int, int]:
    index = text.index(snippet)
    line = text[:index].count("\n") + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def test_bad_time() -> None:
    text = edit(SITE, 'start: "09:00"', 'start: "25:00"')
    error = only(refuse(text))
    assert (error.line, error.column) == line_and_column(text, '"25:00"')
    assert error.path == "shifts.day.windows[0].start"
    assert error.message == "expected a time HH:MM from 00:00 to 24:00, got '25:00'"


def test_nine_oclock_stays_text_and_is_refused_with_a_hint() -> None:
    text = edit(SITE, 'start: "09:00"', "start: 9:00")
    error = only(refuse(text))
    assert error.line == line_of(text, "start: 9:00")
    assert error.path == "shifts.day.windows[0].start"
    assert error.message == (
        "expected a time HH:MM from 00:00 to 24:00, got '9:00'"
        " (write the hour with two digits: '09:00')"
    )


def test_yes_is_not_a_boolean() -> None:
    text = edit(SITE, "wrap_up_seconds: 10", "wrap_up_seconds: 10\n    announce: {position: yes}")
    error = only(refuse(text))
    assert error.path == "queues.general.announce.position"
    assert error.message == "expected true or false, got 'yes' (YAML 1.2: write true or false)"


def test_duplicate_key_is_reported_at_the_second() -> None:
    text = edit(SITE, "    min_level: 2\n", "    min_level: 2\n    min_level: 3\n")
    error = only(refuse(text))
    assert error.line == line_of(text, "min_level: 3")
    assert error.path == "queues.general.min_level"
    assert error.message == f"duplicate key 'min_level' (first given at line {error.line - 1})"


def test_unknown_and_missing_ivr_kind() -> None:
    text = edit(SITE, "kind: menu", "kind: menus")
    text = edit(text, "      kind: hangup\n", "      prompt: [sound:bye]\n")
    unknown, missing = refuse(text)
    assert unknown.line == line_of(text, "kind: menus")
    assert unknown.path == "ivr.nodes.main.kind"
    assert unknown.message == (
        "unknown kind 'menus' (did you mean 'menu'?);"
        " expected one of menu, announce, schedule, send_link, hangup"
    )
    assert missing.line == line_of(text, "bye:\n")
    assert missing.path == "ivr.nodes.bye.kind"
    assert missing.message.startswith("missing `kind`: expected one of menu,")


def test_missing_required_key_is_reported_at_its_mapping() -> None:
    text = edit(SITE, "    skill: general\n", "")
    error = only(refuse(text))
    assert error.line == line_of(text, "  general:\n    pools")
    assert error.path == "queues.general.skill"
    assert error.message == "required key 'skill' is missing"


def test_a_scalar_where_a_list_is_wanted_gets_a_hint() -> None:
    text = edit(SITE, "prompt: [sound:welcome]", "prompt: sound:welcome")
    error = only(refuse(text))
    assert error.path == "ivr.nodes.main.prompt"
    assert "got 'sound:welcome' (write a list: [sound:welcome]" in error.message


def test_dangling_goto() -> None:
    text = edit(SITE, "0: {goto: bye}", "0: {goto: by}")
    error = only(refuse(text))
    assert (error.line, error.column) == line_and_column(text, "by}")
    assert error.path == 'ivr.nodes.main.options["0"].goto'
    assert error.message == "unknown IVR node 'by' (did you mean 'bye'?); ivr.nodes has: main, bye"


def test_dangling_queue_skill_pool_and_vendor() -> None:
    text = edit(SITE, "1: {queue: general}", "1: {queue: covid}")
    text = edit(text, "    skill: general\n", "    skill: covid\n")
    text = edit(text, "pools: [house]", "pools: [hous]")
    text = edit(
        text,
        "      - {after_seconds: 30, min_level: 1}\n",
        "      - {after_seconds: 30, min_level: 1}\n"
        "    overflow:\n"
        "      - {vendors: [acme], when: {waited_over_seconds: 60}}\n",
    )
    errors = refuse(text)
    assert [(e.line, e.path) for e in errors] == [
        (line_of(text, "skill: covid"), "queues.general.skill"),
        (line_of(text, "[hous]"), "queues.general.pools[0]"),
        (line_of(text, "[acme]"), "queues.general.overflow[0].vendors[0]"),
        (line_of(text, "queue: covid"), 'ivr.nodes.main.options["1"].queue'),
    ]
    assert errors[0].message == "unknown skill 'covid'; skills has: general"
    assert errors[1].message == "unknown pool 'hous' (did you mean 'house'?); pools has: house"
    assert errors[2].message == "unknown vendor 'acme'; no vendor is defined (under `vendors`)"
    assert errors[3].message == "unknown queue 'covid'; queues has: general"


def test_route_needs_exactly_one_target() -> None:
    text = edit(SITE, "0: {goto: bye}", "0: {goto: bye, queue: general}")
    error = only(refuse(text))
    assert error.line == line_of(text, "0: {goto")
    assert error.path == 'ivr.nodes.main.options["0"]'
    assert "exactly one of `goto` (an IVR node) and `queue`; it has both" in error.message


def test_relaxing_never_tightens_and_steps_come_in_order() -> None:
    text = edit(
        SITE,
        "      - {after_seconds: 30, min_level: 1}\n",
        "      - {after_seconds: 30, min_level: 3}\n      - {after_seconds: 30}\n",
    )
    tighter, order = refuse(text)
    assert tighter.path == "queues.general.relax[0].min_level"
    assert tighter.message == "relaxing never tightens: 3 is above 2, the queue's min_level"
    assert order.path == "queues.general.relax[1].after_seconds"
    assert order.line == tighter.line + 1


def test_duplicate_agent_id_between_a_group_and_an_explicit_agent() -> None:
    text = edit(SITE, "{id: 7,", "{id: 1002,")
    error = only(refuse(text))
    assert error.line == line_of(text, "first_id: 1001")
    assert error.path == "agent_groups[0].first_id"
    assert error.message == (
        "agent id '1002' is given twice: by agents[0]"
        f" (line {line_of(text, '{id: 1002')}) and by agent_groups[0]"
    )


def test_many_mistakes_are_reported_at_once_in_file_order() -> None:
    text = edit(SITE, "default_language: ko", "default_languag: ko")
    text = edit(text, "min_level: 2", "min_level: 0")
    text = edit(text, "days: [mon, tue,", "days: [mon, tues,")
    text = edit(text, "kind: hangup", "kind: hang_up")
    text = edit(text, "count: 3", "count: -3")
    errors = refuse(text)
    assert [e.path for e in errors] == [
        "site.default_languag",
        "queues.general.min_level",
        "shifts.day.windows[0].days[1]",
        "ivr.nodes.bye.kind",
        "agent_groups[0].count",
    ]
    assert [e.line for e in errors] == sorted(e.line for e in errors)
    assert "did you mean 'tue'?" in errors[2].message
    exc = ConfigErrors(errors)
    assert str(exc).splitlines() == [str(e) for e in errors]
    assert pickle.loads(pickle.dumps(exc)).errors == errors


def test_yaml_syntax_error_names_its_line() -> None:
    text = edit(SITE, "    pools: [house]\n", "    pools: [house\n")
    error = only(refuse(text))
    assert error.path == ""
    assert error.line >= line_of(text, "pools: [house")
    assert error.message.startswith("YAML syntax error: ")
    assert str(error).startswith(f"site.yaml:{error.line}:{error.column}: YAML syntax error")


def test_tab_indentation_is_a_syntax_error_at_its_line() -> None:
    text = edit(SITE, "    wrap_up_seconds: 10", "\twrap_up_seconds: 10")
    error = only(refuse(text))
    assert error.line == line_of(text, "\twrap_up_seconds")
    assert "YAML syntax error" in error.message


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(ConfigErrors) as info:
        load_site(path)
    error = only(info.value.errors)
    assert (error.file, error.line, error.column, error.path) == (str(path), 0, 0, "")
    assert error.message == f"cannot read {path}: No such file or directory"
    assert str(error) == f"{path}: cannot read {path}: No such file or directory"


def test_not_utf8_and_empty_files(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(SITE.replace("Seoul", "S\xe9oul").encode("latin-1"))
    with pytest.raises(ConfigErrors) as info:
        load_site(path)
    assert only(info.value.errors).line == 2
    assert only(refuse("# nothing yet\n")).message.startswith("the file is empty")
    assert only(refuse("- a list\n")).message == "expected a mapping, got a list"
