"""Supervisor actions through the store: from wallboard servers to the engine and back.

A wallboard server without an engine (`acd wallboard`) submits a `Command` (who, what)
to the store's command stream and waits for the answer (`StoreSource.act`). The
engine's side (`follow_commands`, a task of `acd serve` whenever its state is in a
shared store) reads the stream after the last command it applied, applies each one as
the in-process wallboard would (`web.actions.perform`: one journaled engine event),
writes the audit entry, marks the command applied in the same write as the event's
journal entry (`StateWriter.command_done`), and answers.

A command older than `MAX_AGE` seconds when the engine reads it (a wallboard's click
while no engine was running, found by the next one) is answered "expired" and not
applied: a supervisor's pause from ten minutes ago must not land on an agent now.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import msgspec

from acd.engine import Engine
from acd.engine import events as ev
from acd.store.base import Store, StoreError, command_age
from acd.web.actions import Action, Result, perform
from acd.web.auth import Principal
from acd.web.sources import record

log = logging.getLogger("acd.web")

MAX_AGE = 10.0
ANSWER_WAIT = 5.0
"""Seconds a wallboard server waits for the engine's answer before telling the
supervisor it did not come."""


class Command(msgspec.Struct, frozen=True, kw_only=True):
    who: str
    role: str
    action: Action


COMMAND_DECODER = msgspec.msgpack.Decoder(Command)
RESULT_DECODER = msgspec.msgpack.Decoder(Result)


async def submit(store: Store, who: Principal, action: Action) -> Result:
    """The wallboard server's side: send the action and wait for the engine's answer."""
    command_id = await store.submit(
        msgspec.msgpack.encode(Command(who=who.name, role=who.role, action=action))
    )
    answer = await store.await_answer(command_id, ANSWER_WAIT)
    if answer is None:
        return Result(ok=False, status=504, message=f"the engine did not answer within "
                      f"{ANSWER_WAIT:g} s (is `acd serve` running on this store?); the action "
                      "is not applied later than 10 s after it was sent")
    try:
        return RESULT_DECODER.decode(answer)
    except msgspec.DecodeError:
        return Result(ok=False, status=502, message="the engine's answer could not be read")


async def follow_commands(
    store: Store,
    engine: Engine,
    feed: Callable[[ev.Event], None],
    now: Callable[[], float],
    done: Callable[[str], None],
) -> None:
    """The engine's side, until cancelled. `feed` hands an event to the engine (the
    controller's, journaled); `done(command_id)` marks a command applied in the state
    writer's next write."""
    after = await store.last_command()
    me = asyncio.current_task()
    while True:
        # A cancel that lands while redis-py reads a blocking XREAD can be swallowed by
        # it (seen in tests/test_state_failover.py: the task stayed "cancelling" and read
        # on): honour a pending cancel at each turn.
        if me is not None and me.cancelling():
            raise asyncio.CancelledError
        try:
            batch = await store.commands(after, block_ms=1000)
            clock_ms = await store.clock_ms() if batch else 0
        except StoreError as e:  # unreachable, or the stream key holds foreign data
            log.warning("supervisor commands: cannot read them (%s); retrying", e)
            await asyncio.sleep(1.0)
            continue
        for command_id, data in batch:
            after = command_id
            command, result = _apply(engine, feed, command_id, data, clock_ms)
            # At once, in the loop turn of the event's journal entry: the two are
            # written together (no await between them).
            done(command_id)
            try:
                if command is not None:
                    who = Principal(command.who,
                                    "supervisor" if command.role == "supervisor" else "viewer")
                    await record(store, who, command.action, result, now())
                await store.answer(command_id, msgspec.msgpack.encode(result))
            except StoreError as e:
                log.warning("supervisor command %s: answer or audit not written (%s)",
                            command_id, e)


def _apply(
    engine: Engine,
    feed: Callable[[ev.Event], None],
    command_id: str,
    data: bytes,
    clock_ms: int,
) -> tuple[Command | None, Result]:
    """Decode, check the age of, and apply one command (no await: see the caller)."""
    try:
        command = COMMAND_DECODER.decode(data)
    except msgspec.DecodeError as e:
        log.warning("supervisor command %s: unreadable, ignored (%s)", command_id, e)
        return None, Result(ok=False, status=422, message=f"the command could not be read ({e})")
    if command.role != "supervisor":  # a wallboard server submits no other: not ours
        log.warning("supervisor command %s: from a %r, not a supervisor; refused", command_id,
                    command.role)
        return command, Result(ok=False, status=403, message=f"{command.who} is not a "
                               "supervisor: acting needs a supervisor token; not applied")
    age = command_age(command_id, clock_ms)
    if age > MAX_AGE:
        return command, Result(ok=False, status=409, message=f"expired: sent {age:.0f} s ago, "
                               "before this engine could apply it; not applied")
    return command, perform(engine, feed, command.action)
