//! Retry schedules: the delays between attempts, and the jitter that spreads them.

use rand::Rng;
use serde::Serialize;

use super::FieldError;

/// Delays in seconds before each retry; its length is the number of retries, so a delivery
/// makes at most `len + 1` attempts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RetrySchedule(Vec<u32>);

impl RetrySchedule {
    /// The Standard Webhooks schedule Svix popularised: immediately, 5 s, 5 min, 30 min, 2 h,
    /// 5 h, 10 h, 14 h, 20 h, 24 h.
    pub fn standard() -> Self {
        Self(vec![
            0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400,
        ])
    }

    pub fn parse(field: &str, delays: Vec<i64>) -> Result<Self, FieldError> {
        if delays.len() > 50 {
            return Err(FieldError::new(field, "at most 50 retries"));
        }
        let mut out = Vec::with_capacity(delays.len());
        for (i, d) in delays.into_iter().enumerate() {
            if !(0..=7 * 86_400).contains(&d) {
                return Err(FieldError::new(
                    format!("{field}[{i}]"),
                    "must be between 0 and 604800 seconds",
                ));
            }
            out.push(d as u32);
        }
        Ok(Self(out))
    }

    pub fn from_trusted(delays: Vec<u32>) -> Self {
        Self(delays)
    }

    pub fn delays(&self) -> &[u32] {
        &self.0
    }

    /// The delay before the attempt that follows attempt number `attempts_made`, or `None`
    /// when the schedule is exhausted. Non-zero delays get up to 10% jitter so a burst of
    /// failures does not come back as a burst of retries.
    pub fn next_delay_ms(&self, attempts_made: u32) -> Option<u64> {
        let base = *self.0.get(attempts_made.checked_sub(1)? as usize)? as u64 * 1000;
        if base == 0 {
            return Some(0);
        }
        let jitter = rand::thread_rng().gen_range(0..=base / 10);
        Some(base + jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_length_bounds_attempts() {
        let s = RetrySchedule::from_trusted(vec![0, 5]);
        assert_eq!(s.next_delay_ms(1), Some(0));
        let second = s.next_delay_ms(2).unwrap_or(0);
        assert!((5000..=5500).contains(&second));
        assert_eq!(s.next_delay_ms(3), None);
    }

    #[test]
    fn rejects_negative_and_huge_delays() {
        assert!(RetrySchedule::parse("retry_schedule_s", vec![-1]).is_err());
        assert!(RetrySchedule::parse("retry_schedule_s", vec![1, 700_000]).is_err());
        assert!(RetrySchedule::parse("retry_schedule_s", vec![0, 1, 2]).is_ok());
    }
}
