//! Latency summaries from HDR histograms (microseconds, 3 significant digits).

use std::time::Duration;

use hdrhistogram::Histogram;

/// The largest value a histogram records (one hour in µs); larger values are clamped.
const MAX_MICROS: u64 = 3_600_000_000;

/// A new histogram of microseconds.
#[allow(clippy::expect_used)] // constant bounds that hdrhistogram always accepts
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("valid constant bounds")
}

/// Records a duration in µs (at least 1, at most one hour).
pub fn record(histogram: &mut Histogram<u64>, elapsed: Duration) {
    let micros = u64::try_from(elapsed.as_micros()).unwrap_or(MAX_MICROS);
    histogram.saturating_record(micros.clamp(1, MAX_MICROS));
}

/// Count and percentiles of a histogram, in µs.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Summary {
    /// Values recorded.
    pub count: u64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Largest value.
    pub max: u64,
}

impl Summary {
    /// Summarises a histogram.
    pub fn of(histogram: &Histogram<u64>) -> Summary {
        if histogram.is_empty() {
            return Summary::default();
        }
        Summary {
            count: histogram.len(),
            p50: histogram.value_at_quantile(0.50),
            p90: histogram.value_at_quantile(0.90),
            p99: histogram.value_at_quantile(0.99),
            max: histogram.max(),
        }
    }
}

/// Formats microseconds for a report: `850 µs`, `1.25 ms`, `3.20 s`.
pub fn fmt_micros(micros: u64) -> String {
    if micros < 1_000 {
        format!("{micros} µs")
    } else if micros < 1_000_000 {
        format!("{:.2} ms", micros as f64 / 1_000.0)
    } else {
        format!("{:.2} s", micros as f64 / 1_000_000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_reads_percentiles_of_recorded_durations() {
        let mut h = histogram();
        for ms in 1..=100 {
            record(&mut h, Duration::from_millis(ms));
        }
        let s = Summary::of(&h);
        assert_eq!(s.count, 100);
        assert!((49_900..=50_100).contains(&s.p50), "{s:?}");
        assert!((98_900..=99_100).contains(&s.p99), "{s:?}");
        assert!((99_900..=100_100).contains(&s.max), "{s:?}");
        assert_eq!(Summary::of(&histogram()), Summary::default());
    }

    #[test]
    fn micros_are_formatted_in_a_readable_unit() {
        assert_eq!(fmt_micros(850), "850 µs");
        assert_eq!(fmt_micros(1_250), "1.25 ms");
        assert_eq!(fmt_micros(3_200_000), "3.20 s");
    }
}
