#!/usr/bin/env python3
"""Database outage under a bounded load (issue 14), against a running BlogApi.

Reads warm keys (post pages, live stats, the top-authors report: every one with a stale-if-error window) from a few
threads, edits a few posts every few seconds, and makes the SQLite database unavailable (its files moved away) for
--outage-seconds, starting at --outage-at seconds after warm-up, so that the live stats (60 s) and the report (60 s)
expire while it is down. Reports: responses by status and X-Cache per endpoint, 5xx on endpoints with stale-if-error
(goal 0), the most seconds past expiry served (Cache-Status ttl=-N) and the oldest live stats (their own timestamp), and, after the database is back, reads of
an edited post that started after its edit returned yet show an older title (goal 0).
"""
import argparse
import json
import os
import random
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone

parser = argparse.ArgumentParser()
parser.add_argument("--base", required=True)
parser.add_argument("--db", required=True, help="the database file the app uses")
parser.add_argument("--outage-at", type=float, default=45)
parser.add_argument("--outage-seconds", type=float, default=30)
parser.add_argument("--duration", type=float, default=100)
parser.add_argument("--readers", type=int, default=4)
parser.add_argument("--out", default=None)
args = parser.parse_args()

READ_POSTS = list(range(1, 21))
EDITED_POSTS = list(range(21, 26))
SIE_WINDOWS = {"/posts/{id}": 86400, "/stats/live": 300, "/reports/top-authors": 600}  # stale-if-error, s


