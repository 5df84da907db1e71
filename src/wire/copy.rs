//! COPY FROM STDIN on the wire: after the CopyInResponse, the client's CopyData messages are
//! decoded as they arrive, and each time the decoded rows reach `quartz.copy_batch_size` they
//! are inserted (see [`quartzdb_planner::copy::Load`]); CopyDone inserts the rest and commits.
//! A batch is inserted by a task of its own while the next one is decoded (one at a time: the
//! next waits for it), so decoding and writing overlap.
//!
//! A malformed line or a failed batch does not end the exchange early: PostgreSQL's clients
//! keep sending until CopyDone, so the first error is kept (and what was inserted rolled back
//! at once), the rest of the data skipped, and the error reported then.

use std::fmt::Debug;

use async_trait::async_trait;
use futures::{Sink, SinkExt};
use pgwire::api::{ClientInfo, PgWireConnectionState};
use pgwire::api::copy::CopyHandler;
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::copy::{CopyData, CopyDone, CopyFail};
use quartzdb_planner::copy::{Batch, CopyIn, Decoder, Format, Load};
use quartzdb_planner::Output;

use super::Connection;
use super::binary_copy::BinaryDecoder;
use super::error::{to_pgwire, user_error};
use crate::sqlstate::SqlState;

/// A COPY FROM STDIN in progress on a connection.
pub struct CopyInProgress {
    copy: CopyIn,
    /// `None` while a batch is being inserted by `inflight`, which hands it back.
    load: Option<Load>,
    inflight: Option<tokio::task::JoinHandle<(Load, PgWireResult<()>)>>,
    decoder: Decoding,
    error: Option<PgWireError>,
}

/// Text and CSV data are split into text fields by the planner's decoder; binary data is read
/// here, where PostgreSQL's binary forms are known.
enum Decoding {
    Text(Decoder),
    Binary(BinaryDecoder),
}

impl CopyInProgress {
    pub fn new(copy: CopyIn) -> Self {
        let decoder = if copy.options.format == Format::Binary {
            let types = copy.type_oids().into_iter().zip(copy.type_names()).map(|(oid, name)| super::binary_copy::column_type(oid, name)).collect();
            Decoding::Binary(BinaryDecoder::new(types))
        } else {
            Decoding::Text(copy.decoder())
        };
        Self { decoder, load: Some(Load::new(copy.clone())), copy, inflight: None, error: None }
    }

    fn feed(&mut self, data: &[u8]) -> PgWireResult<()> {
        match &mut self.decoder {
            Decoding::Text(d) => d.feed(data).map_err(|e| to_pgwire(&self.copy.syntax_error(e))),
            Decoding::Binary(d) => d.feed(data),
        }
    }

    /// Waits for the batch being inserted, if any: the load is back, and the error if it failed
    /// (its transaction has then ended).
    async fn settle(&mut self) -> PgWireResult<()> {
        let Some(inflight) = self.inflight.take() else { return Ok(()) };
        match inflight.await {
            Ok((load, result)) => {
                self.load = Some(load);
                result
            }
            // The task panicked: its transaction was dropped with it, so rolled back.
            Err(e) => {
                self.load = Some(Load::new(self.copy.clone()));
                Err(user_error(SqlState::InternalError, format!("COPY batch failed: {e}")))
            }
        }
    }

    /// The rows decoded so far, once they fill a batch.
    fn full_batch(&mut self) -> PgWireResult<Option<Batch>> {
        let buffered = match &self.decoder {
            Decoding::Text(d) => d.buffered_bytes(),
            Decoding::Binary(d) => d.buffered_bytes(),
        };
        if buffered < self.copy.batch_bytes() {
            return Ok(None);
        }
        match &mut self.decoder {
            Decoding::Text(d) => Ok(Some(d.take())),
            Decoding::Binary(d) => d.take().map(Some),
        }
    }

