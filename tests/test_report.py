"""The replay report: a hand-built day of 96 intervals with a mid-morning surge,
three queues (one named to need escaping), two pools, two vendors; and days built
to show one thing (a pool idle while callers abandon, labels with no free place)."""

from __future__ import annotations

import itertools
import math
import re
from html.parser import HTMLParser

import pytest

from acd.softphone_sim.report import IDLE_FILL, idle_line, render_html, summary_table
from acd.softphone_sim.result import (
    Figures,
    IdleSpan,
    IntervalResult,
    PoolResult,
    Result,
    RunInfo,
    VendorResult,
    find_idle_while_abandoning,
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
    after = round(abandoned * 0.7)
    f = figures(
        calls,
        answered,
        abandoned,
        short,
        within=within,
        after=after,
        wait=answered * (15.0 if lost == 0 else 140.0),
        longest=0.0 if not calls else 30.0 + lost * 3,
        overflowed=vendor_a + vendor_b,
        vendor=vendor_a + vendor_b,
        callbacks=lost // 10,
    )
    # Per queue: "covid" takes a third of every count, "general" the rest, so the two
    # sum to the interval's figures.
    third = [n // 3 for n in (calls, answered, abandoned, short, within, after)]
    queues = {
        "general": figures(
            calls - third[0],
            answered - third[1],
            abandoned - third[2],
            short - third[3],
            within=within - third[4],
            after=after - third[5],
        ),
        "covid": figures(*third[:4], within=third[4], after=third[5]),
    }
    occupancy_in = None if i == 12 else min(0.97, 0.35 + 0.6 * (calls / (capacity + 1)))
    occupancy_remote = None if staffed == 0 or hour < 8 else 0.8 * (occupancy_in or 0)
    return IntervalResult(
        start=f"{i // 4:02d}:{i % 4 * 15:02d}",
        arrivals=arrivals,
        expected=surge(hour) * 1.03,
        agents_staffed=staffed,
        capacity_calls=capacity,
        longest_queue=max(0, lost * 2) + callbacks_waiting(i),
        stage=stage,
        figures=f,
        occupancy={"in_house": occupancy_in, "remote": occupancy_remote},
        vendor_calls={"vendor_a": vendor_a, "vendor_b": vendor_b},
        longest_queue_on_line=max(0, lost * 2),
        most_callbacks_waiting=callbacks_waiting(i),
        pools_staffed={"in_house": staffed * 2 // 3, "remote": staffed - staffed * 2 // 3},
        queues={name: q for name, q in queues.items() if q.calls} if calls else {},
    )


def callbacks_waiting(i: int) -> int:
    """A backlog of callbacks far longer than the line, still 300 at midnight (as the
    80k day's): the report must not show them as callers on hold."""
    return 0 if i < 36 else 3000 if i < 60 else 300


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


MAIN_CHARTS = 7
"""Arrivals, service level, callers on the line, callbacks waiting, abandonment,
vendors, occupancy (the pooled limit comes with a `bound`, absent here)."""


def chart(page: str, n: int) -> str:
    """The n-th chart of the page (1-based), from its SVG to its caption's end."""
    return page.split("<svg")[n].split("</figure>")[0]


def test_html_is_balanced_with_seven_charts_and_one_per_queue() -> None:
    page = render_html(make_result())
    checker = parse(page)
    assert checker.errors == []
    assert checker.stack == []
    assert checker.counts["svg"] == MAIN_CHARTS + 2  # general and covid, per interval
    assert page.count("<svg") == MAIN_CHARTS + 2
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
        iv.queues = {}
    r.answer_rate = r.service_level = r.service_level_asterisk = r.asa_seconds = None
    checker = parse(render_html(r))
    assert checker.errors == [] and checker.counts["svg"] == MAIN_CHARTS
    r.intervals, r.stages, r.vendors, r.queues, r.pools = [], [], {}, {}, {}
    checker = parse(render_html(r))
    assert checker.errors == [] and checker.counts["svg"] == MAIN_CHARTS


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
    vendors = chart(page, 6)
    assert "Vendor use against the contract caps" in vendors
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


# ---------------------------------------------------------------- callers on the line


def test_callbacks_waiting_are_not_shown_as_callers_on_hold() -> None:
    r = make_result()
    page = render_html(r)
    on_line, callbacks = chart(page, 3), chart(page, 4)
    assert "Longest queue: callers on the line" in on_line
    caption = on_line.split("<figcaption>")[1]
    assert "Callbacks waiting for their turn are not counted here" in caption
    peak = max(iv.longest_queue_on_line for iv in r.intervals)
    assert f"Peak {peak:,} at" in caption
    # The axis is the line's: the 3,000 callbacks waiting are not on it.
    tick_labels = re.findall(r'text-anchor="end" fill="#5a6677">([\d,]+)</text>', on_line)
    ticks = [int(t.replace(",", "")) for t in tick_labels]
    assert peak <= max(ticks) < 3000
    assert "Callbacks waiting for their turn" in callbacks
    caption = callbacks.split("<figcaption>")[1]
    assert "Peak 3,000 at 09:00" in caption
    assert "300 still waiting in the last interval" in caption
    assert "longest_queue" in caption  # where the old, combined figure went


# ---------------------------------------------------------------- labels


Box = tuple[float, float, float, float]


def label_boxes(svg: str) -> dict[str, Box]:
    """The labels of horizontal lines (bold, right-anchored): text -> box, with the
    report's own generous width estimate (0.6 of the 12 px font per character)."""
    found = re.findall(
        r'<text x="([\d.]+)" y="([\d.]+)" text-anchor="end" fill="#\w+" '
        r'font-weight="600"[^>]*>([^<]+)</text>',
        svg,
    )
    return {
        text: (float(x) - len(text) * 7.2, float(y) - 11, float(x), float(y) + 2)
        for x, y, text in found
    }


def data_points(svg: str, colours: set[str]) -> list[tuple[float, float]]:
    """Points every pixel along the paths stroked in `colours` (the data lines)."""
    points: list[tuple[float, float]] = []
    for d, colour in re.findall(r'<path d="M([^"]+)" fill="none" stroke="(#\w+)"', svg):
        if colour not in colours:
            continue
        corners = [tuple(map(float, p.split())) for p in d.split(" L")]
        for (x0, y0), (x1, y1) in itertools.pairwise(corners):
            steps = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
            points += [
                (x0 + (x1 - x0) * k / steps, y0 + (y1 - y0) * k / steps) for k in range(steps + 1)
            ]
    return points


def test_line_labels_stay_clear_of_the_data() -> None:
    r = make_result()
    # The vendors run just over their caps (13 a cap of 12.5, 8 of 7.5) through the
    # surge and again from 17:00 to 20:00, under the right-hand end of the cap lines,
    # where their labels used to sit (as on the 80k day's evening).
    for iv in r.intervals[68:80]:
        iv.vendor_calls = {"vendor_a": 13, "vendor_b": 8}
    vendors = chart(render_html(r), 6)
    lines = data_points(vendors, {"#0072B2", "#D55E00"})

    def crossing(box: Box) -> list[tuple[float, float]]:
        left, top, right, bottom = box
        return [p for p in lines if left < p[0] < right and top < p[1] < bottom]

    boxes = label_boxes(vendors)
    assert set(boxes) == {"vendor_a: 50/h = 12.5 per 15 min", "vendor_b: 30/h = 7.5 per 15 min"}
    for text, box in boxes.items():
        assert crossing(box) == [], text
    # Where they used to be, right-anchored at the plot's end 5 px above their cap
    # line, the data crosses them.
    caps = re.findall(
        r'<line x1="72.0" x2="([\d.]+)" y1="([\d.]+)" y2="[\d.]+" '
        r'stroke="#\w+" stroke-width="2" stroke-dasharray="6 4"/>',
        vendors,
    )
    assert len(caps) == 2  # drawn in the vendors' order
    for (right, y), text in zip(caps, ["vendor_a: 50/h", "vendor_b: 30/h"], strict=True):
        box = next(b for t, b in boxes.items() if t.startswith(text))
        end, baseline = float(right) - 4, float(y) - 5
        assert crossing((end - (box[2] - box[0]), baseline - 11, end, baseline + 2))
    a, b = boxes.values()
    assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])  # nor each other


def test_a_label_with_no_free_place_goes_to_the_legend() -> None:
    r = make_result()
    for i, iv in enumerate(r.intervals):  # the answer rate swings 0 to 100 % every interval
        iv.figures = figures(40, 40 if i % 2 else 0, 0 if i % 2 else 40)
    sl = chart(render_html(r), 2)
    assert label_boxes(sl) == {}
    # Already in the legend as a key: once, not twice.
    assert sl.count(">target 80%</text>") == 1


def test_an_unplaced_label_moves_the_plot_down_under_a_longer_legend() -> None:
    from acd.softphone_sim.charts import Chart, Key

    starts = [f"{i // 4:02d}:{i % 4 * 15:02d}" for i in range(96)]
    wide = "calls, a key wide enough to fill the legend's first row " + "x" * 60
    c = Chart(starts, 10, title="t", y_label="y", legend=[Key(wide, "#0072B2", "line")])
    assert len(c.legend_rows) == 1
    c.hline(5, "#D55E00", "a label with nowhere to go")
    c.line([0.0 if i % 2 else 10.0 for i in range(96)], "#0072B2")  # every slot, top to bottom
    svg = c.render()
    assert label_boxes(svg) == {}
    legend_label = re.search(r'<text x="[\d.]+" y="([\d.]+)"[^>]*>a label with nowhere', svg)
    assert legend_label is not None and float(legend_label.group(1)) < c.top + 20  # moved
    assert '<g transform="translate(0 20.0)">' in svg  # the plot, under a second row
    assert f'height="{c.height + 20:.1f}"' in svg


# ---------------------------------------------------------------- queues per interval


def test_one_small_chart_per_queue_with_its_interval_figures() -> None:
    r = make_result()
    page = render_html(r)
    section = page.split("<h2>Queues, interval by interval</h2>")[1].split("</section>")[0]
    titles = re.findall(r'<figure class="small"><h3>(.*?)</h3>', section)
    assert titles == ["general", "covid"]  # the site's order; NASTY has no interval figures
    assert "No call in any interval: &lt;b&gt;&amp;x." in section
    iv = r.intervals[40]
    covid = iv.queues["covid"]
    assert (
        f"{iv.start} covid: offered {covid.offered:,}, answered {covid.answered:,}, abandoned "
        f"{covid.abandoned:,}, answer rate" in section
    )
    assert "answer rate" in section and "service level" in section


# ---------------------------------------------------------------- idle while abandoning


def bare(start: str, offered: int, abandoned: int, occupancy: float | None) -> IntervalResult:
    """An interval with only what the idle rule reads: one pool, one queue."""
    f = figures(offered, offered - abandoned, abandoned)
    return IntervalResult(
        start=start,
        arrivals=offered,
        expected=float(offered),
        agents_staffed=5,
        capacity_calls=15.0,
        longest_queue=0,
        stage=0,
        figures=f,
        occupancy={"spare": occupancy},
        vendor_calls={},
        pools_staffed={"spare": 5},
        queues={"q": f},
    )


def test_idle_rule_thresholds_and_merging() -> None:
    cases = [
        ("10:00", 20, 9, 0.0),  # 9 abandoned: under 10 calls
        ("10:15", 200, 10, 0.0),  # 10 of 200: 5 %, counts
        ("10:30", 201, 10, 0.1),  # 10 of 201: under 5 %
        ("10:45", 100, 50, 0.2),  # 20 %: not under it
        ("11:00", 100, 50, None),  # nobody of the pool on duty
        ("11:15", 100, 50, 0.19),
        ("11:30", 100, 40, 0.01),
        ("23:45", 100, 40, 0.0),
    ]
    spans = find_idle_while_abandoning([bare(*c) for c in cases])
    assert [(s.start, s.end, s.intervals) for s in spans] == [
        ("10:15", "10:30", 1),
        ("11:15", "11:45", 2),
        ("23:45", "24:00", 1),
    ]
    merged = spans[1]
    assert merged.abandoned == 90 and merged.offered == 200
    assert (merged.occupancy_min, merged.occupancy_max) == (0.01, 0.19)
    assert merged.agents == 5 and merged.abandoned_by_queue == {"q": 90}


def idle_afternoon() -> Result:
    """The hand-built day with the remote pool at 5 % from 15:00 to 16:00 while covid
    callers abandon: 30 of 100 in each of those four intervals."""
    r = make_result()
    for iv in r.intervals[60:64]:
        iv.figures = figures(100, 60, 30)
        iv.queues = {"covid": figures(100, 60, 30)}
        iv.occupancy["remote"] = 0.05
    r.idle_while_abandoning = find_idle_while_abandoning(r.intervals)
    return r


def test_idle_pool_while_callers_abandon_opens_the_report() -> None:
    r = idle_afternoon()
    assert [(s.pool, s.start, s.end) for s in r.idle_while_abandoning] == [
        ("remote", "15:00", "16:00")
    ]
    page = render_html(r)
    callout = page.split('<section class="alert" role="note">')[1].split("</section>")[0]
    assert page.index('class="alert"') < page.index('class="tiles"')  # above the tiles
    text = re.sub(r"<[^>]+>", "", callout)
    assert "Agents sat idle while callers abandoned" in text
    assert (
        "remote: 20 agents on duty were busy only 5.0% of their time from 15:00 to 16:00 "
        "(1 h), while 120 callers abandoned in those intervals (30.0% of 400 offered: "
        "covid 120)." in text
    )
    assert "under 20% occupancy" in text and "at least 10 callers" in text
    occupancy = chart(page, 7)
    shaded = re.findall(rf'<rect x="([\d.]+)" [^>]*fill="{IDLE_FILL}"', occupancy)
    assert len(shaded) == 2  # the span, and its key in the legend
    span_x = float(shaded[0])
    assert span_x == pytest.approx(72 + 60 * (1000 - 72 - 30) / 96, abs=0.1)  # from 15:00
    assert "remote idle while callers abandoned" in occupancy
    assert "(remote 15:00-16:00)" in occupancy.split("<figcaption>")[1]
    assert idle_line(r) == (
        "Idle while callers abandoned (pool under 20% occupancy): remote 15:00-16:00 "
        "(20 agents busy 5.0%, 120 callers abandoned)."
    )


def test_a_day_without_idle_pools_says_nothing() -> None:
    r = make_result()
    r.idle_while_abandoning = find_idle_while_abandoning(r.intervals)
    assert r.idle_while_abandoning == []
    page = render_html(r)
    assert '<section class="alert"' not in page and "idle while" not in page
    assert idle_line(r) is None


def test_idle_spans_survive_the_json() -> None:
    import msgspec

    r = idle_afternoon()
    again = msgspec.json.decode(msgspec.json.encode(r), type=Result)
    assert again.idle_while_abandoning == r.idle_while_abandoning
    assert isinstance(again.idle_while_abandoning[0], IdleSpan)
