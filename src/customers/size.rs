//! The customer sample size: Cochran's formula with the finite population correction, the
//! margin a planned sample achieves, and the normal quantile behind them.
//!
//! References: W. G. Cochran, *Sampling Techniques*, 3rd ed. (Wiley, 1977), §4.4
//! (`n₀ = z²·p(1−p)/e²`, `n = n₀ / (1 + (n₀ − 1)/N)`); M. J. Wichura, "Algorithm AS 241: The
//! percentage points of the normal distribution", *Applied Statistics* 37 (1988) 477–484.

use serde::{Deserialize, Serialize};

/// The inputs and every intermediate number of a Cochran size, for the 抽样说明.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cochran {
    pub confidence: f64,
    pub z: f64,
    pub margin: f64,
    pub p: f64,
    /// Population: eligible customers of the sampled outlets.
    pub population: u64,
    /// `z²·p(1−p)/e²`.
    pub n0: f64,
    /// `n₀ / (1 + (n₀ − 1)/N)` before rounding up.
    pub n_fpc: f64,
    /// The size: `⌈n_fpc⌉`, at most N.
    pub n: u64,
}

/// Cochran's size for a proportion with finite population correction.
pub fn cochran(confidence: f64, margin: f64, p: f64, population: u64) -> Cochran {
    let z = z_for(confidence);
    let n0 = z * z * p * (1.0 - p) / (margin * margin);
    let big_n = population as f64;
    let n_fpc = if population == 0 {
        0.0
    } else {
        n0 / (1.0 + (n0 - 1.0) / big_n)
    };
    // Guard the ceiling against representation error just above an integer.
    let mut n = n_fpc.ceil();
    if n - n_fpc > 1.0 - 1e-9 {
        n -= 1.0;
    }
    Cochran {
        confidence,
        z,
        margin,
        p,
        population,
        n0,
        n_fpc,
        n: (n.max(0.0) as u64).min(population),
    }
}

/// The margin of error a simple random sample of n achieves for a proportion p:
/// `e = z·√(p(1−p)/n)·√((N−n)/(N−1))`.
pub fn achieved_margin(z: f64, p: f64, n: u64, population: u64) -> f64 {
    if n == 0 {
        return f64::INFINITY;
    }
    let fpc = if population > 1 {
        ((population - n.min(population)) as f64 / (population - 1) as f64).sqrt()
    } else {
        0.0
    };
    z * (p * (1.0 - p) / n as f64).sqrt() * fpc
}

/// The two-sided normal quantile for a confidence level: `Φ⁻¹((1 + c)/2)`.
pub fn z_for(confidence: f64) -> f64 {
    normal_quantile(0.5 + confidence / 2.0)
}

