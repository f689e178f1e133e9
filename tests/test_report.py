"""The replay report: a hand-built day of 96 intervals with a mid-morning surge,
three queues (one named to need escaping), two pools, two vendors."""

from __future__ import annotations

import math
import re
from html.parser import HTMLParser

from acd.softphone_sim.report import render_html, summary_table
from acd.softphone_sim.result import (
    Figures,
    IntervalResult,
    PoolResult,
    Result,
    RunInfo,
    VendorResult,
)

NASTY = "<b>&x"


def figures(
    calls: int,
    answered: int,
    abandoned: int,
    short: int = 0,
    *,
    within: int | None = None,
    after: int = 0,
    wait: float = 0.0,
    aht: float | None = 300.0,
    longest: float = 0.0,
    overflowed: int = 0,
    vendor: int = 0,
    callbacks: int = 0,
    blocked: int = 0,
) -> Figures:
    """Figures by the definitions of engine/metrics.py from raw counts."""
    offered = calls - short
    within = answered if within is None else within
    return Figures(
        calls=calls,
        offered=offered,
        answered=answered,
        abandoned=abandoned,
        short_abandoned=short,
        answer_rate=answered / offered if offered else None,
        service_level=within / (answered + after) if answered + after else None,
        service_level_asterisk=within / answered if answered else None,
        asa_seconds=wait / answered if answered else None,
        aht_seconds=aht if answered else None,
        longest_wait_seconds=longest,
        overflowed=overflowed,
        vendor_answered=vendor,
        callbacks=callbacks,
        blocked=blocked,
    )


def surge(hour: float) -> float:
    """Calls per 15 minutes: a quiet night and a sharp mid-morning surge."""
    return 20 + 280 * math.exp(-(((hour - 10.5) / 2.2) ** 2)) + 60 * (7 <= hour < 21)


def interval(i: int) -> IntervalResult:
    hour = i / 4
    arrivals = round(surge(hour))
    staffed = 10 if hour < 6 else 20 if hour < 8 or hour >= 21 else 60
    capacity = staffed * 900 / 300
    calls = round(arrivals * 0.9)
    stage = 2 if 9.25 <= hour < 13 else 1 if 8.5 <= hour < 15 else 0
    if i == 12:  # 03:00: nobody called, nothing to measure (None figures)
        arrivals = calls = 0
    answered = min(calls, round(capacity * 1.02)) if calls else 0
    lost = calls - answered
    abandoned, short = round(lost * 0.8), lost - round(lost * 0.8)
    within = round(answered * (0.95 if lost == 0 else 0.45))
    vendor_a = min(round(lost * 0.4), 13) if stage else 0
    vendor_b = min(round(lost * 0.2), 8) if stage == 2 else 0
    f = figures(
        calls,
        answered,
        abandoned,
        short,
        within=within,
        after=round(abandoned * 0.7),
        wait=answered * (15.0 if lost == 0 else 140.0),
        longest=0.0 if not calls else 30.0 + lost * 3,
        overflowed=vendor_a + vendor_b,
        vendor=vendor_a + vendor_b,
        callbacks=lost // 10,
    )
    occupancy_in = None if i == 12 else min(0.97, 0.35 + 0.6 * (calls / (capacity + 1)))
    occupancy_remote = None if staffed == 0 or hour < 8 else 0.8 * (occupancy_in or 0)
    return IntervalResult(
        start=f"{i // 4:02d}:{i % 4 * 15:02d}",
        arrivals=arrivals,
        expected=surge(hour) * 1.03,
        agents_staffed=staffed,
        capacity_calls=capacity,
        longest_queue=max(0, lost * 2),
        stage=stage,
        figures=f,
        occupancy={"in_house": occupancy_in, "remote": occupancy_remote},
        vendor_calls={"vendor_a": vendor_a, "vendor_b": vendor_b},
    )


