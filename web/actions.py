"""Supervisor actions: what a supervisor may do, and how the engine's answer is told.

Each action becomes one engine event (`acd.engine.events`), handed to the engine the
way every other event is (the live controller's `feed`: journaled, replayable). The
engine itself decides whether the event means something in the agent's state: an
event it refuses is counted as an anomaly, and that refusal is the action's answer
(409, with the engine's own words). Unknown agents, queues and calls are refused before
the engine sees them (404), as are body values that name nothing in the configuration
(422, naming the field).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import msgspec

from acd.engine import Engine, shown
from acd.engine import events as ev

# Every pattern ends in `$(?!\n)`: Python's `$` (msgspec checks with `re.search`) also
# matches before a final newline, so "lunch\n" would pass where JSON Schema's `$` (the
# OpenAPI document's) refuses it; the lookahead makes the two agree.
Reason = Annotated[str, msgspec.Meta(
    min_length=1, max_length=40, pattern=r"^[^\x00-\x1f\x7f-\x9f]+$(?!\n)"
)]
"""A pause reason: no control character (C0, DEL or C1), as it goes into logs and the
`queue_log` line by line."""
Media = Annotated[str, msgspec.Meta(
    pattern=r"^(sound|recording|tone|digits|number):[!-~]{1,200}$(?!\n)"
)]
"""An Asterisk media URI of printable ASCII (the same class in Python's and JSON Schema's
regular expressions, which disagree on what `\\s` is)."""
Endpoint = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,19}/[!-~]{1,100}$(?!\n)")]
"""An Asterisk endpoint `TECH/resource` (`PJSIP/sup01`, `PJSIP/+8210...@pstn`), as ARI's
originate takes it."""
Playlist = Annotated[list[Media], msgspec.Meta(max_length=10)]
Level = Annotated[int, msgspec.Meta(ge=1, le=5)]
Stage = Annotated[int, msgspec.Meta(ge=0, le=100)]


# --- request bodies (the API's JSON; their JSON Schemas go into the OpenAPI document) ----


class PauseBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reason: Reason = "break"


class EmptyBody(msgspec.Struct, forbid_unknown_fields=True):
    pass


class PoolBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pool: str


class SkillBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    skill: str
    level: Level | None
    """1-5, or null to withdraw the skill."""


class StageBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    stage: Stage | None
    """The stage to pin, or null to hand it back to the automatic rule."""


class SuperviseBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    endpoint: Endpoint
    """The supervisor's own phone, rung for the call (`PJSIP/sup01`)."""


class AnnouncementBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    media: Playlist
    """What callers hear, in order (Asterisk media URIs); [] stops it."""


# --- actions: a body with its target, as the audit trail and the command stream keep it --
# Their values carry the bodies' constraints: an action read back from the command stream
# (written by a wallboard server, or by anyone who can write to Redis) is held to what the
# API would have taken.


class _Action(msgspec.Struct, frozen=True, tag=True, kw_only=True):
    pass


class Pause(_Action, frozen=True):
    agent: str
    reason: Reason


class Unpause(_Action, frozen=True):
    agent: str


class LogOff(_Action, frozen=True):
    agent: str


class MovePool(_Action, frozen=True):
    agent: str
    pool: str


class SetSkill(_Action, frozen=True):
    agent: str
    skill: str
    level: Level | None


class PinStage(_Action, frozen=True):
    stage: Stage | None


class Announce(_Action, frozen=True):
    queue: str
    media: Playlist


class Supervise(_Action, frozen=True):
    call: str
    endpoint: Endpoint
    mode: ev.SuperviseMode


Action = Pause | Unpause | LogOff | MovePool | SetSkill | PinStage | Announce | Supervise


