"""A private single-node Slurm for tests: munged, slurmctld and slurmd started as
our own children, as root, on a generated configuration under a temporary folder.

    with SlurmCluster() as c:                    # or the slurm_cluster fixture
        r = c.run("sbatch", "--parsable", "--wrap", "true")
        c.wait([r.stdout.strip()])
        c.jobs(...)                              # scontrol's records of finished jobs
        subprocess.run([...], env=c.env)         # SLURM_CONF points at our slurm.conf

How it is built, and why:
1. Nothing of the machine's own Slurm or munge is used or touched: the munge key,
   socket, seed, log and pid files, slurm.conf, StateSaveLocation, SlurmdSpoolDir,
   the logs and the two TCP ports (chosen free, below the ephemeral range) are all
   ours, so a system munged (Debian's package starts one under systemd) or even a
   real Slurm node on the machine does not interfere.
2. The daemons run in the foreground (munged -F, slurmctld -D, slurmd -D) as
   children of this process, so their pids are known without pid files and they
   are reaped; each asks the kernel for SIGTERM should this process die
   (PR_SET_PDEATHSIG), a safety net for a test runner killed outright.
3. Started in order, each checked before the next: munged (a credential round
   trip through its socket), slurmctld (`scontrol ping`), slurmd (`sinfo` shows
   the node idle); then, unless smoke=False, one job (`sbatch --wrap true`) must
   complete, which proves jobs can run here.  A daemon that exits or does not come
   up in time is an error naming it, its exit status and the tail of its log.
4. Stopped in reverse: the jobs still queued or running are cancelled, then
   slurmd, slurmctld and munged get SIGTERM, SIGKILL after a grace period, and
   are waited for.  Job processes that outlived their slurmd (slurmstepd and the
   job scripts: slurmd double-forks them, so they are not our children) are found
   and killed by pid: a slurmstepd whose environment has our SLURM_CONF path (it
   inherits slurmd's), a process with our SLURM_CONF and a SLURM_JOB_ID, and their
   descendants; a shell that only exported our SLURM_CONF is left alone.  Every
   pid is checked gone; if one is not, stopping is an error.
The node's line comes from `slurmd -C` (this host's name, CPUs, sockets, cores,
memory); SelectType=select/cons_tres with CR_Core lets array tasks share the node,
one CPU each.  SlurmUser and SlurmdUser are root, hence root is required.

Run it by hand to get a cluster to play with (stress/slurm/submit.sh, squeue):
    /usr/bin/python3 tests/slurm_cluster.py      # prints SLURM_CONF=..., Ctrl-C stops
"""

import ctypes
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

# The programs we need and the Debian package that has each (make deps installs them).
PROGRAMS = {"munged": "munge", "munge": "munge", "unmunge": "munge",
            "slurmctld": "slurmctld", "slurmd": "slurmd",
            "sbatch": "slurm-client", "squeue": "slurm-client", "sinfo": "slurm-client",
            "scontrol": "slurm-client", "scancel": "slurm-client"}

# Variables that would steer the client commands or leak an outer allocation in.
CLIENT_ENV_PREFIXES = ("SLURM_", "SBATCH_", "SALLOC_", "SRUN_", "SQUEUE_", "SINFO_",
                       "SCANCEL_", "SCONTROL_", "SACCT_")

START_TIMEOUT = 30.0    # seconds for each daemon to come up (about 0.5 s here, idle)
STOP_GRACE = 10.0       # seconds between SIGTERM and SIGKILL


class ClusterError(Exception):
    """The cluster could not be started, used or stopped; the message says why."""


def _pdeathsig():
    # Runs in the child between fork and exec: die with our parent.
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _free_ports(n):
    """n TCP ports that bind now on every address, drawn below Linux's ephemeral
    range (32768-60999) so that no outgoing connection takes one meanwhile."""
    ports = []
    for _ in range(1000):
        p = random.randrange(20000, 32000)
        if p in ports:
            continue
        with socket.socket() as s:
            try:
                s.bind(("0.0.0.0", p))
            except OSError:
                continue
        ports.append(p)
        if len(ports) == n:
            return ports
    raise ClusterError("no free TCP port in 20000-31999 for slurmctld and slurmd")


