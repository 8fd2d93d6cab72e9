"""The engines we cannot run here (issue 14): the Kubernetes Indexed Job
(stress/k8s/), the GitHub Actions workflow and the GitLab CI pipeline (stress/ci/).
Each file is parsed with Debian's python3-yaml; every stress flag its scripts use must
be one `stress --help` lists; the shard count must agree wherever the file says it;
and the scripts themselves run here, for every shard index as the engine numbers it
(Kubernetes from 0, GitLab and the Actions matrix from 1), with the real stress on a
small campaign, then the merge script on their results: each shard must be the shard
--shard says, and the merge must cover every shard and every run.

What the engines do around the scripts (scheduling, artifacts, volumes) is read from
the files, not run: the tests check that the artifact and volume paths the shards
write are the ones the merge reads."""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, STRESS, clean_env

K8S = ROOT / "stress" / "k8s"
CI = ROOT / "stress" / "ci"
SEED = "777"
# One job that passes and one that fails on every seed % 4 == 1 (a shard whose runs miss
# their expectation still succeeds; the merge's verdict says FAILED).
CAMPAIGN = """
[clean]
command = /bin/true
count = 10
expect = pass

[flaky]
command = /bin/sh -c 'exit $(( STRESS_SEED % 4 == 1 ))'
count = 12
expect = pass
"""
FLAKY_FAILS = sum((int(SEED) + i) % 4 == 1 for i in range(12))


def help_flags(*args):
    out = subprocess.run([STRESS, *args, "--help"], capture_output=True, text=True).stdout
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*|-p)\b", out))


def stress_flags(script):
    """The flags of every stress command line in a shell script (continuations joined)."""
    flags = set()
    for line in script.replace("\\\n", " ").splitlines():
        if "build/stress" in line:
            cmd = line.split("build/stress", 1)[1].split("||")[0]
            flags |= set(re.findall(r"(?<![\w$-])--[a-z][a-z-]*", cmd))
    return flags


def check_flags(script):
    used = stress_flags(script)
    assert "--shard" in used and "--seed" in used and "--campaign" in used, used
    unknown = used - help_flags()
    assert not unknown, f"flags stress --help does not list: {unknown}"


def test_merge_script_flags_exist():
    """The engines' merge is stress/slurm/stress-merge.sbatch; its stress merge flags."""
    text = (ROOT / "stress" / "slurm" / "stress-merge.sbatch").read_text()
    used = set(re.findall(r"merge (--[a-z-]+)", text))
    assert used == {"--out"} and used <= help_flags("merge"), used


@pytest.fixture
def work(tmp_path):
    """A workspace as a CI job sees its checkout: stress/ of the repository, the small
    campaign, and the environment the scripts read (STRESS: the real binary)."""
    (tmp_path / "stress").symlink_to(ROOT / "stress")
    camp = tmp_path / "small.ini"
    camp.write_text(CAMPAIGN)
    env = clean_env(STRESS=STRESS, CAMPAIGN=camp, SEED=SEED)
    return tmp_path, env


