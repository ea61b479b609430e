//! Reading a source's archive for the core's history walk: the source as
//! an [`Archive`], and the signatures of a local archive checked on every
//! core, fed to the same walk in sequence order.

use canary_core::{
    Archive, ArchivePath, Finding, HistoryWalk, State, TrustChain, VerifiedStatement, Walked,
    check_history, verify_archived_statement,
};

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex};

use reqwest::Url;

use crate::fetch::{FetchError, Fetcher, SharedFetcher};
use crate::source::{Location, ReadError, fetched, remote_url};

/// A source's archive, read through the fetcher: what the core walks.
pub struct SourceArchive<'a> {
    /// Where the source's documents are.
    pub location: &'a Location,
    /// What reads them.
    pub fetcher: &'a mut Fetcher,
}

impl Archive for SourceArchive<'_> {
    type Error = ReadError;

    fn fetch(&mut self, path: ArchivePath<'_>) -> Result<Option<Vec<u8>>, ReadError> {
        match self
            .location
            .read_archive(self.fetcher, &path.to_path(), path.cap())
        {
            Ok(bytes) => Ok(Some(bytes)),
            Err(ReadError::Absent(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Statements of a local archive read, then verified together, per step of
/// [`walk_history`]: enough to keep every core busy, little enough that
/// memory stays small (at most this many files at once) whatever the length
/// of the archive.
const BATCH: u64 = 256;

/// The core's history walk ([`check_history`]) with the signatures of a
/// local archive checked on every core, and the statements of a remote
/// archive fetched ahead of the walk, a bounded number at a time over the
/// client's pool of connections (see [`walk_remote`]).
///
/// The outcome is that of the core's walk: statements are fed to the same
/// [`HistoryWalk`] in sequence order, and it stops at the same place.
pub fn walk_history(
    archive: &mut SourceArchive<'_>,
    chain: &TrustChain,
    start: Option<&State>,
    latest: &VerifiedStatement,
) -> Walked<usize, ReadError> {
    if let Location::Remote { archive: base, .. } = archive.location {
        // A client that cannot be built is reported by the plain walk, on
        // its first fetch, as it always was.
        if let Ok(shared) = archive.fetcher.shared()
            && let Some(walked) = walk_remote(base, &shared, chain, start, latest)
        {
            return walked;
        }
        return check_history(archive, chain, start, latest);
    }
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    if workers < 2 {
        return check_history(archive, chain, start, latest);
    }
    let mut walk = HistoryWalk::new(start);
    let mut error = None;
    let to = latest.document().sequence;
    let mut from = walk.next_sequence();
    while from < to && !walk.is_stopped() && error.is_none() {
        let end = to.min(from.saturating_add(BATCH));
        let mut batch = Vec::new();
        // A file that cannot be read ends the walk, but only after the
        // statements before it, which may hold an earlier problem.
        let mut gap = None;
        for seq in from..end {
            let path = ArchivePath::Statement(seq);
            match archive.fetch(path) {
                Ok(Some(bytes)) => batch.push(bytes),
                Ok(None) => {
                    gap = Some(Ok(seq));
                    break;
                }
                Err(e) => {
                    gap = Some(Err((path.to_path(), e)));
                    break;
                }
            }
        }
        for (seq, verified) in (from..).zip(verify_batch(&batch, chain, from, workers)) {
            match verified {
                Ok(v) => {
                    walk.push(v);
                }
                Err(findings) => walk.push_unauthentic(seq, &findings),
            }
            if walk.is_stopped() {
                break;
            }
        }
        match gap {
            Some(Ok(seq)) => walk.push_missing(seq),
            Some(Err(e)) if !walk.is_stopped() => error = Some(e),
            _ => {}
        }
        from = end;
    }
    walk.conclude(latest, error)
}

/// [`verify_archived_statement`] over each of `batch` (sequences from
/// `first` on), in order, on up to `workers` threads.
fn verify_batch(
    batch: &[Vec<u8>],
    chain: &TrustChain,
    first: u64,
    workers: usize,
) -> Vec<Result<VerifiedStatement, Vec<Finding>>> {
    let one = |(seq, bytes): (u64, &Vec<u8>)| verify_archived_statement(chain, bytes, seq);
    let numbered = || (first..).zip(batch.iter());
    // Below a few statements a thread costs more than it saves.
    if workers < 2 || batch.len() < 8 {
        return numbered().map(one).collect();
    }
    let chunk = batch.len().div_ceil(workers);
    std::thread::scope(|scope| {
        // A part whose thread cannot be started (a process or memory limit)
        // is checked here instead.
        let parts: Vec<_> = batch
            .chunks(chunk)
            .enumerate()
            .map(|(i, part)| {
                let start = first + (i * chunk) as u64;
                std::thread::Builder::new()
                    .spawn_scoped(scope, move || {
                        (start..).zip(part.iter()).map(one).collect::<Vec<_>>()
                    })
                    .map_err(|_| (start, part))
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|p| match p {
                // A worker only panics on a bug; propagate it.
                Ok(h) => h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
                Err((start, part)) => (start..).zip(part.iter()).map(one).collect(),
            })
            .collect()
    })
}

/// Requests in flight at most during a remote walk: the connections it
/// opens over HTTP/1.1, or the streams on one connection over HTTP/2.
const IN_FLIGHT: usize = 16;

/// Statements fetched at most past the one the walk waits for: what memory
/// holds whatever the length of the archive, and what is fetched in vain
/// past a statement that stops the walk.
const AHEAD: u64 = 64;

/// What became of one archived statement, fetched and verified by a worker.
enum Fetched {
    /// Absent (404 or 410).
    Missing,
    /// Could not be fetched.
    Failed(ReadError),
    /// Fetched, and verified or not.
    Read(Box<Result<VerifiedStatement, Vec<Finding>>>),
}

/// The walk's side of the fetchers' work: what is claimed and what is done.
struct Ahead {
    /// The next sequence to claim.
    next: u64,
    /// The sequence the walk waits for.
    wanted: u64,
    /// Done, not yet taken by the walk.
    done: BTreeMap<u64, Fetched>,
    /// Set when the walk has what it needs: claim nothing more.
    stop: bool,
}

type Shared = Arc<(Mutex<Ahead>, Condvar)>;

/// The history walk of a remote archive, with up to [`IN_FLIGHT`] fetches
/// running ahead of it (each statement's signature checked by the thread
/// that fetched it), at most [`AHEAD`] statements past the one it waits
/// for. The walk itself takes the statements in sequence order and feeds
/// them to the [`HistoryWalk`] exactly as [`check_history`] does, so the
/// outcome is the same: the same findings, the same first error, the same
/// count. Fetches still running when it stops are left to finish on their
/// own: the walk does not wait for them. None when no thread could be
/// started.
fn walk_remote(
    base: &Url,
    fetcher: &SharedFetcher,
    chain: &TrustChain,
    start: Option<&State>,
    latest: &VerifiedStatement,
) -> Option<Walked<usize, ReadError>> {
    let mut walk = HistoryWalk::new(start);
    let first = walk.next_sequence();
    let to = latest.document().sequence;
    if first >= to {
        return Some(walk.conclude(latest, None));
    }
    let shared: Shared = Arc::new((
        Mutex::new(Ahead {
            next: first,
            wanted: first,
            done: BTreeMap::new(),
            stop: false,
        }),
        Condvar::new(),
    ));
    let chain = Arc::new(chain.clone());
    let workers = usize::try_from(to - first).map_or(IN_FLIGHT, |n| n.min(IN_FLIGHT));
    let mut started = 0;
    for _ in 0..workers {
        let (shared, chain, base, fetcher) = (
            Arc::clone(&shared),
            Arc::clone(&chain),
            base.clone(),
            fetcher.clone(),
        );
        let spawned = std::thread::Builder::new()
            .name("history-fetch".to_owned())
            .spawn(move || fetch_ahead(&shared, &chain, &base, &fetcher, to));
        if spawned.is_ok() {
            started += 1;
        }
    }
    if started == 0 {
        return None;
    }
    let (lock, ready) = &*shared;
    let mut error = None;
    for sequence in first..to {
        let fetched = {
            let Ok(mut ahead) = lock.lock() else {
                return None;
            };
            loop {
                if let Some(f) = ahead.done.remove(&sequence) {
                    ahead.wanted = sequence + 1;
                    ready.notify_all();
                    break f;
                }
                match ready.wait(ahead) {
                    Ok(a) => ahead = a,
                    Err(_) => return None,
                }
            }
        };
        match fetched {
            Fetched::Missing => walk.push_missing(sequence),
            Fetched::Failed(e) => {
                error = Some((ArchivePath::Statement(sequence).to_path(), e));
                break;
            }
            Fetched::Read(read) => match *read {
                Ok(v) => {
                    walk.push(v);
                }
                Err(findings) => walk.push_unauthentic(sequence, &findings),
            },
        }
        if walk.is_stopped() {
            break;
        }
    }
    if let Ok(mut ahead) = lock.lock() {
        ahead.stop = true;
        ahead.done.clear();
    }
    ready.notify_all();
    Some(walk.conclude(latest, error))
}

/// One fetching thread of [`walk_remote`]: claims the next sequence while
/// it is within [`AHEAD`] of the one the walk waits for, fetches and
/// verifies it, and hands it over, until the walk stops or every sequence
/// below `to` is claimed.
fn fetch_ahead(shared: &Shared, chain: &TrustChain, base: &Url, fetcher: &SharedFetcher, to: u64) {
    let (lock, ready) = &**shared;
    loop {
        let sequence = {
            let Ok(mut ahead) = lock.lock() else { return };
            loop {
                if ahead.stop || ahead.next >= to {
                    return;
                }
                if ahead.next < ahead.wanted.saturating_add(AHEAD) {
                    ahead.next += 1;
                    break ahead.next - 1;
                }
                match ready.wait(ahead) {
                    Ok(a) => ahead = a,
                    Err(_) => return,
                }
            }
        };
        // Should this thread die, the walk must not wait for it forever.
        let mut handed = Handover {
            shared,
            sequence,
            result: None,
        };
        let path = ArchivePath::Statement(sequence);
        let read = remote_url(base, &path.to_path())
            .and_then(|url| fetched(fetcher.get(&url, path.cap())));
        handed.result = Some(match read {
            Ok(bytes) => {
                Fetched::Read(Box::new(verify_archived_statement(chain, &bytes, sequence)))
            }
            Err(ReadError::Absent(_)) => Fetched::Missing,
            Err(e) => Fetched::Failed(e),
        });
    }
}

/// Hands a claimed sequence's result to the walk when dropped; a thread
/// that panicked before it had one hands over an error instead.
struct Handover<'a> {
    shared: &'a Shared,
    sequence: u64,
    result: Option<Fetched>,
}

impl Drop for Handover<'_> {
    fn drop(&mut self) {
        let (lock, ready) = &**self.shared;
        let result = self.result.take().unwrap_or_else(|| {
            Fetched::Failed(ReadError::Fetch(FetchError::Transport {
                url: format!("statement {}", self.sequence),
                message: "its fetching thread failed".to_owned(),
            }))
        });
        if let Ok(mut ahead) = lock.lock()
            && !ahead.stop
        {
            ahead.done.insert(self.sequence, result);
        }
        ready.notify_all();
    }
}
