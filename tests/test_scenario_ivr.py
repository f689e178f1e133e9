"""The IVR ("ARS") as a caller lives it: menus, barge-in, wrong keys and silence,
`#` and `*`, opening hours and day-of-week scenarios, holidays, the language branch,
announcements, visible ARS, dialled-number entry points and hanging up in the menus.

The site is open on weekdays 09:00-18:00 (main menu), runs a night team on weekday
evenings 18:00-01:00, opens on weekends 10:00-14:00 with its own welcome, and is
closed otherwise and on its one holiday (Wednesday 2026-06-03). Prompts last 2 s.
"""

from __future__ import annotations

from acd.engine import commands as cmd
from tests.harness import Floor, local_start

SITE = """
site: {name: ivr, utc_offset: "+09:00", languages: [ko, en], default_language: ko}
skills: {gen: {}, covid: {}}
pools: {floor: {kind: in_house}}
queues:
  gen: {skill: gen, pools: [floor], join_prompt: ["sound:please-hold"]}
  covid: {skill: covid, pools: [floor]}
ivr:
  entry: hours
  by_dnis: {"1339": covid_line}
  nodes:
    hours:
      kind: schedule
      branches:
        - {window: {days: &weekdays [mon, tue, wed, thu, fri], start: "09:00", end: "18:00"},
           then: {goto: main}}
        - {window: {days: *weekdays, start: "18:00", end: "01:00"}, then: {goto: night}}
        - {window: {days: [sat, sun], start: "10:00", end: "14:00"}, then: {goto: weekend}}
      otherwise: {goto: closed}
      holidays: ["2026-06-03"]
      on_holiday: {goto: holiday}
    main:
      kind: menu
      prompt: ["sound:main"]
      timeout_seconds: 5
      retries: 2
      invalid_prompt: ["sound:invalid"]
      fail_prompt: ["sound:goodbye"]
      options:
        "1": {queue: gen}
        "0": {queue: gen, priority: 5}
        "2": {goto: water}
        "5": {goto: link}
        "9": {goto: foreign, language: en}
    water:
      kind: menu
      prompt: ["sound:water"]
      timeout_seconds: 5
      retries: 1
      options: {"1": {queue: covid}}
      on_fail: {queue: gen}
    foreign: {kind: menu, prompt: ["sound:foreign"], options: {"1": {queue: gen}}}
    link: {kind: send_link, link: "https://m.120.example/menu", prompt: ["sound:link-sent"]}
    night: {kind: announce, prompt: ["sound:night-team"], next: {queue: gen}}
    weekend: {kind: announce, prompt: ["sound:weekend-welcome"], next: {queue: gen}}
    closed: {kind: hangup, prompt: ["sound:closed"]}
    holiday: {kind: hangup, prompt: ["sound:holiday"]}
    covid_line: {kind: announce, prompt: ["sound:covid-news"], next: {queue: covid}}
agents:
  - id: a1
    endpoint: PJSIP/a1
    pool: floor
    skills: [{skill: gen, level: 3}, {skill: covid, level: 3}]
"""

MONDAY_10 = local_start(0, 10)


def floor(start: float = MONDAY_10) -> Floor:
    return Floor(SITE, start=start)


def hung_up(f: Floor, call_id: str) -> bool:
    return bool(f.commands(cmd.HangupCaller, call_id))


def queued_in(f: Floor, call_id: str) -> str | None:
    holds = f.commands(cmd.Hold, call_id)
    return holds[0].queue if holds else None


# ---------------------------------------------------------------- the menu


def test_menu_prompt_then_digit_puts_the_caller_in_the_queue() -> None:
    f = floor()
    f.call("c1")
    assert f.heard("c1") == ["sound:main"]
    f.advance(2)  # the menu has been read out; the caller thinks, then presses 1
    f.advance(1)
    assert queued_in(f, "c1") is None
    f.press("c1", "1")
    assert queued_in(f, "c1") == "gen"
    assert f.heard("c1")[-1] == "sound:please-hold"
    f.login("a1")
    assert f.rung("c1") == ["a1"]


def test_digit_route_priority_puts_the_caller_ahead_of_earlier_callers() -> None:
    f = floor()
    f.call("early")
    f.press("early", "1")  # plain enquiry, priority 0
    f.advance(10)
    f.call("urgent")
    f.press("urgent", "0")  # the same queue at priority 5
    f.login("a1")
    assert f.rung() == ["a1"]
    assert f.rung("urgent") == ["a1"]
    assert f.rung("early") == []


