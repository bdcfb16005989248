"""``render --scenes`` bounds and the lazy job plan (no Blender needed: nothing is rendered)."""

from __future__ import annotations

import itertools
import tracemalloc

import pytest

from generators.synthetic.run import MAX_SCENES, RenderOptions, check_options, plan_jobs, scene_id_of
from generators.synthetic.scene_job import scene_id_for


@pytest.mark.timeout(60)
@pytest.mark.parametrize("scenes", ["99999999999999999999", str(10**12), str(MAX_SCENES + 1)])
def test_absurd_scene_counts_are_refused_before_any_store(run_cli, tmp_path, scenes):
    out = tmp_path / "store"
    res = run_cli("render", "--scenes", scenes, "--profile", "test", "--out", out)
    assert res.code == 1 and f"--scenes {scenes}: at most 10,000,000 scenes" in res.err
    assert len(res.err.strip().splitlines()) == 1
    assert not out.exists()


def test_the_plan_is_lazy_and_resume_counts_are_exact(tmp_path):
    opts = RenderOptions(out=tmp_path / "s", scenes=MAX_SCENES, preset="clevr-change", profile="test", seed=5,
                         shard=(1, 3))
    check_options(opts)
    sid = lambda i, seed=5, preset=opts.preset: scene_id_for(preset, seed, i)  # noqa: E731
    done = {sid(1), sid(4), sid(7),  # this plan's
            sid(2), sid(MAX_SCENES + 1), sid(4, seed=6), sid(4, preset="omnidiff"),  # other shard, count, seed, preset
            f"{opts.preset}-s5-4", f"{opts.preset}-s5-x00004", "unrelated"}  # not canonical ids
    tracemalloc.start()
    plan = plan_jobs(opts, done, bpy_version="5.0.1")
    first = list(itertools.islice(plan.jobs, 3))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert plan.skipped == 3
    assert plan.count == len(range(1, MAX_SCENES, 3)) - 3
    assert [j.scene_index for j in first] == [10, 13, 16]
    assert first[0].bpy_version == "5.0.1" and first[0].seed == 5
    assert peak < 1_000_000  # ten million scenes planned without a list of them


def test_a_small_plan_yields_exactly_its_count(tmp_path):
    opts = RenderOptions(out=tmp_path / "s", scenes=11, profile="test", seed=1, shard=(2, 4))
    check_options(opts)  # the omnidiff preset: rooms and streets, each scene id names its setting
    plan = plan_jobs(opts, {scene_id_of(opts, 6), scene_id_for(opts.preset, 1, 10)})  # the second: a tabletop id
    jobs = list(plan.jobs)
    assert [j.scene_index for j in jobs] == [2, 10] and plan.count == 2 and plan.skipped == 1
    assert {j.setting for j in jobs} <= {"indoor", "outdoor"}
    assert [scene_id_of(opts, j.scene_index) for j in jobs] == [j.scene_id for j in jobs]
