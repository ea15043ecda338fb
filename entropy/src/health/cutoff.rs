//! SP 800-90B §4.4 cutoff values: the Repetition Count and Adaptive Proportion formulas, computed exactly.
//!
//! The APT cutoff is `C = 1 + CRITBINOM(W, 2^-H, 1 - alpha)`, the smallest `k` with binomial CDF `>= 1 - alpha`,
//! i.e. the smallest `k` with upper tail `P(X > k) <= alpha`. We use **W trials**, as the text of 90B §4.4.2 reads;
//! the erratum's W-1 trials gives a cutoff smaller by at most one. W trials is the conservative choice (fewer false
//! alarms) and it is the one that refuses a configuration whose test could never fire: for H = 0.0178, W = 1024 it
//! gives 1025 > W, where W-1 trials would give exactly 1024 and accept a test that only a fully stuck window trips.
//!
//! The tail is summed in log space from the top, so alphas far below f64's `1 - alpha` resolution (2^-60 and
//! beyond) are exact to floating-point rounding of the log-probabilities.

use super::HealthConfigError;

/// A false-positive probability per test evaluation, held as `-log2(alpha)` so that 2^-60 is representable
/// exactly and `1 - alpha` never rounds to 1.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Alpha {
    neg_log2: f64,
}

impl Alpha {
    /// Largest exponent accepted: far beyond any sensible alpha, small enough to keep cutoffs in `u32`.
    pub const MAX_EXPONENT: f64 = 1024.0;

    /// `alpha = 2^-exponent`, e.g. `Alpha::pow2(20.0)` for the 90B recommended 2^-20.
    pub fn pow2(exponent: f64) -> Result<Self, HealthConfigError> {
        if (1.0..=Self::MAX_EXPONENT).contains(&exponent) {
            Ok(Self { neg_log2: exponent })
        } else {
            Err(HealthConfigError::InvalidAlpha { exponent })
        }
    }

    /// The exponent `e` with `alpha = 2^-e`.
    pub fn exponent(self) -> f64 {
        self.neg_log2
    }

    fn ln(self) -> f64 {
        -self.neg_log2 * std::f64::consts::LN_2
    }
}

impl TryFrom<f64> for Alpha {
    type Error = HealthConfigError;

    fn try_from(exponent: f64) -> Result<Self, Self::Error> {
        Self::pow2(exponent)
    }
}

impl From<Alpha> for f64 {
    fn from(alpha: Alpha) -> f64 {
        alpha.neg_log2
    }
}

/// APT window size per 90B §4.4.2: 1024 for binary samples, 512 otherwise.
pub fn apt_window(sample_bits: u8) -> u32 {
    if sample_bits == 1 {
        1024
    } else {
        512
    }
}

/// Repetition Count Test cutoff `C = 1 + ceil(-log2(alpha) / H)`.
pub fn rct_cutoff(min_entropy_per_sample: f64, alpha: Alpha) -> Result<u32, HealthConfigError> {
    check_entropy(min_entropy_per_sample)?;
    let runs = (alpha.neg_log2 / min_entropy_per_sample).ceil();
    if runs >= f64::from(u32::MAX - 1) {
        return Err(HealthConfigError::RctCutoffTooLarge {
            min_entropy_per_sample,
            alpha_exponent: alpha.neg_log2,
        });
    }
    // The range check above makes the conversion exact.
    Ok(1 + runs as u32)
}

/// Adaptive Proportion Test cutoff `C = 1 + CRITBINOM(W, 2^-H, 1 - alpha)` over `window` trials. May exceed the
/// window, in which case the test can never fire; [`HealthConfig`](super::HealthConfig) validation refuses that.
pub fn apt_cutoff(
    window: u32,
    min_entropy_per_sample: f64,
    alpha: Alpha,
) -> Result<u32, HealthConfigError> {
    check_entropy(min_entropy_per_sample)?;
    let n = window as usize;
    let ln2 = std::f64::consts::LN_2;
    let ln_p = -min_entropy_per_sample * ln2;
    // ln(1 - 2^-H) without cancellation when H is small and p is close to 1.
    let ln_q = (-(-min_entropy_per_sample * ln2).exp_m1()).ln();
    let ln_alpha = alpha.ln();

    let mut ln_factorial = Vec::with_capacity(n + 1);
    let mut acc = 0.0f64;
    ln_factorial.push(0.0);
    for i in 1..=n {
        acc += (i as f64).ln();
        ln_factorial.push(acc);
    }
    let ln_pmf = |k: usize| {
        ln_factorial[n] - ln_factorial[k] - ln_factorial[n - k]
            + k as f64 * ln_p
            + (n - k) as f64 * ln_q
    };

    // Walk k downwards while the upper tail P(X > k) stays within alpha; `smallest` is the last k that did.
    let mut ln_tail = f64::NEG_INFINITY; // ln P(X > n) = ln 0
    let mut smallest = n;
    for k in (0..=n).rev() {
        if ln_tail > ln_alpha {
            break;
        }
        smallest = k;
        ln_tail = ln_add_exp(ln_tail, ln_pmf(k)); // now ln P(X > k - 1)
    }
    // `smallest <= window`, so this fits.
    Ok(1 + smallest as u32)
}

fn ln_add_exp(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b;
    }
    if b == f64::NEG_INFINITY {
        return a;
    }
    let (hi, lo) = if a > b { (a, b) } else { (b, a) };
    hi + (lo - hi).exp().ln_1p()
}

fn check_entropy(min_entropy_per_sample: f64) -> Result<(), HealthConfigError> {
    if min_entropy_per_sample > 0.0 && min_entropy_per_sample.is_finite() {
        Ok(())
    } else {
        Err(HealthConfigError::NonPositiveEntropy {
            min_entropy_per_sample,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpha_rejects_nonsense_exponents() {
        for bad in [0.0, -3.0, f64::NAN, f64::INFINITY, 2000.0] {
            assert!(Alpha::pow2(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ln_add_exp_adds_probabilities() {
        let sum = ln_add_exp(0.25f64.ln(), 0.5f64.ln()).exp();
        assert!((sum - 0.75).abs() < 1e-12);
    }
}
