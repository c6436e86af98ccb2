//! Independent work spread over the host's cores, results in order: the
//! files of a boot are read and judged one per thread, since nothing links
//! them until the kernel primes them.

/// The most threads [`map`] uses.
pub const MAX_THREADS: usize = 8;

/// Below this many items a thread costs more than it saves.
const MIN_ITEMS: usize = 256;

/// `items.iter().map(f).collect()`, on up to [`MAX_THREADS`] threads.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_THREADS));
    if threads < 2 || items.len() < MIN_ITEMS {
        return items.iter().map(f).collect();
    }
    let f = &f;
    let per_thread = items.len().div_ceil(threads);
    std::thread::scope(|s| {
        let parts: Vec<_> = items
            .chunks(per_thread)
            .map(|part| s.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for part in parts {
            // A panic in a thread is the caller's panic.
            out.extend(part.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_across_threads() {
        let items: Vec<u32> = (0..10_000).collect();
        assert_eq!(
            map(&items, |i| i * 2),
            items.iter().map(|i| i * 2).collect::<Vec<_>>()
        );
        assert_eq!(map(&items[..3], |i| i + 1), vec![1, 2, 3]);
        assert!(map(&[] as &[u32], |i| *i).is_empty());
    }
}
