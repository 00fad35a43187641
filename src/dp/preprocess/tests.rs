//! Unit tests of DP preprocessing's post-processing rules.

use super::body::*;
use super::continuous::{fewer_point_bins, PointBins};
use super::points::*;
use super::*;
use crate::transform::ContinuousEncoder;
use rand::SeedableRng;

#[test]
fn a_small_tables_histograms_get_fewer_bins() {
    // Adult-sized and credit-sized tables keep the configured 64.
    assert_eq!(histogram_bins(64, 26_048.0, 40.0), 64);
    assert_eq!(histogram_bins(64, 3_563.0, 30.0), 64);
    // diabetes: 442 rows at std 21.4 -> 20.6 rows per deviation -> 16 bins.
    assert_eq!(histogram_bins(64, 442.0, 21.4), 16);
    // A tiny table floors at 8; a configured count below that is kept.
    assert_eq!(histogram_bins(64, 100.0, 40.0), 8);
    assert_eq!(histogram_bins(4, 100.0, 40.0), 4);
    // A configured count that is not a power of two is kept where the rows allow it.
    assert_eq!(histogram_bins(100, 30_000.0, 10.0), 100);
    assert_eq!(histogram_bins(100, 700.0, 10.0), 64);
    // Nothing measured: the configured count.
    assert_eq!(histogram_bins(64, 50.0, 0.0), 64);
}

#[test]
fn small_tables_give_their_bounds_enough_budget_to_be_found() {
    let privacy = PrivacyConfig::default();
    let z = 2.0;
    let sum = |w: &Weights, d: usize, b: usize, t: usize, s: usize| {
        assert_eq!(w.margin, w.table, "equal weights by default");
        w.discovery * d as f64 + w.bounds * b as f64 + w.table * t as f64 + w.selection * s as f64
    };
    // Adult-sized: 26,048 rows, 6 numeric columns (18 measures), the default share kept.
    let w = budget_weights(&privacy, 9, 18, (10, 30, 1.0), 14, 26_048.0, Some(z));
    assert!((sum(&w, 9, 18, 40, 14) - 1.0).abs() < 1e-12);
    let scale = 1.0 - privacy.selection_share;
    assert!((w.bounds - scale * privacy.bounds_share / 18.0).abs() < 1e-15);
    // 700 rows, 11 numeric columns (33 measures), no discovery: the bounds take more, and
    // their std lets a half-decade holding a quarter of the rows clear STRONG deviations
    // with the margin to spare.
    let w = budget_weights(&privacy, 0, 33, (11, 55, 1.0), 0, 700.0, Some(z));
    assert!((sum(&w, 0, 33, 66, 0) - 1.0).abs() < 1e-12);
    let std = z / w.bounds.sqrt();
    let want = 700.0 * BOUNDS_FIND_SHARE / (bounds::STRONG + BOUNDS_FIND_MARGIN);
    assert!((std - want).abs() < 1e-9, "{std} against {want}");
    assert!(w.bounds * 33.0 > privacy.bounds_share);
    // A table too small for any share: capped, the tables keep the rest.
    let w = budget_weights(&privacy, 2, 42, (12, 18, 1.0), 13, 178.0, Some(z));
    assert!((sum(&w, 2, 42, 30, 13) - 1.0).abs() < 1e-12);
    let scale = 1.0 - privacy.selection_share;
    assert!((w.bounds * 42.0 - scale * BOUNDS_SHARE_MAX).abs() < 1e-12);
    assert!(w.table > 0.0 && w.discovery > 0.0);
    // Nothing measured (every domain public, no noise multiplier): the default share.
    let w = budget_weights(&privacy, 0, 3, (2, 3, 1.0), 0, 100.0, None);
    assert!((w.bounds * 3.0 - privacy.bounds_share).abs() < 1e-15);
    // One-way histograms weighted 4 to a pair table: still the whole budget, each one-way
    // histogram's noise std half a table's, the other groups' weights unchanged.
    let heavy = PrivacyConfig {
        margin_weight: Some(4.0),
        ..PrivacyConfig::default()
    };
    let (even, w) = (
        budget_weights(&privacy, 9, 18, (10, 30, 1.0), 14, 26_048.0, Some(z)),
        budget_weights(&heavy, 9, 18, (10, 30, 4.0), 14, 26_048.0, Some(z)),
    );
    let total =
        w.discovery * 9.0 + w.bounds * 18.0 + w.margin * 10.0 + w.table * 30.0 + w.selection * 14.0;
    assert!((total - 1.0).abs() < 1e-12, "{total}");
    assert!((w.margin / w.table - 4.0).abs() < 1e-12);
    assert_eq!(
        (w.discovery, w.bounds, w.selection),
        (even.discovery, even.bounds, even.selection)
    );
    assert!((w.margin * 10.0 + w.table * 30.0 - even.table * 40.0).abs() < 1e-12);
}

