"""A two-node Ray cluster on this machine, and `revoice serve --ray` deployed on it.

The cluster (`ray.cluster_utils.Cluster`: a head node and a worker node, each with its own
raylet, on loopback) lives for the module; this test process joins it as a driver to look at
the deployments and to kill a replica. The server is the real command, `revoice serve --ray
--address <cluster>`, with two ASR replicas, spread over the two nodes by Ray Serve.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.helpers import Server, running_server
from tests.api.test_server_process import client, rates  # noqa: F401 (the SDK on the server)

ray = pytest.importorskip(
    "ray", reason="the ray extra is not installed (.venv/bin/pip install -e '.[ray]')"
)
from ray import serve  # noqa: E402
from ray.cluster_utils import Cluster  # noqa: E402

#: TTS engines deployed in the tests: the shipped ones, and Bark (no weights here: its
#: replica's load error must reach the client as on a single machine)
TTS_ENGINES = '["piper", "kokoro", "bark"]'
ASR_REPLICAS = 2
APP = "revoice"


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    nodes = Cluster(
        initialize_head=True,
        # logical CPUs: what Ray schedules by, not cores; enough for every replica
        head_node_args={"num_cpus": 4, "include_dashboard": False},
    )
    nodes.add_node(num_cpus=4)
    nodes.wait_for_nodes()
    ray.init(address=nodes.address, namespace="revoice-tests", log_to_driver=False)
    try:
        yield nodes
    finally:
        ray.shutdown()
        nodes.shutdown()


@pytest.fixture(scope="module")
def revoice_server(
    cluster: Cluster, revoice_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """`revoice serve --ray` on the cluster; healthy on entry, taken down after the module."""
    env = {
        "REVOICE_RAY__PROXY_LOCATION": "HeadOnly",  # both nodes share this host's ports
        "REVOICE_RAY__ASR__REPLICAS": str(ASR_REPLICAS),
        "REVOICE_RAY__TTS_ENGINES": TTS_ENGINES,
        "REVOICE_BARK__VOICES": "on",  # listed without weights: its 503 is tested
        "RAY_USAGE_STATS_ENABLED": "0",
    }
    workdir = tmp_path_factory.mktemp("revoice-ray-serve")
    args = ["--ray", "--address", cluster.address]
    with running_server(revoice_home, workdir, args, env) as server:
        yield server


@pytest.fixture(scope="module")
def asr_handle(revoice_server: Server) -> serve.handle.DeploymentHandle:
    return serve.get_deployment_handle("asr", app_name=APP)


@pytest.fixture(scope="module")
def server(revoice_server: Server) -> Server:
    """The name the page tests use for the server they drive."""
    return revoice_server
