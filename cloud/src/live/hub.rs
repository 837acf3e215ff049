//! The open live streams of this cloud instance, by account.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use keyway_api::live::LiveNotice;
use tokio::sync::mpsc;

use super::NoticeBus;

/// Notices waiting for one stream at most; past that the stream gets one `resync` instead.
pub const QUEUE_PER_STREAM: usize = 8;
/// Open streams per account at most (a phone, a tablet, a reconnect not noticed yet…); a new
/// one closes the oldest.
pub const STREAMS_PER_ACCOUNT: usize = 4;

/// One open stream as the hub sees it.
#[derive(Debug)]
struct Outlet {
    stream_id: u64,
    queue: mpsc::Sender<LiveNotice>,
    shared: Arc<StreamShared>,
}

/// What the hub and the stream's reader both see.
#[derive(Debug)]
struct StreamShared {
    /// Notices were dropped for a full queue: the reader sends `resync` next.
    overflowed: AtomicBool,
    /// When the stream ends unless renewed (Unix seconds, cloud clock).
    renew_by: AtomicI64,
}

#[derive(Debug, Default)]
struct Streams {
    next_id: u64,
    by_account: HashMap<u32, Vec<Outlet>>,
    /// The cloud is shutting down: a stream opened now ends at once.
    closing: bool,
}

/// This instance's open live streams.
#[derive(Debug, Default)]
pub struct LiveHub {
    streams: Mutex<Streams>,
    /// Held through each drain pass (`super::drain::pass`), so passes never overlap.
    pub(crate) passes: tokio::sync::Mutex<()>,
}

/// One open stream: what its response reads from. Dropping it closes the stream in the hub.
#[derive(Debug)]
pub struct LiveStream {
    /// The stream's id (for renewing it).
    pub stream_id: u64,
    /// The account it belongs to.
    pub user_id: u32,
    queue: mpsc::Receiver<LiveNotice>,
    shared: Arc<StreamShared>,
    hub: Arc<LiveHub>,
}

impl LiveStream {
    /// The next notice: `resync` first when notices were dropped; `None` once the hub closed
    /// the stream (a newer stream of the account, or the cloud shutting down).
    pub async fn next(&mut self) -> Option<LiveNotice> {
        if self.take_overflow() {
            return Some(LiveNotice::Resync);
        }
        let notice = self.queue.recv().await?;
        Some(if self.take_overflow() {
            LiveNotice::Resync
        } else {
            notice
        })
    }

    /// Whether notices were dropped since the last look; if so, whatever is still queued is
    /// older than the `resync` that replaces them, and is dropped too.
    fn take_overflow(&mut self) -> bool {
        let overflowed = self.shared.overflowed.swap(false, Ordering::AcqRel);
        if overflowed {
            while self.queue.try_recv().is_ok() {}
        }
        overflowed
    }

    /// When the stream ends unless renewed (Unix seconds).
    pub fn renew_by(&self) -> i64 {
        self.shared.renew_by.load(Ordering::Acquire)
    }
}

impl Drop for LiveStream {
    fn drop(&mut self) {
        self.hub.remove(self.user_id, self.stream_id);
    }
}

impl LiveHub {
    fn lock(&self) -> std::sync::MutexGuard<'_, Streams> {
        self.streams.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Opens a stream for `user_id` that lasts until `renew_by` unless renewed; the account's
    /// oldest stream is closed when it already has [`STREAMS_PER_ACCOUNT`].
    pub fn open(self: &Arc<Self>, user_id: u32, renew_by: i64) -> LiveStream {
        let (sender, receiver) = mpsc::channel(QUEUE_PER_STREAM);
        let shared = Arc::new(StreamShared {
            overflowed: AtomicBool::new(false),
            renew_by: AtomicI64::new(renew_by),
        });
        let mut streams = self.lock();
        streams.next_id += 1;
        let stream_id = streams.next_id;
        if streams.closing {
            // Its sender is dropped here: the stream ends after its hello.
            drop(streams);
            return LiveStream {
                stream_id,
                user_id,
                queue: receiver,
                shared,
                hub: Arc::clone(self),
            };
        }
        let outlets = streams.by_account.entry(user_id).or_default();
        if outlets.len() >= STREAMS_PER_ACCOUNT {
            // Dropping its sender ends the oldest stream.
            outlets.remove(0);
        }
        outlets.push(Outlet {
            stream_id,
            queue: sender,
            shared: Arc::clone(&shared),
        });
        LiveStream {
            stream_id,
            user_id,
            queue: receiver,
            shared,
            hub: Arc::clone(self),
        }
    }