#[test]
fn supported_integers_take_their_counts_share_split_over_a_shared_bin() {
    // [0, 8] over 4 bins of 2: the integers 1-7 between the bounds, 0 and 8 at them.
    // Counts: 10 at 0, bins [40, 0, 30, -5], 20 at 8. Supported: 0, 1, 4, 5, 8; 4 and 5
    // share the third bin's 30 (6 in the bin [6, 8) is not supported).
    let evidence = Evidence {
        body: vec![40.0, 0.0, 30.0, -5.0],
        at_lo: 10.0,
        at_hi: 20.0,
    };
    let shares = evidence.cumulative_shares((0.0, 8.0), &[0.0, 1.0, 4.0, 5.0, 8.0]);
    let want = [10.0, 50.0, 65.0, 80.0, 100.0].map(|c| c / 100.0);
    for (s, w) in shares.iter().zip(want) {
        assert!((s - w).abs() < 1e-12, "{shares:?}");
    }
    assert_eq!(shares.len(), 5);
    assert_eq!(*shares.last().unwrap(), 1.0);
}

#[test]
fn a_bins_rest_goes_to_its_points_by_their_noisy_counts() {
    // Two points above one deviation share the rest in proportion to their counts less
    // that deviation; a point below it gets nothing.
    let shares = spread_rest(90.0, &[40.0, 10.0, 70.0], 10.0);
    assert_eq!(shares, vec![30.0, 0.0, 60.0]);
    // None above one deviation: the loudest takes the whole rest (the bin's own count
    // says the rows are there).
    assert_eq!(
        spread_rest(50.0, &[-3.0, 8.0, 2.0], 10.0),
        vec![0.0, 50.0, 0.0]
    );
    // Pure noise over a bin of three points with a loud rest: the expected share of a
    // point holding no row, over many draws, stays near 0.08 deviations' worth of the
    // real point's count (here about 2.5% of the rest).
    let mut rng = DpRng::from_seed(11);
    let (mut empty, draws) = (0.0, 4000);
    for _ in 0..draws {
        let noise = rng.gaussian(3, 30.0);
        let counts = [120.0 + noise[0], noise[1], noise[2]];
        let shares = spread_rest(120.0, &counts, 30.0);
        empty += (shares[1] + shares[2]) / 2.0;
    }
    let per_point = empty / draws as f64 / 120.0;
    assert!((0.005..0.05).contains(&per_point), "{per_point}");
}

#[test]
fn weightless_bins_do_not_poison_the_mixture() {
    // Denoised histograms leave bins with zero weight far from the data.
    let settings = crate::transform::mixture_settings(&TransformConfig::default());
    let points = [0.0, 1.0, 2.0, 50.0, 99.0, 100.0];
    let weights = [900.0, 30.0, 0.0, 0.0, 0.0, 12.0];
    let enc = ContinuousEncoder::from_weighted_points(
        &points,
        &weights,
        &[],
        (0.0, 100.0),
        0.0,
        false,
        settings,
    );
    assert!(!enc.modes.is_empty());
    for m in &enc.modes {
        assert!(
            m.mean.is_finite() && m.std.is_finite() && m.weight.is_finite(),
            "{m:?}"
        );
    }
}

