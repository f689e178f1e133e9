"""The engine's facts as Asterisk's `queue_log` lines, verb by verb as app_queue writes them.

Sans-IO: `QueueLogLines.lines(facts)` returns the lines (no newline) for facts
drained from `Engine.facts` (`acd.engine.facts`); writing them is `queue_log.file`'s.

The format is Asterisk 22.10.1's (apps/app_queue.c and main/logger.c of that
release, /work/shared/asterisk): `ast_queue_log()` writes
`"%ld|%s|%s|%s|%s|"` (time(NULL), callid, queue, agent, verb) followed by the
verb's own data, fields separated by `|`. Times are whole epoch seconds, cut as
`time(NULL)` cuts them, and durations are differences of those (`time(NULL) -
qe->start`), so that a line's wait equals the difference of its own and the
ENTERQUEUE line's times, as in Asterisk's logs. The verbs and their data:

  ENTERQUEUE        `url|callerid|position`: url empty; the caller's number or ""
                    (app_queue's default, without `log_caller_id_name`)
  RINGNOANSWER      `ms`: the queue's ring timeout exactly when the ring timed out
                    (app_queue's `rna(orig, ...)`); otherwise whole seconds times
                    1000, as for a member that was busy or whose channel went down
  RINGCANCELED      `ms`: the caller hung up while the member rang
                    (`ast_tvdiff_ms`, milliseconds cut down)
  AGENTDUMP         ``: the agent hung up before the caller was put through
  CONNECT           `holdtime|peer uniqueid|ringtime`: ring time in whole seconds,
                    from the ring's start to the answer
  COMPLETECALLER / COMPLETEAGENT  `holdtime|calltime|origposition`
  ABANDON           `position|origposition|waittime`; agent NONE, or the member when
                    the caller hung up after the member answered (app_queue's
                    "caller was about to talk to agent")
  EXITWITHTIMEOUT   `position|origposition|waittime`
  PAUSEALL / PAUSE  `reason` (queue NONE, then one PAUSE per queue: app_queue's
                    `set_member_paused("", ...)`, a pause in all the member's queues)
  UNPAUSEALL / UNPAUSE  `` (our agents unpause without a reason)
  ADDMEMBER         `` or `PAUSED`; REMOVEMEMBER ``; callid MANAGER, as the AMI
                    actions QueueAdd / QueueRemove write them
  AGENTLOGIN        `channel`; AGENTLOGOFF `channel|logintime`: queue NONE, as
                    app_queue writes them for app_agent_pool's agents
  QUEUESTART        `NONE|NONE|NONE|QUEUESTART|` when a log is started;
  CONFIGRELOAD      the same with CONFIGRELOAD when it is reopened (Asterisk's
                    `logger reload`, e.g. after logrotate)

Positions are 1-based places among the callers waiting in line; app_queue also
counts a caller whose member is ringing, the engine's line does not (such a caller
is out of line until the ring ends). Pause reason "missed" (the engine's pause after
missed rings) is written "Auto-Pause", as app_queue's autopause writes it.

The agent field. app_queue writes the member name; with its default
`log_membername_as_agent = no`, ADDMEMBER and REMOVEMEMBER carry the interface
instead, so a member's calls and its sessions carry the same string only when the
member name is its interface (`member => PJSIP/1001`, no name), the default and
what the reporting tools key agents on (QueueMetrics and Asternic give the string a
display name in their own settings). We write the agent's `endpoint` (the interface
that rings it, e.g. `PJSIP/1001`): the member a stock app_queue of the same floor
would have, unique per phone, free of the spaces and duplicates display names have.
AGENTLOGIN and AGENTLOGOFF carry it too (app_agent_pool writes its own agent id
there), so that one agent is one string throughout the log.

Vendor overflow has no verb of its own: the vendor's trunk is a member (its
`trunk`, e.g. `PJSIP/vendor-a`), as with app_queue, where overflow to an outside
floor is a trunk or Local channel in the queue with a penalty the queue's rules let
in after a wait. So a vendor's calls read as any member's (a ring no one answered,
CONNECT, COMPLETE*), and the tools count a vendor's answer as answered, as the
engine's metrics do.

Callbacks keep the caller's place in line (the engine's virtual hold), so the call
stays one call in the log: its ENTERQUEUE, then the callback's own steps as custom
verbs, written the way the `QueueLog()` dialplan application writes a site's own
events (same fields, a verb of the site's choosing; tools that do not know a verb
skip it), then the standard CONNECT and COMPLETE* when the caller is reached, so the
hold time includes the wait at home, as the engine's figures count it:

  CALLBACKREQUEST   `digit|position|origposition|waittime`, agent NONE (the caller
                    pressed `digit`: EXITWITHKEY's data, but the call stays in line);
                    a callback an agent referred: digit "" and agent that agent
  CALLBACKDIAL      `attempt`, agent the member dialling the caller back
  CALLBACKNOANSWER  `attempt|cause`: the caller was not reached this time
  EXITWITHTIMEOUT   after the last attempt: the queue gave the call up (not an
                    ABANDON: the caller did not hang up in the queue)

EXITWITHKEY and EXITEMPTY are not written: no key takes a caller out of line in this
engine (the callback key keeps the place) and callers stay in line with no agent
logged in. A caller turned away by `max_waiting` gets no line, as with app_queue,
where a full queue writes nothing (join_queue fails before ENTERQUEUE).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from acd.engine import facts as fact

if TYPE_CHECKING:
    from acd.config.schema import SiteConfig

PAUSE_REASONS = {"missed": "Auto-Pause"}
"""Engine pause reasons written as app_queue writes the same pause."""


def _clean(text: str) -> str:
    """A field with no `|` or line break (they would split it): `_` instead, as
    app_queue does for a caller id name."""
    if "|" in text or "\n" in text or "\r" in text:
        return text.replace("|", "_").replace("\n", "_").replace("\r", "_")
    return text


def _us(t: float) -> int:
    return round(t * 1_000_000)


class _Call:
    """What a call's later lines need from its earlier facts."""

    __slots__ = ("answered", "connected", "entered", "origin", "rung")

    def __init__(self, entered: float, origin: int) -> None:
        self.entered = entered
        self.origin = origin
        """The original position (app_queue's `opos`)."""
        self.rung = entered
        self.answered = 0.0
        self.connected = entered


