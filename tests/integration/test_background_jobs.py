"""Background jobs end to end: ids at once, results later, failures as events, owners only, restarts."""

from __future__ import annotations

import asyncio
import re
import signal
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from bridge.auth.signing import auth_params
from bridge.calls import Outcome
from bridge.events.model import Event
from bridge.rpc.values import response_to_outcome, to_value
from bridge.settings import Settings
from bridge.store.factory import open_stores
from bridge.store.records import Job
from bridge.testing import Deployment, RunningProcess, deployment, start_role, wait_until
from rpcbridge.v1 import worker_pb2, worker_pb2_grpc
from tests.integration.conftest import EXAMPLE_WORKER, json_rpc
from tests.integration.test_authentication import rpcbridge

JOB_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture(scope="module")
def jobs_bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Deployment, dict[str, str]]]:
    """A deployment of the example worker with users alice and bob."""
    scratch = tmp_path_factory.mktemp("jobs")
    with deployment([EXAMPLE_WORKER], scratch=scratch) as running:
        data = scratch / "data"
        keys = {name: rpcbridge(data, "users", "add", name) for name in ("alice", "bob")}
        yield running, keys


def call(url: str, method: str, *params: Any) -> dict[str, Any]:
    """One JSON-RPC call; the reply object (result or error)."""
    _, answer = json_rpc(url + "/rpc", {"jsonrpc": "2.0", "method": method, "params": list(params), "id": 1})
    assert isinstance(answer, dict)
    return answer


def submit(url: str, procedure: str, *params: Any) -> str:
    """Call a background procedure; the job id it answers with."""
    answer = call(url, procedure, *params)
    job_id = answer["result"]
    assert JOB_ID.fullmatch(job_id), answer
    return str(job_id)


def state(url: str, job_id: str, *auth: Any) -> str:
    return str(call(url, "system.jobStatus", *auth, job_id)["result"]["state"])


def stored(settings: Settings, job_id: str) -> tuple[Job | None, list[Event]]:
    """The job's row and every event, read from the deployment's store."""

    async def read() -> tuple[Job | None, list[Event]]:
        stores = await open_stores(settings)
        try:
            return await stores.jobs.get(job_id), await stores.events.list_since(0, limit=1000)
        finally:
            await stores.close()

    return asyncio.run(read())


def grpc_call(address: str, procedure: str, *params: Any) -> Outcome:
    """One Invoke on the sidecar, as a gRPC client makes it."""
    request = worker_pb2.InvokeRequest(procedure=procedure, params=[to_value(p) for p in params])
    with grpc.insecure_channel(address) as channel:
        response: worker_pb2.InvokeResponse = worker_pb2_grpc.WorkerStub(channel).Invoke(request, timeout=10)
    return response_to_outcome(response)


def test_job_id_comes_back_before_the_job_finishes(jobs_bridge: tuple[Deployment, dict[str, str]]) -> None:
    """A background call answers a job id while the job is still queued or running; its result waits."""
    bridge, _ = jobs_bridge
    job_id = submit(bridge.url, "jobs.sleep", 20)
    status = call(bridge.url, "system.jobStatus", job_id)["result"]
    assert status["id"] == job_id and status["procedure"] == "jobs.sleep"
    assert status["state"] in ("queued", "running") and status["finished"] is None
    assert status["created"].endswith("+00:00")
    error = call(bridge.url, "system.jobResult", job_id)["error"]
    assert (error["code"], error["data"]["id"]) == (-32008, job_id)


def test_succeeded_job_gives_its_result(jobs_bridge: tuple[Deployment, dict[str, str]]) -> None:
    """jobStatus reaches succeeded, with start and finish times, and jobResult answers the value."""
    bridge, _ = jobs_bridge
    job_id = submit(bridge.url, "jobs.slow_add", 2, 3)
    wait_until(lambda: state(bridge.url, job_id) == "succeeded")
    status = call(bridge.url, "system.jobStatus", job_id)["result"]
    assert status["started"] and status["finished"]
    assert call(bridge.url, "system.jobResult", job_id)["result"] == 5
    with xmlrpc.client.ServerProxy(bridge.url + "/rpc") as proxy:
        assert proxy.system.jobResult(job_id) == 5


def test_failed_jobs_give_their_fault_and_leave_an_event(
    jobs_bridge: tuple[Deployment, dict[str, str]],
) -> None:
    """A crash or a fault fails the job, jobResult gives the fault, and a job.failed event is stored."""
    bridge, _ = jobs_bridge
    crashed = submit(bridge.url, "jobs.fail")
    refused = submit(bridge.url, "jobs.fail", 7, "no luck")
    wait_until(lambda: state(bridge.url, crashed) == state(bridge.url, refused) == "failed")
    assert call(bridge.url, "system.jobResult", crashed)["error"]["code"] == -32603
    error = call(bridge.url, "system.jobResult", refused)["error"]
    assert (error["code"], error["message"]) == (7, "no luck")
    _, events = stored(Settings(data_dir=bridge.scratch / "data"), refused)
    failures = {e.data["job"]: e for e in events if e.type == "job.failed"}
    assert failures[refused].data == {
        "job": refused,
        "procedure": "jobs.fail",
        "code": 7,
        "message": "no luck",
    }
    assert failures[crashed].data["code"] == -32603
    assert failures[crashed].data["message"] == "Internal error"
    assert failures[refused].procedure == "jobs.fail"
    assert "RuntimeError: the job failed" in bridge.workers[0].log()
    assert f"job id={crashed} procedure=jobs.fail" in bridge.sidecar.log()


