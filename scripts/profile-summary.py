#!/usr/bin/env python3
"""Summarizes a speedscope profile written by BenchmarkDotNet's EventPipe profiler (--profiler EP): where the CPU
time goes. Only samples whose leaf is CPU_TIME count (threads waiting are not work). For each frame it prints the
share of CPU time spent inside it (inclusive) and in the frame itself (its self time, the leaf's caller).

Usage: profile-summary.py FILE.speedscope.json [--top N] [name-substring ...]"""
import collections
import json
import sys

args = sys.argv[1:]
path = args.pop(0)
top = 40
if args[:1] == ["--top"]:
    top = int(args[1])
    args = args[2:]
filters = args

data = json.load(open(path))
frames = [f["name"] for f in data["shared"]["frames"]]
cpu = frames.index("CPU_TIME") if "CPU_TIME" in frames else -1
inclusive = collections.Counter()
leaf_caller = collections.Counter()
total = 0.0
for profile in data["profiles"]:
    stack = []
    last = None
    for event in profile["events"]:
        at = event["at"]
        if stack and last is not None and stack[-1] == cpu:
            span = at - last
            total += span
            for frame in set(stack[:-1]):
                inclusive[frame] += span
            if len(stack) > 1:
                leaf_caller[stack[-2]] += span
        last = at
        if event["type"] == "O":
            stack.append(event["frame"])
        else:
            stack.pop()

def show(title, counter):
    print(title)
    shown = 0
    for frame, t in counter.most_common():
        name = frames[frame]
        if filters and not any(x in name for x in filters):
            continue
        print(f"  {100 * t / total:5.1f}%  {name[:160]}")
        shown += 1
        if shown == top:
            break

print(f"CPU time sampled: {total:.0f} ms")
show("self (the method the CPU was in)", leaf_caller)
show("inclusive", inclusive)
