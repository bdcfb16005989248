"""One writer at a time, tested with real concurrent processes: a second writer exits 1 naming the first's PID."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from annotations import Store
from annotations.compact import compact_store
from annotations.locks import LockHeld
from conftest import REPO, make_record
from harness_helpers import TESTS_DIR, install_test_models

HOLDER = r"""
import sys, time
sys.path.insert(0, {repo!r})
from annotations import Store
store = Store.open({root!r})
with store.writer("a test holder"):
    print("holding", flush=True)
    time.sleep(120)
"""


def cli(*args: str, env: dict | None = None, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "cli", *map(str, args)], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env or {**os.environ, "PYTHONPATH": str(REPO)}, **kw)


def wait_for(predicate, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def held_store(small_store):
    """small_store with its writer lock held by another process (killed at the end)."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER.format(repo=str(REPO), root=str(small_store.root))],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "holding"
    yield small_store, proc
    proc.kill()
    proc.wait(timeout=30)


def test_every_writer_refuses_a_store_another_process_writes(held_store, run_cli, tmp_path):
    store, holder = held_store
    message = re.escape(f"is in use by PID {holder.pid} (a test holder)")
    with pytest.raises(LockHeld, match=message):
        Store.open(store.root).append([make_record(40)])
    with pytest.raises(LockHeld, match=message):
        Store.open(store.root).update_info(x=1)
    with pytest.raises(LockHeld, match=message):
        compact_store(store.root)
    res = run_cli("compact", store.root)
    assert res.code == 1 and re.search(message, " ".join(res.err.split())) and len(res.err.strip().splitlines()) == 1
    assert len(Store.open(store.root)) == 10
    holder.kill()
    holder.wait(timeout=30)  # the kernel drops the lock of a killed holder: nothing stale is left behind
    Store.open(store.root).append([make_record(40)])
    assert len(Store.open(store.root)) == 11


def test_the_lock_is_reentrant_within_a_process(small_store):
    with small_store.writer("outer"):
        small_store.append([make_record(41)])
        small_store.update_info(y=2)
    assert len(Store.open(small_store.root)) == 11 and Store.open(small_store.root).info["y"] == 2


@pytest.mark.timeout(600)
def test_a_second_render_into_a_store_exits_at_once_naming_the_first(tmp_path):
    out = tmp_path / "r"
    first = cli("render", "--scenes", "200", "--profile", "test", "--pairs-per-scene", "1", "--out", out,
                start_new_session=True)
    try:
        wait_for(lambda: (out / ".omnidiff.lock").is_file() and (out / ".omnidiff.lock").read_text().startswith(f"{first.pid} "))
        second = cli("render", "--scenes", "3", "--profile", "test", "--out", out)
        _, err = second.communicate(timeout=120)
        assert second.returncode == 1
        assert f"is in use by PID {first.pid} (omnidiff render)" in " ".join(err.split())
        assert len([line for line in err.splitlines() if line.strip()]) == 1
        assert first.poll() is None  # the first render goes on
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)


@pytest.mark.timeout(300)
def test_a_second_eval_of_the_same_model_benchmark_and_split_exits_without_a_request(small_store, tmp_path):
    models = install_test_models(tmp_path / "site")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(models), str(TESTS_DIR), str(REPO)])}
    log, results = tmp_path / "calls.log", tmp_path / "results"
    args = ("eval", "--model", "counting", "--data", small_store.root, "--results", results, "--no-spice",
            "--no-progress", "--batch-size", "1")
    first = cli(*args, "--model-arg", f"log={log}", "--model-arg", "delay=0.5", env=env)
    try:
        wait_for(lambda: log.is_file() and log.read_text().strip())
        second = cli(*args, "--model-arg", f"log={tmp_path / 'second.log'}", env=env)
        _, err = second.communicate(timeout=120)
        assert second.returncode == 1, err
        assert f"is in use by PID {first.pid} (omnidiff eval counting)" in " ".join(err.split())
        assert len([line for line in err.splitlines() if line.strip()]) == 1
        assert not (tmp_path / "second.log").exists()  # refused before the model was loaded: no request sent
        _, first_err = first.communicate(timeout=240)
        assert first.returncode == 0, first_err
    finally:
        if first.poll() is None:
            first.kill()
    assert sorted(log.read_text().split()) == small_store.pair_ids("test")