class QueueLogLines:
    """Facts in, queue_log lines out, remembering what each open call's lines need.

    `members` maps agent ids, and `vendors` vendor names, to the member name written
    in the agent field (`for_site` gives the endpoints and trunks). `peer(call_id)`,
    when given, is the uniqueid of the member's channel for CONNECT's second field
    (the live controller knows it; a replay has none, and the field is left empty).
    """

    def __init__(
        self,
        members: Mapping[str, str],
        vendors: Mapping[str, str],
        peer: Callable[[str], str] | None = None,
    ) -> None:
        self._members = {k: _clean(v) for k, v in members.items()}
        self._vendors = {k: _clean(v) for k, v in vendors.items()}
        self._peer = peer
        self._calls: dict[str, _Call] = {}

    @classmethod
    def for_site(
        cls, config: SiteConfig, peer: Callable[[str], str] | None = None
    ) -> QueueLogLines:
        """Agents as their endpoints, vendors as their trunks (see the module docstring)."""
        return cls(
            {a.id: a.endpoint for a in config.agents},
            {name: v.trunk for name, v in config.vendors.items()},
            peer,
        )

    @property
    def open_calls(self) -> int:
        """Calls entered and not yet ended (what this object remembers)."""
        return len(self._calls)

    def queue_start(self, at: float) -> str:
        """The line a log starts with (Asterisk's logger, on starting the queue log)."""
        return f"{int(at)}|NONE|NONE|NONE|QUEUESTART|"

    def config_reload(self, at: float) -> str:
        """The line Asterisk writes into a queue log it reopens (`logger reload`)."""
        return f"{int(at)}|NONE|NONE|NONE|CONFIGRELOAD|"

    def lines(self, facts: Iterable[fact.Fact]) -> list[str]:
        """The lines for `facts`, in their order; facts that write nothing (a ring
        starting, an answer before the bridge) are remembered for later lines."""
        out: list[str] = []
        handlers = self._handlers
        for f in facts:
            handlers[type(f)](self, f, out)
        return out

    # ------------------------------------------------------------------ helpers

    def _member(self, agent_id: str, vendor: str) -> str:
        if vendor:
            return self._vendors.get(vendor) or _clean(vendor)
        return self._members.get(agent_id) or _clean(agent_id)

    def _call(self, call_id: str, at: float) -> _Call:
        """The call's record; a call this object did not see enter (it was attached
        to an engine already running) gets one from now, with position 0."""
        found = self._calls.get(call_id)
        if found is None:
            found = self._calls[call_id] = _Call(at, 0)
        return found

    def _end(self, call_id: str, at: float) -> _Call:
        found = self._calls.pop(call_id, None)
        return found if found is not None else _Call(at, 0)

    # ------------------------------------------------------------------ calls

    def _entered(self, f: fact.CallEnteredQueue, out: list[str]) -> None:
        self._calls[f.call_id] = _Call(f.at, f.position)
        out.append(
            f"{int(f.at)}|{_clean(f.call_id)}|{_clean(f.queue)}|NONE|ENTERQUEUE"
            f"||{_clean(f.caller)}|{f.position}"
        )

    def _rung(self, f: fact.MemberRung, out: list[str]) -> None:
        call = self._call(f.call_id, f.at)
        call.rung = f.at
        call.answered = 0.0

    def _answered(self, f: fact.MemberAnswered, out: list[str]) -> None:
        self._call(f.call_id, f.at).answered = f.at

    def _no_answer(self, f: fact.RingNoAnswer, out: list[str]) -> None:
        rung = self._call(f.call_id, f.at).rung
        # Timed out, app_queue writes rna(orig, ...): the timeout in ms; otherwise
        # (time(NULL) - starttime) * 1000.
        ms = round((f.at - rung) * 1000) if f.timed_out else (int(f.at) - int(rung)) * 1000
        out.append(
            f"{int(f.at)}|{_clean(f.call_id)}|{_clean(f.queue)}|"
            f"{self._member(f.agent_id, f.vendor)}|RINGNOANSWER|{ms}"
        )

    def _canceled(self, f: fact.RingCanceled, out: list[str]) -> None:
        rung = self._call(f.call_id, f.at).rung
        ms = (_us(f.at) - _us(rung)) // 1000  # ast_tvdiff_ms
        out.append(
            f"{int(f.at)}|{_clean(f.call_id)}|{_clean(f.queue)}|"
            f"{self._member(f.agent_id, f.vendor)}|RINGCANCELED|{ms}"
        )

    def _dumped(self, f: fact.AgentDumped, out: list[str]) -> None:
        out.append(
            f"{int(f.at)}|{_clean(f.call_id)}|{_clean(f.queue)}|"
            f"{self._member(f.agent_id, '')}|AGENTDUMP|"
        )

    def _connected(self, f: fact.CallConnected, out: list[str]) -> None:
        call = self._call(f.call_id, f.at)
        call.connected = f.at
        answered = call.answered or f.at  # a vendor is bridged as it answers
        ring = max(0, (_us(answered) - _us(call.rung)) // 1000) // 1000
        peer = _clean(self._peer(f.call_id)) if self._peer is not None else ""
        out.append(
            f"{int(f.at)}|{_clean(f.call_id)}|{_clean(f.queue)}|"
            f"{self._member(f.agent_id, f.vendor)}|CONNECT|"
            f"{int(f.at) - int(call.entered)}|{peer}|{ring}"
        )

    def _completed(self, f: fact.CallCompleted, out: list[str]) -> None:
        call = self._end(f.call_id, f.at)
        verb = "COMPLETECALLER" if f.by_caller else "COMPLETEAGENT"
        start = int(call.connected)  # app_queue's member->starttime, set at CONNECT
        out.append(
            f"{int(f.at)}|{_clean(f.call_id)}|{_clean(f.queue)}|"
            f"{self._member(f.agent_id, f.vendor)}|{verb}|"
            f"{start - int(call.entered)}|{int(f.at) - start}|{call.origin}"
        )

    def _abandoned(self, f: fact.CallAbandoned, out: list[str]) -> None:
        call = self._end(f.call_id, f.at)
        agent = self._member(f.agent_id, "") if f.agent_id else "NONE"
        out.append(
            f"{int(f.at)}|{_clean(f.call_id)}|{_clean(f.queue)}|{agent}|ABANDON|"
            f"{f.position}|{call.origin}|{int(f.at) - int(call.entered)}"
        )

    def _timed_out(self, f: fact.CallExitedWithTimeout, out: list[str]) -> None:
        call = self._end(f.call_id, f.at)
        out.append(
            f"{int(f.at)}|{_clean(f.call_id)}|{_clean(f.queue)}|NONE|EXITWITHTIMEOUT|"
            f"{f.position}|{call.origin}|{int(f.at) - int(call.entered)}"
        )

    # ------------------------------------------------------------------ callbacks

    def _callback(self, f: fact.CallbackRequested, out: list[str]) -> None:
        call = self._call(f.call_id, f.at)
        agent = self._member(f.agent_id, "") if f.agent_id else "NONE"
        out.append(
            f"{int(f.at)}|{_clean(f.call_id)}|{_clean(f.queue)}|{agent}|CALLBACKREQUEST|"
            f"{_clean(f.digit)}|{f.position}|{call.origin}|{int(f.at) - int(call.entered)}"
        )

    def _dialled(self, f: fact.CallbackDialled, out: list[str]) -> None:
        out.append(
            f"{int(f.at)}|{_clean(f.call_id)}|{_clean(f.queue)}|"
            f"{self._member(f.agent_id, '')}|CALLBACKDIAL|{f.attempt}"
        )

    def _not_reached(self, f: fact.CallbackNotReached, out: list[str]) -> None:
        out.append(
            f"{int(f.at)}|{_clean(f.call_id)}|{_clean(f.queue)}|"
            f"{self._member(f.agent_id, '')}|CALLBACKNOANSWER|{f.attempt}|{_clean(f.cause)}"
        )

    # ------------------------------------------------------------------ agents

    def _login(self, f: fact.AgentLoggedIn, out: list[str]) -> None:
        at, member = int(f.at), self._member(f.agent_id, "")
        out.append(f"{at}|NONE|NONE|{member}|AGENTLOGIN|{member}")
        out.extend(f"{at}|MANAGER|{_clean(q)}|{member}|ADDMEMBER|" for q in f.queues)

    def _logout(self, f: fact.AgentLoggedOut, out: list[str]) -> None:
        at, member = int(f.at), self._member(f.agent_id, "")
        out.extend(f"{at}|MANAGER|{_clean(q)}|{member}|REMOVEMEMBER|" for q in f.queues)
        out.append(
            f"{at}|NONE|NONE|{member}|AGENTLOGOFF|{member}|{at - int(f.logged_in_at)}"
        )

    def _paused(self, f: fact.AgentPaused, out: list[str]) -> None:
        if not f.queues:  # app_queue: no member found, nothing written
            return
        at, member = int(f.at), self._member(f.agent_id, "")
        reason = _clean(PAUSE_REASONS.get(f.reason, f.reason))
        out.append(f"{at}|NONE|NONE|{member}|PAUSEALL|{reason}")
        out.extend(f"{at}|NONE|{_clean(q)}|{member}|PAUSE|{reason}" for q in f.queues)

    def _unpaused(self, f: fact.AgentUnpaused, out: list[str]) -> None:
        if not f.queues:
            return
        at, member = int(f.at), self._member(f.agent_id, "")
        out.append(f"{at}|NONE|NONE|{member}|UNPAUSEALL|")
        out.extend(f"{at}|NONE|{_clean(q)}|{member}|UNPAUSE|" for q in f.queues)

    def _added(self, f: fact.MemberAdded, out: list[str]) -> None:
        out.append(
            f"{int(f.at)}|MANAGER|{_clean(f.queue)}|{self._member(f.agent_id, '')}|ADDMEMBER|"
            + ("PAUSED" if f.paused else "")
        )

    def _removed(self, f: fact.MemberRemoved, out: list[str]) -> None:
        out.append(
            f"{int(f.at)}|MANAGER|{_clean(f.queue)}|{self._member(f.agent_id, '')}|REMOVEMEMBER|"
        )

    _handlers: ClassVar[dict[type[Any], Callable[[QueueLogLines, Any, list[str]], None]]] = {
        fact.CallEnteredQueue: _entered,
        fact.MemberRung: _rung,
        fact.MemberAnswered: _answered,
        fact.RingNoAnswer: _no_answer,
        fact.RingCanceled: _canceled,
        fact.AgentDumped: _dumped,
        fact.CallConnected: _connected,
        fact.CallCompleted: _completed,
        fact.CallAbandoned: _abandoned,
        fact.CallExitedWithTimeout: _timed_out,
        fact.CallbackRequested: _callback,
        fact.CallbackDialled: _dialled,
        fact.CallbackNotReached: _not_reached,
        fact.AgentLoggedIn: _login,
        fact.AgentLoggedOut: _logout,
        fact.AgentPaused: _paused,
        fact.AgentUnpaused: _unpaused,
        fact.MemberAdded: _added,
        fact.MemberRemoved: _removed,
    }
    """One handler per fact, as a table (h11's style): a new fact without a line
    fails loudly here rather than being dropped."""
