"""The phones' media: G.711 RTP sent on one shared 20 ms clock, and the SDP that
says where it goes.

A phone in a call sends what a talking person would (a speech-like pattern:
syllables of a voiced sound with pauses between words, encoded once per process
in A-law and mu-law) and counts what the far end sends. Every call's stream is sent
from one `RtpClock` tick per packetization time (ptime, 20 ms, RFC 3551), not from a
task or timer per call: a floor of hundreds of phones then costs one timer wake-up
per 20 ms plus a `sendto` per call.
"""

from __future__ import annotations

import asyncio
import functools
import math
import random
import struct
from dataclasses import dataclass
from typing import cast

PTIME = 0.020
"""Seconds of audio per RTP packet (RFC 3551's default for G.711)."""
SAMPLES = 160
"""Samples (and bytes of G.711) per packet: 8,000 Hz x 20 ms."""
PCMU, PCMA, TELEPHONE_EVENT = 0, 8, 101
"""RTP payload types: the static G.711 ones (RFC 3551) and the dynamic one Asterisk
uses for RFC 4733 DTMF."""
PATTERN_SECONDS = 3.0
"""Length of the speech-like pattern, looped: long enough to hold words and pauses."""

_ALAW_SEGMENTS = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)
_ULAW_SEGMENTS = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)
_HEADER = struct.Struct("!BBHII")


def alaw(sample: int) -> int:
    """One 16-bit linear sample as an A-law byte (ITU-T G.711; Sun's reference g711.c,
    as `audioop.lin2alaw`, which Python 3.13 removed)."""
    pcm = sample >> 3
    if pcm >= 0:
        mask = 0xD5
    else:
        mask = 0x55
        pcm = -pcm - 1
    segment = next((i for i, end in enumerate(_ALAW_SEGMENTS) if pcm <= end), 8)
    if segment >= 8:
        return 0x7F ^ mask
    value = segment << 4
    value |= (pcm >> 1 if segment < 2 else pcm >> segment) & 0x0F
    return value ^ mask


def ulaw(sample: int) -> int:
    """One 16-bit linear sample as a mu-law byte (ITU-T G.711, Sun's g711.c)."""
    pcm = sample >> 2
    if pcm < 0:
        pcm = -pcm
        mask = 0x7F
    else:
        mask = 0xFF
    pcm = min(pcm, 8159) + (0x84 >> 2)
    segment = next((i for i, end in enumerate(_ULAW_SEGMENTS) if pcm <= end), 8)
    if segment >= 8:
        return 0x7F ^ mask
    return ((segment << 4) | ((pcm >> (segment + 1)) & 0x0F)) ^ mask


@functools.cache
def speech() -> tuple[int, ...]:
    """`PATTERN_SECONDS` of 8 kHz linear samples that sound like talk to a codec or
    a silence detector: syllables (a 140 Hz voiced tone with falling harmonics under
    a sine envelope, 150-250 ms each) in words of 1-4 syllables, pauses between
    words. Seeded: every run sends the same audio."""
    rng = random.Random(120)
    total = int(PATTERN_SECONDS * 8000)
    samples = [0] * total
    at = 0
    while at < total:
        for _ in range(rng.randint(1, 4)):
            length = int(rng.uniform(0.15, 0.25) * 8000)
            pitch = rng.uniform(120.0, 160.0)
            for i in range(min(length, total - at)):
                envelope = math.sin(math.pi * i / length) ** 2
                t = (at + i) / 8000
                voice = sum(math.sin(2 * math.pi * pitch * k * t) / k for k in (1, 2, 3, 4))
                samples[at + i] = int(6000 * envelope * voice)
            at += length
        at += int(rng.uniform(0.1, 0.4) * 8000)
    return tuple(samples)


@functools.cache
def payloads(payload_type: int) -> tuple[bytes, ...]:
    """The pattern cut into 20 ms payloads in `payload_type`'s encoding (PCMA or PCMU)."""
    encode = alaw if payload_type == PCMA else ulaw
    table = bytes(encode(s) for s in speech())
    return tuple(table[i : i + SAMPLES] for i in range(0, len(table) - SAMPLES + 1, SAMPLES))


@dataclass(frozen=True, slots=True)
class MediaOffer:
    """What an SDP says about its audio: where to send it and which payload types."""

    address: str
    port: int
    formats: tuple[int, ...]

    def choose(self) -> int | None:
        """The voice payload type to send: the first of the offer's that the phone
        speaks (the offer lists them in its preference), or None."""
        return next((f for f in self.formats if f in (PCMA, PCMU)), None)