    /// Moves the end of `user_id`'s stream `stream_id` to `renew_by`; `false` when the account
    /// has no such stream open.
    pub fn renew(&self, user_id: u32, stream_id: u64, renew_by: i64) -> bool {
        let streams = self.lock();
        let outlet = streams
            .by_account
            .get(&user_id)
            .and_then(|outlets| outlets.iter().find(|o| o.stream_id == stream_id));
        match outlet {
            Some(outlet) => {
                outlet.shared.renew_by.fetch_max(renew_by, Ordering::AcqRel);
                true
            }
            None => false,
        }
    }

    fn remove(&self, user_id: u32, stream_id: u64) {
        let mut streams = self.lock();
        if let Some(outlets) = streams.by_account.get_mut(&user_id) {
            outlets.retain(|outlet| outlet.stream_id != stream_id);
            if outlets.is_empty() {
                streams.by_account.remove(&user_id);
            }
        }
    }

    /// Delivers `notice` to every open stream of each of `people` on this instance, without
    /// waiting: a full queue marks its stream for a `resync` instead.
    pub fn deliver(&self, people: &[u32], notice: &LiveNotice) {
        let streams = self.lock();
        for user_id in people {
            for outlet in streams.by_account.get(user_id).into_iter().flatten() {
                if outlet.queue.try_send(notice.clone()).is_err() {
                    outlet.shared.overflowed.store(true, Ordering::Release);
                }
            }
        }
    }

    /// Accounts with at least one open stream (site-wide notices go only to them).
    pub fn connected_accounts(&self) -> Vec<u32> {
        self.lock().by_account.keys().copied().collect()
    }

    /// Open streams in all.
    pub fn stream_count(&self) -> usize {
        self.lock().by_account.values().map(Vec::len).sum()
    }

    /// Closes every stream of `user_id` (a login of theirs was revoked).
    pub fn close_account(&self, user_id: u32) {
        self.lock().by_account.remove(&user_id);
    }

    /// Closes every open stream (the phones reconnect).
    pub fn close_all(&self) {
        self.lock().by_account.clear();
    }

    /// Closes every stream for good: the cloud is shutting down, and a stream would hold its
    /// graceful shutdown open; one opened from now on ends at once.
    pub fn shut_down(&self) {
        let mut streams = self.lock();
        streams.closing = true;
        streams.by_account.clear();
    }
}

impl NoticeBus for LiveHub {
    fn publish(&self, people: &[u32], notice: &LiveNotice) {
        self.deliver(people, notice);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_notice_reaches_only_its_people_and_a_slow_reader_gets_one_resync() {
        let hub = Arc::new(LiveHub::default());
        let mut ada = hub.open(1, 100);
        let mut bob = hub.open(2, 100);
        hub.deliver(&[1], &LiveNotice::KeysChanged);
        assert_eq!(ada.next().await, Some(LiveNotice::KeysChanged));
        hub.deliver(&[2], &LiveNotice::PodsChanged);
        assert_eq!(bob.next().await, Some(LiveNotice::PodsChanged));
        for _ in 0..QUEUE_PER_STREAM + 5 {
            hub.deliver(&[1], &LiveNotice::KeysChanged);
        }
        assert_eq!(ada.next().await, Some(LiveNotice::Resync));
        hub.deliver(&[1], &LiveNotice::PodsChanged);
        assert_eq!(
            ada.next().await,
            Some(LiveNotice::PodsChanged),
            "the queue was emptied"
        );
    }

    #[tokio::test]
    async fn an_account_holds_a_few_streams_and_a_new_one_closes_the_oldest() {
        let hub = Arc::new(LiveHub::default());
        let mut streams: Vec<LiveStream> =
            (0..STREAMS_PER_ACCOUNT).map(|_| hub.open(1, 100)).collect();
        let newest = hub.open(1, 100);
        assert_eq!(hub.stream_count(), STREAMS_PER_ACCOUNT);
        assert_eq!(streams[0].next().await, None, "the oldest is closed");
        assert!(hub.renew(1, newest.stream_id, 200));
        assert_eq!(newest.renew_by(), 200);
        assert!(
            !hub.renew(2, newest.stream_id, 300),
            "not another account's stream"
        );
        drop(newest);
        streams.clear();
        assert_eq!(hub.stream_count(), 0);
        assert!(hub.connected_accounts().is_empty());
        // Shutting down: a stream opened now ends at once instead of holding the cloud open.
        hub.shut_down();
        let mut late = hub.open(1, 100);
        assert_eq!(late.next().await, None);
        assert_eq!(hub.stream_count(), 0);
    }
}
