//! Reading a source's archive for the core's history walk: the source as
//! an [`Archive`], and the signatures of a local archive checked on every
//! core, fed to the same walk in sequence order.

use canary_core::{
    Archive, ArchivePath, Finding, HistoryWalk, State, TrustChain, VerifiedStatement, Walked,
    check_history, verify_archived_statement,
};

use crate::fetch::Fetcher;
use crate::source::{Location, ReadError};

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
/// local archive checked on every core. A remote archive goes one statement
/// at a time, as each fetch costs far more than a signature, and nothing is
/// fetched past the first statement that fails.
///
/// The outcome is that of the core's walk: statements are fed to the same
/// [`HistoryWalk`] in sequence order, and it stops at the same place.
pub fn walk_history(
    archive: &mut SourceArchive<'_>,
    chain: &TrustChain,
    start: Option<&State>,
    latest: &VerifiedStatement,
) -> Walked<usize, ReadError> {
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    if matches!(archive.location, Location::Remote { .. }) || workers < 2 {
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