def test_job_of_an_auth_procedure_is_visible_only_to_its_user(
    jobs_bridge: tuple[Deployment, dict[str, str]],
) -> None:
    """Only alice sees alice's job: anonymous callers must authenticate, bob is told it does not exist."""
    bridge, keys = jobs_bridge
    assert call(bridge.url, "jobs.whoami")["error"]["code"] == -32001
    job_id = submit(bridge.url, "jobs.whoami", *auth_params("alice", keys["alice"]))
    wait_until(lambda: state(bridge.url, job_id, *auth_params("alice", keys["alice"])) == "succeeded")
    alice = call(bridge.url, "system.jobResult", *auth_params("alice", keys["alice"]), job_id)
    assert alice["result"] == "alice"
    assert call(bridge.url, "system.jobResult", job_id)["error"]["code"] == -32001
    bob = call(bridge.url, "system.jobResult", *auth_params("bob", keys["bob"]), job_id)
    assert bob["error"]["code"] == -32009


def test_job_methods_are_listed_and_described(jobs_bridge: tuple[Deployment, dict[str, str]]) -> None:
    """system.listMethods names the job methods and methodHelp describes them."""
    bridge, _ = jobs_bridge
    methods = call(bridge.url, "system.listMethods")["result"]
    assert {"system.jobStatus", "system.jobResult"} <= set(methods)
    assert "background job" in call(bridge.url, "system.methodHelp", "system.jobStatus")["result"]


def restart_with_a_queued_job(bridge: Deployment, settings: Settings, settings_args: list[str]) -> None:
    """Kill the worker, submit a job (accepted and stored), stop the sidecar, bring both back: it runs."""
    address = bridge.workers[0].facts["address"]
    bridge.workers[0].stop(signal.SIGKILL)
    # The catalogue still lists the worker (no refresh yet), so the job is accepted and stored.
    job_id = submit(bridge.url, "jobs.slow_add", 20, 22)
    wait_until(
        lambda: f"job id={job_id} procedure=jobs.slow_add attempt=1 outcome=retry" in bridge.sidecar.log()
    )
    assert bridge.sidecar.stop() == 0
    job, _ = stored(settings, job_id)
    assert job is not None and job.state == "queued"

    def again(role: str, args: list[str]) -> RunningProcess:
        common = ["--data-dir", str(bridge.scratch / "data"), *settings_args]
        process = start_role(role, [*args, *common], bridge.scratch, bridge.env)
        bridge.extra.append(process)
        return process

    again("worker", [EXAMPLE_WORKER, "--listen", address])
    sidecar = again("sidecar", ["--grpc-port", "0", "--admin-port", "0", "--worker", address])
    grpc_address = sidecar.facts["grpc"]

    def finished() -> bool:
        outcome = grpc_call(grpc_address, "system.jobStatus", job_id)
        return bool(getattr(outcome, "value", {}).get("state") == "succeeded")

    wait_until(finished, timeout=30)
    assert getattr(grpc_call(grpc_address, "system.jobResult", job_id), "value", None) == 42
    job, _ = stored(settings, job_id)
    assert job is not None and job.attempts >= 2


# No catalogue refresh: the sidecar keeps the killed worker listed until a call finds it gone.
# Retries at most a second apart, so the restarted sidecar runs the job without a long backoff.
RESTART_ENV = {"RPCBRIDGE_CATALOGUE_REFRESH_SECONDS": "3600", "RPCBRIDGE_JOB_RETRY_MAX_SECONDS": "1"}


def test_queued_job_runs_after_sidecar_and_worker_restart(tmp_path: Path) -> None:
    """A job accepted while its worker was down survives a sidecar stop and runs when both are back."""
    with deployment([EXAMPLE_WORKER], env=RESTART_ENV, scratch=tmp_path) as bridge:
        restart_with_a_queued_job(bridge, Settings(data_dir=tmp_path / "data"), [])


@pytest.mark.postgres
def test_queued_job_runs_after_restart_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    """The same restart with the jobs stored in PostgreSQL."""
    config = tmp_path / "rpcbridge.toml"
    config.write_text(f'database_url = "{postgres_url}"\n')
    settings_args = ["--config", str(config)]
    with deployment(
        [EXAMPLE_WORKER], settings_args=settings_args, env=RESTART_ENV, scratch=tmp_path
    ) as bridge:
        restart_with_a_queued_job(bridge, Settings(database_url=postgres_url), settings_args)


def start_another_sidecar(bridge: Deployment) -> RunningProcess:
    """A sidecar on the deployment's data directory and first worker, as after a restart."""
    address = bridge.workers[0].facts["address"]
    args = ["--grpc-port", "0", "--admin-port", "0", "--data-dir", str(bridge.scratch / "data")]
    sidecar = start_role("sidecar", [*args, "--worker", address], bridge.scratch, bridge.env)
    bridge.extra.append(sidecar)
    return sidecar


def test_sidecar_stopped_mid_job_puts_it_back_and_runs_it_again(tmp_path: Path) -> None:
    """SIGTERM during a run: the job goes back to the queue, and the next sidecar runs it again."""
    with deployment([EXAMPLE_WORKER], scratch=tmp_path) as bridge:
        settings = Settings(data_dir=tmp_path / "data")
        job_id = submit(bridge.url, "jobs.sleep", 60)
        wait_until(lambda: state(bridge.url, job_id) == "running")
        assert bridge.sidecar.stop() == 0
        job, _ = stored(settings, job_id)
        assert job is not None and (job.state, job.attempts) == ("queued", 1)
        start_another_sidecar(bridge)

        def rerunning() -> bool:
            job, _ = stored(settings, job_id)
            return job is not None and job.state == "running" and job.attempts == 2

        wait_until(rerunning)