def make_result() -> Result:
    intervals = [interval(i) for i in range(96)]
    queues = {
        "general": figures(
            30000,
            24600,
            4800,
            600,
            within=19000,
            after=3200,
            wait=24600 * 40.0,
            longest=612.4,
            overflowed=900,
            vendor=850,
            callbacks=400,
        ),
        "covid": figures(
            12000,
            8400,
            3000,
            600,
            within=5000,
            after=2500,
            wait=8400 * 95.0,
            aht=360.0,
            longest=1510.0,
            overflowed=1400,
            vendor=1300,
            callbacks=700,
            blocked=12,
        ),
        NASTY: figures(100, 90, 10, 0, within=90, wait=90 * 5.0, longest=33.0),
    }
    total = figures(
        42100,
        33090,
        7810,
        1200,
        within=24090,
        after=5700,
        wait=24600 * 40.0 + 8400 * 95.0 + 90 * 5.0,
        aht=317.6,
        longest=1510.0,
        overflowed=2300,
        vendor=2150,
        callbacks=1100,
        blocked=12,
    )
    return Result(
        config="seoul120.yaml",
        curve="covid-2020-12-14.csv",
        seed=7,
        date="2020-12-14",
        calls=45500,
        first_calls=41000,
        redials=4500,
        offered=total.offered,
        answered=total.answered,
        abandoned=total.abandoned,
        answer_rate=total.answer_rate,
        service_level=total.service_level,
        service_level_asterisk=total.service_level_asterisk,
        asa_seconds=total.asa_seconds,
        outcomes={
            "answered": 30940,
            "vendor_answered": 2150,
            "abandoned": 7810,
            "short_abandoned": 1200,
            "ivr_abandoned": 2400,
            "self_served": 1000,
        },
        total=total,
        queues=queues,
        pools={
            "in_house": PoolResult(
                kind="in_house",
                agents=280,
                answered=22000,
                handled=22000,
                occupancy=0.912,
                aht_seconds=310.0,
            ),
            "remote": PoolResult(
                kind="remote",
                agents=103,
                answered=8940,
                handled=8940,
                occupancy=0.855,
                aht_seconds=335.0,
            ),
        },
        vendors={
            "vendor_a": VendorResult(
                max_concurrent=30,
                max_per_hour=50,
                max_per_day=800,
                dialled=780,
                answered=700,
                failed=80,
                peak_concurrent=30,
            ),
            "vendor_b": VendorResult(
                max_concurrent=20,
                max_per_hour=30,
                max_per_day=None,
                dialled=400,
                answered=350,
                failed=50,
                peak_concurrent=14,
            ),
        },
        intervals=intervals,
        stages=[("08:30", 1), ("09:15", 2), ("13:00", 1), ("15:00", 0)],
        run=RunInfo(
            wall_seconds=41.27,
            events=5_123_456,
            events_per_second=124_145.2,
            calls_per_second=1102.5,
            peak_rss_mb=312.4,
        ),
    )


VOID = {"meta", "br", "img", "hr", "input", "link", "wbr", "col", "area", "base", "source"}


class Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.counts: dict[str, int] = {}
        self.text: list[str] = []
        self.attrs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.counts[tag] = self.counts.get(tag, 0) + 1
        self.attrs += [v for _, v in attrs if v is not None]
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.counts[tag] = self.counts.get(tag, 0) + 1
        self.attrs += [v for _, v in attrs if v is not None]

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> Checker:
    checker = Checker()
    checker.feed(page)
    checker.close()
    return checker


def test_html_is_balanced_with_six_charts() -> None:
    page = render_html(make_result())
    checker = parse(page)
    assert checker.errors == []
    assert checker.stack == []
    assert checker.counts["svg"] == 6
    assert page.count("<svg") == 6
    assert checker.counts["table"] == 4


def tiles(page: str) -> dict[str, tuple[str, str]]:
    """Each headline tile: label -> (value, sub-line)."""
    found = re.findall(
        r'<div class="tile[^"]*"><div class="l">(.*?)</div><div class="v">(.*?)</div>'
        r'(?:<div class="s">(.*?)</div>)?</div>',
        page,
    )
    return {label: (value, sub) for label, value, sub in found}


def test_headline_figures() -> None:
    page = render_html(make_result())
    t = tiles(page)
    assert t["calls"] == ("45,500", "41,000 first calls · 4,500 redials")
    assert t["offered"][0] == "40,900"
    assert t["answered"] == ("33,090", "2,150 by vendors")
    assert t["answer rate"][0] == "80.9%"  # 33,090 / 40,900
    assert t["service level"] == ("62.1%", "Asterisk convention 72.8%")  # / 38,790 and / 33,090
    assert t["ASA"][0] == "54 s"  # 1,782,450 s / 33,090
    assert t["abandoned"] == ("7,810", "19.1% of offered · 1,200 short")
    assert t["overflowed"][0] == "2,300"
    assert t["callbacks"][0] == "1,100"
    text = " ".join(parse(page).text)
    assert "highest stage 2, first reached at 09:15" in text
    for when in ("08:30 → stage 1", "09:15 → stage 2", "13:00 → stage 1", "15:00 → stage 0"):
        assert when in text
    for meta in ("seoul120.yaml", "covid-2020-12-14.csv", "seed 7", "2020-12-14"):
        assert meta in text
    assert "41.3 s wall clock" in text and "124,145 events/s" in text
    assert "reproducible" in text