class Result(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool
    status: int
    """The HTTP status the API answers with: 200, 404, 409 or 422."""
    message: str
    field: str = ""
    """For 422: the body field at fault."""


def perform(engine: Engine, feed: Callable[[ev.Event], None], action: Action) -> Result:
    """Check `action` against the configuration, hand its event to `feed` (which must
    run `engine.handle` before it returns, as the live controller does), and tell what
    the engine made of it."""
    refusal = _refuse(engine, action)
    if refusal is not None:
        return refusal
    event = _event(engine, action)
    before = dict(engine.anomalies)
    handled = engine.handled
    feed(event)
    if engine.handled == handled:
        return Result(ok=True, status=200, message=f"{_what(action)}: accepted (in line to apply)")
    new = [k for k, n in engine.anomalies.items() if n > before.get(k, 0)]
    if new:
        return Result(ok=False, status=409, message=f"{_what(action)}: refused ({'; '.join(new)})")
    return Result(ok=True, status=200, message=_done(engine, action))


def _refuse(engine: Engine, action: Action) -> Result | None:
    config = engine.config
    agent = getattr(action, "agent", None)
    if agent is not None and agent not in engine.agents:
        return Result(ok=False, status=404, message=f"no agent {agent!r} at this site")
    if isinstance(action, Supervise) and action.call not in engine.calls:
        return Result(ok=False, status=404, message=f"no call {action.call!r} at this site")
    if isinstance(action, Announce) and action.queue not in engine.queues:
        return Result(ok=False, status=404, message=f"no queue {action.queue!r} at this site")
    if isinstance(action, MovePool) and action.pool not in config.pools:
        known = ", ".join(config.pools)
        return _bad("pool", f"no pool {action.pool!r} (pools: {known})")
    if isinstance(action, SetSkill) and action.skill not in config.skills:
        return _bad("skill", f"no skill {action.skill!r} at this site")
    if isinstance(action, PinStage) and action.stage not in (None, 0):
        stages = sorted(s.stage for s in config.surge.stages)
        if action.stage not in stages:
            return _bad("stage", f"no surge stage {action.stage} (stages: 0, "
                        f"{', '.join(map(str, stages)) or 'none configured'})")
    if isinstance(action, Announce) and action.media and engine.conditions.announcement:
        others = _announced(engine) - {action.queue}
        if others and list(action.media) != engine.conditions.announcement:
            return Result(
                ok=False, status=409,
                message=f"another announcement plays in {', '.join(sorted(others))}: stop it "
                "there first (one announcement at a time)",
            )
    return None


def _bad(field: str, message: str) -> Result:
    return Result(ok=False, status=422, message=message, field=field)


def _announced(engine: Engine) -> set[str]:
    """The queues whose joining callers hear the announcement now."""
    if not engine.conditions.announcement:
        return set()
    return set(engine.conditions.announcement_queues) or set(engine.queues)


def _event(engine: Engine, action: Action) -> ev.Event:
    match action:
        case Pause(agent=agent, reason=reason):
            return ev.AgentPause(agent_id=agent, reason=reason)
        case Unpause(agent=agent):
            return ev.AgentUnpause(agent_id=agent)
        case LogOff(agent=agent):
            return ev.AgentLogout(agent_id=agent)
        case MovePool(agent=agent, pool=pool):
            return ev.MoveAgent(agent_id=agent, pool=pool)
        case SetSkill(agent=agent, skill=skill, level=level):
            return ev.SetAgentSkill(agent_id=agent, skill=skill, level=level)
        case PinStage(stage=stage):
            return ev.SetSurgeStage(stage=stage)
        case Supervise(call=call, endpoint=endpoint, mode=mode):
            return ev.SuperviseCall(call_id=call, endpoint=endpoint, mode=mode)
        case Announce(queue=queue, media=media):
            queues = _announced(engine)
            if media:
                queues.add(queue)
                kept = list(media)
            else:
                queues.discard(queue)
                kept = list(engine.conditions.announcement) if queues else []
            # All queues is written as [] in the engine's event.
            listed = [] if queues == set(engine.queues) else sorted(queues)
            return ev.SetAnnouncement(media=kept, queues=listed)
    raise AssertionError(action)


def _what(action: Action) -> str:
    match action:
        case Pause(agent=agent, reason=reason):
            return f"pause agent {agent} ({reason})"
        case Unpause(agent=agent):
            return f"unpause agent {agent}"
        case LogOff(agent=agent):
            return f"log agent {agent} off"
        case MovePool(agent=agent, pool=pool):
            return f"move agent {agent} to pool {pool}"
        case SetSkill(agent=agent, skill=skill, level=level):
            return f"set agent {agent}'s skill {skill} to {level if level is not None else 'none'}"
        case PinStage(stage=stage):
            return "release the surge stage" if stage is None else f"pin surge stage {stage}"
        case Supervise(call=call, endpoint=endpoint, mode=mode):
            return f"{mode} on call {call} from {endpoint}"
        case Announce(queue=queue, media=media):
            return (f"start the announcement in {queue}" if media
                    else f"stop the announcement in {queue}")
    raise AssertionError(action)


def _done(engine: Engine, action: Action) -> str:
    """What the supervisor sees once the engine took the action: the state it left."""
    if isinstance(action, PinStage):
        return f"surge stage {engine.surge.stage}" + (" (pinned)" if engine.surge.pinned is not None
                                                else " (automatic)")
    if isinstance(action, Supervise):
        return f"{_what(action)}: ringing {action.endpoint}"
    agent_id = getattr(action, "agent", None)
    if agent_id is None:
        return f"{_what(action)}: done"
    agent = engine.agents[agent_id]
    state, reason = shown(agent.state, agent.reason)
    if agent.pending:
        return f"{_what(action)}: after the current call (now {state})"
    if state == "paused":
        state += f" ({reason})"
    return f"{_what(action)}: done; agent {agent_id} is {state}, pool {agent.pool}"

