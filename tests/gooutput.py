"""Parsing gosched's Go-shaped fatal-error output (runtime/panic.c, traceback.c): the throwing
thread's own stack, the SCHED dump and the --trace events.  Shared by test_runtime.py and
test_mission.py, so that both read a dump the same way."""

import re

# The two paths by which #40368's throw is reached in the model (runtime/README.md, "What a
# user sees"): the M leaving its system call parks, or the M that was polling for the timer
# parks after it.  Each is the throwing thread's stack from throw down to the caller of stopm.
PATH_EXITSYSCALL0 = ("throw", "checkdead", "mput", "stopm", "exitsyscall0")
PATH_FINDRUNNABLE = ("throw", "checkdead", "mput", "stopm", "findrunnable")
PATHS_40368 = {PATH_EXITSYSCALL0: "exitsyscall0", PATH_FINDRUNNABLE: "findrunnable"}


def frame_name(line):
    """'ready.constprop.0+0x85' -> 'ready' (gcc's clone suffixes are not Go's names)."""
    return re.sub(r"\.(constprop|isra|part|cold)\.\d+$|\.cold$", "", line.split("+0x")[0])


def throwing_stack(text):
    """The function names of the throwing thread's own stack, from throw down: the section
    after 'runtime stack:' up to the blank line before the other Ms' stacks.  Empty if the
    output has no such section."""
    m = re.search(r"^runtime stack:\n(.*?)(?:\n\n|\Z)", text, re.M | re.S)
    if not m:
        return []
    return [frame_name(l) for l in m.group(1).splitlines() if l and not l.startswith("\t")]


def path_40368(text):
    """'exitsyscall0' or 'findrunnable' when the throwing stack is one of #40368's two paths,
    else None."""
    return PATHS_40368.get(tuple(throwing_stack(text)[:5]))


def sched_fields(text):
    """The dump's SCHED section as {'SCHED': {...}, 'P0': {...}, 'M1': {...}, 'G1': {...}}:
    key=value pairs of each line (a G's status keeps its '(reason)')."""
    out = {}
    m = re.search(r"^SCHED \d+us: (.*)$", text, re.M)
    if not m:
        return out
    out["SCHED"] = dict(kv.split("=", 1) for kv in m.group(1).split())
    for name, rest in re.findall(r"^  ([PMG]\d+): (.*)$", text, re.M):
        out[name] = dict(kv.split("=", 1) for kv in rest.split() if "=" in kv)
    return out


TRACE_LINE = re.compile(r"^\s+(-?\d+\.\d)us M(-?\d+) (.*?) (-?\d+)$")


def trace_events(text):
    """The --trace section's events as (us, M id, event, argument) tuples, oldest first."""
    if "scheduler trace (--trace)" not in text:
        return []
    part = text.split("scheduler trace (--trace)", 1)[1]
    return [(float(m.group(1)), int(m.group(2)), m.group(3), int(m.group(4)))
            for m in map(TRACE_LINE.match, part.splitlines()[1:]) if m]
