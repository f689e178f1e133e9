"""The generated ARI records against what a real Asterisk 22.10.1 sent.

The transcripts in `tests/fixtures/ari/` were recorded from a real Asterisk driven by SIPp
(see `ari/spec/README.md`); every frame must decode to its typed record, and the facts
the controller will rely on (hangup causes, event order, Stasis args, DTMF) are asserted
on the decoded records, not on raw JSON.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import msgspec
import pytest

from acd.ari import generate_models
from acd.ari.frames import decode_event
from acd.ari.models import (
    EVENT_TYPES,
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelHangupRequest,
    ChannelVarset,
    Dial,
    Event,
    StasisStart,
    TextMessage,
)

FIXTURES = Path(__file__).parent / "fixtures" / "ari"
EVENT_FILES = sorted(FIXTURES.glob("*.events.jsonl"))
REST_FILES = sorted(FIXTURES.glob("*.rest.jsonl"))

# The event types the transcripts' README (shared/ari/README.md) shows in its sequences.
README_TYPES = {
    "StasisStart",
    "StasisEnd",
    "ChannelStateChange",
    "ChannelEnteredBridge",
    "ChannelLeftBridge",
    "ChannelDtmfReceived",
    "ChannelHangupRequest",
    "ChannelDestroyed",
    "ChannelVarset",
    "ChannelDialplan",
    "ChannelConnectedLine",
    "Dial",
    "PlaybackStarted",
    "PlaybackContinuing",
    "PlaybackFinished",
    "BridgeDestroyed",
}
# Frames per scenario, as the README counts them.
README_COUNTS = {"01": 13, "02": 15, "03": 79, "04": 38, "05": 59}


def _frames(path: Path) -> list[bytes]:
    return [line for line in path.read_bytes().splitlines() if line.strip()]


def _events(prefix: str) -> list[Event]:
    (path,) = [p for p in EVENT_FILES if p.name.startswith(prefix + "_")]
    out: list[Event] = []
    for frame in _frames(path):
        event = decode_event(frame)
        assert event is not None, frame
        out.append(event)
    return out


def _channel_name(event: Event) -> str:
    """The channel an event is about (`peer` for Dial), or "" for a bridge event."""
    channel = getattr(event, "channel", None) or getattr(event, "peer", None)
    name: str = channel.name if channel is not None else ""
    return name


def test_the_fixtures_are_there() -> None:
    assert [p.name[:2] for p in EVENT_FILES] == sorted(README_COUNTS)
    assert [p.name[:2] for p in REST_FILES] == sorted(README_COUNTS)


def test_every_frame_decodes_to_the_record_of_its_type() -> None:
    seen: Counter[str] = Counter()
    for path in EVENT_FILES:
        frames = _frames(path)
        assert len(frames) == README_COUNTS[path.name[:2]], path.name
        for frame in frames:
            event = decode_event(frame)
            kind = json.loads(frame)["type"]
            assert event is not None, f"{path.name}: unknown type {kind}"
            assert type(event).__name__ == kind
            assert EVENT_TYPES[kind] is type(event)
            seen[kind] += 1
    assert set(seen) == README_TYPES
    assert seen["ChannelVarset"] == 105  # the noise the controller filters


def test_records_encode_back_to_what_asterisk_sent() -> None:
    # A virtual PBX will encode these records; they must give Asterisk's JSON back
    # (absent optional fields left out, the `type` tag written).
    for path in EVENT_FILES:
        for frame in _frames(path):
            event = decode_event(frame)
            assert json.loads(msgspec.json.encode(event)) == json.loads(frame), path.name


def test_01_ari_delete_gives_hangup_request_cause_32_soft() -> None:
    events = _events("01")
    (hangup,) = [e for e in events if isinstance(e, ChannelHangupRequest)]
    assert hangup.cause == 32
    assert hangup.soft is True
    assert type(events[-1]).__name__ == "StasisEnd"
    assert not any(isinstance(e, ChannelDestroyed) for e in events)


def test_02_caller_bye_gives_hangup_request_without_cause() -> None:
    events = _events("02")
    (hangup,) = [e for e in events if isinstance(e, ChannelHangupRequest)]
    assert hangup.cause is None
    assert hangup.soft is None
    assert hangup.channel.name.startswith("PJSIP/pstn-")


def test_03_agent_leg_stasis_args_name_the_caller() -> None:
    events = _events("03")
    caller, agent = [e for e in events if isinstance(e, StasisStart)]
    assert caller.args == []
    assert caller.channel.name.startswith("PJSIP/pstn-")
    assert agent.channel.name.startswith("PJSIP/agent1001-")
    assert agent.args == ["agent", caller.channel.id]
    assert agent.args[1] == "1795291463.2"
    statuses = [e.dialstatus for e in events if isinstance(e, Dial)]
    assert statuses == ["", "RINGING", "ANSWER"]


def test_04_no_answer_is_cause_19_and_busy_is_cause_17_before_dial_busy() -> None:
    events = _events("04")

    def on(agent: str) -> list[tuple[int, Event]]:
        return [(i, e) for i, e in enumerate(events) if _channel_name(e).startswith(agent)]

    no_answer = [e for _, e in on("PJSIP/agent1002-") if isinstance(e, ChannelDestroyed)]
    assert [e.cause for e in no_answer] == [19, 19]
    assert no_answer[0].cause_txt
    unreachable = [e for _, e in on("PJSIP/agent1004-") if isinstance(e, ChannelDestroyed)]
    assert [e.cause for e in unreachable] == [19]

    busy = on("PJSIP/agent1003-")
    (hangup_at,) = [i for i, e in busy if isinstance(e, ChannelHangupRequest)]
    (busy_at,) = [i for i, e in busy if isinstance(e, Dial) and e.dialstatus == "BUSY"]
    hangup = events[hangup_at]
    assert isinstance(hangup, ChannelHangupRequest) and hangup.cause == 17
    assert hangup_at < busy_at
    destroyed = [e for _, e in busy if isinstance(e, ChannelDestroyed)]
    assert [e.cause for e in destroyed] == [17]
    assert busy[-1][1] is destroyed[0]


def test_05_agent_bye_gives_hangup_request_without_cause() -> None:
    events = _events("05")
    agent_hangups = [
        e
        for e in events
        if isinstance(e, ChannelHangupRequest) and e.channel.name.startswith("PJSIP/agent1005-")
    ]
    assert [(e.cause, e.soft) for e in agent_hangups] == [(None, None)]
    starts = [e for e in events if isinstance(e, StasisStart)]
    assert starts[1].channel.state == "Down"  # /channels/create: StasisStart at once


@pytest.mark.parametrize("prefix", ["01", "03", "04", "05"])
def test_dtmf_digits_arrive_in_order(prefix: str) -> None:
    events = _events(prefix)
    dtmf = [e for e in events if isinstance(e, ChannelDtmfReceived)]
    assert [e.digit for e in dtmf] == ["1", "5"]
    assert all(e.duration_ms > 0 for e in dtmf)


def test_generated_models_are_up_to_date(tmp_path: Path) -> None:
    out = tmp_path / "models.py"
    assert generate_models.main(["--out", str(out)]) == 0
    committed = Path(generate_models.__file__).with_name("models.py")
    assert out.read_bytes() == committed.read_bytes(), "run: python ari/generate_models.py"
    assert generate_models.render() == out.read_text(encoding="utf-8")  # deterministic


def test_unknown_event_type_is_none() -> None:
    frame = b'{"type":"ChannelFooBar","application":"acd","timestamp":"x","foo":1}'
    assert decode_event(frame) is None
    assert decode_event(b'{"type":"MissingParams","params":["app"]}') is None


def test_malformed_json_raises_decode_error() -> None:
    with pytest.raises(msgspec.DecodeError, match=r"malformed|truncated"):
        decode_event(b'{"type":"StasisEnd",')
    with pytest.raises(msgspec.DecodeError):
        decode_event(b"not json")


def test_known_event_breaking_the_spec_raises_validation_error() -> None:
    # StasisEnd without its required channel: a bug to hear about, not an unknown event.
    frame = b'{"type":"StasisEnd","application":"acd","timestamp":"x"}'
    with pytest.raises(msgspec.ValidationError, match="channel"):
        decode_event(frame)
    with pytest.raises(msgspec.ValidationError, match="type"):
        decode_event(b'{"application":"acd"}')


def test_extra_fields_are_tolerated() -> None:
    frame = (
        b'{"type":"ChannelVarset","application":"acd","timestamp":"2026-11-21T20:04:05.468+0000",'
        b'"variable":"X","value":"1","new_in_asterisk_23":{"a":[1]}}'
    )
    event = decode_event(frame)
    assert isinstance(event, ChannelVarset)
    assert (event.variable, event.value, event.channel) == ("X", "1", None)


def test_python_keyword_field_keeps_its_json_name() -> None:
    message = msgspec.json.decode(b'{"from":"a","to":"b","body":"c"}', type=TextMessage)
    assert message.from_ == "a"
    assert json.loads(msgspec.json.encode(message)) == {"from": "a", "to": "b", "body": "c"}


def test_rest_transcripts_are_json_lines_of_calls() -> None:
    keys = {"t", "method", "path", "params", "body", "status", "response"}
    for path in REST_FILES:
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line]
        assert lines, path.name
        for line in lines:
            call = json.loads(line)
            assert set(call) == keys, path.name
            assert call["method"] in {"GET", "POST", "PUT", "DELETE"}
            assert call["path"].startswith("/")
            assert isinstance(call["params"], dict)
            assert isinstance(call["status"], int)
    first = json.loads((REST_FILES[0]).read_text(encoding="utf-8").splitlines()[-1])
    assert first["method"] == "DELETE" and first["params"].get("reason") == "normal"
