"""The alerts a supervisor can't miss, from one snapshot and the site's thresholds
(`wallboard:` in the site configuration). Pure: the same snapshot, the same alerts."""

from __future__ import annotations

from acd.config.schema import SiteConfig, Wallboard
from acd.engine.snapshot import Snapshot
from acd.web.update import Alert, Names


def alerts(snapshot: Snapshot, cfg: Wallboard) -> list[Alert]:
    """Service levels under target, waits over the threshold, vendors near a cap,
    agents stuck in a state: in that order, each kind in the snapshot's order."""
    now = snapshot.at
    found: list[Alert] = []
    for q in snapshot.queues:
        level = q.figures.get("service_level")
        if isinstance(level, float | int) and level < cfg.service_level_target:
            found.append(Alert(kind="service_level", subject=q.name, value=float(level),
                               threshold=cfg.service_level_target))
    for q in snapshot.queues:
        if q.oldest_since is not None and now - q.oldest_since > cfg.longest_wait_seconds:
            found.append(Alert(kind="longest_wait", subject=q.name, value=now - q.oldest_since,
                               threshold=cfg.longest_wait_seconds, since=q.oldest_since))
    for v in snapshot.vendors:
        shares = [("concurrent", v.active / v.max_concurrent if v.max_concurrent else 0.0)]
        if v.max_per_hour:
            shares.append(("hour", v.this_hour / v.max_per_hour))
        if v.max_per_day:
            shares.append(("day", v.today / v.max_per_day))
        cap, share = max(shares, key=lambda s: s[1])
        if share >= cfg.vendor_near_cap:
            found.append(Alert(kind="vendor_cap", subject=v.name, value=share,
                               threshold=cfg.vendor_near_cap, detail=cap))
    stuck: dict[str, float] = {str(k): v for k, v in cfg.agent_stuck_seconds.items()}
    for a in snapshot.agents:
        if a.reason == "standby":
            continue  # held back by the pool's size, not by the agent: nothing to chase
        limit = stuck.get(a.state)
        if limit is not None and now - a.since > limit:
            found.append(Alert(kind="agent_stuck", subject=a.id, value=now - a.since,
                               threshold=limit, since=a.since, detail=a.state))
    return found


def names(site: SiteConfig) -> Names:
    return Names(
        queues={k: q.name or k for k, q in site.queues.items()},
        pools={k: p.name or k for k, p in site.pools.items()},
        vendors={k: v.name or k for k, v in site.vendors.items()},
        skills={k: s.name or k for k, s in site.skills.items()},
    )
