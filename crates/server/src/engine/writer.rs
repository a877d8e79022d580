//! The writer: takes turns from its queue, applies up to [`MAX_BATCH`] of them in one
//! transaction (group commit), and hands the committed batch on to be told
//! (`publish.rs`). When a batch fails, its turns are retried one by one so one bad turn cannot
//! sink the others.

use super::apply::apply;
use super::apply::LockedAhead;
use super::error::JobError;
use super::publish::{finish, Applied, Done};
use super::{Core, Job, TurnError};
use crate::metrics::METRICS;
use baton_store::{StoreError, Tx};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Most turns committed together.
const MAX_BATCH: usize = 256;

/// Where a writer hands its committed batches: told on the spot, or by the publisher task
/// when the writer has a thread of its own (SQLite), so the writer goes back to writing.
pub(super) enum Publish {
    Here,
    Publisher(mpsc::UnboundedSender<Done>),
}

pub(super) async fn run(core: Arc<Core>, mut rx: mpsc::Receiver<Job>, publish: Publish) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let done = run_batch(&core, batch).await;
        match &publish {
            Publish::Here => finish(&core, done),
            Publish::Publisher(to) => {
                if let Err(mpsc::error::SendError(done)) = to.send(done) {
                    finish(&core, done);
                }
            }
        }
    }
}

/// One transaction for the whole batch; when it fails, each turn is retried on its own so one
/// bad turn cannot sink the others.
async fn run_batch(core: &Core, batch: Vec<Job>) -> Done {
    match try_batch(core, &batch).await {
        Ok(results) => {
            METRICS.turn_batches.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            batch.into_iter().zip(results).collect()
        }
        Err(e) if batch.len() > 1 => {
            tracing::warn!(error = %e, size = batch.len(), "batch failed; applying its turns one by one");
            let mut done = Vec::with_capacity(batch.len());
            for job in batch {
                let single = [job];
                match try_batch(core, &single).await {
                    Ok(results) => done.extend(single.into_iter().zip(results)),
                    Err(e) => done.extend(failed(single, &e)),
                }
            }
            done
        }
        Err(e) => failed(batch, &e).collect(),
    }
}

fn failed(
    batch: impl IntoIterator<Item = Job>,
    e: &StoreError,
) -> impl Iterator<Item = (Job, Result<Applied, TurnError>)> {
    let error = TurnError::Unavailable(format!(
        "the turn could not be stored ({e}); retry with the same client id"
    ));
    batch.into_iter().map(move |job| (job, Err(error.clone())))
}

async fn try_batch(core: &Core, batch: &[Job]) -> Result<Vec<Result<Applied, TurnError>>, StoreError> {
    let applied = apply_batch(core, batch).await;
    if applied.is_err() {
        // What the batch's turns remembered never reached the store.
        core.written.clear();
    }
    applied
}

/// PostgreSQL: the conversations of a batch's turns locked in one round trip instead of one
/// each, in id order (writers and instances never wait on each other in a circle). Only the
/// first turn of each conversation uses what was read here; a later one in the same batch
/// reads it again after the first wrote. SQLite has one writer and keeps what it wrote
/// (`caches::WrittenCache`): nothing is read ahead.
async fn lock_ahead(tx: &mut Tx, batch: &[Job]) -> Result<LockedAhead, StoreError> {
    if tx.dialect() != baton_store::Dialect::Postgres || batch.len() < 2 {
        return Ok(LockedAhead::new());
    }
    let mut seen = std::collections::HashSet::new();
    let turns: Vec<(&str, Option<&str>)> = batch
        .iter()
        .filter_map(|job| job.input.locks())
        .filter(|(conversation_id, _)| seen.insert(*conversation_id))
        .collect();
    Ok(tx
        .lock_conversations(&turns)
        .await?
        .into_iter()
        .map(|l| (l.conversation.id.clone(), l))
        .collect())
}

async fn apply_batch(core: &Core, batch: &[Job]) -> Result<Vec<Result<Applied, TurnError>>, StoreError> {
    let mut tx = core.store.begin().await?;
    let mut locked = lock_ahead(&mut tx, batch).await?;
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        match apply(core, &mut tx, &job.input, &mut locked).await {
            Ok(applied) => results.push(Ok(applied)),
            Err(JobError::Turn(e)) => results.push(Err(e)),
            Err(JobError::Store(e)) => return Err(e),
        }
    }
    tx.commit().await?;
    Ok(results)
}