/// `Φ⁻¹(p)` by Wichura's AS 241 (PPND16), accurate to about 1e-16.
#[allow(clippy::inconsistent_digit_grouping, clippy::excessive_precision)]
pub fn normal_quantile(p: f64) -> f64 {
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        return q
            * (((((((r * 2509.080_928_730_122_7 + 33430.575_583_588_128) * r
                + 67265.770_927_008_700)
                * r
                + 45921.953_931_549_871)
                * r
                + 13731.693_765_509_461)
                * r
                + 1971.590_950_306_551_3)
                * r
                + 133.141_667_891_784_38)
                * r
                + 3.387_132_872_796_366_5)
            / (((((((r * 5226.495_278_852_545_5 + 28729.085_735_721_943) * r
                + 39307.895_800_092_710)
                * r
                + 21213.794_301_586_596)
                * r
                + 5394.196_021_424_751_1)
                * r
                + 687.187_007_492_057_91)
                * r
                + 42.313_330_701_600_911)
                * r
                + 1.0);
    }
    let r0 = if q < 0.0 { p } else { 1.0 - p };
    let mut r = (-r0.ln()).sqrt();
    let val = if r <= 5.0 {
        r -= 1.6;
        (((((((r * 7.745_450_142_783_414_1e-4 + 0.022_723_844_989_269_184) * r
            + 0.241_780_725_177_450_61)
            * r
            + 1.270_458_252_452_368_4)
            * r
            + 3.647_848_324_763_204_5)
            * r
            + 5.769_497_221_460_691_4)
            * r
            + 4.630_337_846_156_545_3)
            * r
            + 1.423_437_110_749_683_5)
            / (((((((r * 1.050_750_071_644_416_9e-9 + 5.475_938_084_995_344_9e-4) * r
                + 0.015_198_666_563_616_457)
                * r
                + 0.148_103_976_427_480_07)
                * r
                + 0.689_767_334_985_100_04)
                * r
                + 1.676_384_830_183_803_8)
                * r
                + 2.053_191_626_637_758_8)
                * r
                + 1.0)
    } else {
        r -= 5.0;
        (((((((r * 2.010_334_399_292_288_1e-7 + 2.711_555_568_743_487_6e-5) * r
            + 0.001_242_660_947_388_078_4)
            * r
            + 0.026_532_189_526_576_123)
            * r
            + 0.296_560_571_828_504_89)
            * r
            + 1.784_826_539_917_291_3)
            * r
            + 5.463_784_911_164_114_4)
            * r
            + 6.657_904_643_501_103_8)
            / (((((((r * 2.044_263_103_389_939_7e-15 + 1.421_511_758_316_446e-7) * r
                + 1.846_318_317_510_054_8e-5)
                * r
                + 7.868_691_311_456_132_6e-4)
                * r
                + 0.014_875_361_290_850_615)
                * r
                + 0.136_929_880_922_735_8)
                * r
                + 0.599_832_206_555_887_9)
                * r
                + 1.0)
    };
    if q < 0.0 { -val } else { val }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cochran_sizes_from_the_domain_brief() {
        // DOMAIN.md: N=100 → 80, N=1000 → 278, N=10000 → 370, large N → 385.
        for (big_n, n) in [(100, 80), (1000, 278), (10_000, 370), (10_000_000_000, 385)] {
            let c = cochran(0.95, 0.05, 0.5, big_n);
            assert_eq!(c.n, n, "N = {big_n}");
            assert!((c.n0 - 384.145_882).abs() < 1e-5, "{}", c.n0);
        }
        assert_eq!(cochran(0.95, 0.05, 0.5, 10).n, 10);
        assert_eq!(cochran(0.95, 0.05, 0.5, 0).n, 0);
        assert_eq!(cochran(0.99, 0.03, 0.5, 1_000_000).n, 1840);
        // The achieved margin of the planned n is within the asked margin.
        for big_n in [100u64, 1000, 10_000] {
            let c = cochran(0.95, 0.05, 0.5, big_n);
            assert!(achieved_margin(c.z, 0.5, c.n, big_n) <= 0.05);
            assert!(achieved_margin(c.z, 0.5, c.n - 1, big_n) > 0.05);
        }
    }

    #[test]
    fn allocation_across_outlets_with_minimum_and_caps() {
        use crate::sizing::{Allocation, allocate};
        let sizes = vec![
            ("A".to_string(), 1),
            ("B".to_string(), 50),
            ("C".to_string(), 200),
        ];
        // Quotas 0.40, 19.92, 79.68; A is capped at its 1 person, min 5 lifts nobody else.
        assert_eq!(
            allocate(&sizes, 100, &Allocation::Proportional, 5).unwrap(),
            vec![1, 20, 79]
        );
        // Equal: 33⅓ each, A capped at 1, its share passed on (ties: the larger outlet first).
        assert_eq!(
            allocate(&sizes, 100, &Allocation::Equal, 1).unwrap(),
            vec![1, 49, 50]
        );
        // A minimum larger than the proportional share.
        let sizes = vec![("A".to_string(), 10), ("B".to_string(), 1000)];
        assert_eq!(
            allocate(&sizes, 50, &Allocation::Proportional, 5).unwrap(),
            vec![5, 45]
        );
        assert_eq!(crate::customers::inflate(233, 0.6), 389);
        assert_eq!(crate::customers::inflate(6, 0.6), 10);
        assert_eq!(crate::customers::inflate(5, 1.0), 5);
    }

    #[test]
    fn normal_quantiles() {
        assert!((z_for(0.95) - 1.959_963_984_540_054).abs() < 1e-12);
        assert!((z_for(0.90) - 1.644_853_626_951_472_2).abs() < 1e-12);
        assert!((z_for(0.99) - 2.575_829_303_548_901).abs() < 1e-12);
        assert!((normal_quantile(1e-10) + 6.361_340_902_404_056).abs() < 1e-9);
        assert_eq!(normal_quantile(0.5), 0.0);
    }
}
