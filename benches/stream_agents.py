#!/usr/bin/env python3
"""The Python side of `cargo bench --bench measure -- stream`.

Lists every agent of a console page by page, as a typical script does with
`requests`: one session, `GET /web/api/v2.1/agents?limit=1000`, then the same
with `cursor=<pagination.nextCursor>` until the cursor is null. Each page is
decoded (`response.json()`) and its items counted.

    python3 benches/stream_agents.py http://127.0.0.1:PORT TOKEN [LIMIT]

Prints one JSON line: items counted, seconds taken (interpreter start-up and
imports excluded), and the process's peak and starting resident set size in
KiB (VmHWM and VmRSS from /proc/self/status, as the Rust side reads them).
Needs `requests` (`python3 -m pip install requests`).
"""

import json
import sys
import time

import requests


def status_kib(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return float(line.split()[1])
    return float("nan")


def main():
    origin, token = sys.argv[1], sys.argv[2]
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    session = requests.Session()
    session.headers["Authorization"] = f"ApiToken {token}"
    url = f"{origin}/web/api/v2.1/agents"
    start_kib = status_kib("VmRSS")
    started = time.perf_counter()
    params = {"limit": limit}
    count = 0
    while True:
        response = session.get(url, params=params, timeout=60)
        response.raise_for_status()
        page = response.json()
        count += len(page.get("data") or [])
        cursor = (page.get("pagination") or {}).get("nextCursor")
        if not cursor:
            break
        params = {"limit": limit, "cursor": cursor}
    secs = time.perf_counter() - started
    print(
        json.dumps(
            {
                "count": count,
                "secs": secs,
                "peak_kib": status_kib("VmHWM"),
                "start_kib": start_kib,
            }
        )
    )


if __name__ == "__main__":
    main()
