"""Decoded phases follow the true phases: head direction on a ring, lattice phase on a torus."""

import itertools

import numpy as np
import pytest

from core import synthetic
from core.decoding import (
    DecodeConfig,
    decode,
    fisher_lee_correlation,
    gauss_reduce,
    head_direction_agreement,
    integer_cocycle,
)
from core.errors import ConfigError
from core.pipeline import AnalysisConfig, run_analysis


def lattice_phases(recording, x, y):
    """True phase (rad) of each position in the lattice coordinates of core.synthetic.grid_rates."""
    s, o = recording.metadata["spacing_cm"], recording.metadata["orientation_rad"]
    lattice = s * np.array([[np.cos(o), np.cos(o + np.pi / 3)], [np.sin(o), np.sin(o + np.pi / 3)]])
    return 2 * np.pi * np.linalg.solve(lattice, np.stack([x, y]))


def best_torus_error(theta, true):
    """Median circular error (rad) per axis after the best unimodular change of basis and shift."""
    best = None
    for entries in itertools.product([-1, 0, 1], repeat=4):
        m = np.array(entries).reshape(2, 2)
        if abs(round(np.linalg.det(m))) != 1:
            continue
        predicted = m @ true
        offset = np.angle(np.mean(np.exp(1j * (theta.T - predicted)), axis=1))
        err = np.median(np.abs(np.angle(np.exp(1j * (theta.T - predicted - offset[:, None])))), axis=1)
        if best is None or err.sum() < best.sum():
            best = err
    return best


@pytest.mark.slow
def test_ring_decoding_follows_head_direction():
    rec = synthetic.head_direction_cells(n_units=20, duration_s=600.0, seed=2)
    res = run_analysis(rec, AnalysisConfig.from_preset("hd"))
    dec = decode(res.rate_matrix, res.point_cloud, res.persistence, res.significant["h1"])
    assert dec.n_circles == 1
    assert dec.theta.shape == (res.rate_matrix.n_bins, 1)
    assert (dec.theta >= 0).all() and (dec.theta < 2 * np.pi).all()
    agreement = dec.metrics["head_direction"]
    assert agreement["circular_correlation"] >= 0.9
    assert agreement["median_error_deg"] < 20
    pref = head_direction_agreement(dec.unit_phase[:, 0], np.array(rec.metadata["preferred_rad"]))
    assert pref["median_error_deg"] < 20


@pytest.mark.slow
def test_torus_decoding_matches_the_lattice_phase_and_finds_sixty_degrees():
    rec = synthetic.grid_module(n_units=100, duration_s=900.0, seed=1)
    res = run_analysis(rec, AnalysisConfig.from_preset("grid"))
    dec = decode(res.rate_matrix, res.point_cloud, res.persistence, res.significant["h1"])
    assert dec.n_circles == 2
    err = best_torus_error(dec.theta, lattice_phases(rec, dec.x, dec.y))
    assert np.degrees(err).max() < 20
    assert dec.torus_angle_deg == pytest.approx(60, abs=8)
    units = best_torus_error(dec.unit_phase, 2 * np.pi * np.array(rec.metadata["phases"]).T)
    assert np.degrees(units).max() < 25


def test_nothing_to_decode_says_so():
    rec = synthetic.independent_units(n_units=20, duration_s=120.0, seed=0)
    res = run_analysis(rec, AnalysisConfig.from_preset("hd"))
    with pytest.raises(ConfigError, match="nothing to decode"):
        decode(res.rate_matrix, res.point_cloud, res.persistence, 0)
    forced = decode(res.rate_matrix, res.point_cloud, res.persistence, 0, DecodeConfig(n_circles=1))
    assert forced.theta.shape[1] == 1


def test_circle_cocycle_gives_a_monotone_coordinate():
    from ripser import ripser

    from core.decoding import harmonic_circle, rips_edges

    angle = np.linspace(0, 2 * np.pi, 80, endpoint=False)
    points = np.c_[np.cos(angle), np.sin(angle)]
    out = ripser(points, coeff=47, do_cocycles=True)
    bar = int(np.argmax(out["dgms"][1][:, 1] - out["dgms"][1][:, 0]))
    d = np.linalg.norm(points[:, None] - points[None], axis=2)
    edges = rips_edges(d, 0.5)
    cedges, cvalues = integer_cocycle(out["cocycles"][1][bar], 47)
    f, _ = harmonic_circle(edges, 80, cedges, cvalues)
    theta = np.mod(2 * np.pi * f, 2 * np.pi)
    assert abs(fisher_lee_correlation(theta, angle)) > 0.999


def test_gauss_reduction_of_a_skewed_hexagonal_basis():
    hexagonal = np.array([[1.0, 0.5], [0.5, 1.0]])  # 60° between unit vectors
    skew = np.array([[1, 0], [3, 1]])  # b2 = 3 b1 + b2: long and nearly parallel
    gram = skew @ hexagonal @ skew.T
    basis = gauss_reduce(gram)
    reduced = basis @ gram @ basis.T
    assert abs(round(np.linalg.det(basis))) == 1
    assert reduced[0, 0] == pytest.approx(1.0) and reduced[1, 1] == pytest.approx(1.0)
    assert abs(reduced[0, 1]) == pytest.approx(0.5)


def test_fisher_lee_is_one_for_rotations_and_minus_one_for_reflections():
    a = np.random.default_rng(0).uniform(0, 2 * np.pi, 500)
    assert fisher_lee_correlation(a, a + 1.0) == pytest.approx(1.0)
    assert fisher_lee_correlation(a, -a + 2.0) == pytest.approx(-1.0)
    b = np.random.default_rng(1).uniform(0, 2 * np.pi, 500)
    assert abs(fisher_lee_correlation(a, b)) < 0.15
