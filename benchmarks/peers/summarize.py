#!/usr/bin/env python3
"""Print a Markdown table of run_peer.py reports (JSON lines files or stdin).

    python benchmarks/peers/summarize.py benchmarks/peers/results-2026-11-26.jsonl

Uses only the standard library, so any Python runs it.
"""

from __future__ import annotations

import json
import sys

COLUMNS = (
    ("sim", "peer", "{}"),
    ("scale", "scale", "{:g}"),
    ("threads", "thr", "{}"),
    ("n_synapses", "synapses", "{:,}"),
    ("mean_rate_hz", "rate Hz", "{:.2f}"),
    ("cv_isi", "CV ISI", "{:.3f}"),
    ("build_s", "build s", "{:.2f}"),
    ("compile_s", "compile s", "{:.2f}"),
    ("sim_wall_s", "sim wall s", "{:.2f}"),
    ("syn_events_per_s", "events/s (M)", "{:.1f}"),
    ("peak_rss_mib", "peak RSS MiB", "{:.0f}"),
    ("cpu_seconds_of_other_processes", "other CPU s", "{:.2f}"),
    ("date_utc", "start (UTC)", "{}"),
)


def _cell(report: dict, key: str, fmt: str) -> str:
    value = report.get(key)
    if value is None:
        return "–"
    if key == "syn_events_per_s":
        value = value / 1e6
    return fmt.format(value)


def main(paths: list[str]) -> int:
    lines: list[str] = []
    if paths:
        for path in paths:
            with open(path) as f:
                lines.extend(f)
    else:
        lines.extend(sys.stdin)
    reports = [json.loads(line) for line in lines if line.strip()]
    print("| # | " + " | ".join(title for _, title, _ in COLUMNS) + " |")
    print("|---|" + "---|" * len(COLUMNS))
    for number, report in enumerate(reports, 1):
        print(f"| {number} | " + " | ".join(_cell(report, key, fmt) for key, _, fmt in COLUMNS) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
