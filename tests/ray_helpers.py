"""One local Ray for every test that needs one (``ray_cluster``, session scope).

Why these settings: 2 CPUs (this machine's cores) and a 128 MiB object store keep it small; no dashboard;
``RAY_AUTH_MODE=disabled``, else the first ``ray.init`` writes an auth token under the home folder and turns
token authentication on; a short temp folder, as Ray's socket paths break past ~107 characters.

Ray's worker processes inherit the environment the node started with, not the driver's ``sys.path``: the
harness test models (an entry-point folder) and the tests folder go on ``PYTHONPATH`` before ``ray.init``,
so replicas find the models the driver finds.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import tempfile

import pytest

from harness_helpers import TESTS_DIR, install_test_models

OBJECT_STORE_BYTES = 128 * 1024**2

needs_ray = pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                               reason="ray is not installed (pip install 'omnidiff[ray]')")


@pytest.fixture(scope="session")
def ray_cluster(tmp_path_factory):
    """The ``ray`` module, connected to a local 2-CPU Ray; the test models are importable on its workers."""
    import ray

    models = install_test_models(tmp_path_factory.mktemp("ray-models"))
    temp_dir = tempfile.mkdtemp(prefix="rt-", dir="/tmp")
    paths = [str(models), str(TESTS_DIR), os.environ.get("PYTHONPATH", "")]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAY_AUTH_MODE", "disabled")
        mp.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))
        mp.syspath_prepend(str(TESTS_DIR))
        mp.syspath_prepend(str(models))
        ray.init(address="local", num_cpus=2, include_dashboard=False, object_store_memory=OBJECT_STORE_BYTES,
                 _temp_dir=temp_dir, logging_level=logging.WARNING, log_to_driver=False)
        try:
            yield ray
        finally:
            ray.shutdown()
            shutil.rmtree(temp_dir, ignore_errors=True)