def sh(script, env, cwd, shell=("/bin/sh", "-e", "-c")):
    return subprocess.run([*shell, script], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def check_shard(folder, k, n):
    """folder/shard-k holds one results folder, of shard k of n."""
    (d,) = [p for p in folder.iterdir() if p.is_dir()]
    s = json.loads((d / "summary.json").read_text())
    assert s["shard"]["index"] == k and s["shard"]["of"] == n, s["shard"]
    assert s["seed_base"] == int(SEED)
    return s


def check_merged(merged, n):
    s = json.loads((merged / "summary.json").read_text())
    assert s["shard"]["present"] == list(range(1, n + 1)) and s["shard"]["missing"] == []
    clean, flaky = s["jobs"]
    assert (clean["runs"], clean["failures"]) == (10, 0)
    assert (flaky["runs"], flaky["failures"]) == (12, FLAKY_FAILS) and FLAKY_FAILS > 0
    assert s["ok"] is False and flaky["verdict"].startswith("FAILED: "), flaky["verdict"]
    assert (merged / "junit.xml").exists() and (merged / "report.md").exists()


def test_kubernetes_indexed_job(work):
    tmp, env = work
    shards = list(yaml.safe_load_all((K8S / "stress-shards.yaml").read_text()))
    (merge,) = yaml.safe_load_all((K8S / "stress-merge.yaml").read_text())
    pvc = [d for d in shards if d["kind"] == "PersistentVolumeClaim"][0]
    job = [d for d in shards if d["kind"] == "Job"][0]
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed"
    (c,) = spec["template"]["spec"]["containers"]
    cenv = {e["name"]: e["value"] for e in c["env"]}
    n = int(cenv["SHARDS"])
    assert spec["completions"] == spec["parallelism"] == n
    assert "ReadWriteMany" in pvc["spec"]["accessModes"]
    (m,) = merge["spec"]["template"]["spec"]["containers"]
    menv = {e["name"]: e["value"] for e in m["env"]}
    assert {k: menv[k] for k in ("SHARDS", "RUN", "RESULTS")} == \
        {k: cenv[k] for k in ("SHARDS", "RUN", "RESULTS")}
    # Both mount the claim at the folder RESULTS names.
    for pod, cont in ((spec["template"]["spec"], c), (merge["spec"]["template"]["spec"], m)):
        (vol,) = pod["volumes"]
        assert vol["persistentVolumeClaim"]["claimName"] == pvc["metadata"]["name"]
        (mnt,) = cont["volumeMounts"]
        assert mnt["name"] == vol["name"] and mnt["mountPath"] == cenv["RESULTS"]
    assert c["command"] == m["command"] == ["/bin/sh", "-c"]
    script = c["args"][0]
    check_flags(script)
    assert "JOB_COMPLETION_INDEX" in script

    run_env = dict(env, **{k: v for k, v in cenv.items() if k not in ("CAMPAIGN", "SEED")})
    run_env["RESULTS"] = str(tmp / "results")
    for i in range(n):       # Kubernetes numbers the pods from 0
        r = sh(script, dict(run_env, JOB_COMPLETION_INDEX=str(i)), ROOT, shell=("/bin/sh", "-c"))
        assert r.returncode == 0, r
        assert f"shard {i + 1}/{n}: stress exit " in r.stdout, r.stdout
        check_shard(tmp / "results" / cenv["RUN"] / f"shard-{i + 1}", i + 1, n)
    r = sh(m["args"][0], dict(run_env), ROOT, shell=("/bin/sh", "-c"))
    assert r.returncode == 1, r          # the flaky job's verdict, over all the shards
    assert f"merging {n} of {n} shards" in r.stdout, r.stdout
    check_merged(tmp / "results" / cenv["RUN"] / "merged", n)


def gha_expand(script, values):
    def sub(mt):
        key = mt.group(1).strip()
        assert key in values, f"unknown expression ${{{{ {key} }}}}"
        return values[key]
    return re.sub(r"\$\{\{(.*?)\}\}", sub, script)


def test_github_actions_matrix(work):
    tmp, env = work
    path = CI / "github-actions.yml"
    assert ".github" not in path.parts
    wf = yaml.safe_load(path.read_text())
    assert wf.get("on", wf.get(True))["schedule"], "runs nightly on a schedule"
    n = int(wf["env"]["SHARDS"])
    jobs = wf["jobs"]
    shard, merge = jobs["shard"], jobs["merge"]
    assert shard["strategy"]["matrix"]["shard"] == list(range(1, n + 1))
    assert shard["strategy"]["fail-fast"] is False
    assert "build" in shard["needs"] and set(merge["needs"]) >= {"build", "shard"}
    assert merge["if"] == "always()"
    run = [s for s in shard["steps"] if str(s.get("name", "")).startswith("shard ")][0]["run"]
    check_flags(run)
    up = [s for s in shard["steps"] if s.get("uses", "").startswith("actions/upload-artifact")][0]
    assert up["if"] == "always()" and up["with"]["name"] == "shard-${{ matrix.shard }}"
    assert up["with"]["path"] == "shards/shard-${{ matrix.shard }}"
    down = [s for s in merge["steps"] if s.get("uses", "").startswith("actions/download-artifact")
            and s["with"].get("pattern")][0]
    assert down["with"] == {"pattern": "shard-*", "path": "shards"}
    junit = [s for s in merge["steps"] if "junit" in s.get("uses", "")][0]
    assert junit["with"]["report_paths"] == "shards/merged/junit.xml" and junit["if"] == "always()"
    mrun = [s for s in merge["steps"] if s.get("name") == "merge"][0]["run"]

    wenv = dict(env, SHARDS=str(n), GITHUB_STEP_SUMMARY=str(tmp / "step-summary.md"))
    for k in shard["strategy"]["matrix"]["shard"]:
        script = gha_expand(run, {"matrix.shard": str(k), "needs.build.outputs.seed": SEED,
                                  "env.SHARDS": str(n)})
        r = sh(script, wenv, tmp)
        assert r.returncode == 0, r
        # upload shards/shard-K as artifact shard-K; download it to shards/shard-K: the same.
        check_shard(tmp / "shards" / f"shard-{k}", k, n)
    r = sh(gha_expand(mrun, {}), wenv, tmp)
    assert r.returncode == 1, r
    check_merged(tmp / "shards" / "merged", n)
    assert "## flaky" in (tmp / "step-summary.md").read_text()


def test_gitlab_ci_parallel(work):
    tmp, env = work
    path = CI / "gitlab-ci.yml"
    ci = yaml.safe_load(path.read_text())
    n = int(ci["variables"]["SHARDS"])
    shard, merge = ci["stress-shard"], ci["stress-merge"]
    assert shard["parallel"] == n
    assert "stress-build" in shard["needs"] and "stress-shard" in merge["needs"]
    assert merge["when"] == "always" and shard["artifacts"]["when"] == "always"
    assert shard["artifacts"]["paths"] == ["shards/"]
    assert merge["artifacts"]["reports"]["junit"] == "shards/merged/junit.xml"
    assert ci["stress-build"]["artifacts"]["reports"]["dotenv"] == "seed.env"
    # GitLab runs a job's script lines in one shell; apt-get is the image's business.
    lines = lambda job: "\n".join(l for l in job["script"] if not l.startswith("apt-get"))
    check_flags(lines(shard))
    assert '--shard "$CI_NODE_INDEX/$CI_NODE_TOTAL"' in lines(shard)

    for k in range(1, n + 1):        # GitLab numbers parallel jobs from 1
        r = sh(lines(shard), dict(env, CI_NODE_INDEX=str(k), CI_NODE_TOTAL=str(n)), tmp)
        assert r.returncode == 0, r
        check_shard(tmp / "shards" / f"shard-{k}", k, n)
    r = sh(lines(merge), dict(env, SHARDS=str(n)), tmp)
    assert r.returncode == 1, r
    check_merged(tmp / "shards" / "merged", n)
