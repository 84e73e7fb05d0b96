//! The time the community's time-bound rules act at (check-in days, answer windows of
//! paid questions): the system's, unless a test set it. Tests drive time through the
//! real API by setting it, instead of sleeping.

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Duration, Utc};

/// The current time, shared by every request and background task of one process.
#[derive(Debug, Clone, Default)]
pub struct Clock(Arc<RwLock<Option<DateTime<Utc>>>>);

impl Clock {
    /// Now: the set time, or the system's.
    pub fn now(&self) -> DateTime<Utc> {
        match self.0.read() {
            Ok(set) => set.unwrap_or_else(Utc::now),
            Err(_) => Utc::now(),
        }
    }

    /// Stops the clock at `at` (tests).
    pub fn set(&self, at: DateTime<Utc>) {
        if let Ok(mut set) = self.0.write() {
            *set = Some(at);
        }
    }

    /// Moves a set clock on by `by` (tests); a running clock is stopped at now + `by`.
    pub fn advance(&self, by: Duration) {
        let next = self.now() + by;
        self.set(next);
    }
}
