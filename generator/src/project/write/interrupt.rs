//! Interruptions while writing. From the moment the destination may change until it is
//! complete, Ctrl-C, SIGTERM and SIGHUP do not kill the process: they are noted, the writer
//! sees them at its next step and undoes what it did, and the run ends with exit code 130.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::error::{Error, Result};

/// Catches interrupting signals for as long as it lives.
pub(crate) struct Interrupts {
    flag: Arc<AtomicBool>,
    ids: Vec<signal_hook::SigId>,
    /// In tests: how many checks pass before the next one acts as if a signal had arrived.
    #[cfg(test)]
    trip: std::cell::Cell<Option<usize>>,
}

impl Interrupts {
    /// Starts catching. A signal that cannot be caught keeps its default action.
    pub(crate) fn catch() -> Interrupts {
        let flag = Arc::new(AtomicBool::new(false));
        let mut signals = vec![signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM];
        #[cfg(unix)]
        signals.push(signal_hook::consts::SIGHUP);
        let ids = signals
            .into_iter()
            .filter_map(|s| signal_hook::flag::register(s, Arc::clone(&flag)).ok())
            .collect();
        Interrupts {
            flag,
            ids,
            #[cfg(test)]
            trip: std::cell::Cell::new(None),
        }
    }

    /// Interrupts that behave as if a signal arrived just before check number `checks`.
    #[cfg(test)]
    pub(crate) fn after(checks: usize) -> Interrupts {
        Interrupts {
            flag: Arc::new(AtomicBool::new(false)),
            ids: Vec::new(),
            trip: std::cell::Cell::new(Some(checks)),
        }
    }

    /// An error once a signal has arrived.
    pub(crate) fn check(&self) -> Result<()> {
        #[cfg(test)]
        if let Some(left) = self.trip.get() {
            if left == 0 {
                self.flag.store(true, Ordering::SeqCst);
            }
            self.trip.set(left.checked_sub(1));
        }
        if self.flag.load(Ordering::SeqCst) {
            Err(Error::Interrupted)
        } else {
            Ok(())
        }
    }
}

impl Drop for Interrupts {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}
