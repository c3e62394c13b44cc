//! The metrics server's connection slots: a fixed number of connections, and when all are taken
//! a new one takes the slot of the oldest connection that is not in the middle of a request.
//!
//! Waiting for a free slot instead would queue the kubelet's `/healthz` behind every client that
//! opened a connection and sent nothing; evicting the oldest one that never sent a whole request
//! answers the probe at once. A connection that sent a request is never evicted (its response
//! may still be on its way); when it then idles, the header read timeout closes it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// The open connections, oldest first.
#[derive(Debug)]
pub(super) struct Slots {
    max: usize,
    open: Mutex<VecDeque<Arc<Slot>>>,
}

/// One open connection.
#[derive(Debug, Default)]
pub(super) struct Slot {
    requested: AtomicBool,
    evicted: Notify,
}

impl Slot {
    /// Marks the connection as having sent a whole request: it is no longer evicted.
    pub(super) fn mark_requested(&self) {
        self.requested.store(true, Ordering::Relaxed);
    }

    /// Resolves when the slot was given to a newer connection: the connection is to close.
    pub(super) async fn evicted(&self) {
        self.evicted.notified().await;
    }
}

impl Slots {
    /// At most `max` connections (at least one).
    pub(super) fn new(max: usize) -> Self {
        Self {
            max: max.max(1),
            open: Mutex::default(),
        }
    }

    /// A slot for a new connection, evicting the oldest connection that sent no request when
    /// all are taken; `None` when every connection sent one (the new one is to be closed).
    pub(super) fn take(&self) -> Option<Arc<Slot>> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.len() >= self.max {
            let oldest_idle = open
                .iter()
                .position(|slot| !slot.requested.load(Ordering::Relaxed))?;
            if let Some(evicted) = open.remove(oldest_idle) {
                // Stored as a permit if the connection is not waiting yet: never lost.
                evicted.evicted.notify_one();
            }
        }
        let slot = Arc::new(Slot::default());
        open.push_back(slot.clone());
        Some(slot)
    }

    /// Frees `slot` when its connection closed.
    pub(super) fn release(&self, slot: &Arc<Slot>) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(at) = open.iter().position(|s| Arc::ptr_eq(s, slot)) {
            open.remove(at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_idle_connection_gives_up_its_slot() {
        let slots = Slots::new(2);
        let first = slots.take().expect("a free slot");
        let second = slots.take().expect("a free slot");
        first.mark_requested();
        let third = slots.take().expect("the second one's slot");
        assert_eq!(slots.open.lock().unwrap().len(), 2);
        assert!(
            slots
                .open
                .lock()
                .unwrap()
                .iter()
                .any(|s| Arc::ptr_eq(s, &first))
        );
        assert!(
            !slots
                .open
                .lock()
                .unwrap()
                .iter()
                .any(|s| Arc::ptr_eq(s, &second))
        );
        third.mark_requested();
        assert!(slots.take().is_none(), "both sent a request");
        slots.release(&first);
        assert!(slots.take().is_some());
    }
}
