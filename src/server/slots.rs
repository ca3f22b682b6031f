//! Which connections the server keeps open, so that clients without a
//! token cannot hold the server (issue 17, item 5).
//!
//! A connection is *pending* from when it is accepted until it sends a
//! request with a valid token; then it is *authenticated* for as long as it
//! stays open. Pending connections cost a client nothing to open and hold
//! (half a request head, then silence), so accepting one never waits, and
//! they never take the slots of authenticated ones (`--max-connections`).
//! Instead they are capped per address and in all, and a new one over a
//! cap closes the oldest; and each must show a token within the header
//! timeout of connecting. A real client sends its request head at once and
//! is authenticated within milliseconds, so it always gets in, while
//! connections that only hold a place are cycled out. Per address, because
//! a single host can open thousands of connections; oldest first, because
//! refusing the newest would also refuse a real client on the same address
//! (a NAT, a proxy, or the attacker's own network).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// What the per-address cap counts by: an IPv4 address, or an IPv6 /64.
/// One host is commonly given a whole /64, so counting its addresses one
/// by one would let it open as many connections as it likes.
pub(crate) fn peer_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !(u64::MAX as u128))),
        v4 => v4,
    }
}

/// The pending connections, oldest first, with what the caller keeps for
/// each (the server: how to close it). Only bookkeeping: it closes nothing
/// itself, it says which to close.
#[derive(Debug)]
pub(crate) struct Pending<T> {
    max_total: usize,
    max_per_peer: usize,
    next_id: u64,
    /// By id, which is the order they came in.
    conns: BTreeMap<u64, Entry<T>>,
    by_peer: HashMap<IpAddr, BTreeSet<u64>>,
}

#[derive(Debug)]
struct Entry<T> {
    peer: IpAddr,
    /// A request is being answered: its head has arrived, so this is not
    /// a client holding a place, and it may be one about to show a token.
    busy: bool,
    value: T,
}

impl<T> Pending<T> {
    /// At most `max_total` pending connections, `max_per_peer` of them
    /// from one address (see [`peer_key`]); both at least 1.
    pub(crate) fn new(max_total: usize, max_per_peer: usize) -> Pending<T> {
        Pending {
            max_total: max_total.max(1),
            max_per_peer: max_per_peer.max(1),
            next_id: 0,
            conns: BTreeMap::new(),
            by_peer: HashMap::new(),
        }
    }

    /// Takes in a new connection from `peer`: its id, and the values of
    /// the connections it displaced (at most one for its address's cap and
    /// one for the overall cap), which the caller must close.
    pub(crate) fn admit(&mut self, peer: IpAddr, value: T) -> (u64, Vec<T>) {
        let peer = peer_key(peer);
        let mut displaced = Vec::new();
        let same_peer = self
            .by_peer
            .get(&peer)
            .filter(|ids| ids.len() >= self.max_per_peer);
        if let Some(id) = same_peer.and_then(|ids| self.victim(ids.iter().copied())) {
            displaced.extend(self.remove(id));
        }
        if self.conns.len() >= self.max_total {
            if let Some(id) = self.victim(self.conns.keys().copied()) {
                displaced.extend(self.remove(id));
            }
        }
        let id = self.next_id;
        self.next_id += 1;
        self.conns.insert(
            id,
            Entry {
                peer,
                busy: false,
                value,
            },
        );
        self.by_peer.entry(peer).or_default().insert(id);
        (id, displaced)
    }

    /// Which of `ids` (oldest first) to close: the oldest that has no
    /// request in flight, or else the oldest, so the caps hold even when
    /// every pending connection is busy.
    fn victim(&self, ids: impl Iterator<Item = u64> + Clone) -> Option<u64> {
        ids.clone()
            .find(|id| self.conns.get(id).is_some_and(|e| !e.busy))
            .or_else(|| ids.into_iter().next())
    }

    /// Closes the oldest pending connection that is not answering a
    /// request (or else the oldest): for when the server needs the room,
    /// e.g. it is out of file descriptors.
    pub(crate) fn displace_oldest(&mut self) -> Option<T> {
        let id = self.victim(self.conns.keys().copied())?;
        self.remove(id)
    }

    /// Marks whether the connection is answering a request; nothing if it
    /// is no longer pending.
    pub(crate) fn set_busy(&mut self, id: u64, busy: bool) {
        if let Some(e) = self.conns.get_mut(&id) {
            e.busy = busy;
        }
    }

    /// Takes the connection out (it authenticated, or closed); its value,
    /// or None if it was not pending.
    pub(crate) fn remove(&mut self, id: u64) -> Option<T> {
        let entry = self.conns.remove(&id)?;
        if let Some(ids) = self.by_peer.get_mut(&entry.peer) {
            ids.remove(&id);
            if ids.is_empty() {
                self.by_peer.remove(&entry.peer);
            }
        }
        Some(entry.value)
    }

