"""Event-loop lag and feed-to-alert latency under load, a baseline tree against this one.

    git archive HEAD src | tar -x -C /tmp/before        # the tree to compare with
    python -m benchmarks.loop_latency --baseline /tmp/before/src --minutes 3

Runs the soak's simulator (benchmarks/soak.py: one RSS feed per outlet, new items at
`--articles-per-minute`, one in ten a report the watches catch, alerts to a webhook on the
simulator) against the real `wirewatch run` process, once with the package from
`--baseline` (PYTHONPATH) and once with this tree, one after the other, same settings.
At the default load (400 outlets polled every 10 s, 120 new items a minute) the articles
of a poll cycle arrive while the previous ones are matched, so batches of tens of articles
are recorded at once: the load that held the event loop. For each run, after the warm-up:

- event-loop lag p50/p99 and the highest histogram bucket hit, from the service's own probe
  (`wirewatch_event_loop_lag_seconds`, scraped at the warm-up's end and at the end);
- feed-to-alert latency p50/p95/max (with `--story-window 1`, the default here, reports a
  second apart are stories of their own, so most alerts are new stories, each waiting its
  grouping wait): for each alert the webhook receives, its arrival time
  minus the moment its oldest article appeared in its feed (so a poll interval, the
  matching, the grouping wait and the delivery all count);
- CPU seconds the service used (from /proc), articles and alerts.

The two runs share the machine at different times: compare them as ratios, and rerun on a
busy machine. `--json FILE` writes both results.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.soak import (
    config_text,
    lag_quantile,
    max_lag_bucket,
    scrape,
    serve,
    sim_stats,
    stop_service,
    tear_down,
    wait_for_event,
)

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def quantile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def run_one(args: argparse.Namespace, src: str | None) -> dict[str, Any]:
    """One service run against a fresh simulator; `src` goes first on its PYTHONPATH."""
    context = mp.get_context("spawn")
    queue = context.Queue()
    simulator = context.Process(
        target=serve, args=(args.outlets, args.ports, args.articles_per_minute, queue)
    )
    simulator.start()
    ports = queue.get(timeout=60)
    folder = Path(tempfile.mkdtemp(prefix="wirewatch-loop-"))
    config = folder / "loop.yaml"
    text = config_text(
        args.outlets, ports, args.interval, folder / "w.db", args.group_wait, args.story_window
    )
    config.write_text(text)
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")]).strip(os.pathsep)
    log = folder / "wirewatch.log"
    command = [sys.executable, "-m", "wirewatch", "--log-format", "json", "run", "-c", str(config)]
    with log.open("w") as out:
        proc = subprocess.Popen(command, stderr=out, stdout=out, env=env)
    try:
        listening = wait_for_event(log, "server.listening", proc, 300)
        wait_for_event(log, "service.ready", proc, 300)
        url = f"http://{listening['host']}:{listening['port']}/metrics"
        time.sleep(args.warmup)
        first, cpu_first, hooks_first = scrape(url), cpu_seconds(proc.pid), sim_stats(ports[0])
        time.sleep(args.minutes * 60)
        last, cpu_last = scrape(url), cpu_seconds(proc.pid)
        code, stop_s = stop_service(proc, timeout=300)
        hooks = sim_stats(ports[0])
    finally:
        tear_down(proc, simulator)
    latencies = hooks["feed_to_alert_s"][len(hooks_first["feed_to_alert_s"]) :]
    return {
        "src": src or "this tree",
        "loop_lag_p50_ms": round(1000 * lag_quantile(first, last, 0.50), 2),
        "loop_lag_p99_ms": round(1000 * lag_quantile(first, last, 0.99), 2),
        "loop_lag_max_bucket_ms": round(1000 * max_lag_bucket(first, last), 1),
        "feed_to_alert_p50_s": quantile(latencies, 0.50),
        "feed_to_alert_p95_s": quantile(latencies, 0.95),
        "feed_to_alert_max_s": max(latencies, default=math.nan),
        "alerts": len(latencies),
        "articles": last.get("wirewatch_articles_total", 0)
        - first.get("wirewatch_articles_total", 0),
        "cpu_s": round(cpu_last - cpu_first, 1),
        "exit_code": code,
        "stop_s": round(stop_s, 1),
        "log": str(log),
    }


def report(args: argparse.Namespace, results: list[dict[str, Any]]) -> None:
    print(
        f"\n=== loop latency: {args.outlets} outlets every {args.interval:g}s, "
        f"{args.articles_per_minute:g} articles/min, group_wait {args.group_wait:g}s, "
        f"{args.minutes:g} min after {args.warmup:g}s warm-up ==="
    )
    rows = [
        ("event-loop lag p50 (ms)", "loop_lag_p50_ms"),
        ("event-loop lag p99 (ms)", "loop_lag_p99_ms"),
        ("event-loop lag, highest bucket hit (ms)", "loop_lag_max_bucket_ms"),
        ("feed-to-alert p50 (s)", "feed_to_alert_p50_s"),
        ("feed-to-alert p95 (s)", "feed_to_alert_p95_s"),
        ("feed-to-alert max (s)", "feed_to_alert_max_s"),
        ("alerts received", "alerts"),
        ("articles", "articles"),
        ("service CPU (s)", "cpu_s"),
        ("SIGTERM -> exit (s)", "stop_s"),
        ("exit code", "exit_code"),
    ]
    names = ["baseline", "this tree"] if len(results) == 2 else ["this tree"]
    print(f"{'':42}" + "".join(f"{n:>14}" for n in names) + ("  ratio" if len(names) == 2 else ""))
    for label, key in rows:
        values = [r[key] for r in results]
        line = f"{label:42}" + "".join(f"{v:>14g}" for v in values)
        if len(values) == 2 and values[0]:
            line += f"  {values[1] / values[0]:.2f}"
        print(line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", help="a tree's src/ to run first, as the baseline")
    parser.add_argument("--minutes", type=float, default=3.0, help="measured, after warm-up")
    parser.add_argument("--warmup", type=float, default=45.0, help="seconds")
    parser.add_argument("--outlets", type=int, default=400)
    parser.add_argument("--interval", type=float, default=10.0, help="poll interval, s (>= 10)")
    parser.add_argument("--articles-per-minute", type=float, default=120.0)
    parser.add_argument("--group-wait", type=float, default=30.0, help="seconds")
    parser.add_argument(
        "--story-window", type=float, default=1.0, help="s; short: most reports a new story"
    )
    parser.add_argument("--ports", type=int, default=50, help="simulated hosts")
    parser.add_argument("--json", type=Path, help="write both results here")
    args = parser.parse_args(argv)
    sources = [args.baseline, None] if args.baseline else [None]
    results = []
    for src in sources:
        results.append(run_one(args, src))
        print(json.dumps(results[-1]), flush=True)
    report(args, results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0 if all(r["exit_code"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