#[test]
fn a_column_piled_into_its_first_even_bin_is_binned_in_log_scale() {
    // [64 bins, at lo, at hi, null], noise std 10.
    let hist = |first: f64, rest: f64| -> Vec<f64> {
        let mut c = vec![rest; 64];
        c[0] = first;
        c.extend([0.0, 0.0, 0.0]);
        c
    };
    // Votes: 3,000 of 3,200 rows in the first of 64 bins of [1.8, 562,341].
    let edges = log_scale_edges(&hist(3000.0, 3.0), 10.0, (1.8, 562_341.0), false).unwrap();
    assert_eq!(edges.len(), 65);
    assert_eq!((edges[0], edges[64]), (1.8, 562_341.0));
    let ratio = edges[1] / edges[0];
    for w in edges.windows(2) {
        assert!((w[1] / w[0] / ratio - 1.0).abs() < 1e-9, "{w:?}");
    }
    // From zero: a first bin [0, hi / 10^5], then geometric.
    let edges = log_scale_edges(&hist(3000.0, 3.0), 10.0, (0.0, 1e6), false).unwrap();
    assert_eq!((edges[0], edges[1], edges[64]), (0.0, 10.0, 1e6));
    // Across zero with the rows in the bin holding zero: even in log scale on both sides,
    // a core bin [-c, c] between them (c = 0.056, 10^-5 of 5,623), the
    // sides' bins by their decades. Not where one side is a sliver of the range: there a
    // lower bound within the first bin's width under zero starts the first bin, as zero does
    // (a census income's bound at -17 beside 1.8e7), and one further under it gets none.
    let edges = log_scale_edges(&hist(3000.0, 3.0), 10.0, (-5.0, 562_341.0), false).unwrap();
    assert_eq!((edges[0], edges[64]), (-5.0, 562_341.0));
    assert!((edges[1] - 5.623_41).abs() < 1e-9, "{edges:?}");
    let edges = log_scale_edges(&hist(3000.0, 3.0), 10.0, (-17.0, 17_782_794.0), false).unwrap();
    assert_eq!(edges[0], -17.0);
    assert!((edges[1] - 177.827_94).abs() < 1e-9, "{edges:?}");
    assert_eq!(
        log_scale_edges(&hist(3000.0, 3.0), 10.0, (-200.0, 17_782_794.0), false),
        None
    );
    let edges = log_scale_edges(&hist(3000.0, 3.0), 10.0, (-50.0, 5_623.0), false).unwrap();
    assert_eq!(edges.len(), 65);
    assert_eq!((edges[0], edges[64]), (-50.0, 5_623.0));
    assert!(edges.windows(2).all(|w| w[0] < w[1]), "{edges:?}");
    let core = edges
        .windows(2)
        .position(|w| w[0] < 0.0 && w[1] > 0.0)
        .unwrap();
    assert!((edges[core] + edges[core + 1]).abs() < 1e-12, "{edges:?}");
    assert!((edges[core + 1] - 0.05623).abs() < 1e-9, "{edges:?}");
    assert!(core >= 10, "{core} bins below zero: {edges:?}");
    // Film budgets: 2,300 of 5,215 present rows in the first of 64 bins of [563, 1.8e8]
    // (44%), the rest about 46 a bin, std 15: in log scale where that bin spans many grains
    // (fine), not where it spans a few integers (PatentsHGH's counts).
    let budgets = hist(2300.0, 46.0);
    assert!(log_scale_edges(&budgets, 15.0, (563.0, 1.8e8), true).is_some());
    assert_eq!(log_scale_edges(&budgets, 15.0, (563.0, 1.8e8), false), None);
    // Fine but a fifth of the rows in the first bin: even bins.
    assert_eq!(
        log_scale_edges(&hist(800.0, 50.0), 15.0, (563.0, 1.8e8), true),
        None
    );
    // Spread evenly (across zero too), too few decades, or a first bin within the noise: no.
    assert_eq!(
        log_scale_edges(&hist(60.0, 50.0), 10.0, (1.8, 562_341.0), true),
        None
    );
    assert_eq!(
        log_scale_edges(&hist(60.0, 50.0), 10.0, (-5.0, 562_341.0), true),
        None
    );
    assert_eq!(
        log_scale_edges(&hist(3000.0, 3.0), 10.0, (10.0, 5_000.0), false),
        None
    );
    assert_eq!(
        log_scale_edges(&hist(40.0, 0.0), 10.0, (1.8, 562_341.0), false),
        None
    );
}

#[test]
fn a_thin_tail_joins_the_loud_part_as_a_run_and_pure_noise_rarely_does() {
    // credit_data's loan amounts (3,563 rows) on their estimated range [57, 5623], 64 bins,
    // noise std 28.25: the bulk in bins 0-18 (loud), then the rows above 1,710 in bins of
    // 13, 50, 32 and 58 rows (none two deviations), then a few rows per bin.
    let edges = even_edges((57.0, 5623.0), 64);
    let mut c = vec![0.0; 67];
    c[1..19].fill(185.0);
    for (b, n) in [13.0, 50.0, 32.0, 58.0, 6.0, 8.0, 8.0, 11.0]
        .iter()
        .enumerate()
    {
        c[19 + b] = *n;
    }
    let part = loud_part(&c, 28.25, 3563.0, &edges, true, TRIM_SEED, true).unwrap();
    // The four bins (153 rows, 2.7 deviations of their sum's noise) joined, and then the
    // next four (33 rows) did not.
    assert_eq!((part.first, part.last), (1, 22));
    assert_eq!(part.blocks, [(19, 22)]);
    assert!(part.hi > 2_050.0, "{part:?}");
    // Without the run the part stopped at the bulk's end.
    c[19..23].fill(0.0);
    let bulk = loud_part(&c, 28.25, 3563.0, &edges, true, TRIM_SEED, true).unwrap();
    assert_eq!((bulk.last, bulk.blocks.len()), (18, 0));

    // Pure noise beyond a loud part: 2,000 draws of 64 bins, 40 of them empty beyond.
    let mut rng = crate::dp::noise::DpRng::from_seed(21);
    let mut widened = 0;
    for _ in 0..2000 {
        let mut c: Vec<f64> = rng.gaussian(67, 28.25);
        for x in &mut c[10..24] {
            *x += 400.0;
        }
        let part = loud_part(&c, 28.25, 5600.0, &edges, false, TRIM_SEED, true).unwrap();
        widened += usize::from(!part.blocks.is_empty());
    }
    // Seven tries (run lengths at two ends) at 0.6% each, correlated: about 3% of parts
    // widen (3.3% in 20,000 draws of the same test in numpy).
    assert!(widened < 2000 * 8 / 100, "{widened} of 2000");
}