def _tail(path, lines=25):
    try:
        text = Path(path).read_text(errors="replace").splitlines()
    except OSError as e:
        return f"  ({path}: {e.strerror})"
    return "\n".join("  " + l for l in text[-lines:]) or f"  ({path} is empty)"


def _pid_gone(pid):
    """True when pid no longer exists or is a zombie (dead, awaiting its reaper)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return True


class SlurmCluster:
    """A single-node Slurm cluster; a context manager (start on enter, stop on exit).

    After start: dir (the temporary folder), conf (slurm.conf), env (a clean
    environment with SLURM_CONF), host, node_line, pids ({daemon: pid}),
    start_seconds ({daemon: seconds to come up}), and log() for diagnostics."""

    def __init__(self, name="schedrace", smoke=True):
        self.name = name
        self.smoke = smoke
        self.daemons = {}          # name -> Popen, in start order
        self.start_seconds = {}
        self.stop_report = []
        self.dir = None

    # -- setup ---------------------------------------------------------------

    def _programs(self):
        if os.geteuid() != 0:
            raise ClusterError("the Slurm test runs munged, slurmctld and slurmd as root "
                               f"(SlurmUser=root); this is uid {os.geteuid()}: run it as root")
        path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin:/usr/bin:/bin"
        self.bin = {}
        missing = []
        for prog, pkg in PROGRAMS.items():
            found = shutil.which(prog, path=path)
            if found:
                self.bin[prog] = found
            else:
                missing.append(f"{prog} (Debian package {pkg})")
        if missing:
            raise ClusterError("cannot start a Slurm cluster: not installed: "
                               + ", ".join(missing) + "; `make deps` installs them")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(CLIENT_ENV_PREFIXES)}
        self.env["PATH"] = path

    def _write_files(self):
        # munged wants every folder on its socket's path searchable by all, and its
        # key readable by its user alone; mkdtemp makes 0700 folders.
        self.dir = Path(tempfile.mkdtemp(prefix="slurm-cluster-"))
        self.dir.chmod(0o755)
        d = self.dir
        for sub, mode in (("munge", 0o700), ("run", 0o755), ("state", 0o700),
                          ("spool", 0o755), ("log", 0o755)):
            (d / sub).mkdir(mode=mode)
            (d / sub).chmod(mode)
        key = d / "munge" / "munge.key"
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, os.urandom(1024))
        os.close(fd)
        self.munge_socket = d / "run" / "munge.socket"

        r = subprocess.run([self.bin["slurmd"], "-C"], capture_output=True, text=True,
                           env=self.env, timeout=30)
        line = r.stdout.splitlines()[0] if r.stdout else ""
        if r.returncode != 0 or not line.startswith("NodeName="):
            raise ClusterError(f"`slurmd -C` did not describe this node (exit {r.returncode}): "
                               f"{r.stdout.strip()} {r.stderr.strip()}")
        self.host = line.split()[0].split("=", 1)[1]
        self.node_line = line
        ctld_port, slurmd_port = _free_ports(2)
        self.ports = (ctld_port, slurmd_port)
        (d / "plugstack.conf").write_text("")   # no site SPANK plugins
        self.conf = d / "slurm.conf"
        self.conf.write_text(f"""\
