"""build/inject --check FLAGS...: the one place stress and hunt ask whether the launcher would
accept injection flags, before their first run (issue 10 item 1).

The interface (docs/interfaces.md): FLAGS are parsed by the code a launch uses, INJECT_* values
by injector/spec.c, with the environment as it is; nothing runs and no file is made.  Silent
and 0 when a launch would accept FLAGS; else one line starting `inject: ` and 64.  Flags that
change the launcher's mode and a program or `--` are refused, because the caller appends its
own `--seed S --log L -- PROGRAM`."""

import pytest

from conftest import INJECT, clean_env, run

GOOD = [
    [],
    ["--sites", "startm", "--delay", "uniform:200us:2ms"],
    ["--prob", "0.2", "--delay", "loguniform:20us:4ms"],
    ["--points", "mutex_lock,mutex_unlock", "--sites", "findrunnable,timeSleepUntil"],
    ["--delay=fixed:1ms", "--prob=1e-3", "--action", "spin", "--max", "5"],
    ["--verbose", "--skip", "lock_*", "--sites", "!main"],
    ["--seed", "18446744073709551615"],
]

BAD = [
    (["--site", "startm"], "unknown option --site"),
    (["--help"], "--help changes what the launcher does"),
    (["-h"], "--help changes what the launcher does"),
    (["--list-sites"], "--list-sites changes what the launcher does"),
    (["--check"], "--check changes what the launcher does"),
    (["--prob", "0.1", "--", "/bin/false"], 'name a program ("/bin/false")'),
    (["--"], "end with --"),
    (["/bin/true"], 'name a program ("/bin/true")'),
    (["--prob", "2"], 'INJECT_PROB: bad value "2"'),
    (["--delay", "uniform:2ms:1ms"], "INJECT_DELAY: bad value"),
    (["--seed"], "--seed needs a value"),
    (["--seed", "--"], "--seed needs a value"),
    (["--seed", "18446744073709551616"], "INJECT_SEED: bad value"),
    (["--points", "unlock"], "INJECT_POINTS: bad value"),
    (["--log", "/nonexistent-dir/x.log"], "INJECT_LOG: bad value"),
]


@pytest.mark.parametrize("flags", GOOD)
def test_check_accepts_what_a_launch_accepts(flags):
    r = run([INJECT, "--check", *flags]).expect(0)
    assert r.out == "" and r.err == "", r
    # A launch with the same flags runs the program.
    run([INJECT, *flags, "--", "/bin/true"]).expect(0)


@pytest.mark.parametrize("flags,what", BAD)
def test_check_refuses_with_one_line(flags, what):
    r = run([INJECT, "--check", *flags]).expect(64)
    assert r.out == "" and r.err.count("\n") == 1 and r.err.startswith("inject: "), r
    assert what in r.err, r


@pytest.mark.parametrize("flags,what", [b for b in BAD if b[1].startswith(("INJECT_", "unknown",
                                                                          "--seed"))])
def test_a_launch_refuses_what_check_refuses(flags, what):
    # The same parser: every value --check refuses, a launch refuses too (64 for a flag it
    # does not know or that lacks its value, 125 for a bad INJECT_* value), before exec.
    r = run([INJECT, *flags, "--", "/bin/echo", "ran"])
    assert r.rc in (64, 125) and "ran" not in r.out and what in r.err, r


def test_check_reads_the_environment_as_a_launch_does():
    r = run([INJECT, "--check", "--sites", "startm"], env=clean_env(INJECT_PROB="7")).expect(64)
    assert 'INJECT_PROB: bad value "7"' in r.err, r
    # A flag overrides the variable, as in a launch.
    run([INJECT, "--check", "--prob", "0.5"], env=clean_env(INJECT_PROB="7")).expect(0)


def test_check_makes_no_file(tmp_path):
    log = tmp_path / "new.log"
    run([INJECT, "--check", "--log", log]).expect(0)
    assert not log.exists()


def test_check_must_come_first():
    r = run([INJECT, "--prob", "0.1", "--check"]).expect(64)
    assert r.err.count("\n") == 1 and "--check comes first" in r.err, r


def test_seed_without_value_before_the_program_is_a_usage_error():
    # `inject --seed -- prog` took "--" as the seed and said 125 (a bad INJECT_SEED value):
    # the flag lacks its value, a usage error (issue 10 item 5).
    r = run([INJECT, "--seed", "--", "/bin/echo", "ran"]).expect(64)
    assert r.err == "inject: --seed needs a value (see inject --help)\n", r
    r = run([INJECT, "--delay", "--prob", "0.5", "--", "/bin/echo", "ran"]).expect(64)
    assert r.err == "inject: --delay needs a value (see inject --help)\n", r
