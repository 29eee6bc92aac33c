"""Jobs survive what workers and sidecars do: killed workers, dead sidecars, long runs; job ids reach them."""

from __future__ import annotations

import signal
from pathlib import Path

from bridge.settings import Settings
from bridge.testing import deployment, start_role, wait_until
from tests.integration.conftest import EXAMPLE_WORKER
from tests.integration.test_background_jobs import call, start_another_sidecar, state, stored, submit

# A short lease, renewed often, so that a dead sidecar's jobs come back within the test's patience.
SHORT_LEASE = {"RPCBRIDGE_JOB_LEASE_SECONDS": "2", "RPCBRIDGE_JOB_HEARTBEAT_SECONDS": "0.5"}
JOBS_IN_FLIGHT = 4


def test_procedure_gets_its_job_id(tmp_path: Path) -> None:
    """`call_context().job_id` in a background procedure is the id its submitter received."""
    with deployment([EXAMPLE_WORKER], scratch=tmp_path) as bridge:
        job_id = submit(bridge.url, "jobs.job_id")
        wait_until(lambda: state(bridge.url, job_id) == "succeeded")
        assert call(bridge.url, "system.jobResult", job_id)["result"] == job_id


def test_jobs_on_a_worker_killed_mid_run_all_run_again(tmp_path: Path) -> None:
    """SIGKILL the worker while it runs several jobs: none ends failed, every one succeeds on its return."""
    env = {"RPCBRIDGE_JOB_RETRY_MAX_SECONDS": "1", "RPCBRIDGE_JOB_CONCURRENCY": str(JOBS_IN_FLIGHT)}
    with deployment([EXAMPLE_WORKER], env=env, scratch=tmp_path) as bridge:
        settings = Settings(data_dir=tmp_path / "data")
        address = bridge.workers[0].facts["address"]
        ids = [submit(bridge.url, "jobs.sleep", 30) for _ in range(JOBS_IN_FLIGHT)]
        wait_until(lambda: all(state(bridge.url, job_id) == "running" for job_id in ids))
        bridge.workers[0].stop(signal.SIGKILL)
        args = [EXAMPLE_WORKER, "--listen", address, "--data-dir", str(tmp_path / "data")]
        bridge.extra.append(start_role("worker", args, tmp_path, bridge.env))
        # The reruns sleep 30 s too; what matters is that they start again rather than fail.
        for job_id in ids:
            wait_until(lambda job_id=job_id: stored(settings, job_id)[0].attempts >= 2, timeout=30)  # type: ignore[union-attr]
        for job_id in ids:
            job, _ = stored(settings, job_id)
            assert job is not None and job.state in ("running", "queued"), job


def test_dead_sidecars_jobs_are_taken_over_within_a_lease(tmp_path: Path) -> None:
    """SIGKILL the sidecar mid-job: a second sidecar on the same store runs the job again within seconds."""
    with deployment([EXAMPLE_WORKER], env=SHORT_LEASE, scratch=tmp_path) as bridge:
        settings = Settings(data_dir=tmp_path / "data")
        job_id = submit(bridge.url, "jobs.sleep", 1)
        wait_until(lambda: state(bridge.url, job_id) == "running")
        bridge.sidecar.stop(signal.SIGKILL)
        job, _ = stored(settings, job_id)
        assert job is not None and (job.state, job.attempts) == ("running", 1)
        start_another_sidecar(bridge)

        def succeeded_again() -> bool:
            job, _ = stored(settings, job_id)
            return job is not None and job.state == "succeeded"

        wait_until(succeeded_again, timeout=20)
        job, _ = stored(settings, job_id)
        assert job is not None and job.attempts == 2


def test_heartbeat_keeps_a_run_longer_than_the_lease(tmp_path: Path) -> None:
    """A live sidecar renews its claim: a job running for twice the lease runs exactly once."""
    with deployment([EXAMPLE_WORKER], env=SHORT_LEASE, scratch=tmp_path) as bridge:
        settings = Settings(data_dir=tmp_path / "data")
        job_id = submit(bridge.url, "jobs.sleep", 4)
        wait_until(lambda: state(bridge.url, job_id) == "succeeded", timeout=20)
        job, _ = stored(settings, job_id)
        assert job is not None and job.attempts == 1
