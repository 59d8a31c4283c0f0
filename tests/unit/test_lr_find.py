"""The LR finder as a tool: bounded in steps and time, weights restored, a suggestion that sits
before the loss minimum, and a result cached per project and settings."""

from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np
import torch

from engine.config import DEFAULT_LR
from engine.events import Progress
from engine.training import lr_find as lf
from engine.training.train import lr_find
from tests.support.projects import Recorder, make_project, tiny_config


class _SlowLearner:
    """Just what run_lr_find uses: a tiny linear model whose steps take `delay` seconds."""

    def __init__(self, delay: float):
        torch.manual_seed(0)
        self.model = torch.nn.Linear(4, 2)
        self.delay = delay
        self.config = SimpleNamespace(weight_decay=0.01)
        self.callbacks = [Recorder()]
        self.x, self.y = torch.randn(16, 4), torch.randint(0, 2, (16,))

    def batches(self, loader):
        for _ in range(loader):
            yield self.x, self.y, None

    def train_step(self, x, y, opt) -> float:
        time.sleep(self.delay)
        loss = torch.nn.functional.cross_entropy(self.model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return float(loss.detach())


def test_steps_follow_the_epoch_within_bounds():
    assert lf.finder_steps(3) == lf.MIN_STEPS
    assert lf.finder_steps(70) == 70
    assert lf.finder_steps(5000) == lf.MAX_STEPS


def test_a_slow_sweep_fits_its_time_budget_and_still_reaches_high_rates():
    learner = _SlowLearner(delay=0.1)
    lf.run_lr_find(learner, 10, num_it=2, budget_s=None)  # warm torch up (first AdamW step)
    before = {k: v.clone() for k, v in learner.model.state_dict().items()}
    t0 = time.perf_counter()
    res = lf.run_lr_find(learner, 10, num_it=100, budget_s=1.0)
    took = time.perf_counter() - t0
    assert took < 7  # 100 steps would take over 10 s; the floor of 16 steps about 2 s
    assert lf.FLOOR_STEPS <= len(res.lrs) < 30
    assert np.all(np.diff(res.lrs) > 0)
    assert res.lrs[-1] > 1e-2  # the sweep spread its rates over the steps that fit
    assert all(torch.equal(before[k], v) for k, v in learner.model.state_dict().items())
    progress = learner.callbacks[0].get("on_progress")
    assert progress and all(isinstance(p, Progress) and p.total >= p.done for p in progress)


def test_suggestion_is_the_smoothed_minimum_before_the_explosion():
    lrs = np.logspace(-6, 0, 60)
    x = np.log10(lrs)
    noise = np.random.default_rng(0).normal(0, 0.05, 60)  # real curves are noisy
    loss = 2.0 - 1.5 / (1 + np.exp(-(x + 3.5) * 3)) + noise  # falls around 3e-4
    loss[x > -2] += (x[x > -2] + 2) ** 2 * 4  # explodes past 1e-2
    s = lf.suggest(lrs, loss)
    assert 1e-3 <= s <= 1e-2  # low and before the explosion
    assert loss[np.searchsorted(lrs, s)] < loss[0] - 1.0
    assert np.isfinite(lf.smooth_log(lrs, loss)).all()


def test_a_sweep_whose_loss_never_falls_suggests_the_default():
    lrs = np.logspace(-6, 0, 40)
    flat = 1.0 + np.random.default_rng(1).normal(0, 0.001, 40)
    flat[-5:] += np.arange(5)  # only an explosion at the end
    assert lf.suggest(lrs, flat) == DEFAULT_LR


def test_fastai_valley_on_a_short_from_scratch_sweep_would_pick_far_too_low():
    """The case behind issue 8: a slow drift down from the start makes the longest falling
    stretch start at 1e-6, so 2/3 down it lands decades below the minimum; ours does not."""
    lrs = np.logspace(-6, 0, 30)
    x = np.log10(lrs)
    loss = 0.70 - 0.01 * (x + 6) - 0.5 / (1 + np.exp(-(x + 2.5) * 4))
    loss[x > -1.8] += (x[x > -1.8] + 1.8) ** 2 * 6
    assert lf.suggest(lrs, loss) >= 1e-3


def test_lr_find_is_cached_per_project_and_settings(tmp_path):
    project = make_project(tmp_path / "p", "classification", n=24)
    cfg = tiny_config(arch="mobilenet_v3_small")
    rec = Recorder()
    first = lr_find(project, cfg, [rec], num_it=12)
    assert rec.get("on_progress") and (project.path / "models" / lf.CACHE_FILE).is_file()
    assert len(first.lrs) == len(first.losses) >= 5 and np.all(np.isfinite(first.losses))
    assert first.lrs[0] <= first.suggestion <= first.lrs[-1]

    again = Recorder()
    second = lr_find(project, cfg, [again], num_it=12)
    assert not again.get("on_progress")  # read back, no new sweep
    assert second.suggestion == first.suggestion and np.allclose(second.lrs, first.lrs)

    other = Recorder()
    lr_find(project, tiny_config(arch="mobilenet_v3_small", batch_size=4), [other], num_it=12)
    assert other.get("on_progress")  # other settings: a new sweep
    fresh = Recorder()
    lr_find(project, tiny_config(arch="mobilenet_v3_small", batch_size=4), [fresh], num_it=12,
            use_cache=False)  # fmt: skip
    assert fresh.get("on_progress")