def parse_sdp(body: bytes) -> MediaOffer | None:
    """The first audio stream of an SDP body, or None when there is none (or it is
    disabled with port 0, or the text is not SDP)."""
    address = ""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    audio: tuple[int, tuple[int, ...]] | None = None
    for line in text.splitlines():
        kind, _, value = line.strip().partition("=")
        if kind == "c" and (audio is None or not address):
            parts = value.split()
            if len(parts) == 3:
                address = parts[2].split("/")[0]
        elif kind == "m" and audio is None:
            parts = value.split()
            if len(parts) >= 4 and parts[0] == "audio" and parts[1].isdigit():
                formats = tuple(int(f) for f in parts[3:] if f.isdigit())
                audio = (int(parts[1]), formats)
        elif kind == "m":
            break
    if audio is None or audio[0] == 0 or not address:
        return None
    return MediaOffer(address, audio[0], audio[1])


def sdp(host: str, port: int, formats: tuple[int, ...], session: int, version: int) -> bytes:
    """An SDP offer or answer for one audio stream at `host`:`port` carrying `formats`
    (PCMA, PCMU, telephone-event), 20 ms packets, both directions."""
    names = {PCMA: "PCMA/8000", PCMU: "PCMU/8000", TELEPHONE_EVENT: "telephone-event/8000"}
    lines = [
        "v=0",
        f"o=acd-load {session} {version} IN IP4 {host}",
        "s=acd-load",
        f"c=IN IP4 {host}",
        "t=0 0",
        f"m=audio {port} RTP/AVP {' '.join(str(f) for f in formats)}",
        *(f"a=rtpmap:{f} {names[f]}" for f in formats if f in names),
    ]
    if TELEPHONE_EVENT in formats:
        lines.append(f"a=fmtp:{TELEPHONE_EVENT} 0-16")
    lines += ["a=ptime:20", "a=sendrecv"]
    return ("\r\n".join(lines) + "\r\n").encode()


class RtpStream(asyncio.DatagramProtocol):
    """One call's RTP socket: sends the pattern to `remote` when the clock ticks (once
    `start` is called), counts the valid RTP packets that arrive."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.remote: tuple[str, int] | None = None
        self.payload_type = PCMA
        self.sent = 0
        self.received = 0
        self._sequence = random.getrandbits(16)
        self._timestamp = random.getrandbits(32)
        self._ssrc = random.getrandbits(32)
        self._frame = 0

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # asyncio's selector datagram transport does not subclass DatagramTransport
        # (CPython 3.11), though it is one: no isinstance check here.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | bytes | int, ...]) -> None:
        # RTP version 2 and a whole fixed header (RFC 3550 section 5.1); anything
        # else (RTCP on the same port, stray bytes) is not the far end's voice.
        if len(data) >= 12 and data[0] >> 6 == 2 and (data[1] & 0x7F) < 72:
            self.received += 1

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable while the far end sets up or after it left: the
        # next packet may be welcome, and losing voice is not a call failure.
        pass

    def send_next(self) -> None:
        """Send the next 20 ms of the pattern (marker bit on the first packet)."""
        if self.transport is None or self.remote is None or self.transport.is_closing():
            return
        frames = payloads(self.payload_type)
        marker = 0x80 if self.sent == 0 else 0
        header = _HEADER.pack(
            0x80, marker | self.payload_type, self._sequence, self._timestamp, self._ssrc
        )
        self.transport.sendto(header + frames[self._frame], self.remote)
        self.sent += 1
        self._sequence = (self._sequence + 1) & 0xFFFF
        self._timestamp = (self._timestamp + SAMPLES) & 0xFFFFFFFF
        self._frame = (self._frame + 1) % len(frames)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def open_stream(host: str) -> RtpStream:
    """A new stream bound to `host` on a port the system picks."""
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_datagram_endpoint(RtpStream, local_addr=(host, 0))
    return protocol


class RtpClock:
    """The one ptime tick that sends every started stream's next packet. It runs only
    while some stream is started; ticks are scheduled on absolute times so they do
    not drift, and a late tick sends one packet, not a burst (a phone that falls
    behind sounds choppy rather than flooding the far end's jitter buffer)."""

    def __init__(self) -> None:
        self._streams: set[RtpStream] = set()
        self._handle: asyncio.TimerHandle | None = None
        self._next = 0.0
        self.late_ticks = 0

    def start(self, stream: RtpStream) -> None:
        self._streams.add(stream)
        if self._handle is None:
            loop = asyncio.get_running_loop()
            self._next = loop.time()
            self._tick()

    def stop(self, stream: RtpStream) -> None:
        self._streams.discard(stream)
        if not self._streams and self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        for stream in self._streams:
            stream.send_next()
        self._next += PTIME
        now = loop.time()
        if self._next < now:
            self.late_ticks += 1
            self._next = now + PTIME
        self._handle = loop.call_at(self._next, self._tick)