    #[cfg(test)]
    pub(crate) fn contains(&self, id: u64) -> bool {
        self.conns.contains_key(&id)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.conns.len()
    }
}

/// The server's connection places: the pending table and the slots for
/// authenticated connections.
#[derive(Debug)]
pub(crate) struct Slots {
    /// For each pending connection, how to tell it to close.
    pending: Mutex<Pending<Arc<Notify>>>,
    authenticated: Arc<Semaphore>,
}

impl Slots {
    pub(crate) fn new(max_connections: usize, max_pending: usize, max_per_peer: usize) -> Slots {
        Slots {
            pending: Mutex::new(Pending::new(max_pending, max_per_peer)),
            authenticated: Arc::new(Semaphore::new(max_connections.max(1))),
        }
    }

    fn table(&self) -> MutexGuard<'_, Pending<Arc<Notify>>> {
        // The table stays consistent between calls, so a panic elsewhere
        // while it was locked leaves nothing to repair.
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a connection just accepted from `peer`; never waits. The
    /// connection, and how many pending ones were closed to make room.
    pub(crate) fn admit(self: &Arc<Self>, peer: IpAddr) -> (Arc<Conn>, usize) {
        let closed = Arc::new(Notify::new());
        let (id, displaced) = self.table().admit(peer, Arc::clone(&closed));
        for other in &displaced {
            // Stored if that connection is not waiting yet: it closes as
            // soon as it looks.
            other.notify_one();
        }
        let conn = Conn {
            slots: Arc::clone(self),
            id,
            closed,
            permit: OnceLock::new(),
        };
        (Arc::new(conn), displaced.len())
    }

    /// Closes the oldest pending connection; whether there was one.
    pub(crate) fn displace_oldest(&self) -> bool {
        let displaced = self.table().displace_oldest();
        displaced.map(|c| c.notify_one()).is_some()
    }
}

/// One connection's place, shared by its task and its requests. Dropping
/// the last handle gives the place back.
#[derive(Debug)]
pub(crate) struct Conn {
    slots: Arc<Slots>,
    id: u64,
    /// Notified when the connection is to close at once, to make room.
    closed: Arc<Notify>,
    /// Held once the connection is authenticated.
    permit: OnceLock<OwnedSemaphorePermit>,
}

/// How a pending connection is closed when its time is up, or the server
/// stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expiry {
    /// Nothing in flight: close it now.
    Close,
    /// A request is being answered: finish it, then close.
    AfterRequest,
}

impl Conn {
    /// Resolves when the connection has been displaced to make room.
    pub(crate) async fn displaced(&self) {
        self.closed.notified().await
    }

    /// Whether a request with a valid token has come on this connection.
    pub(crate) fn is_authenticated(&self) -> bool {
        self.permit.get().is_some()
    }

    /// How to close the connection while it is pending; None once it is
    /// authenticated.
    pub(crate) fn if_pending(&self) -> Option<Expiry> {
        let busy = self.slots.table().conns.get(&self.id).map(|e| e.busy);
        busy.map(|busy| {
            if busy {
                Expiry::AfterRequest
            } else {
                Expiry::Close
            }
        })
    }

    /// Resolves at `deadline` if the connection is still pending then,
    /// saying how to close it; never once it is authenticated.
    pub(crate) async fn expiry(&self, deadline: tokio::time::Instant) -> Expiry {
        tokio::time::sleep_until(deadline).await;
        match self.if_pending() {
            Some(how) => how,
            None => std::future::pending().await,
        }
    }

    /// Marks a request in flight until the guard is dropped.
    pub(crate) fn busy(self: &Arc<Self>) -> Busy {
        self.slots.table().set_busy(self.id, true);
        Busy(Arc::clone(self))
    }

    /// A request on this connection showed a valid token: the connection
    /// takes an authenticated slot, waiting for one if all are held (the
    /// request's time limit bounds the wait), and is pending no more.
    pub(crate) async fn authenticate(&self) {
        if self.is_authenticated() {
            return;
        }
        let permit = Arc::clone(&self.slots.authenticated)
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        // One request at a time on an HTTP/1 connection, so nothing else
        // can have set it meanwhile.
        let _ = self.permit.set(permit);
        self.slots.table().remove(self.id);
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.slots.table().remove(self.id);
    }
}

