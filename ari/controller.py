"""The ARI controller: the thin IO half of the bridge between Asterisk and the engine.

The engine decides; the translator (sans-IO, tested from tables without sockets)
says what that means in both directions, as data:

- ari/translate.py: an ARI event into engine events; an engine command into jobs of
  ARI operations (ari/ops.py, ari/effects.py);
- ari/jobs.py: each job's requests, and what a REST failure means (a channel that is
  gone is a hang-up; an originate that fails is a miss for an agent, a failure for a
  vendor or callback; a prompt that cannot play has finished);
- ari/settle.py, ari/supervise.py: what a leg answering or ending means;
- ari/reconcile.py: the books against Asterisk's own lists, after a gap;
- ari/shutdown.py: who is handed back when the engine stops.

This class carries it out, and owns everything that waits or keeps time: it feeds
the engine (behind the lease gate, `Keeper`) and arms its timer on the speed-scaled
clock (ari/clock.py); it runs each call's jobs in the call's lane, in the engine's
order, concurrently across calls (ari/lanes.py), sending the requests with the
client; it makes each queue's holding bridge once; it times the latency samples;
and it fetches what the reconciliation compares. Nothing here raises out of the
event loop: unknown channels and late events are counted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, Protocol, assert_never

from acd.ari import jobs, models, ops, settle, translate
from acd.ari import reconcile as rec
from acd.ari import shutdown as leaving
from acd.ari.books import Books, Stats
from acd.ari.brakes import Brakes
from acd.ari.client import AriClient, AriError
from acd.ari.clock import Clock
from acd.ari.effects import (
    Effect,
    Feed,
    Forget,
    HandBack,
    Job,
    LegAnswered,
    LegEnded,
    Metric,
    Played,
    Quiet,
    Rebridge,
    Report,
    Sample,
    Spawn,
    Stamp,
    Submit,
    Unstamp,
)
from acd.ari.lanes import Lanes
from acd.ari.legs import HOLD_PREFIX, CallLegs, Leg, Supervision
from acd.ari.unanswered import Unanswered
from acd.config.schema import SiteConfig
from acd.engine import Engine
from acd.engine import events as ev

__all__ = ["Controller", "Keeper"]

log = logging.getLogger("acd.controller")


class Keeper(Protocol):
    """Where the engine's inputs are kept (store/writer.py), and whether this engine
    may still act: the holder of the site's lease."""

    def record(self, event: ev.Event, now: float) -> None: ...

    def may_act(self) -> bool: ...

    async def confirm(self) -> bool: ...