# Written by tests/slurm_cluster.py: a private single-node cluster.
ClusterName={self.name}
SlurmctldHost={self.host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={self.munge_socket}
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
PlugStackConfig={d}/plugstack.conf
MailProg=/bin/true
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
# Schedule at once on submit and on job end (the defaults batch jobs up for 3 s).
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
ReturnToService=2
# A cancelled job gets SIGKILL 5 s after SIGTERM (default 30 s).
KillWait=5
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/run/slurmctld.pid
SlurmdPidFile={d}/run/slurmd.pid
SlurmctldLogFile={d}/log/slurmctld.log
SlurmdLogFile={d}/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
{line} NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
""")
        self.env["SLURM_CONF"] = str(self.conf)

    # -- daemons -------------------------------------------------------------

    def _logs_of(self, name):
        d = self.dir / "log"
        own = {"munged": self.dir / "munge" / "munged.log",
               "slurmctld": d / "slurmctld.log", "slurmd": d / "slurmd.log"}[name]
        return [d / f"{name}.out", own]

    def log(self, name, lines=25):
        """The tails of a daemon's stdout/stderr and of its own log file."""
        return "\n".join(f"--- {p} ---\n{_tail(p, lines)}" for p in self._logs_of(name))

    def _spawn(self, name, argv):
        out = open(self.dir / "log" / f"{name}.out", "wb")
        try:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                 stderr=subprocess.STDOUT, env=self.env, cwd=self.dir,
                                 start_new_session=True, preexec_fn=_pdeathsig)
        finally:
            out.close()
        self.daemons[name] = p
        return p

    def _wait_up(self, name, ready, what):
        """Poll ready() until it returns a true value; the daemon must stay alive."""
        p = self.daemons[name]
        t0 = time.monotonic()
        last = ""
        while True:
            rc = p.poll()
            if rc is not None:
                raise ClusterError(f"{name} (pid {p.pid}) exited with status {rc} while "
                                   f"starting; {last}\n{self.log(name)}")
            ok, last = ready()
            if ok:
                self.start_seconds[name] = time.monotonic() - t0
                return
            if time.monotonic() - t0 > START_TIMEOUT:
                raise ClusterError(f"{name} (pid {p.pid}) not up after {START_TIMEOUT:.0f} s "
                                   f"(waiting for {what}; last: {last})\n{self.log(name)}")
            time.sleep(0.05)

    def _client(self, *argv, timeout=15):
        try:
            return subprocess.run([self.bin.get(argv[0], argv[0]), *argv[1:]], env=self.env,
                                  capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(argv, -1, "", f"timed out after {timeout} s")

    def _munge_ready(self):
        if not self.munge_socket.exists():
            return False, f"no socket {self.munge_socket} yet"
        cred = self._client("munge", "-n", "-S", str(self.munge_socket))
        if cred.returncode != 0:
            return False, f"munge: {cred.stderr.strip()}"
        back = subprocess.run([self.bin["unmunge"], "-S", str(self.munge_socket)],
                              input=cred.stdout, capture_output=True, text=True,
                              env=self.env, timeout=15)
        return back.returncode == 0, f"unmunge: {back.stderr.strip()}"

    def _ctld_ready(self):
        r = self._client("scontrol", "ping")
        return " is UP" in r.stdout, (r.stdout + r.stderr).strip()

    def _node_ready(self):
        r = self._client("sinfo", "-h", "-N", "-n", self.host, "-o", "%T|%E")
        state, _, reason = r.stdout.strip().partition("|")
        if state.rstrip("*~#!%$@^-").lower() in ("drained", "draining", "inval", "fail"):
            raise ClusterError(f"slurmd registered but node {self.host} is {state}: {reason}\n"
                               + self.log("slurmd") + "\n" + self.log("slurmctld"))
        return state == "idle", (state or (r.stdout + r.stderr).strip())

    def _smoke(self):
        """Run one job: proves slurmd can launch jobs here (slurmstepd, credentials),
        and lets slurmctld make its first scheduling pass, which comes about 2 s
        after it starts, before a test's clock runs."""
        t0 = time.monotonic()
        out = self.dir / "log" / "smoke-job.out"
        job = self.run(self.bin["sbatch"], "--parsable", "-o", out, "--wrap", "true").stdout
        rec = self.wait([job.strip().split(";")[0]], timeout=START_TIMEOUT)[0]
        if (rec.get("JobState"), rec.get("ExitCode")) != ("COMPLETED", "0:0"):
            raise ClusterError(f"a test job (sbatch --wrap true) did not run: JobState="
                               f"{rec.get('JobState')} ExitCode={rec.get('ExitCode')} "
                               f"Reason={rec.get('Reason')}\n--- {out} ---\n{_tail(out)}\n"
                               + self.log("slurmd") + "\n" + self.log("slurmctld"))
        self.start_seconds["first job"] = time.monotonic() - t0

    def start(self):
        t0 = time.monotonic()
        self._programs()
        try:
            self._write_files()
            m = self.dir / "munge"
            self._spawn("munged", [self.bin["munged"], "-F", f"--socket={self.munge_socket}",
                                   f"--key-file={m}/munge.key", f"--log-file={m}/munged.log",
                                   f"--seed-file={m}/munged.seed",
                                   f"--pid-file={self.dir}/run/munged.pid"])
            self._wait_up("munged", self._munge_ready, "a credential round trip")
            self._spawn("slurmctld", [self.bin["slurmctld"], "-D", "-f", str(self.conf)])
            self._wait_up("slurmctld", self._ctld_ready, "scontrol ping")
            self._spawn("slurmd", [self.bin["slurmd"], "-D", "-f", str(self.conf)])
            self._wait_up("slurmd", self._node_ready, f"sinfo to show {self.host} idle")
            if self.smoke:
                self._smoke()
        except BaseException:
            try:
                self.stop()
            except ClusterError as e:
                print(e, file=sys.stderr)
            raise
        self.start_seconds["total"] = time.monotonic() - t0
        return self

    @property
    def pids(self):
        return {n: p.pid for n, p in self.daemons.items()}

    def describe(self):
        s = self.start_seconds
        return (f"slurm: cluster {self.name} on {self.host} up in {s.get('total', 0):.2f} s "
                f"(munged {s.get('munged', 0):.2f} s, slurmctld {s.get('slurmctld', 0):.2f} s, "
                f"slurmd {s.get('slurmd', 0):.2f} s"
                + (f", a first job {s['first job']:.2f} s" if "first job" in s else "")
                + "): "
                + ", ".join(f"{n} pid {p}" for n, p in self.pids.items())
                + f"; ports {self.ports[0]}/{self.ports[1]}; SLURM_CONF={self.conf}\n"
                f"slurm: {self.node_line}")

    # -- use -----------------------------------------------------------------

    def run(self, *argv, timeout=30, check=True, **kw):
        """Run a command in the cluster's environment; check=True raises on failure."""
        kw.setdefault("env", self.env)
        try:
            r = subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                               timeout=timeout, **kw)
        except subprocess.TimeoutExpired as e:
            raise ClusterError(f"timed out after {timeout} s: {' '.join(map(str, argv))}\n"
                               f"stdout: {e.stdout!r}\nstderr: {e.stderr!r}") from None
        if check and r.returncode != 0:
            raise ClusterError(f"exit status {r.returncode}: {' '.join(map(str, argv))}\n"
                               f"stdout: {r.stdout}\nstderr: {r.stderr}")
        return r

    def jobs(self, *jobids):
        """scontrol's records of the jobs (an array job gives one per task), each a
        dict of its KEY=VALUE fields; finished jobs stay for MinJobAge (300 s)."""
        recs = []
        for j in jobids:
            r = self.run(self.bin["scontrol"], "-o", "show", "job", j)
            for line in r.stdout.splitlines():
                rec = {}
                for field in line.split():
                    k, eq, v = field.partition("=")
                    if eq:
                        rec[k] = v
                    elif rec:           # a value with spaces (Command, WorkDir...)
                        rec[list(rec)[-1]] += " " + field
                recs.append(rec)
        return recs

    def wait(self, jobids, timeout=60):
        """Wait until none of the jobs is pending or running; their records."""
        t0 = time.monotonic()
        ids = ",".join(map(str, jobids))
        while True:
            r = self.run(self.bin["squeue"], "-h", "-j", ids, "-o", "%i %T %r", check=False)
            if r.returncode == 0 and not r.stdout.strip():
                return self.jobs(*jobids)
            if time.monotonic() - t0 > timeout:
                raise ClusterError(f"jobs {ids} not done after {timeout} s:\n{r.stdout}"
                                   f"{r.stderr}\n{self.log('slurmctld')}\n{self.log('slurmd')}")
            time.sleep(0.1)

    # -- teardown ------------------------------------------------------------

    def _strays(self):
        """Pids of our cluster's job processes: a slurmstepd with our SLURM_CONF in
        its environment (inherited from our slurmd), a process with our SLURM_CONF
        and a SLURM_JOB_ID (a job's, even one that left its slurmstepd's tree), and
        every descendant of those.  A process that merely has our SLURM_CONF (a
        shell where someone exported it to use the cluster) is not one."""
        if not self.dir:
            return []
        mark = f"SLURM_CONF={self.conf}".encode()
        keep = {os.getpid(), os.getppid()} | {p.pid for p in self.daemons.values()}
        parent, roots = {}, set()
        for e in os.scandir("/proc"):
            if not e.name.isdigit():
                continue
            pid = int(e.name)
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{pid}/environ", "rb") as f:
                    env = f.read().split(b"\0")
                with open(f"/proc/{pid}/comm") as f:
                    comm = f.read().strip()
            except (OSError, IndexError):
                continue
            if fields[0] == "Z":
                continue
            parent[pid] = int(fields[1])
            if mark in env and (comm == "slurmstepd"
                                or any(v.startswith(b"SLURM_JOB_ID=") for v in env)):
                roots.add(pid)
        found = set()
        for pid in parent:
            p, seen = pid, 0
            while p > 1 and seen < 1000:          # walk up to a root, or to init
                if p in roots:
                    found.add(pid)
                    break
                p, seen = parent.get(p, 0), seen + 1
        return sorted(found - keep)

    def stop(self):
        """Cancel the jobs, stop the daemons and the strays by pid; raise if one stays."""
        report = self.stop_report
        problems = []
        ctld = self.daemons.get("slurmctld")
        if ctld and ctld.poll() is None and "slurmd" in self.daemons:
            q = self._client("squeue", "-h", "-o", "%A")
            left = q.stdout.split()
            if left:
                self._client("scancel", *left)
                t0 = time.monotonic()
                while time.monotonic() - t0 < 15 and self._client(
                        "squeue", "-h", "-o", "%A").stdout.strip():
                    time.sleep(0.1)
                report.append(f"cancelled jobs {','.join(left)} "
                              f"({time.monotonic() - t0:.1f} s)")
        for name in reversed(list(self.daemons)):
            p = self.daemons[name]
            if p.poll() is not None:
                report.append(f"{name} (pid {p.pid}) had already exited with status "
                              f"{p.returncode}")
                continue
            t0 = time.monotonic()
            p.send_signal(signal.SIGTERM)
            how = "SIGTERM"
            try:
                p.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                p.kill()
                how = f"SIGKILL ({STOP_GRACE:.0f} s after SIGTERM)"
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    problems.append(f"{name} (pid {p.pid}) survived SIGKILL")
                    continue
            report.append(f"{name} (pid {p.pid}) stopped by {how} in "
                          f"{time.monotonic() - t0:.2f} s")
        strays = self._strays()
        for pid in strays:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if strays:
            report.append(f"killed job processes left behind: pids {strays}")
            t0 = time.monotonic()
            while time.monotonic() - t0 < 5 and not all(_pid_gone(p) for p in strays):
                time.sleep(0.05)
            problems += [f"pid {p} survived SIGKILL" for p in strays if not _pid_gone(p)]
        for name, p in self.daemons.items():
            if not _pid_gone(p.pid):
                problems.append(f"{name} (pid {p.pid}) still exists")
        if problems:
            raise ClusterError("slurm: could not stop the cluster: " + "; ".join(problems)
                               + f" (its files stay in {self.dir})")
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
        return report

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