#[test]
fn a_loud_spike_at_a_bound_seeds_the_part_where_no_bin_is_loud() {
    // sklearn's digits: a grey level 0-16 of 1,438 rows on its estimated range [0, 56], 32
    // bins of 1.75, noise std 40.6. The zeros (27%) are the lower bound's spike; the levels
    // 1-16 hold 2-10% each, a bin above 4.5 deviations only by chance. Where none was, no part
    // was found and the column was sampled over the noise bins up to 56 (a part in [0, 16-28]
    // in 146 of these 200 draws before, 188 after).
    let edges = even_edges((0.0, 56.0), 32);
    let mut rng = crate::dp::noise::DpRng::from_seed(5);
    let mut found = 0;
    for _ in 0..200 {
        let mut c: Vec<f64> = rng.gaussian(35, 40.6);
        let mut level = [0.0; 57];
        level[1..16].copy_from_slice(&[
            29.0, 58.0, 29.0, 43.0, 29.0, 43.0, 43.0, 58.0, 58.0, 43.0, 72.0, 86.0, 86.0, 86.0,
            101.0,
        ]);
        level[16] = 150.0;
        for (k, &n) in level.iter().enumerate().skip(1) {
            c[body_bin(k as f64, 0.0, 1.75, 32, None)] += n;
        }
        c[32] += 388.0;
        if let Some(part) = loud_part(&c, 40.6, 1438.0, &edges, true, TRIM_SEED, true) {
            assert_eq!(part.lo, 0.0, "{part:?}");
            // (A run of noise bins joins a part now and then: a_thin_tail_joins_...)
            found += usize::from((16.0..=28.0).contains(&part.hi));
        }
    }
    assert!(found >= 180, "a part in [0, 16-28] in {found} of 200");
    // A loud spike beside a gap (the rows far from the bound): the part grown from the
    // spike leaves most rows out and is not kept; with `runs` off (the narrowing), a spike
    // seeds nothing.
    let mut c = vec![0.0; 35];
    c[32] = 388.0;
    c[20..26].fill(175.0);
    assert_eq!(
        loud_part(&c, 40.6, 1438.0, &edges, true, TRIM_SEED, true).map(|p| p.lo),
        None
    );
    c[20..26].fill(0.0);
    c[1..10].fill(116.0);
    assert!(loud_part(&c, 40.6, 1438.0, &edges, true, TRIM_SEED, true).is_some());
    assert_eq!(
        loud_part(&c, 40.6, 1438.0, &edges, true, TRIM_SEED, false),
        None
    );
    // Nor over an amount's range (credit_data's `Debt` on [0, 17782]), nor for a column that
    // is not integer.
    let amount = even_edges((0.0, 17_782.0), 32);
    assert_eq!(
        loud_part(&c, 40.6, 1438.0, &amount, true, TRIM_SEED, true),
        None
    );
    assert_eq!(
        loud_part(&c, 40.6, 1438.0, &edges, false, TRIM_SEED, true),
        None
    );
}

#[test]
fn the_loud_part_and_a_bracket_beyond_a_gap() {
    // Incomes in brackets on [0, 6400] (bins of 100), noise std 10, 4,000 rows: most rows
    // in bins 2-9, then a gap, then 35 rows (3.5 deviations) at bin 30, pure noise beyond.
    let mut c = vec![0.0; 67];
    c[2..10].fill(495.0);
    c[30] = 35.0;
    c[45] = 2.5; // noise: below every level
    let edges = even_edges((0.0, 6400.0), 64);
    let part = loud_part(&c, 10.0, 4000.0, &edges, true, 3.0, true).unwrap();
    assert_eq!((part.lo, part.hi), (200.0, 3100.0));
    // 4,000 rows less the 3,995 counted inside.
    assert!((part.outside - 5.0).abs() < 1e-9);
    // At the seed level in use the bracket is left out, its rows counted outside (here 1%,
    // which the trim allows; a larger bracket fails its check and the column samples over
    // the whole range).
    let strict = loud_part(&c, 10.0, 4000.0, &edges, true, TRIM_SEED, true).unwrap();
    assert_eq!((strict.lo, strict.hi), (200.0, 1000.0));
    assert!((strict.outside - 40.0).abs() < 1e-9);
    assert!((strict.outside_std - 10.0 * 11f64.sqrt()).abs() < 1e-9);
}