def test_names_are_escaped() -> None:
    page = render_html(make_result())
    assert NASTY not in page
    assert "&lt;b&gt;&amp;x" in page
    checker = parse(page)
    assert checker.counts.get("b", 0) == page.count("<b>")  # only the page's own bold
    assert NASTY in checker.text  # the queue's row shows the name as written


def test_none_service_level_is_a_gap() -> None:
    r = make_result()
    quiet = r.intervals[12]
    assert quiet.start == "03:00"
    assert quiet.figures.service_level is None and quiet.figures.answer_rate is None
    page = render_html(r)
    sl_chart = page.split("<svg")[2]
    # the service-level line is drawn in pieces: one before 03:00 and one after
    blue = re.findall(r'<path d="M[^"]*" fill="none" stroke="#0072B2"', sl_chart)
    assert len(blue) == 2
    assert "03:00: service level –, answer rate –" in sl_chart


def test_everything_none_or_empty_renders() -> None:
    r = make_result()
    for iv in r.intervals:
        iv.figures = Figures(
            calls=0,
            offered=0,
            answered=0,
            abandoned=0,
            short_abandoned=0,
            answer_rate=None,
            service_level=None,
            service_level_asterisk=None,
            asa_seconds=None,
            aht_seconds=None,
            longest_wait_seconds=0.0,
            overflowed=0,
            vendor_answered=0,
            callbacks=0,
            blocked=0,
        )
        iv.occupancy = dict.fromkeys(iv.occupancy)
    r.answer_rate = r.service_level = r.service_level_asterisk = r.asa_seconds = None
    checker = parse(render_html(r))
    assert checker.errors == [] and checker.counts["svg"] == 6
    r.intervals, r.stages, r.vendors, r.queues, r.pools = [], [], {}, {}, {}
    checker = parse(render_html(r))
    assert checker.errors == [] and checker.counts["svg"] == 6


def test_self_contained() -> None:
    page = render_html(make_result())
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page and "<link" not in page and "url(" not in page
    assert "@import" not in page


def test_time_axis_in_local_time() -> None:
    page = render_html(make_result())
    first = page.split("<svg")[1].split("</svg>")[0]
    labels = re.findall(r'text-anchor="middle" fill="#5a6677">(\d\d:\d\d)</text>', first)
    assert labels == [f"{h:02d}:00" for h in range(0, 25, 2)]


def test_vendor_caps_scaled_to_the_interval() -> None:
    page = render_html(make_result())
    vendors = page.split("<svg")[5].split("</figure>")[0]
    assert "vendor_a: 50/h = 12.5 per 15 min" in vendors
    assert "vendor_b: 30/h = 7.5 per 15 min" in vendors
    assert "scaled to the 15-minute interval" in vendors


def test_summary_table() -> None:
    r = make_result()
    text = summary_table(r)
    lines = text.splitlines()
    rows = {line.split("  ")[0].strip(): line for line in lines if line}
    for name in ("general", "covid", NASTY, "TOTAL"):
        assert name in rows
    queue_part = lines[: lines.index("")]
    assert len(queue_part) == 1 + 3 + 1  # header, three queues, TOTAL
    general = rows["general"].split()
    assert general[1:9] == ["30,000", "29,400", "24,600", "4,800", "83.7%", "68.3%", "77.2%", "40"]
    covid = rows["covid"].split()
    assert covid[5:10] == ["73.7%", "45.9%", "59.5%", "95", "360"]
    assert covid[10] == "1,510"
    total = queue_part[-1].split()
    assert total[0] == "TOTAL" and total[5:9] == ["80.9%", "62.1%", "72.8%", "54"]
    # the columns line up
    ends = {len(line) for line in queue_part}
    assert len(ends) == 1  # right-aligned last column: one width
    pool_part = lines[lines.index("") + 1 :]
    assert [line.split()[0] for line in pool_part] == ["pool", "in_house", "remote", "TOTAL"]
    assert pool_part[1].split()[5:] == ["91.2%", "310"]
    # total AHT weighted by handled: (22000 * 310 + 8940 * 335) / 30940 = 317.2
    assert pool_part[3].split() == ["TOTAL", "383", "30,940", "30,940", "-", "317"]
