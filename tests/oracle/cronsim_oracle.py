#!/usr/bin/env python3
"""The oracle for src/schedule/spec.rs: next firings of a crontab in a timezone, by cronsim.

Reads JSON lines from stdin:

    {"expr": "30 2 * * *", "tz": "America/New_York", "start": "2026-03-08T06:00:00Z",
     "n": 5, "horizon_days": 1830}

and writes one JSON line per input line, in order:

    {"firings": ["2026-03-08T07:00:00Z", ...]}      the next n firings, UTC
    {"error": "Bad minute"}                          cronsim refuses the expression
    {"firings": [...], "backwards": "..."}           cronsim went back in time: stopped there

Firings are those of `CronSim(expr, start_in_tz)`, kept to what the Rust side promises:

- strictly after `start`: for a fixed-time schedule cronsim works on the wall clock, so from a
  start inside the repeated hour of a fall-back it can first yield the earlier pass of that
  hour, which is before the start;
- each at most `horizon_days` after the previous one (or the start): the Rust side stops
  looking there.

Run by the `agrees_with_cronsim` test with the Python that DRUMBEAT_CRONSIM_PYTHON names.
"""

import json
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError


def utc_text(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def firings(case):
    # "UTC" as cronsim's own UTC, which it leaves alone; any other zone via zoneinfo.
    tz = timezone.utc if case["tz"] == "UTC" else ZoneInfo(case["tz"])
    start = datetime.fromisoformat(case["start"].replace("Z", "+00:00"))
    horizon = timedelta(days=case.get("horizon_days", 1830))
    n = case["n"]
    try:
        sim = CronSim(case["expr"], start.astimezone(tz))
    except CronSimError as e:
        return {"error": str(e) or "refused"}
    out = []
    previous = start
    # A few skipped firings (before the start) are expected; a run of them is cronsim
    # circling, which the backwards check below reports.
    for _ in range(n + 200):
        if len(out) == n:
            break
        try:
            fired = next(sim).astimezone(timezone.utc)
        except StopIteration:
            break
        if fired <= start:
            continue
        if out and fired <= previous:
            return {"firings": [utc_text(t) for t in out],
                    "backwards": f"{utc_text(fired)} after {utc_text(previous)}"}
        if fired - previous > horizon:
            break
        out.append(fired)
        previous = fired
    return {"firings": [utc_text(t) for t in out]}


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            reply = firings(json.loads(line))
        except Exception as e:  # one bad case must not hide the answers to the others
            reply = {"error": f"oracle failed: {type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