@pytest.fixture(scope="module")
def slurm_cluster():
    """A running cluster for the tests of one module; stopped (and checked
    stopped) after the last of them, whether they passed or not."""
    c = SlurmCluster()
    try:
        c.start()
    except ClusterError as e:
        pytest.fail(f"slurm: {e}", pytrace=False)
    print(c.describe())
    yield c
    try:
        c.stop()
    except ClusterError as e:
        pytest.fail(str(e), pytrace=False)
    print("\n".join("slurm: " + l for l in c.stop_report))


def _interrupt(sig, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    # Ctrl-C, SIGTERM or SIGHUP stop the cluster (a shell starts background jobs
    # with SIGINT ignored, hence the explicit handlers).
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    try:
        with SlurmCluster() as c:
            print(c.describe())
            print(f"export SLURM_CONF={c.conf}   # then sbatch, squeue, stress/slurm/submit.sh"
                  "\nCtrl-C (or SIGTERM) stops the cluster.", flush=True)
            try:
                signal.pause()
            except KeyboardInterrupt:
                pass
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                signal.signal(sig, signal.SIG_IGN)      # let stop() finish
        print("\n".join("slurm: " + l for l in c.stop_report))
    except KeyboardInterrupt:
        sys.exit("slurm: interrupted while starting")
    except ClusterError as e:
        sys.exit(f"slurm: {e}")
