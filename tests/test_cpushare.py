"""CPU threads per model job: the budget (affinity, container quota) and the others' load."""

from __future__ import annotations

import subprocess
import sys
import time

import torch

from app.jobs import ModelJobs
from app.settings import Settings
from app.state import Services
from ovhhir_core.cpushare import CpuShare, _busy_ticks, cpu_budget


def test_budget_is_capped_by_a_container_quota(tmp_path):
    affinity = cpu_budget(tmp_path / "none")
    (tmp_path / "cpu.max").write_text("150000 100000\n")  # 1.5 CPUs: 2 threads at most
    assert cpu_budget(tmp_path) == min(affinity, 2)
    (tmp_path / "cpu.max").write_text("50000 100000\n")
    assert cpu_budget(tmp_path) == 1
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert cpu_budget(tmp_path) == affinity
    v1 = tmp_path / "v1"
    (v1 / "cpu").mkdir(parents=True)
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("100000")
    (v1 / "cpu" / "cpu.cfs_period_us").write_text("100000")
    assert cpu_budget(v1) == 1


def test_busy_ticks_leave_out_idle_and_iowait():
    assert _busy_ticks("cpu  10 1 5 100 7 2 3 4 0 0\ncpu0 1 1 1 1\n") == 10 + 1 + 5 + 2 + 3 + 4
    assert _busy_ticks("garbage") is None


def test_threads_follow_what_the_others_leave_free():
    share = CpuShare(budget=2, cores=2)
    assert share.threads() == 2  # quiet
    for _ in range(6):  # six one-second samples: the machine 2 cores busy, 0.1 of them ours
        share.observe(1.0, 2.0, 0.1)
    assert share.others > 1.5 and share.threads() == 1
    for _ in range(8):  # the others left
        share.observe(1.0, 1.9, 1.9)
    assert share.others < 0.05 and share.threads() == 2
    big = CpuShare(budget=16, cores=16)
    big.others = 3.0
    assert big.threads() == 13
    container = CpuShare(budget=2, cores=64)  # a 2-CPU quota on a big, busy host
    container.others = 40.0
    assert container.threads() == 2  # 24 host cores idle: its threads will run
    container.others = 63.5
    assert container.threads() == 1
    assert share.status() == {"budget": 2, "others": share.others.__round__(2), "threads": 2}


def test_sampling_sees_two_busy_processes():
    spin = "import time\nend = time.time() + 6\nwhile time.time() < end: pass\n"
    procs = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(2)]
    share = CpuShare(budget=2, interval_s=0.25, cores=2)
    try:
        time.sleep(0.5)  # the busy processes are running
        share.start()
        deadline = time.monotonic() + 4
        while share.others < 1.0 and time.monotonic() < deadline:
            time.sleep(0.25)
        assert share.others >= 1.0, share.status()
        assert share.threads() == 1
    finally:
        share.stop()
        for p in procs:
            p.kill()
            p.wait()


def test_each_job_runs_on_the_threads_it_was_given(tmp_path):
    services = Services(Settings(preset="tiny", device="cpu"), root=tmp_path)
    before = torch.get_num_threads()
    try:
        services.cpu.stop()  # the figures below are set by hand
        services.cpu.budget = services.cpu.cores = 2
        seen = {}
        for others in (1.9, 0.0):
            services.cpu.others = others
            job = services.jobs.submit("s", "track", lambda job: torch.get_num_threads())
            seen[others] = (job.result(10), job.threads)
        assert seen[1.9] == (1, 1) and seen[0.0] == (2, 2)
    finally:
        services.close()
        torch.set_num_threads(before)


def test_on_start_runs_in_the_jobs_thread_each_time_it_gets_the_model():
    calls = []
    jobs = ModelJobs(slice_s=0.0, on_start=lambda job: calls.append(job.kind))
    job = jobs.submit("a", "track", lambda job: [job.step(i, 3) for i in range(3)])
    job.result(10)
    assert calls == ["track"]  # nobody waited: no hand-over, one start


def test_the_job_log_line_says_its_threads(caplog):
    caplog.set_level("INFO", logger="app.jobs")
    jobs = ModelJobs(on_start=lambda job: setattr(job, "threads", 1))
    jobs.submit("a", "track", lambda job: None).result(10)
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("job ")]
    assert "kind=track" in line and "threads=1 done" in line
