//! How many requests an endpoint may have in flight right now: at most its `max_in_flight`,
//! but only as many as its answers have earned. A window starts at one request, grows by one
//! with each success (doubling per round trip, as TCP's slow start does) and halves with
//! each failure. A healthy endpoint reaches its `max_in_flight` within a few round trips; one
//! that hangs holds one connection open until its timeout comes, not fifty, so a thousand
//! hanging endpoints cost the process a thousand sockets, and their timeouts come back as a
//! thousand failures to write rather than tens of thousands.

/// Requests a fresh endpoint may have in flight.
const START: usize = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Window {
    size: usize,
}

impl Default for Window {
    fn default() -> Self {
        Self { size: START }
    }
}

impl Window {
    /// Requests in flight allowed now, for an endpoint allowing `max_in_flight`.
    pub(super) fn limit(&self, max_in_flight: usize) -> usize {
        self.size.min(max_in_flight).max(1)
    }

    pub(super) fn succeeded(&mut self, max_in_flight: usize) {
        self.size = (self.size + 1).min(max_in_flight.max(START));
    }

    pub(super) fn failed(&mut self) {
        self.size = (self.size / 2).max(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_with_successes_to_the_maximum_and_halves_on_failure() {
        let mut w = Window::default();
        assert_eq!(w.limit(50), 1);
        for _ in 0..3 {
            w.succeeded(50);
        }
        assert_eq!((w.limit(50), w.limit(2)), (4, 2));
        for _ in 0..100 {
            w.succeeded(50);
        }
        assert_eq!(w.limit(50), 50);
        w.failed();
        assert_eq!(w.limit(50), 25);
        for _ in 0..10 {
            w.failed();
        }
        assert_eq!(w.limit(50), 1);
    }
}