def test_barge_in_stops_the_menu_and_queues_at_once() -> None:
    f = floor()
    f.call("c1")
    f.login("a1")
    f.advance(0.5)
    out = f.press("c1", "1")  # half-way through the menu prompt
    assert cmd.StopPlayback(call_id="c1") in out
    assert f.rung("c1") == ["a1"]  # rung 0.5 s after arrival, not after the prompt


def test_invalid_digit_plays_the_invalid_prompt_then_the_menu_again() -> None:
    f = floor()
    f.call("c1")
    f.advance(2)
    f.press("c1", "7")
    assert f.heard("c1") == ["sound:main", "sound:invalid", "sound:main"]
    f.advance(2)
    f.press("c1", "1")
    assert queued_in(f, "c1") == "gen"


def test_too_many_invalid_digits_end_with_the_fail_prompt() -> None:
    f = floor()
    f.call("c1")
    for _ in range(3):  # retries: 2, so the third wrong key is the last
        f.advance(2)
        f.press("c1", "7")
    assert f.heard("c1")[-1] == "sound:goodbye"
    assert not hung_up(f, "c1")
    f.advance(2)
    assert hung_up(f, "c1")
    assert f.outcome("c1") == "ivr_failed"
    assert f.engine.metrics.ivr.ivr_failed == 1


def test_silence_repeats_the_menu_then_fails_with_goodbye_and_hang_up() -> None:
    f = floor()
    f.call("c1")
    # main: 2 s prompt + 5 s silence, three times (two retries), then the fail prompt
    f.advance(6.9)
    assert f.heard("c1") == ["sound:main"]
    f.advance(0.2)  # t = 7.1: first timeout
    assert f.heard("c1").count("sound:main") == 2
    f.advance(13.8)  # t = 20.9: the third silence is not over yet
    assert f.heard("c1").count("sound:main") == 3
    assert "sound:goodbye" not in f.heard("c1")
    f.advance(0.2)  # t = 21.1
    assert f.heard("c1")[-1] == "sound:goodbye"
    f.advance(2)
    assert hung_up(f, "c1")
    assert f.outcome("c1") == "ivr_failed"


def test_silence_in_a_menu_with_on_fail_goes_to_the_fallback_queue() -> None:
    f = floor()
    f.call("c1")
    f.advance(2)
    f.press("c1", "2")  # the water menu: one retry, then the general queue
    assert f.heard("c1")[-1] == "sound:water"
    f.advance(2 + 5)  # first silence: the water menu again
    assert f.heard("c1")[-1] == "sound:water"
    assert queued_in(f, "c1") is None
    f.advance(2 + 5)  # second silence: fallback
    assert queued_in(f, "c1") == "gen"
    assert f.outcome("c1") is None  # still a live caller, waiting
    assert not hung_up(f, "c1")


def test_hash_goes_back_to_the_previous_menu() -> None:
    f = floor()
    f.call("c1")
    f.press("c1", "2")  # water menu
    f.advance(1)
    f.press("c1", "#")  # back to main, barging in on the water prompt
    assert f.heard("c1") == ["sound:main", "sound:water", "sound:main"]
    f.press("c1", "1")  # "1" in main is the general queue (in water it is covid)
    assert queued_in(f, "c1") == "gen"


def test_star_repeats_the_menu_and_does_not_use_up_retries() -> None:
    f = floor()
    f.call("c1")
    f.press("c1", "2")
    for _ in range(3):  # more repeats than the water menu's one retry
        f.advance(1)
        f.press("c1", "*")
    assert f.heard("c1") == ["sound:main", *["sound:water"] * 4]
    f.press("c1", "1")
    assert queued_in(f, "c1") == "covid"


# ---------------------------------------------------------------- hours and days


def test_closed_hours_play_the_closed_message_and_hang_up_self_served() -> None:
    f = floor(start=local_start(0, 8))  # Monday 08:00, before opening
    f.call("c1")
    assert f.heard("c1") == ["sound:closed"]
    f.advance(2)
    assert hung_up(f, "c1")
    assert f.outcome("c1") == "self_served"
    assert f.engine.metrics.ivr.self_served == 1


