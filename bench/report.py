"""bench/RESULTS.md and bench/results.png from the runs' JSON (bench/results/*.json).

    python -m bench.report

Re-rendering needs no database: everything measured is in the JSON files.
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

BENCH = Path(__file__).resolve().parent
RESULTS_DIR = BENCH / "results"
RESULTS_MD = BENCH / "RESULTS.md"
CHART = BENCH / "results.png"

# Pages held to "within 3x the trivial page at p95".
RATIO_TARGET_PAGES = [
    "coordinator board",
    "coordinator board (refresh)",
    "coordinator board (network)",
    "coordinator board (network, refresh)",
    "dashboard (department)",
    "dashboard (network)",
]
KEY_PAGES = [
    "officer home",
    "new walk-in POST",
    "intake page",
    "volunteer home",
    "offer accept",
    *RATIO_TARGET_PAGES,
    "facility search",
]
REFERENCE_PAGES = ["dashboard (network, computed)", "walk-in form", "offer page", "healthz"]
TRIVIAL = "trivial page"
RATIO_TARGET = 3.0
SMS_TARGET_MS = 1000
MATCHING_TARGET_MS = 50
SIZE_ORDER = ["full", "small", "tiny"]


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest rank: the smallest value with at least ``fraction`` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def page_stats(load: dict) -> dict[str, dict]:
    window = (load["window"]["until"] or 0) - (load["window"]["from"] or 0)
    stats = {}
    for name, samples in load["samples"].items():
        times = [s[0] for s in samples]
        queries = [s[1] for s in samples if s[1] is not None]
        stats[name] = {
            "n": len(times),
            "p50": percentile(times, 0.50),
            "p95": percentile(times, 0.95),
            "p99": percentile(times, 0.99),
            "rps": len(times) / window if window > 0 else None,
            "q": statistics.median(queries) if queries else None,
            "q_min": min(queries) if queries else None,
            "q_max": max(queries) if queries else None,
            "errors": load["errors"].get(name, 0),
        }
    return stats


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _ratio(value: float | None, base: float | None) -> str:
    if value is None or not base:
        return "—"
    return f"{value / base:.1f}×"


def _queries(s: dict) -> str:
    if s.get("q") is None:
        return "—"
    if s["q_min"] == s["q_max"]:
        return f"{s['q_min']}"
    return f"{s['q']:.0f} ({s['q_min']}–{s['q_max']})"


def _load_runs() -> tuple[dict[str, dict], dict | None]:
    runs = {}
    for path in sorted(RESULTS_DIR.glob("bench-*.json")):
        data = json.loads(path.read_text())
        runs[data["size"]] = data
    chaos_path = RESULTS_DIR / "chaos.json"
    chaos = json.loads(chaos_path.read_text()) if chaos_path.exists() else None
    return dict(sorted(runs.items(), key=lambda item: SIZE_ORDER.index(item[0]))), chaos


def summary(run: dict) -> str:
    stats = page_stats(run["load"])
    trivial = stats.get(TRIVIAL, {})
    lines = [f"{'page':<30}{'n':>6}{'p50':>9}{'p95':>9}{'p99':>9}{'p95/trivial':>12}{'queries':>10}"]
    for name in [*KEY_PAGES, *REFERENCE_PAGES, TRIVIAL]:
        s = stats.get(name)
        if not s:
            continue
        lines.append(
            f"{name:<30}{s['n']:>6}{_ms(s['p50']):>9}{_ms(s['p95']):>9}{_ms(s['p99']):>9}"
            f"{_ratio(s['p95'], trivial.get('p95')):>12}{_queries(s):>10}"
        )
    sms = run["sms"]["latencies_ms"]
    p50, p99 = _ms(percentile(sms, 0.5)), _ms(percentile(sms, 0.99))
    lines.append(f"intake → first SMS: n={len(sms)} p50={p50} p99={p99} ms")
    m, wave = run["matching"], run["matching"]["wave"]
    lines.append(
        f"matching ({m['eligible']} eligible): wave p50={_ms(wave['p50_ms'])} p99={_ms(wave['p99_ms'])} ms"
    )
    return "\n".join(lines)


def _targets(run: dict, stats: dict) -> list[tuple[str, str, str]]:
    trivial = stats.get(TRIVIAL, {})
    rows = []
    for name in RATIO_TARGET_PAGES:
        s = stats.get(name)
        if s and trivial.get("p95") and trivial.get("p50"):
            ratio, at_p50 = s["p95"] / trivial["p95"], s["p50"] / trivial["p50"]
            verdict = "met at p95" if ratio <= RATIO_TARGET else "**not met** at p95"
            verdict += "" if at_p50 <= RATIO_TARGET else "; **not at p50**"
            rows.append((f"{name}: p95 within {RATIO_TARGET:.0f}× the trivial page",
                         f"{ratio:.1f}× (p50: {at_p50:.1f}×)", verdict))  # fmt: skip
    sms = run["sms"]["latencies_ms"]
    p99 = percentile(sms, 0.99)
    rows.append((
        "intake → first SMS p99 under 1 s (n ≥ 200)",
        f"{_ms(p99)} ms (n = {len(sms)})",
        "met" if p99 is not None and p99 < SMS_TARGET_MS and len(sms) >= 200 else "**not met**",
    ))  # fmt: skip
    m = run["matching"]
    rows.append((
        f"matching under {MATCHING_TARGET_MS} ms ({m['eligible']:,} eligible volunteers)",
        f"p50 {_ms(m['wave']['p50_ms'])} ms, p99 {_ms(m['wave']['p99_ms'])} ms",
        _matching_verdict(m["wave"]),
    ))  # fmt: skip
    return rows


def _matching_verdict(wave: dict) -> str:
    if wave["p99_ms"] < MATCHING_TARGET_MS:
        return "met"
    return "p50 met, p99 not" if wave["p50_ms"] < MATCHING_TARGET_MS else "**not met**"


def _window(load: dict) -> float:
    return (load["window"]["until"] or 0) - (load["window"]["from"] or 0)


def _row(cells: list) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def _run_section(run: dict, other_runs: dict[str, dict]) -> list[str]:
    stats = page_stats(run["load"])
    trivial = stats.get(TRIVIAL, {})
    mach = run["machine"]
    rows = run["rows"]
    out = [
        f"## The {run['size']} data set",
        "",
        f"Run {run['started_at'][:16].replace('T', ' ')} UTC. "
        + ", ".join(f"{name.replace('_', ' ')} {count:,}" for name, count in rows.items())
        + (f". Generated in {run['generated_seconds']:.0f} s." if run.get("generated_seconds") else "."),
        "",
        f"Load: {run['load']['users']} locust users for {run['load']['duration_s']} s "
        f"(measured after a 10 s warm-up, over {_window(run['load']):.0f} s); "
        f"load average {mach['load_average']} before the run, {run['load'].get('load_before')} "
        f"at the start of the load, {run['load'].get('load_after')} at its end.",
        "",
        "### Targets",
        "",
        "| Target | Measured | |",
        "| --- | --- | --- |",
        *(f"| {a} | {b} | {c} |" for a, b, c in _targets(run, stats)),
        "",
        "### Pages",
        "",
        "Latency in milliseconds at the client (locust, loopback), each next to the trivial page of "
        "the same run (a signed-in page that does nothing: session, sign-in and every middleware). "
        "Queries: SQL statements per request from the server's `X-Harbor-Queries` header, median "
        "(range)" + (", and at the other sizes measured" if other_runs else "") + ".",
        "",
        _row(
            [
                *("Page", "Requests", "req/s", "p50", "p95", "p99"),
                *("p50 / trivial", "p95 / trivial", "p99 / trivial", "Queries"),
                *(f"Queries ({size})" for size in other_runs),
            ]
        ),
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---:"
        + " | ---:" * len(other_runs)
        + " |",
    ]
    other_stats = {size: page_stats(data["load"]) for size, data in other_runs.items()}
    for name in [*KEY_PAGES, TRIVIAL, *REFERENCE_PAGES]:
        s = stats.get(name)
        if not s:
            continue
        label = f"**{name}**" if name == TRIVIAL else name
        errors = f" ({s['errors']} failed)" if s["errors"] else ""
        out.append(
            _row(
                [label, f"{s['n']:,}{errors}", f"{s['rps']:.2f}", _ms(s["p50"]), _ms(s["p95"]), _ms(s["p99"])]
                + [_ratio(s[key], trivial.get(key)) for key in ("p50", "p95", "p99")]
                + [_queries(s), *(_queries(other_stats[size].get(name, {})) for size in other_runs)]
            )
        )
    total = sum(s["n"] for s in stats.values())
    window = _window(run["load"])
    out += [
        "",
        f"Throughput: {total:,} requests in {window:.0f} s, {total / window:.1f} requests a second overall."
        if window
        else "",
    ]

    sms = run["sms"]["latencies_ms"]
    out += [
        "",
        "### Intake committed → first text message handed to the provider",
        "",
        f"{len(sms)} walk-ins logged over HTTP by the officers "
        f"({run['sms']['during_load']} during the load test"
        + (f", {run['sms']['top_up']} more in a paced burst after it" if run["sms"].get("top_up") else "")
        + f"); {run['sms']['intakes'] - len(sms)} without a text. "
        f"From `Intake.created_at` (stamped inside the creating transaction, so a little before the "
        f"commit: the figure errs long) to the moment the worker handed the first offer's SMS to the "
        f"provider (the recording backend's own clock). A real Celery worker and beat, Redis, the "
        f"on-commit kick. Keys handed over twice: {run['sms']['duplicates']}.",
        "",
        "| n | p50 | p90 | p99 | max |",
        "| ---: | ---: | ---: | ---: | ---: |",
        f"| {len(sms)} | {_ms(percentile(sms, 0.5))} ms | {_ms(percentile(sms, 0.9))} ms | "
        f"{_ms(percentile(sms, 0.99))} ms | {_ms(max(sms) if sms else None)} ms |",
    ]
    m = run["matching"]
    out += [
        "",
        f"### Matching: {m['department']}, {m['eligible']:,} eligible volunteers",
        "",
        "`volunteers.paging.matching.rank_volunteers`, called in-process against the benchmark "
        f"database with no other load ({m['wave']['repeat']} calls each after a warm-up; "
        f"{m['queries']} query a call).",
        "",
        "| Call | p50 | p99 | max |",
        "| --- | ---: | ---: | ---: |",
        *(
            _row([label, *(f"{_ms(m[key][stat])} ms" for stat in ("p50_ms", "p99_ms", "max_ms"))])
            for key, label in (
                ("wave", "a wave (the best 3, as paging asks)"),
                ("panel", "the coordinator's panel (best 10, on call or not)"),
                ("all", f"the whole ranking ({m['eligible']:,} candidates with reasons)"),
            )
        ),
        "",
        "<details><summary>EXPLAIN ANALYZE of the wave query</summary>",
        "",
        "```",
        m["plan"],
        "```",
        "",
        "</details>",
        "",
        "### Query plans of the dashboard and the board",
        "",
        "Every query the figures page runs for department 1 (the largest) and for the whole network, "
        "and the network board's, captured from `referrals.reports.figures` and explained on this data set.",
        "",
    ]
    for page in run["plans"]:
        out += [f"**{page['page']}**: {len(page['queries'])} queries, {page['ms']:.0f} ms in-process.", ""]
        for number, query in enumerate(page["queries"], 1):
            out += [
                f"<details><summary>{page['page']}, query {number} ({query['ms']:.1f} ms): "
                f"<code>{_first_words(query['sql'])}</code></summary>",
                "",
                "```sql",
                query["sql"],
                "```",
                "",
                "```",
                query["plan"],
                "```",
                "",
                "</details>",
                "",
            ]
    out += [
        "### Machine",
        "",
        f"{mach['cpu']}, {mach['cpus']} CPUs, {mach['memory_gb']} GB; {mach['os']}; Python {mach['python']}, "
        f"PostgreSQL {mach['postgresql']}, Redis {mach['redis']}. Everything on the one machine: locust, "
        "gunicorn (3 sync workers), a Celery worker (2 processes), beat, Redis and PostgreSQL, shared "
        "with other engineers' test suites running at the same time (see the load averages above), so "
        "absolute times are pessimistic and noisy; the ratios to the trivial page are the headline.",
        "",
    ]
    return out


def _first_words(sql: str, n: int = 90) -> str:
    text = " ".join(sql.split())
    return (text[:n] + "…") if len(text) > n else text


def _chaos_section(chaos: dict) -> list[str]:
    burst, race = chaos["burst"], chaos["race"]
    out = [
        "## Fault tests (`make chaos`)",
        "",
        f"Run {chaos['started_at'][:16].replace('T', ' ')} UTC on the tiny data set, with its own Redis "
        f"(port {chaos['ports']['redis']}), gunicorn ({chaos['ports']['web']}, "
        f"{chaos['web_workers']} worker), "
        "Celery worker and beat, all on loopback, stopped at the end.",
        "",
        f"### A burst of {burst['requested']} walk-ins, with faults",
        "",
        "| Event | When (s after the burst began) | Detail |",
        "| --- | ---: | --- |",
        *(
            f"| {e['event']} | {e['at']:.1f} | {e.get('detail', '')} |"
            for e in sorted(
                [
                    *burst["events"],
                    *(
                        {
                            "event": f"{r['process']} exited by itself (code {r['exit_code']}); "
                            "restarted by the supervisor",
                            "at": r["at"],
                        }
                        for r in burst.get("restarts_by_supervisor", [])
                    ),
                ],
                key=lambda e: e["at"],
            )
        ),
        "",
        "| Count | |",
        "| --- | ---: |",
        f"| walk-in POSTs answered with a redirect (logged) | {burst['posts_ok']} |",
        f"| walk-in POSTs that failed at the client (connection reset, 5xx) | {burst['posts_failed']} |",
        f"| walk-ins in the database | {burst['intakes']} |",
        f"| … with their first-wave offers | {burst['intakes_with_wave']} |",
        f"| … every first-wave offer's text handed to the provider | {burst['intakes_fully_notified']} |",
        f"| first-wave texts (offers × SMS) | {burst['wave_notifications']} |",
        f"| texts handed to the provider exactly once | {burst['sent_once']} |",
        f"| texts handed over more than once | {burst['sent_twice']} |",
        f"| texts never handed over | {burst['never_sent']} |",
        f"| worst delay, walk-in → its first text | {burst['worst_first_sms_s']:.1f} s |",
        f"| worst delay, walk-in → the last of its first-wave texts | {burst['worst_last_sms_s']:.1f} s |",
        f"| re-drive finished after | {burst['settled_after_s']:.0f} s |",
        "",
        f"### {race['intakes']} intakes × {race['volunteers']} concurrent accepts over HTTP",
        "",
        f"Each intake's {race['volunteers']} offers, to {race['volunteers']} signed-in volunteers, "
        "accepted at the same instant (a thread barrier per intake) against gunicorn "
        f"({chaos.get('race_server', 'gunicorn')}).",
        "",
        "| Count | |",
        "| --- | ---: |",
        f"| intakes with exactly one winner (one 302, the rest 409) | {race['exactly_one_winner_http']} |",
        f"| intakes with exactly one accepted offer in the database | {race['exactly_one_accepted_db']} |",
        f"| accept requests: won / refused / other | {race['won']} / {race['refused']} / {race['other']} |",
        "",
        *_stalls_rows(chaos.get("stalls")),
        f"Verdict: **{'passed' if chaos['passed'] else 'FAILED'}**.",
        "",
    ]
    return out


def _stalls_rows(stalls: dict | None) -> list[str]:
    """``bench.stalls``: each stall of paging, timed to the coordinator's text in the provider's hands."""
    if not stalls:
        return []

    def seconds(value) -> str:
        return "—" if value is None else f"{value:.2f} s"

    return [
        "### Paging stalls: from the stall to the coordinator's text (target: under 10 s)",
        "",
        "Each stall made to happen in a department of its own through the services and the signed "
        "Twilio endpoints the desk, volunteers and Twilio use, with the real worker, beat and Redis "
        "(`bench/stalls.py`); timed to the moment the worker handed the coordinator's text to the "
        "provider.",
        "",
        "| Stall | Rounds | Coordinator texted | Median | Worst | Passed |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
        *(
            f"| {name} | {row['rounds']} | {row['reached_coordinator']} | {seconds(row['median_s'])} "
            f"| {seconds(row['worst_s'])} | {'yes' if row['passed'] else 'NO'} |"
            for name, row in stalls.items()
        ),
        "",
    ]


def chart(runs: dict[str, dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run = next(iter(runs.values()))
    stats = page_stats(run["load"])
    names = [n for n in [*KEY_PAGES, TRIVIAL] if n in stats]
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.5), gridspec_kw={"width_ratios": [3, 2]})
    x = range(len(names))
    for offset, key, colour in ((-0.27, "p50", "#8fb3d9"), (0, "p95", "#2f6fb0"), (0.27, "p99", "#1b3d63")):
        left.bar([i + offset for i in x], [stats[n][key] for n in names], width=0.27, label=key, color=colour)
    trivial_p95 = stats[TRIVIAL]["p95"]
    left.axhline(trivial_p95 * RATIO_TARGET, color="#c0392b", linestyle="--", linewidth=1,
                 label=f"{RATIO_TARGET:.0f}× trivial p95")  # fmt: skip
    left.set_yscale("log")
    left.set_xticks(list(x), names, rotation=35, ha="right", fontsize=8)
    left.set_ylabel("ms (log scale)")
    left.set_title(f"Page latency, {run['size']} data set ({run['load']['users']} users)")
    left.legend(fontsize=8)
    sms = sorted(run["sms"]["latencies_ms"])
    if sms:
        right.plot(sms, [(i + 1) / len(sms) for i in range(len(sms))], color="#2f6fb0")
        right.axvline(SMS_TARGET_MS, color="#c0392b", linestyle="--", linewidth=1, label="1 s target")
        right.set_xlabel("intake → first SMS handed over (ms)")
        right.set_ylabel("share of walk-ins")
        right.set_title(f"Intake → first text (n = {len(sms)})")
        right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(CHART, dpi=110)
    plt.close(fig)


HEADER = """# Benchmark results

Produced by `make bench` (`bench/run.py`) and `make chaos` (`bench/chaos.py`); this file and
`results.png` are rendered from `bench/results/*.json` by `python -m bench.report`. How the data
set is made, what each number means and how to run it: see the docstrings of `bench/`.

![Page latency and intake → first text](results.png)

"""


def write() -> None:
    runs, chaos = _load_runs()
    lines = [HEADER]
    notes = BENCH / "NOTES.md"
    if notes.exists():
        lines += [notes.read_text().rstrip(), ""]
    for index, (size, run) in enumerate(runs.items()):
        others = {other: data for other, data in runs.items() if other != size} if index == 0 else {}
        lines += _run_section(run, others)
    if chaos:
        lines += _chaos_section(chaos)
    RESULTS_MD.write_text("\n".join(lines).rstrip() + "\n")
    if runs:
        chart(runs)


if __name__ == "__main__":
    write()
