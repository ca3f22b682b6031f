//! Hybrid logical clocks: wall-clock milliseconds plus a counter, so every
//! change a device makes is stamped later than everything it has seen,
//! even when its wall clock is behind another device's.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

/// A hybrid logical clock reading.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Hlc {
    /// Wall-clock milliseconds since the Unix epoch (or later, if a device
    /// has seen a stamp from a clock that runs ahead).
    pub ms: i64,
    /// Orders stamps within one millisecond.
    pub counter: u32,
}

/// The full order of changes: the clock reading, then the device id to
/// break ties between devices. Any order of applying the same changes
/// picks the same winner.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Stamp {
    pub hlc: Hlc,
    pub device: String,
}

impl Ord for Stamp {
    fn cmp(&self, other: &Self) -> Ordering {
        self.hlc
            .cmp(&other.hlc)
            .then_with(|| self.device.cmp(&other.device))
    }
}

impl PartialOrd for Stamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// One device's clock.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    last: Hlc,
}

impl Clock {
    pub fn starting_at(last: Hlc) -> Clock {
        Clock { last }
    }

    /// The stamp for a new local change at wall time `wall_ms`.
    pub fn tick(&mut self, wall_ms: i64) -> Hlc {
        self.last = if wall_ms > self.last.ms {
            Hlc {
                ms: wall_ms,
                counter: 0,
            }
        } else {
            Hlc {
                ms: self.last.ms,
                counter: self.last.counter.saturating_add(1),
            }
        };
        self.last
    }

    /// Takes note of a stamp from another device, so later local changes
    /// are stamped after it.
    pub fn observe(&mut self, seen: Hlc) {
        if seen > self.last {
            self.last = seen;
        }
    }

    pub fn last(&self) -> Hlc {
        self.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_increase_even_when_the_wall_clock_goes_back() {
        let mut c = Clock::default();
        let a = c.tick(1_000);
        let b = c.tick(900);
        let d = c.tick(1_000);
        assert!(a < b && b < d, "{a:?} {b:?} {d:?}");
        assert_eq!(
            c.tick(2_000),
            Hlc {
                ms: 2_000,
                counter: 0
            }
        );
    }

    #[test]
    fn observing_a_clock_ahead_moves_later_ticks_past_it() {
        let mut c = Clock::default();
        c.tick(1_000);
        c.observe(Hlc {
            ms: 3_600_000,
            counter: 4,
        });
        assert_eq!(
            c.tick(1_001),
            Hlc {
                ms: 3_600_000,
                counter: 5
            }
        );
    }

    #[test]
    fn device_breaks_ties() {
        let h = Hlc { ms: 5, counter: 0 };
        let a = Stamp {
            hlc: h,
            device: "a".into(),
        };
        let b = Stamp {
            hlc: h,
            device: "b".into(),
        };
        assert!(a < b);
    }
}