def test_opening_time_is_the_edge_between_closed_and_open() -> None:
    f = floor(start=local_start(1, 8, 59))  # Tuesday 08:59
    f.call("early")
    f.advance(60)  # 09:00
    f.call("on_time")
    assert f.heard("early") == ["sound:closed"]
    assert f.heard("on_time") == ["sound:main"]


def test_weekday_evening_goes_to_the_night_team() -> None:
    f = floor(start=local_start(3, 19))  # Thursday 19:00
    f.call("c1")
    assert f.heard("c1") == ["sound:night-team"]
    f.advance(2)
    assert queued_in(f, "c1") == "gen"


def test_night_window_runs_past_midnight_into_the_next_day() -> None:
    f = floor(start=local_start(5, 0, 30))  # Saturday 00:30: still Friday's night shift
    f.call("c1")
    assert f.heard("c1") == ["sound:night-team"]
    f.advance(3600)  # Saturday 01:30: the night shift is over, weekend not yet open
    f.call("c2")
    assert f.heard("c2") == ["sound:closed"]


def test_weekend_callers_get_the_weekend_welcome_in_its_hours_only() -> None:
    f = floor(start=local_start(6, 11))  # Sunday 11:00
    f.call("c1")
    assert f.heard("c1") == ["sound:weekend-welcome"]
    f.advance(2)
    assert queued_in(f, "c1") == "gen"
    f.advance(3 * 3600)  # Sunday 14:00
    f.call("c2")
    assert f.heard("c2") == ["sound:closed"]


def test_holiday_wins_over_the_weekday_opening_hours() -> None:
    f = floor(start=local_start(2, 10))  # Wednesday 2026-06-03, 10:00: a holiday
    f.call("c1")
    assert f.heard("c1") == ["sound:holiday"]
    f.advance(2)
    assert f.outcome("c1") == "self_served"
    f.advance(86400)  # Thursday: open again
    f.call("c2")
    assert f.heard("c2") == ["sound:main"]


# ---------------------------------------------------------------- branches


def test_language_choice_switches_later_prompts_to_that_language() -> None:
    f = floor()
    f.call("c1")
    f.advance(2)
    f.press("c1", "9")
    f.advance(2)
    f.press("c1", "1")
    plays = f.commands(cmd.Play, "c1")
    assert [(p.media, p.language) for p in plays] == [
        (["sound:main"], "ko"),
        (["sound:foreign"], "en"),
        (["sound:please-hold"], "en"),
    ]


def test_announcement_node_plays_then_goes_on_and_ignores_keys() -> None:
    f = floor()
    f.call("c1", dnis="1339")  # the COVID line's own number
    assert f.heard("c1") == ["sound:covid-news"]
    f.advance(1)
    out = f.press("c1", "1")  # nothing was asked: the announcement goes on
    assert not any(isinstance(c, cmd.StopPlayback) for c in out)
    assert queued_in(f, "c1") is None
    f.advance(1)
    assert queued_in(f, "c1") == "covid"


def test_dialled_number_picks_the_entry_node() -> None:
    f = floor(start=local_start(0, 8))  # closed hours apply to the main number only
    f.call("main_caller", dnis="120")
    f.call("covid_caller", dnis="1339")
    assert f.heard("main_caller") == ["sound:closed"]
    assert f.heard("covid_caller") == ["sound:covid-news"]


def test_send_link_texts_the_caller_then_ends_self_served() -> None:
    f = floor()
    f.call("c1", caller="01055556666")
    f.advance(2)
    out = f.press("c1", "5")
    link = "https://m.120.example/menu"
    assert cmd.SendLink(call_id="c1", number="01055556666", link=link) in out
    assert f.heard("c1")[-1] == "sound:link-sent"
    assert not hung_up(f, "c1")
    f.advance(2)
    assert hung_up(f, "c1")
    assert f.outcome("c1") == "self_served"
    assert f.engine.metrics.ivr.links_sent == 1
    assert f.queue("gen").joined == 0


def test_caller_hanging_up_in_the_menu_is_an_ivr_abandon() -> None:
    f = floor()
    f.call("c1")
    f.advance(4)  # listening to silence after the menu
    f.hang_up("c1")
    assert f.outcome("c1") == "ivr_abandoned"
    assert f.engine.metrics.ivr.ivr_abandoned == 1
    f.advance(60)  # no menu timer comes back to a caller who is gone
    assert f.heard("c1") == ["sound:main"]
    assert f.engine.anomalies == {}
