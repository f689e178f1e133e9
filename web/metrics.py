"""Prometheus `/metrics`: the live snapshot as metric families.

Everything is read from one `engine.snapshot.Snapshot`, so the same text comes from
`acd serve` (the engine's snapshot now) and from a wallboard server that only has
the store's read model (the latest snapshot the engine stored): no metric needs the
engine itself. Names follow Prometheus's advice: one `acd_` prefix, base units
(seconds, ratios 0-1), `_total` on counters, and label values only from the site
configuration (queue, pool and vendor ids, agent states, call outcomes), never a
call or an agent id.

Counters are the engine's own cumulative counters, as the snapshot carries them
(hence `CounterMetricFamily`: the value is the count, nothing is incremented here).
They are part of the engine's stored state: after a restart, or when the standby
takes over, the engine is restored from the stored state and its journal and the
counters carry on from where they stood, so they never go backwards; a wallboard
server reading the read model serves the latest stored snapshot, the same counts a
moment later. They fall to zero only when an engine starts without a stored state
(a new deployment, a state deliberately cleared), which Prometheus's `rate` and
`increase` take as an ordinary counter reset. The wait histograms are kept in the
same state, bucket for bucket; a state stored before they existed restores with
empty histograms, so there `_count` stays below the outcome's counter by the calls
counted before the upgrade.

"Offered" is not exported as a counter: it is joined less short abandons, and a
short abandon lowers it (after the call had counted as joined), which Prometheus
would read as a reset. Use `acd_queue_calls_joined_total -
acd_queue_calls_total{outcome="short_abandoned"}`.

Service level (DESIGN.md, "Metrics, defined once"), with T the queue's threshold
(a bucket bound, see `acd_queue_service_level_threshold_seconds`): answered within T
is the `le="T"` buckets of the answered and vendor_answered outcomes; divided by
their `_count`, it is the Asterisk convention; divided by their `_count` plus the
calls abandoned after T (abandoned's `_count` less its `le="T"` bucket), DESIGN.md's
service level. Both equal the engine's own figures exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, choose_encoder, generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector, CollectorRegistry
from prometheus_client.utils import floatToGoString

from acd.config.schema import SiteConfig
from acd.engine import SHOWN_STATES, WAIT_OUTCOMES, wait_bounds
from acd.engine.snapshot import Snapshot

QUEUE_OUTCOMES: tuple[str, ...] = (
    "answered",
    "vendor_answered",
    "abandoned",
    "short_abandoned",
    "blocked",
    "callback_failed",
)
"""The outcomes a call can have once it reached a queue (`commands.Outcome`)."""

SECONDS_PER_DAY = 86400.0
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
"""The content type of `render`'s text (Prometheus's text format 0.0.4)."""

_le: Callable[[float], str] = floatToGoString  # untyped in prometheus_client: "5.0", "+Inf"


def families(snapshot: Snapshot, site: SiteConfig | None = None) -> list[Metric]:
    """The metric families of one snapshot, every series present (zero when nothing
    happened yet) except caps that are not set (a vendor without an hourly cap, a pool
    without a size). `site`, the configuration the snapshot was made with, only gives
    the bucket bounds of a snapshot taken before the histograms existed, so the
    series stay the same across the upgrade."""
    s = snapshot
    found: list[Metric] = []

    def gauge(name: str, doc: str, labels: Iterable[str] = ()) -> GaugeMetricFamily:
        family = GaugeMetricFamily(name, doc, labels=list(labels))
        found.append(family)
        return family

    def counter(name: str, doc: str, labels: Iterable[str] = ()) -> CounterMetricFamily:
        family = CounterMetricFamily(name, doc, labels=list(labels))
        found.append(family)
        return family

    # Site.
    gauge(
        "acd_snapshot_timestamp_seconds",
        "When the engine took the snapshot these figures come from (Unix time, engine"
        " clock): far behind time() means a stale read model.",
    ).add_metric([], s.at)
    gauge("acd_surge_stage", "The surge stage in force (0: normal operation).").add_metric(
        [], s.stage
    )
    gauge(
        "acd_surge_stage_pinned",
        "1 when a supervisor pinned the surge stage (the automatic stages are off), else 0.",
    ).add_metric([], 1 if s.stage_pinned else 0)
    gauge(
        "acd_surge_stage_start_time_seconds",
        "When the surge stage in force began (Unix time; the engine's start if it never"
        " changed).",
    ).add_metric([], s.stage_since)
    gauge(
        "acd_inbound_calls_per_second",
        "The rolling inbound call rate the automatic surge stages follow (their thresholds"
        " are in calls a day: times 86400).",
    ).add_metric([], s.inbound_calls_per_day / SECONDS_PER_DAY)
    gauge("acd_calls_in_ivr", "Calls in the IVR menus now, not yet in a queue.").add_metric(
        [], s.calls_in_ivr
    )
    counter(
        "acd_engine_anomalies",
        "Late, duplicated or meaningless events the engine ignored (all kinds together).",
    ).add_metric([], sum(s.anomalies.values()))

    # Queues: now.
    q_labels = ["queue"]
    waiting = gauge(
        "acd_queue_calls_waiting",
        "Callers in line now, callbacks waiting for their turn included.",
        q_labels,
    )
    callbacks = gauge(
        "acd_queue_callbacks_waiting",
        "Callbacks in line now (the caller has hung up and keeps the place).",
        q_labels,
    )
    oldest = gauge(
        "acd_queue_oldest_wait_seconds",
        "How long the longest-waiting caller in line has waited (0: nobody in line).",
        q_labels,
    )
    available = gauge(
        "acd_queue_agents_available",
        "Agents available now who may take this queue's calls.",
        q_labels,
    )
    staffed = gauge(
        "acd_queue_agents_staffed",
        "Agents logged in (not on standby) who may take this queue's calls.",
        q_labels,
    )
    threshold = gauge(
        "acd_queue_service_level_threshold_seconds",
        "T of the queue's service level (answered within T seconds); a bucket bound of"
        " acd_queue_wait_seconds.",
        q_labels,
    )
    # Queues: since the start.
    joined = counter(
        "acd_queue_calls_joined",
        "Calls that reached the queue (offered = this less short abandons).",
        q_labels,
    )
    by_outcome = counter(
        "acd_queue_calls",
        "Calls that got their outcome in the queue: answered (by our agents, callbacks"
        " included), vendor_answered, abandoned, short_abandoned (within the"
        " short-abandon threshold: not offered), blocked (queue full), callback_failed.",
        ["queue", "outcome"],
    )
    overflowed = counter(
        "acd_queue_calls_overflowed",
        "Calls sent to a vendor at least once.",
        q_labels,
    )
    requested = counter(
        "acd_queue_callbacks_requested",
        "Callers who asked to be called back instead of waiting.",
        q_labels,
    )
    waits = HistogramMetricFamily(
        "acd_queue_wait_seconds",
        "Time from joining the queue to the outcome, by outcome (answered,"
        " vendor_answered, abandoned, short_abandoned); buckets fixed per site, every"
        " service-level threshold among them.",
        labels=["queue", "outcome"],
    )
    found.append(waits)
    kept = s.wait_bounds or (wait_bounds(site) if site is not None else [])
    bounds = [_le(b) for b in kept]
    for q in s.queues:
        labels = [q.name]
        waiting.add_metric(labels, q.waiting)
        callbacks.add_metric(labels, q.callbacks_waiting)
        oldest.add_metric(labels, s.at - q.oldest_since if q.oldest_since is not None else 0.0)
        available.add_metric(labels, q.agents_available)
        staffed.add_metric(labels, q.agents_staffed)
        threshold.add_metric(labels, q.service_level_seconds)
        joined.add_metric(
            labels, _number(q.figures.get("offered")) + _number(q.figures.get("short_abandoned"))
        )
        if q.outcomes:  # absent in snapshots from before: no series beats a false zero
            for outcome in QUEUE_OUTCOMES:
                by_outcome.add_metric([q.name, outcome], q.outcomes.get(outcome, 0))
        overflowed.add_metric(labels, _number(q.figures.get("overflowed")))
        requested.add_metric(labels, _number(q.figures.get("callbacks_requested")))
        for outcome in WAIT_OUTCOMES:
            view = q.waits.get(outcome)
            if view is None:
                buckets = [(le, 0.0) for le in bounds]
                total, count = 0.0, 0
            else:
                buckets = list(zip(bounds, map(float, view.buckets), strict=False))
                total, count = view.sum_seconds, view.count
            buckets.append(("+Inf", float(count)))
            waits.add_metric([q.name, outcome], buckets, total)

    # Pools.
    p_labels = ["pool"]
    agents = gauge(
        "acd_pool_agents",
        "Agents of the pool by state now (logged_out included: the whole roster).",
        ["pool", "state"],
    )
    standby = gauge(
        "acd_pool_agents_standby",
        "Agents of the pool paused on standby because the pool is at its size.",
        p_labels,
    )
    limit = gauge(
        "acd_pool_agents_limit",
        "How many of the pool's agents may be in service now (pools with a size only).",
        p_labels,
    )
    occupancy = gauge(
        "acd_pool_occupancy_ratio",
        "Handling time over handling plus available time since the start (0-1).",
        p_labels,
    )
    for p in s.pools:
        for state in SHOWN_STATES:
            agents.add_metric([p.name, state], p.by_state.get(state, 0))
        standby.add_metric([p.name], p.standby)
        if p.size is not None:
            limit.add_metric([p.name], p.size)
        if p.occupancy is not None:
            occupancy.add_metric([p.name], p.occupancy)

    # Vendors.
    v_labels = ["vendor"]
    active = gauge("acd_vendor_active_calls", "Calls with the vendor now.", v_labels)
    concurrent = gauge(
        "acd_vendor_max_concurrent_calls",
        "The contract's cap on calls with the vendor at once.",
        v_labels,
    )
    hour = gauge(
        "acd_vendor_calls_this_hour",
        "Calls sent to the vendor in this clock hour (local time; starts again each hour).",
        v_labels,
    )
    per_hour = gauge(
        "acd_vendor_max_calls_per_hour",
        "The contract's cap on calls sent in one clock hour (vendors with one only).",
        v_labels,
    )
    today = gauge(
        "acd_vendor_calls_today",
        "Calls sent to the vendor today (local time; starts again each day).",
        v_labels,
    )
    per_day = gauge(
        "acd_vendor_max_calls_per_day",
        "The contract's cap on calls sent in one day (vendors with one only).",
        v_labels,
    )
    for v in s.vendors:
        labels = [v.name]
        active.add_metric(labels, v.active)
        concurrent.add_metric(labels, v.max_concurrent)
        hour.add_metric(labels, v.this_hour)
        today.add_metric(labels, v.today)
        if v.max_per_hour is not None:
            per_hour.add_metric(labels, v.max_per_hour)
        if v.max_per_day is not None:
            per_day.add_metric(labels, v.max_per_day)
    return found


def _number(value: float | int | None) -> float:
    return 0.0 if value is None else float(value)


class SnapshotCollector(Collector):
    """A collector for a private `CollectorRegistry`: each scrape reads the latest
    snapshot from `latest` (None: nothing yet, no metrics)."""

    def __init__(
        self, latest: Callable[[], Snapshot | None], site: SiteConfig | None = None
    ) -> None:
        self._latest = latest
        self._site = site

    def collect(self) -> Iterator[Metric]:
        snapshot = self._latest()
        if snapshot is not None:
            yield from families(snapshot, self._site)


def registry(
    latest: Callable[[], Snapshot | None], site: SiteConfig | None = None
) -> CollectorRegistry:
    """A registry holding only the snapshot's metrics (no process or platform ones:
    the wallboard server's own would be mistaken for the engine's)."""
    found = CollectorRegistry(auto_describe=False)
    found.register(SnapshotCollector(latest, site))
    return found


def render(snapshot: Snapshot, site: SiteConfig | None = None) -> bytes:
    """The snapshot in Prometheus's text format (`CONTENT_TYPE`)."""
    return generate_latest(registry(lambda: snapshot, site))


def exposition(
    snapshot: Snapshot, site: SiteConfig | None = None, accept: str = ""
) -> tuple[bytes, str]:
    """The body and the content type of a `/metrics` answer: Prometheus's text format
    (0.0.4), or OpenMetrics when the `Accept` header asks for it."""
    encoder, content_type = choose_encoder(accept)
    return encoder(registry(lambda: snapshot, site)), content_type
