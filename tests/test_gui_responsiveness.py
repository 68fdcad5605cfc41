"""What keeps the GUI honest and responsive while work runs: ETAs from measured progress only, tasks that
report progress and stop on cancel between their steps, and drawing that stays short on the GUI thread.
(How long the GUI thread stalls on a real run is measured by ``benchmarks/gui_stall.py``.)"""

import pytest

from canns_gui.tasks import EtaEstimator


def feed(eta, reports):
    return [eta.update(t, f) for t, f in reports]


def test_no_eta_during_start_up_nor_before_progress_has_been_measured():
    eta = EtaEstimator()
    # 12 s of process start-up at 0, then the first step past 0: nothing to measure a rate from yet
    assert feed(eta, [(0.0, 0.0), (6.0, 0.0), (12.0, 0.0), (12.0, 0.01)]) == [None] * 4
    assert eta.update(12.2, 0.02) is None  # two reports 0.2 s apart say nothing yet
    assert eta.update(12.4, 0.03) is None


def test_eta_follows_the_measured_rate_not_the_time_since_start():
    eta = EtaEstimator()
    feed(eta, [(0.0, 0.0), (12.0, 0.0)])  # start-up
    # then 1 % per 0.5 s: 100 % takes 50 s of work, whatever the 12 s before
    values = feed(eta, [(12.0 + 0.5 * i, 0.01 * (i + 1)) for i in range(20)])
    assert values[-1] == pytest.approx(0.8 * 50.0, rel=0.01)
    # the old estimate (elapsed × (1 − f) / f) said 21.5 × 0.8 / 0.2 = 86 s here
    settled = [v for v in values if v is not None]
    steps = [a - b for a, b in zip(settled, settled[1:], strict=False)]
    assert all(0.0 <= d <= 0.5 + 1e-9 for d in steps)  # counts down, no jumps


def test_eta_adapts_to_a_faster_stage_within_its_window_and_restarts_when_progress_goes_back():
    eta = EtaEstimator(window_s=5.0)
    feed(eta, [(float(t), 0.01 * t) for t in range(1, 31)])  # 1 %/s for 30 s
    assert eta.eta_s == pytest.approx(70.0, rel=0.01)
    feed(eta, [(30.0 + t, 0.30 + 0.05 * t) for t in range(1, 9)])  # then 5 %/s
    assert eta.eta_s == pytest.approx((1 - 0.70) / 0.05, rel=0.05)
    assert eta.update(39.0, 0.1) is None  # a stage started again: measure again
    assert eta.update(45.0, 1.0) == 0.0


def test_the_runner_shows_no_eta_until_progress_is_measured(qtbot):
    import threading

    from canns_gui.tasks import TaskRunner

    runner = TaskRunner()
    seen = []
    runner.progress.connect(lambda name, f, m, eta: seen.append(eta))
    go = threading.Event()

    def task(progress, cancel):
        progress(0.0, "starting")
        progress(0.5, "half")
        go.wait(30)
        return 1

    assert runner.eta_s is None
    runner.start("t", task)
    qtbot.waitUntil(lambda: len(seen) == 2)
    assert runner.eta_s is None and all(eta != eta for eta in seen)  # NaN: none shown
    go.set()
    qtbot.waitUntil(lambda: not runner.busy)


def test_a_large_scatter_is_drawn_in_parts_over_turns_of_the_event_loop(qtbot):
    import numpy as np
    import pyqtgraph as pg

    from canns_gui.views.common import SCATTER_CHUNK, ProgressiveScatter, colormap

    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    item = plot.getPlotItem()
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(2, 20_000))
    scatter = ProgressiveScatter(item)
    scatter.set_data(x, y, np.hypot(x, y), colormap("viridis"), (0.0, 3.0))
    assert scatter.n_drawn == SCATTER_CHUNK and not scatter.done  # the first part at once, the rest later
    qtbot.waitUntil(lambda: scatter.done)
    drawn = np.concatenate([it.getData()[0] for it in scatter.items])
    assert sorted(drawn) == sorted(x)  # every point, once
    first = list(scatter.items)
    scatter.set_data(x[:5000], y[:5000], x[:5000], colormap("viridis"), (-3.0, 3.0))
    scatter.set_data(x[:100], y[:100], x[:100], colormap("viridis"), (-3.0, 3.0))  # replaces the one before
    qtbot.waitUntil(lambda: scatter.done)
    qtbot.wait(20)
    assert scatter.items == first  # updated with setData, not recreated
    assert sum(len(it.getData()[0]) for it in scatter.items) == 100
    item.clear()  # the plot was cleared by its owner: the scatter comes back on the next draw
    scatter.set_data(x[:10], y[:10], x[:10], colormap("viridis"), (-3.0, 3.0))
    assert scatter.items[0] in item.items
    big = ProgressiveScatter(item, max_points=1000)
    big.set_data(x, y, x, colormap("viridis"), (-3.0, 3.0))
    qtbot.waitUntil(lambda: big.done)
    assert sum(len(it.getData()[0]) for it in big.items) == 1000  # a seeded subset beyond max_points


def test_a_long_run_is_thinned_for_drawing_without_losing_its_bump():
    import numpy as np

    from canns_gui.pages.simulate_views import MAX_IMAGE_COLUMNS, thin_space_time
    from core.simulation.analysis import SpaceTime

    n, neurons = 10_001, 16
    u = np.zeros((n, neurons), np.float32)
    u[5_000, 3] = 7.0  # one record's bump, between the kept columns
    t = np.arange(1, n + 1) * 0.01
    st = SpaceTime(np.arange(neurons) * 0.1, t, u, np.zeros(n), np.zeros(n))
    thin = thin_space_time(st)
    assert thin.u.shape[0] <= MAX_IMAGE_COLUMNS and thin.u.shape[0] == thin.t_s.size == thin.stimulus.size
    assert thin.u.max() == 7.0 and thin.t_s[-1] <= t[-1]
    short = SpaceTime(st.positions, t[:100], u[:100], st.bump[:100], None)
    assert thin_space_time(short) is short  # short runs are drawn as they are