#[test]
fn an_integer_support_grows_from_its_loud_core_over_quiet_neighbours() {
    // One integer per bin: [0, 8] over 8 bins, so integer k (0 < k < 8) is bin k. Noise
    // std 10: quiet above 20, loud above 30, a seed above 45.
    let evidence = |body: [f64; 8], at_lo: f64| Evidence {
        body: body.to_vec(),
        at_lo,
        at_hi: 0.0,
    };
    // `rows`: the rows with a value (the counts' noise-free sum).
    let support = |body: [f64; 8], at_lo: f64, rows: f64| {
        integer_support((0.0, 8.0), &evidence(body, at_lo), 10.0, false, rows)
    };
    // A rating 1-6: 2-5 loud, the 1s and the 6s quiet (25 and 28), and noise at 7 quiet
    // too (24): one quiet integer per end, so 7 stays out.
    assert_eq!(
        support(
            [0.0, 25.0, 600.0, 400.0, 500.0, 300.0, 28.0, 24.0],
            0.0,
            1853.0
        ),
        [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    );
    // Noise loud on its own (35) beyond a quiet 6 and 7: not a seed, so not reached.
    assert_eq!(
        support(
            [0.0, 0.0, 600.0, 400.0, 500.0, 300.0, 28.0, 35.0],
            0.0,
            1828.0
        )[4..],
        [6.0]
    );
    // A 6 just above two deviations (21) where the core leaves no row out: it was noise,
    // and stays out.
    assert_eq!(
        support(
            [0.0, 0.0, 600.0, 400.0, 500.0, 300.0, 21.0, 0.0],
            0.0,
            1800.0
        ),
        [2.0, 3.0, 4.0, 5.0]
    );
    // A 1/2 answer with a noise count of two deviations at 3 and nothing left out (a
    // wide table's item): 3 stays out; where the core does leave its rows out, it joins.
    assert_eq!(
        support([0.0, 900.0, 700.0, 21.0, 0.0, 0.0, 0.0, 0.0], 0.0, 1600.0),
        [1.0, 2.0]
    );
    assert_eq!(
        support([0.0, 900.0, 700.0, 21.0, 0.0, 0.0, 0.0, 0.0], 0.0, 1621.0),
        [1.0, 2.0, 3.0]
    );
    // A loud neighbour carries the growth on (a thin tail of a count): 6 loud, 7 quiet.
    assert_eq!(
        support(
            [0.0, 0.0, 600.0, 400.0, 500.0, 300.0, 40.0, 24.0],
            0.0,
            1864.0
        ),
        [2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    );
    // A 0/1 flag: 0 at the lower bound and 1 loud; a quiet noise count at 3 is not next
    // to them (2 is silent), so it stays out.
    assert_eq!(
        support([0.0, 900.0, 0.0, 25.0, 0.0, 0.0, 0.0, 0.0], 2000.0, 2900.0),
        [0.0, 1.0]
    );
    // Inside the core a quiet integer is kept and a silent one is not.
    assert_eq!(
        support([0.0, 900.0, 25.0, 0.0, 700.0, 0.0, 0.0, 0.0], 0.0, 1625.0),
        [1.0, 2.0, 4.0]
    );
    // Where the column has no loud part holding its rows (values beyond a gap), any
    // integer above three deviations seeds: 7 (35) joins beyond the silent 6.
    let anywhere = integer_support(
        (0.0, 8.0),
        &evidence([0.0, 0.0, 600.0, 400.0, 500.0, 300.0, 0.0, 35.0], 0.0),
        10.0,
        true,
        1835.0,
    );
    assert_eq!(anywhere, [2.0, 3.0, 4.0, 5.0, 7.0]);
    // Nothing above three deviations: no support; above three but not a seed: its own core.
    assert!(support([0.0, 25.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], 0.0, 0.0).is_empty());
    assert_eq!(
        support([0.0, 35.0, 25.0, 0.0, 0.0, 0.0, 0.0, 0.0], 0.0, 60.0),
        [1.0, 2.0]
    );
}

#[test]
fn a_rating_keeps_its_quiet_top_value_across_the_empty_bins_between_integers() {
    // bfi's N3 (2,800 rows, ratings 1-6) narrowed to [1, 7]: 64 bins of 0.09375, so only
    // 5 of the body bins hold an integer (2 to 6; 1 and 7 are the bounds' own counts).
    // Noise std 62.9; the 6s (258 rows, 9%) sit below the seed level (283).
    let edges = even_edges((1.0, 7.0), 64);
    let live = live_bins(&edges, true);
    let bin = |k: f64| ((k - 1.0) / 0.09375) as usize;
    let holding: Vec<usize> = (0..64).filter(|&b| live[b]).collect();
    assert_eq!(holding, [2.0, 3.0, 4.0, 5.0, 6.0].map(bin));
    assert!(live_bins(&edges, false).iter().all(|&l| l));
    let mut c = vec![0.0; 67];
    for (k, n) in [
        (2.0, 641.0),
        (3.0, 367.0),
        (4.0, 594.0),
        (5.0, 440.0),
        (6.0, 258.0),
    ] {
        c[bin(k)] = n;
    }
    c[64] = 501.0; // the 1s, at the lower bound
    c[30] = 150.0; // noise in a bin without an integer: ignored
    let part = loud_part(&c, 62.9, 2800.0, &edges, true, TRIM_SEED, true).unwrap();
    assert_eq!((part.first, part.last), (bin(2.0), bin(6.0)));
    assert_eq!((part.lo, part.hi), (1.0, 7.0));
    // Five integer bins and the three spikes: 2,800 less 2,801 counted inside.
    assert!((part.outside + 1.0).abs() < 1e-9);
    assert!((part.outside_std - 62.9 * 8f64.sqrt()).abs() < 1e-9);
    // Counted as a continuous column, every bin is live: the 6s are seven empty bins
    // from the 5s, left out, and the 1% check's noise (46 bins) let them go.
    let blind = loud_part(&c, 62.9, 2800.0, &edges, false, TRIM_SEED, true).unwrap();
    assert_eq!(blind.last, bin(5.0));
    assert!(blind.outside <= NARROW_OUTSIDE * 2800.0 + blind.outside_std);
    // bfi's A3 on its estimated range [1, 17] (bins of 0.25, noise std 24): the 1s (90
    // rows) at the lower bound clear two deviations, not the seed's 4.5: the part, grown
    // to the 2s' bin, takes the bound in.
    let edges = even_edges((1.0, 17.0), 64);
    let bin = |k: f64| ((k - 1.0) / 0.25) as usize;
    let mut c = vec![0.0; 67];
    for (k, n) in [
        (2.0, 172.0),
        (3.0, 207.0),
        (4.0, 564.0),
        (5.0, 986.0),
        (6.0, 755.0),
    ] {
        c[bin(k)] = n;
    }
    c[64] = 90.0;
    let part = loud_part(&c, 24.0, 2800.0, &edges, true, TRIM_SEED, true).unwrap();
    assert_eq!((part.lo, part.hi), (1.0, 7.0));
    c[64] = 40.0; // within two deviations: left out
    let part = loud_part(&c, 24.0, 2800.0, &edges, true, TRIM_SEED, true).unwrap();
    assert_eq!((part.lo, part.hi), (2.0, 7.0));
}

#[test]
fn only_a_column_whose_rows_sit_in_a_few_bins_is_narrowed() {
    // [64 bins, at lo, at hi, null], noise std 10, 4,000 rows over [0, 6400].
    let hist = |body: &dyn Fn(usize) -> f64, lo_spike: f64| -> Vec<f64> {
        let mut c: Vec<f64> = (0..64).map(body).collect();
        c.extend([lo_spike, 0.0, 0.0]);
        c
    };
    // A year: every row in bin 20 -> [2000, 2100].
    let year = hist(&|i| if i == 20 { 4000.0 } else { 0.0 }, 0.0);
    assert_eq!(
        narrowed(&year, 10.0, (4000.0, 4000.0), (0.0, 6400.0), true),
        Some((2000.0, 2100.0))
    );
    // The same year where the noise left the counts inside 70 rows short (1.75%, within
    // two deviations of the four noisy counts' sum): still narrowed.
    let mut noisy_year = hist(&|i| if i == 20 { 3950.0 } else { 0.0 }, -10.0);
    noisy_year[65] = -5.0;
    noisy_year[66] = -5.0;
    assert_eq!(
        narrowed(&noisy_year, 10.0, (4000.0, 4000.0), (0.0, 6400.0), true),
        Some((2000.0, 2100.0))
    );
    // A heavy tail: the bulk in the first bins, 7% of the rows thinly over the rest, and
    // noise std 60: two deviations of the part's noise (360 rows) would cover the 290 rows
    // outside, but the part touches the bound, so no allowance and no narrowing.
    let heavy = hist(&|i| if i < 6 { 620.0 } else { 5.0 }, 0.0);
    assert_eq!(
        narrowed(&heavy, 60.0, (4000.0, 4000.0), (0.0, 6400.0), false),
        None
    );
    // Spread out (a uniform rate: 62 rows per bin) with one loud bin: its few bins above the
    // noise hold a fraction of the rows, so it keeps its range.
    let spread = hist(&|i| if i == 30 { 400.0 } else { 56.0 }, 0.0);
    assert_eq!(
        narrowed(&spread, 10.0, (4000.0, 4000.0), (0.0, 6400.0), false),
        None
    );
    // Zero-inflated: the spike at the lower bound stays inside.
    let vmail = hist(&|i| if (3..5).contains(&i) { 500.0 } else { 0.0 }, 3000.0);
    assert_eq!(
        narrowed(&vmail, 10.0, (4000.0, 4000.0), (0.0, 6400.0), false),
        Some((0.0, 500.0))
    );
    // Capital-gain: a zero spike, loud bins near it and a thin tail of 1.7% of the rows
    // spread below the noise over the rest of the range: narrowing would clip the tail.
    let gains = {
        let mut c: Vec<f64> = (0..64)
            .map(|i| match i {
                0..=9 => 150.0,
                10..=59 => 9.0,
                _ => 0.0,
            })
            .collect();
        c.extend([24_100.0, 0.0, 0.0]);
        c
    };
    assert_eq!(
        narrowed(&gains, 10.0, (26_048.0, 26_048.0), (0.0, 100_000.0), true),
        None
    );
    // A lone noise bin far from the rows does not widen the part.
    let noisy = hist(
        &|i| {
            if i == 20 {
                4000.0
            } else if i == 50 {
                30.0
            } else {
                0.0
            }
        },
        0.0,
    );
    assert_eq!(
        narrowed(&noisy, 10.0, (4000.0, 4000.0), (0.0, 6400.0), false),
        Some((2000.0, 2100.0))
    );
    // A running time missing in 62% of 2,561 rows (vega's movies), its bins sized for its
    // present rows (32 of 17 minutes on [18, 562], std 30): three loud bins clear of both
    // bounds and 90 rows beyond them. With the slack meant for a year's few bins it was
    // narrowed to [86, 137]; a column whose bins were sized for fewer rows gets none.
    let mut sparse = vec![0.0; 32];
    sparse[3..9].copy_from_slice(&[45.0, 300.0, 350.0, 250.0, 40.0, 20.0]);
    sparse.extend([0.0, 0.0, 1590.0]);
    assert_eq!(
        narrowed(&sparse, 30.0, (2561.0, 2561.0), (18.0, 562.0), true),
        Some((86.0, 137.0))
    );
    assert_eq!(
        narrowed(&sparse, 30.0, (2561.0, 1300.0), (18.0, 562.0), true),
        None
    );
    // A small table's 8 bins (grunfeld: 220 rows, years 1935-1954 on [563, 5623], std 17):
    // the year's one bin is the whole span allowed, and rounded outward to whole years it is
    // one year more; it is narrowed to that bin.
    let mut small_year = vec![10.0, 26.0, 211.0, 9.0, 8.0, 16.0, -9.0, 4.0];
    small_year.extend([-19.0, -17.0, -10.0]);
    assert_eq!(
        narrowed(&small_year, 16.93, (220.0, 220.0), (563.0, 5623.0), true),
        Some((1828.0, 2461.0))
    );
    // A skewed amount's one bin of 8 at the lower bound (grunfeld's `value`: 12% of its rows
    // beyond the bin, a noisy estimate of -42) is not narrowed.
    let mut skewed = vec![227.0, 14.0, 18.0, 18.0, 3.0, 9.0, -13.0, 12.0];
    skewed.extend([2.0, 6.0, 28.0]);
    assert_eq!(
        narrowed(&skewed, 16.93, (220.0, 220.0), (17.78, 17_782.8), false),
        None
    );
}

#[test]
fn upper_quantile_matches_known_values() {
    assert!((normal_upper_quantile(0.025) - 1.959964).abs() < 1e-5);
    assert!((normal_upper_quantile(1e-7) - 5.199338).abs() < 1e-5);
}

#[test]
fn a_narrowed_integer_part_spread_thin_gets_fewer_bins() {
    use rand_distr::{Distribution, Normal};
    // churn's `account_length` (4,000 rows, about normal with mean 100 and sd 40) narrowed to
    // [6, 200], each of its 195 integers counted at the bounds share's std 45.2. At 64 bins
    // (three or four integers each, a floor of 180, about the peak bin's rows) the bins above
    // the floor hold about half the rows, some of it noise (in the run that collapsed, two
    // bins); the bins are halved until they hold three quarters or are 8.
    let mut rng = crate::dp::noise::DpRng::from_seed(2);
    let normal = Normal::new(100.0, 40.0).unwrap();
    let mut draws = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let mut points = vec![0.0; 195];
    for _ in 0..4000 {
        let x: f64 = normal.sample(&mut draws);
        points[(x.round() - 6.0).clamp(0.0, 194.0) as usize] += 1.0;
    }
    let noise = rng.gaussian(195, 45.2);
    let noisy: Vec<f64> = points.iter().zip(&noise).map(|(c, e)| c + e).collect();
    let held_at_64 = PointBins::new(&noisy, (6.0, 200.0), 64).held(45.2);
    assert!(held_at_64 < 0.75 * 4000.0, "{held_at_64}");
    let binned = fewer_point_bins(&noisy, (6.0, 200.0), 64, 45.2, 4000.0);
    assert!((8..=16).contains(&binned.sums.len()), "{binned:?}");
    // (At 8 bins, the fewest, 72% here: the rest is the tails, each bin under its floor.)
    assert!(binned.held(45.2) > 0.7 * 4000.0, "{binned:?}");
    // The bins' sums are the counts' (less the two at the bounds).
    let total: f64 = noisy[1..194].iter().sum();
    assert!((binned.sums.iter().sum::<f64>() - total).abs() < 1e-6);
    // A year's eight loud integers of 160 (males: 436 rows each) keep their 64 bins.
    let mut years = rng.gaussian(160, 45.2);
    for count in &mut years[73..81] {
        *count += 436.0;
    }
    assert_eq!(
        fewer_point_bins(&years, (1907.0, 2066.0), 64, 45.2, 3488.0)
            .sums
            .len(),
        64
    );
}

#[test]
fn a_log_scale_bin_holds_one_integer_only_where_one_fits() {
    // Bins [-5, -2.2), [-2.2, -0.9), [-0.9, 0.5), [0.5, 1.5), [1.5, 3.5), [3.5, 10].
    let edges = [-5.0, -2.2, -0.9, 0.5, 1.5, 3.5, 10.0];
    // -4, -3 | -2, -1 | 0 | 1 | 2, 3 | 4..9: bins 2 and 3 hold one each.
    assert_eq!(
        single_integer_bins(&edges),
        vec![None, None, Some(0.0), Some(1.0), None, None]
    );
    // An edge on an integer belongs to the bin above it ([edge, next)); the bounds hold no
    // body integer (their rows have their own counts).
    let edges = [-1.0, 1.0, 2.0, 2.5, 3.0];
    assert_eq!(
        single_integer_bins(&edges),
        vec![Some(0.0), Some(1.0), Some(2.0), None]
    );
    // A bin between two integers holds none.
    assert_eq!(single_integer_bins(&[0.2, 0.4, 0.9]), vec![None, None]);
}

#[test]
fn a_lone_spike_is_found_and_noise_among_many_points_is_not() {
    // Churn's account length: 243 integers of about 40 rows each, at a points' noise of std 40.
    // Every point over three deviations is a candidate; without the noise test one column in
    // three had a point of noise standing alone (4σ among 243 points). A code of 300 rows
    // among empty neighbours is found.
    let (k, std, inside) = (243, 40.0, 4000.0);
    let candidates = |points: &[f64]| -> Vec<(f64, f64)> {
        points
            .iter()
            .enumerate()
            .filter(|(_, &c)| c > 3.0 * std)
            .map(|(j, &c)| (j as f64, c))
            .collect()
    };
    let (mut false_spikes, mut found) = (0, 0);
    for seed in 0..50 {
        let mut rng = DpRng::from_seed(300 + seed);
        let noise = rng.gaussian(k, std);
        let mut points: Vec<f64> = noise.iter().map(|e| 40.0 + e).collect();
        let spikes = lone_spikes(&candidates(&points), &points, (0.0, 1.0), inside, std);
        false_spikes += usize::from(!spikes.is_empty());
        points[190..=210].copy_from_slice(&noise[190..=210]);
        points[200] = 300.0 + noise[200];
        let spikes = lone_spikes(&candidates(&points), &points, (0.0, 1.0), inside, std);
        found += usize::from(spikes.iter().any(|p| p.0 == 200.0));
    }
    assert_eq!(
        false_spikes, 0,
        "noise stood alone in {false_spikes} of 50 columns"
    );
    assert!(found >= 49, "the code was found in {found} of 50");
}