/// A request in flight on a connection: see [`Conn::busy`].
pub(crate) struct Busy(Arc<Conn>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.slots.table().set_busy(self.0.id, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_oldest_from_a_full_address_makes_room() {
        let mut p = Pending::new(100, 3);
        let a = ip("10.0.0.1");
        let b = ip("10.0.0.2");
        for i in 0..3 {
            assert_eq!(p.admit(a, format!("a{i}")).1, Vec::<String>::new());
        }
        assert_eq!(p.admit(b, "b0".into()).1, Vec::<String>::new());
        // A's fourth displaces A's first, not B's older one.
        assert_eq!(p.admit(a, "a3".into()).1, vec!["a0".to_owned()]);
        assert_eq!(p.admit(a, "a4".into()).1, vec!["a1".to_owned()]);
        assert_eq!(p.len(), 4);
    }

    #[test]
    fn a_connection_answering_a_request_is_displaced_last() {
        let mut p = Pending::new(100, 2);
        let a = ip("10.0.0.1");
        let (zero, _) = p.admit(a, 0);
        p.admit(a, 1);
        p.set_busy(zero, true);
        let (two, displaced) = p.admit(a, 2);
        assert_eq!(displaced, vec![1]);
        // All busy: the oldest goes, so the cap still holds.
        p.set_busy(two, true);
        let (three, displaced) = p.admit(a, 3);
        assert_eq!(displaced, vec![0]);
        assert_eq!(p.len(), 2);
        // Idle again after its request: the first to go once more.
        p.set_busy(three, true);
        p.set_busy(two, false);
        assert_eq!(p.admit(a, 4).1, vec![2]);
    }

    #[test]
    fn the_overall_cap_displaces_the_oldest_of_any_address() {
        let mut p = Pending::new(3, 3);
        p.admit(ip("10.0.0.1"), "a");
        p.admit(ip("10.0.0.2"), "b");
        p.admit(ip("10.0.0.2"), "c");
        assert_eq!(p.admit(ip("10.0.0.3"), "d").1, vec!["a"]);
        // Over both caps at once: one for the address, then none is needed
        // for the total.
        let mut q = Pending::new(2, 1);
        q.admit(ip("10.0.0.1"), "a");
        q.admit(ip("10.0.0.2"), "b");
        assert_eq!(q.admit(ip("10.0.0.2"), "c").1, vec!["b"]);
        assert_eq!(q.len(), 2);
        assert_eq!(q.displace_oldest(), Some("a"));
        assert_eq!(q.displace_oldest(), Some("c"));
        assert_eq!(q.displace_oldest(), None);
    }

    #[test]
    fn removed_connections_free_their_place() {
        let mut p = Pending::new(10, 2);
        let a = ip("10.0.0.1");
        let (x, _) = p.admit(a, "x");
        let (y, _) = p.admit(a, "y");
        assert_eq!(p.remove(x), Some("x"));
        assert_eq!(p.remove(x), None);
        p.set_busy(x, true);
        assert_eq!(p.admit(a, "z").1, Vec::<&str>::new());
        assert!(p.contains(y) && !p.contains(x));
        assert!(p.by_peer.get(&a).is_some_and(|ids| ids.len() == 2));
        p.remove(y);
        let (_, displaced) = p.admit(a, "w");
        assert!(displaced.is_empty());
        while p.displace_oldest().is_some() {}
        assert!(p.by_peer.is_empty(), "{:?}", p.by_peer);
    }

    #[test]
    fn an_ipv6_host_counts_as_its_64() {
        let mut p = Pending::new(10, 2);
        p.admit(ip("2001:db8:1:2::1"), 1);
        p.admit(ip("2001:db8:1:2:ffff::9"), 2);
        assert_eq!(p.admit(ip("2001:db8:1:2:abcd::1"), 3).1, vec![1]);
        assert_eq!(p.admit(ip("2001:db8:1:3::1"), 4).1, Vec::<i32>::new());
        // An IPv4 client on a dual-stack socket is its IPv4 address.
        assert_eq!(peer_key(ip("::ffff:10.0.0.1")), ip("10.0.0.1"));
        assert_eq!(peer_key(ip("10.0.0.1")), ip("10.0.0.1"));
    }

    #[tokio::test]
    async fn a_connection_with_a_token_leaves_the_pending_places_for_a_slot() {
        use std::time::Duration;
        use tokio::time::timeout;

        let slots = Arc::new(Slots::new(1, 10, 1));
        let a = ip("10.0.0.1");
        let (first, closed) = slots.admit(a);
        assert_eq!(closed, 0);
        assert_eq!(first.if_pending(), Some(Expiry::Close));
        first.authenticate().await;
        assert!(first.is_authenticated());
        assert_eq!(first.if_pending(), None);
        // Authenticated, it no longer counts against its address.
        let (second, closed) = slots.admit(a);
        assert_eq!(closed, 0);
        let (third, closed) = slots.admit(a);
        assert_eq!(closed, 1);
        timeout(Duration::from_secs(1), second.displaced())
            .await
            .expect("the second was told to close");
        // The one slot is the first's: the third, answering a request with
        // a token, waits for it.
        let busy = third.busy();
        assert_eq!(third.if_pending(), Some(Expiry::AfterRequest));
        assert!(timeout(Duration::from_millis(50), third.authenticate())
            .await
            .is_err());
        drop(first);
        timeout(Duration::from_secs(1), third.authenticate())
            .await
            .expect("the first's slot was given back");
        drop(busy);
        assert!(third.is_authenticated());
        drop(second);
        assert!(!slots.displace_oldest(), "nothing is pending");
    }
}