    /// The load and the last rows, once the data is complete and the last batch inserted.
    async fn finish(mut self) -> (Load, PgWireResult<Batch>) {
        let settled = self.settle().await;
        let load = self.load.take().unwrap_or_else(|| Load::new(self.copy.clone()));
        let batch = match (self.error, settled) {
            (Some(e), _) | (None, Err(e)) => Err(e),
            (None, Ok(())) => match self.decoder {
                Decoding::Text(d) => d.finish().map_err(|e| to_pgwire(&self.copy.syntax_error(e))),
                Decoding::Binary(d) => d.finish(),
            },
        };
        (load, batch)
    }
}

impl Connection {
    fn take_copy(&self) -> Option<CopyInProgress> {
        self.copy.lock().expect("copy lock").take()
    }
}

#[async_trait]
impl CopyHandler for Connection {
    async fn on_copy_data<C>(&self, _client: &mut C, data: CopyData) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        // Taken out while it is worked on (the lock is not held across awaits); messages of a
        // connection are handled one at a time, so nothing else looks for it meanwhile.
        let Some(mut state) = self.take_copy() else { return Ok(()) };
        if state.error.is_none() {
            let batch = state.feed(&data.data).and_then(|_| state.full_batch());
            let started = match batch {
                Ok(Some(batch)) => match state.settle().await {
                    Ok(()) => {
                        let mut load = state.load.take().unwrap_or_else(|| Load::new(state.copy.clone()));
                        let session = self.session.clone();
                        state.inflight = Some(tokio::spawn(async move {
                            let mut guard = session.lock_owned().await;
                            let result = match guard.as_mut() {
                                Some(session) => session.copy_batch(&mut load, batch).await.map_err(|e| to_pgwire(&e)),
                                None => Err(user_error(SqlState::ProtocolViolation, "no session")),
                            };
                            (load, result)
                        }));
                        Ok(())
                    }
                    Err(e) => Err(e),
                },
                Ok(None) => Ok(()),
                Err(e) => Err(e),
            };
            if let Err(e) = started {
                // Roll back now rather than hold the write lock until the client is done.
                let _ = state.settle().await;
                if let (Some(session), Some(load)) = (self.session.lock().await.as_mut(), state.load.as_mut()) {
                    session.copy_abort(load).await;
                }
                state.error = Some(e);
            }
        }
        *self.copy.lock().expect("copy lock") = Some(state);
        Ok(())
    }

    async fn on_copy_done<C>(&self, client: &mut C, _done: CopyDone) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let Some(state) = self.take_copy() else {
            return Err(user_error(SqlState::ProtocolViolation, "CopyDone without a COPY in progress"));
        };
        let (load, last) = state.finish().await;
        let mut guard = self.session.lock().await;
        let session = guard.as_mut().ok_or_else(|| user_error(SqlState::ProtocolViolation, "no session"))?;
        let result = match last {
            Ok(batch) => session.copy_end(load, batch).await.map_err(|e| to_pgwire(&e)),
            Err(e) => {
                let mut load = load;
                session.copy_abort(&mut load).await;
                Err(e)
            }
        };
        match result {
            Ok(Output::Command(tag)) => {
                client.send(PgWireBackendMessage::CommandComplete(super::encode::tag(&tag).into())).await?;
                // pgwire leaves an extended-protocol COPY in copy mode, where the client's
                // closing Sync would be ignored and ReadyForQuery never sent. (On error it
                // waits for that Sync itself.)
                if matches!(client.state(), PgWireConnectionState::CopyInProgress(true)) {
                    client.set_state(PgWireConnectionState::ReadyForQuery);
                }
                Ok(())
            }
            Ok(other) => Err(user_error(SqlState::InternalError, format!("COPY produced {other:?}"))),
            Err(e) => {
                session.statement_failed();
                Err(e)
            }
        }
    }

    async fn on_copy_fail<C>(&self, _client: &mut C, fail: CopyFail) -> PgWireError
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        // What the COPY inserted is rolled back; an open block fails, as in PostgreSQL.
        if let Some(state) = self.take_copy() {
            let (mut load, _) = state.finish().await;
            if let Some(session) = self.session.lock().await.as_mut() {
                session.copy_abort(&mut load).await;
                session.statement_failed();
            }
        }
        user_error(SqlState::QueryCanceled, format!("COPY from stdin failed: {}", fail.message))
    }
}
