//! Short-lived caches for what every request looks up: its app and its API key.
//!
//! Each request names an app and carries a token; reading both from the database per request
//! would cost more than a publish itself. Entries live for [`TTL`], and this process drops
//! them at once when it changes them, so an edit made elsewhere (another process on the same
//! database) is seen within the TTL.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const TTL: Duration = Duration::from_secs(2);
const MAX_ENTRIES: usize = 10_000;

pub struct TtlCache<K, V> {
    map: Mutex<HashMap<K, (V, Instant)>>,
}

impl<K: Eq + Hash + Clone, V: Clone> Default for TtlCache<K, V> {
    fn default() -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (V, Instant)>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let map = self.lock();
        let (value, at) = map.get(key)?;
        (at.elapsed() < TTL).then(|| value.clone())
    }

    pub fn put(&self, key: K, value: V) {
        let mut map = self.lock();
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, (_, at)| at.elapsed() < TTL);
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
        }
        map.insert(key, (value, Instant::now()));
    }

    pub fn remove(&self, key: &K) {
        self.lock().remove(key);
    }

    /// Drops every entry whose value matches.
    pub fn remove_where(&self, pred: impl Fn(&V) -> bool) {
        self.lock().retain(|_, (v, _)| !pred(v));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_can_be_dropped() {
        let cache: TtlCache<u32, &str> = TtlCache::default();
        cache.put(1, "a");
        cache.put(2, "b");
        assert_eq!(cache.get(&1), Some("a"));
        cache.remove(&1);
        assert_eq!(cache.get(&1), None);
        cache.remove_where(|v| *v == "b");
        assert_eq!(cache.get(&2), None);
    }
}