class Controller:
    """Drives one site's engine from one Asterisk application."""

    def __init__(
        self,
        site: SiteConfig,
        engine: Engine,
        client: AriClient,
        clock: Clock,
        spawn: Callable[[Coroutine[Any, Any, None]], object],
        keeper: Keeper | None = None,
        sync_clock: bool = False,
    ) -> None:
        self.sync_clock = sync_clock
        """Take the PBX's time on every (re)connection: for a virtual PBX running
        compressed time, across engine restarts."""
        self.site = site
        self.keeper = keeper
        self.stepped_down = False
        self._deferred: list[ev.Event] = []
        self.engine = engine
        self.ari = client
        self.clock = clock
        self.unanswered = Unanswered()
        """Requests Asterisk did not answer: logged as one line every few seconds."""
        brakes = Brakes(site.live.admission)
        client.on_round_trip = lambda seconds: brakes.round_trip(clock.now(), seconds)
        self.books = Books(site, engine, client.app, brakes)
        """What the translator knows and changes (ari/books.py)."""
        self.lanes = Lanes(spawn)
        self._holding: dict[str, asyncio.Future[bool]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._stamps: dict[tuple[Metric, str], float] = {}
        """Latency samples begun (`Stamp`), at `time.perf_counter()`."""
        self._played: dict[str, asyncio.Future[None]] = {}
        """Playbacks waited for (`ops.WaitPlayback`), or ended before anyone waited."""
        self._spawn = spawn

    # The books, as the tests and the CLI read them.

    @property
    def stats(self) -> Stats:
        return self.books.stats

    @property
    def legs(self) -> dict[str, Leg]:
        return self.books.legs

    @property
    def calls(self) -> dict[str, CallLegs]:
        return self.books.calls

    @property
    def supervisions(self) -> dict[str, Supervision]:
        """Supervisors on calls, by the channel id of the supervisor's leg."""
        return self.books.supervisions

    # ------------------------------------------------------------------ the engine

    def feed(self, event: ev.Event) -> None:
        """Hand one event to the engine, journal it, and carry out its commands.

        While this engine cannot be sure it still holds the lease (it was paused, say),
        events wait until the store confirms; if the lease is lost, it steps down
        without acting."""
        if self.stepped_down:
            return
        keeper = self.keeper
        if keeper is not None and (self._deferred or not keeper.may_act()):
            self._deferred.append(event)
            if len(self._deferred) == 1:
                self._spawn(self._confirm_lease())
            return
        if isinstance(event, ev.PromptFinished) and not self.engine.awaits_prompt(
            event.call_id, event.prompt_id
        ):
            # Asterisk reports every playback's end; most (the join prompt, position
            # announcements, prompts cut short) no call awaits: the engine would drop
            # them, so neither it nor the journal needs them (as in the replay).
            return
        now = self.clock.now()
        commands = self.engine.handle(event, now)
        if keeper is not None:
            keeper.record(event, now)
        for command in commands:
            self.stats.commands += 1
            self._apply_all(translate.command(self.books, command, self.clock.now()))
        self._arm_timer()

    async def _confirm_lease(self) -> None:
        assert self.keeper is not None
        if await self.keeper.confirm():
            events, self._deferred = self._deferred, []
            for event in events:
                self.feed(event)
        else:
            self.step_down()

    def step_down(self) -> None:
        """Stop acting at once (another engine holds the lease): no REST call, no
        timer, nothing more journalled. The calls are the new holder's."""
        self.stepped_down = True
        self._deferred.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arm_timer(self) -> None:
        deadline = self.engine.next_deadline()
        if deadline == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = deadline
        if deadline is not None:
            delay = self.clock.to_wall(deadline - self.clock.now())
            self._timer = asyncio.get_running_loop().call_later(delay, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        self.feed(ev.TimerFired())

    # ------------------------------------------------------------------ ARI events

    async def run(self) -> None:
        """Consume the application's events until cancelled."""
        self._arm_timer()  # a restored engine has timers running already
        async for event in self.ari.events(self.reconcile):
            try:
                self.on_event(event)
            except Exception:  # one bad event must not stop the call centre
                log.exception("ARI event %s could not be handled", type(event).__name__)

    def on_event(self, event: models.Event) -> None:
        """One of Asterisk's events, translated (ari/translate.py) and carried out."""
        self._apply_all(translate.event(self.books, event, self.clock.now()))

    # ------------------------------------------------------------------ effects

    def _apply_all(self, effects: Iterable[Effect]) -> None:
        for effect in effects:
            self._apply(effect)

    def _apply(self, effect: Effect) -> None:
        """Carry out one of the translator's effects (ari/effects.py)."""
        match effect:
            case Feed():
                self.feed(effect.event)
            case Submit():
                job = effect.job
                self.lanes.submit(effect.lane, lambda: self._run(job))
            case Spawn():
                self._spawn(self._run(effect.job))
            case Report():
                self._log_failure(effect.level, effect.line, effect.status)
            case Stamp():
                self._stamps[(effect.metric, effect.key)] = time.perf_counter()
            case Sample():
                started = self._stamps.pop((effect.metric, effect.key), None)
                if started is not None:
                    samples = (
                        self.stats.first_command_ms
                        if effect.metric == "first_command"
                        else self.stats.bridge_ms
                    )
                    samples.append((time.perf_counter() - started) * 1000.0)
            case Unstamp():
                self._stamps.pop((effect.metric, effect.key), None)
            case Played():
                played = self._played.setdefault(
                    effect.playback_id, asyncio.get_running_loop().create_future()
                )
                if not played.done():
                    played.set_result(None)
            case Forget() | LegEnded() | LegAnswered() | Rebridge():
                self._apply_all(settle.resume(self.books, effect, self.clock.now()))
            case _:
                assert_never(effect)

    def _log_failure(self, level: int, line: str, status: int) -> None:
        """Log a failed request's `line`; one unanswered by Asterisk (status 0) goes
        into a summary line every few seconds instead (ari/unanswered.py)."""
        if status == 0:
            summary = self.unanswered.add(line, asyncio.get_running_loop().time())
            if summary is not None:
                log.warning("%s", summary)
        else:
            log.log(level, "%s", line)

    # ------------------------------------------------------------------ jobs

    async def _run(self, job: Job) -> None:
        """Carry out a job (ari/jobs.py): its plan, made now, step by step; a request
        Asterisk refuses has the rest of the plan replaced by what that means."""
        running = jobs.run(self.books, job)
        outcome: ops.Failure | None = None
        try:
            while True:
                step = running.send(outcome)
                outcome = None
                if not isinstance(step, ops.Request):
                    self._apply(step)
                    continue
                try:
                    await self._send(step)
                except AriError as err:
                    outcome = ops.Failure(err.status, err.path, err.message, str(err))
        except StopIteration:
            return

    async def _send(self, request: ops.Request) -> None:
        """One request, with the client. Raises AriError as the client does."""
        ari = self.ari
        match request:
            case ops.Answer():
                await ari.answer(request.channel)
            case ops.Play():
                await ari.play(
                    request.channel, list(request.media), playback_id=request.playback_id,
                    lang=request.lang,
                )
            case ops.Hangup():
                await ari.hangup(request.channel, request.reason)
            case ops.ContinueInDialplan():
                await ari.continue_in_dialplan(
                    request.channel, context=request.context, extension=request.extension
                )
            case ops.Originate():
                await ari.originate(
                    request.endpoint,
                    channel_id=request.channel_id,
                    app_args=list(request.app_args),
                    timeout=request.timeout,
                    caller_id=request.caller_id,
                    originator=request.originator,
                    variables=dict(request.variables),
                )
            case ops.Snoop():
                await ari.snoop(
                    request.channel, snoop_id=request.snoop_id, spy=request.spy,
                    whisper=request.whisper, app_args=list(request.app_args),
                )
            case ops.GetChannel():
                await ari.get_channel(request.channel)
            case ops.CreateBridge():
                await ari.create_bridge(request.bridge, request.kind, name=request.name)
            case ops.HoldingBridge():
                await self._holding_bridge(request.queue, request.music_class)
            case ops.DestroyBridge():
                await ari.destroy_bridge(request.bridge)
            case ops.AddChannels():
                await ari.add_channels(request.bridge, list(request.channels), role=request.role)
            case ops.RemoveChannels():
                await ari.remove_channels(request.bridge, list(request.channels))
            case ops.StopPlayback():
                await ari.stop_playback(request.playback_id)
            case ops.WaitPlayback():
                await self._wait_playback(request.playback_id, request.seconds)
            case ops.SendMessage():
                await ari.send_message(request.to, request.sender, request.body)
            case _:
                assert_never(request)

    async def _holding_bridge(self, queue: str, music_class: str) -> None:
        """Make the queue's holding bridge once, with its music on hold."""
        ready = self._holding.get(queue)
        if ready is None:
            ready = asyncio.get_running_loop().create_future()
            self._holding[queue] = ready
            bridge = HOLD_PREFIX + queue
            try:
                try:
                    await self.ari.create_bridge(bridge, "holding", name=f"queue-{queue}")
                except AriError as err:
                    if err.status != 409:  # 409: it exists already (we made it before)
                        raise
                await self.ari.start_bridge_moh(bridge, music_class)
                ready.set_result(True)
            except AriError:
                del self._holding[queue]
                ready.set_result(False)
                raise
        if not await asyncio.shield(ready):
            raise AriError("POST", f"/bridges/{HOLD_PREFIX}{queue}", 0, "holding bridge failed")

    async def _wait_playback(self, playback: str, seconds: float) -> None:
        played = self._played.setdefault(playback, asyncio.get_running_loop().create_future())
        try:
            await asyncio.wait_for(played, seconds)
        except TimeoutError:
            raise AriError("GET", f"/playbacks/{playback}", 0, "still playing") from None
        finally:
            self._played.pop(playback, None)

    # ------------------------------------------------------------------ reconciliation

    async def reconcile(self) -> None:
        """After a (re)connection, or on taking over from another engine: make what we
        know of the PBX true again, from Asterisk's own lists and the engine's state
        (ari/reconcile.py says how). Skipped, with a warning, if the lists cannot be
        had."""
        if self.stepped_down:
            return
        try:
            if self.sync_clock:
                self.clock.sync(await self.ari.asterisk_time())
                self._timer_at = None
                self._arm_timer()
            channels = {ch.id: ch for ch in await self.ari.list_channels()}
            bridges = await self.ari.list_bridges()
        except AriError as err:
            log.warning("reconciliation skipped: %s", err)
            return
        removed = await self._remove_idle_bridges(bridges, holding=False)
        bridges = [b for b in bridges if b.id not in removed]
        bridge_ids = {b.id for b in bridges}
        for queue in [q for q in self._holding if HOLD_PREFIX + q not in bridge_ids]:
            del self._holding[queue]  # the PBX restarted: make it again when needed
        for bridge in bridge_ids:
            queue = bridge.removeprefix(HOLD_PREFIX)
            if bridge.startswith(HOLD_PREFIX) and queue not in self._holding:
                made = asyncio.get_running_loop().create_future()
                made.set_result(True)
                self._holding[queue] = made
        members = rec.members(bridges)
        for ch in channels.values():
            if ch.id not in self.books.legs:
                self._apply_all(rec.adopt(self.books, ch, members.get(ch.id, ""), self.clock.now()))
        self._apply_all(rec.settle_legs(self.books, channels, members))
        for call_id in list(self.engine.calls):
            if call_id in self.engine.calls:
                effects, go_on = rec.missing_legs(self.books, call_id, channels, self.clock.now())
                self._apply_all(effects)
                if go_on:
                    busy, now = self.lanes.busy(call_id), self.clock.now()
                    self._apply_all(rec.repair(self.books, call_id, busy=busy, now=now))
        await self._check_prompts()
        log.info(
            "reconciled: %d channels present, %d legs settled as gone, %d answers found",
            len(channels), self.stats.reconciled_gone, self.stats.reconciled_answered,
        )

    async def _remove_idle_bridges(
        self, bridges: list[models.Bridge], *, holding: bool
    ) -> set[str]:
        """Destroy the bridges of ours that serve nobody (reconcile.idle_bridges);
        returns their ids."""
        removed: set[str] = set()
        for bridge in rec.idle_bridges(self.books, bridges, holding=holding):
            rec.drop_bridge(self.books, bridge)
            await self._run(Quiet(ops.DestroyBridge(bridge)))
            if bridge.startswith(HOLD_PREFIX):
                self._holding.pop(bridge.removeprefix(HOLD_PREFIX), None)
            removed.add(bridge)
        return removed

    async def _check_prompts(self) -> None:
        """Prompts the engine waits for whose playback Asterisk no longer has: done."""
        for playback in rec.waited_prompts(self.books):
            if rec.asked_for(self.books, playback):
                continue
            try:
                await self.ari.get_playback(playback)
            except AriError as err:
                if err.gone:
                    self._apply_all(rec.prompt_gone(self.books, playback))

    # ------------------------------------------------------------------ shutdown

    async def shutdown(self, grace: float = 15.0) -> None:
        """Leave no caller in silence: callers in the IVR or waiting hear
        `live.shutdown_prompt`, then go on in the dialplan (`on_shutdown: continue`)
        or are hung up; agent legs still ringing are cancelled. Conversations already
        bridged go on in Asterisk. Waits at most `grace` seconds (wall clock)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        releases, hand_backs = leaving.hand_back(self.books, self.clock.now())
        self._apply_all(releases)
        handed = [self._hand_back(lane, job) for lane, job in hand_backs]
        try:
            if handed:
                await asyncio.wait_for(asyncio.gather(*handed), grace)
            await asyncio.wait_for(self.lanes.idle.wait(), grace)
        except TimeoutError:
            log.warning("shutdown: %d calls still had ARI work pending", len(self.lanes))
        # Nobody waits any more: the holding bridges would outlive us in Asterisk.
        try:
            await self._remove_idle_bridges(await self.ari.list_bridges(), holding=True)
        except AriError as err:
            log.warning("shutdown: bridges not listed: %s", err)

    def _hand_back(self, lane: str, job: HandBack) -> asyncio.Future[None]:
        """Run the hand-back in the call's lane; the future is done when it is."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def run() -> None:
            try:
                await self._run(job)
            finally:
                done.set_result(None)

        self.lanes.submit(lane, run)
        return done