def request(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(args.base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def endpoint(path):
    return "/posts/{id}" if path.startswith("/posts/") else path.split("?")[0]


# Warm-up: every key read below is stored before the clock starts.
posts = {}
for pid in READ_POSTS + EDITED_POSTS:
    status, _, body = request("GET", f"/posts/{pid}")
    assert status == 200, f"/posts/{pid}: {status}"
    posts[pid] = json.loads(body)
for path in ("/stats/live", "/reports/top-authors"):
    assert request("GET", path)[0] == 200

start = time.monotonic()
stop = start + args.duration
lock = threading.Lock()
reads = []    # (start, end, endpoint, path, status, x-cache, age seconds, live-stats data age)
writes = []   # (start, end, post id, sequence, status)
outage = {"down": None, "up": None}


def reader(seed):
    rnd = random.Random(seed)
    paths = [f"/posts/{p}" for p in READ_POSTS + EDITED_POSTS] + ["/stats/live", "/reports/top-authors"] * 5
    while time.monotonic() < stop:
        path = rnd.choice(paths)
        t0 = time.monotonic() - start
        status, headers, body = request("GET", path)
        t1 = time.monotonic() - start
        # Seconds past expiry of a stale answer: RFC 9211 Cache-Status "ttl=-N".
        status_header = headers.get("Cache-Status", "")
        ttl = [p.strip()[4:] for p in status_header.split(";") if p.strip().startswith("ttl=")]
        age = -int(ttl[0]) if ttl else 0
        data_age = None
        title = None
        if status == 200 and path == "/stats/live":
            at = datetime.fromisoformat(json.loads(body)["at"].replace("Z", "+00:00"))
            if at.tzinfo is None:
                at = at.replace(tzinfo=timezone.utc)
            data_age = (datetime.now(timezone.utc) - at).total_seconds()
        if status == 200 and path.startswith("/posts/"):
            title = json.loads(body)["title"]
        with lock:
            reads.append((t0, t1, endpoint(path), path, status, headers.get("X-Cache", ""), age, data_age, title))
        time.sleep(0.02)


def writer():
    sequence = 0
    while time.monotonic() < stop - 5:
        time.sleep(4)
        pid = EDITED_POSTS[sequence % len(EDITED_POSTS)]
        post = posts[pid]
        title = f"edit {sequence}"
        t0 = time.monotonic() - start
        status, _, _ = request("PUT", f"/posts/{pid}", {"authorId": post["authorId"], "categoryId": post["categoryId"], "title": title, "body": post["body"]})
        t1 = time.monotonic() - start
        with lock:
            writes.append((t0, t1, pid, sequence, status, title))
        sequence += 1


def database(path_suffixes=("", "-wal", "-shm")):
    # Down: the files are moved away; with pooling off, every query opens the file again and fails (the new empty
    # database SQLite creates in its place has no tables). Up: the empty one is removed and the real one put back.
    wait = start + args.outage_at - time.monotonic()
    time.sleep(max(0, wait))
    for suffix in path_suffixes:
        if os.path.exists(args.db + suffix):
            os.rename(args.db + suffix, args.db + suffix + ".away")
    outage["down"] = time.monotonic() - start
    time.sleep(args.outage_seconds)
    for suffix in path_suffixes:
        if os.path.exists(args.db + suffix):
            os.remove(args.db + suffix)
    for suffix in path_suffixes:
        if os.path.exists(args.db + suffix + ".away"):
            os.rename(args.db + suffix + ".away", args.db + suffix)
    outage["up"] = time.monotonic() - start


threads = [threading.Thread(target=reader, args=(i,)) for i in range(args.readers)]
threads += [threading.Thread(target=writer), threading.Thread(target=database)]
for t in threads:
    t.start()
for t in threads:
    t.join()

down, up = outage["down"], outage["up"]
summary = {"outage": {"down_at_s": round(down, 1), "up_at_s": round(up, 1)}, "endpoints": {}}
# A failed edit may have changed some of its data: it invalidates like a successful one, so that nothing from before
# it is served; its post then has no stale copy until the database is back.
edited_paths = {f"/posts/{w[2]}" for w in writes if w[4] >= 500}
for ep in sorted({r[2] for r in reads}):
    rs = [r for r in reads if r[2] == ep]
    during = [r for r in rs if r[0] >= down and r[1] <= up]
    by = {}
    for r in rs:
        key = f"{r[4]} {r[5] or '-'}"
        by[key] = by.get(key, 0) + 1
    oldest = max((r[6] for r in rs if r[4] == 200), default=0)
    summary["endpoints"][ep] = {
        "requests": len(rs),
        "during_outage": len(during),
        "by_status_and_x_cache": by,
        "5xx": sum(1 for r in rs if r[4] >= 500),
        "stale": sum(1 for r in rs if r[5] == "STALE"),
        "most_seconds_past_expiry": oldest,
        "5xx_on_posts_edited_during_the_outage": sum(1 for r in rs if r[4] >= 500 and r[3] in edited_paths),
        "stale_if_error_window_s": SIE_WINDOWS[ep],
    }
live = [r[7] for r in reads if r[7] is not None]
summary["endpoints"]["/stats/live"]["oldest_data_s"] = round(max(live), 1) if live else None

# Reads of an edited post that started after a successful edit of it returned, showing an older edit's title.
titles = {w[5]: w[3] for w in writes}
stale_reads = 0
checked = 0
for r in reads:
    if r[4] != 200 or not r[3].startswith("/posts/"):
        continue
    pid = int(r[3].split("/")[2])
    done = [w for w in writes if w[2] == pid and 200 <= w[4] < 300 and w[1] <= r[0]]
    if not done:
        continue
    latest = max(w[3] for w in done)
    checked += 1
    if titles.get(r[8], -1) < latest:
        stale_reads += 1
summary["writes"] = {
    "total": len(writes),
    "failed": sum(1 for w in writes if w[4] >= 500),
    "succeeded_after_outage": sum(1 for w in writes if w[0] >= up and 200 <= w[4] < 300),
    "reads_after_a_successful_edit": checked,
    "stale_reads_after_a_successful_edit": stale_reads,
}
summary["requests_per_second"] = round(len(reads) / args.duration)

print(json.dumps(summary, indent=2))
if args.out:
    with open(args.out, "w") as f:
        json.dump(summary, f, indent=2)
