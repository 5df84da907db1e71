//! COPY FROM STDIN on the wire: after the CopyInResponse, the client's CopyData messages are
//! decoded as they arrive, and each time the decoded rows reach `quartz.copy_batch_size` they
//! are inserted (see [`quartzdb_planner::copy::Load`]); CopyDone inserts the rest and commits.
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
    load: Load,
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
        Self { decoder, load: Load::new(copy), error: None }
    }

    fn feed(&mut self, data: &[u8]) -> PgWireResult<()> {
        match &mut self.decoder {
            Decoding::Text(d) => d.feed(data).map_err(|e| to_pgwire(&self.load.syntax_error(e))),
            Decoding::Binary(d) => d.feed(data),
        }
    }

    /// The rows decoded so far, once they fill a batch.
    fn full_batch(&mut self) -> PgWireResult<Option<Batch>> {
        let buffered = match &self.decoder {
            Decoding::Text(d) => d.buffered_bytes(),
            Decoding::Binary(d) => d.buffered_bytes(),
        };
        if buffered < self.load.copy().batch_bytes() {
            return Ok(None);
        }
        match &mut self.decoder {
            Decoding::Text(d) => Ok(Some(d.take())),
            Decoding::Binary(d) => d.take().map(Some),
        }
    }

    /// The last rows, once the data is complete.
    fn finish(self) -> (Load, PgWireResult<Batch>) {
        let batch = match self.error {
            Some(e) => Err(e),
            None => match self.decoder {
                Decoding::Text(d) => d.finish().map_err(|e| to_pgwire(&self.load.syntax_error(e))),
                Decoding::Binary(d) => d.finish(),
            },
        };
        (self.load, batch)
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
        // Taken out while a batch is inserted (the lock is not held across that); messages of
        // a connection are handled one at a time, so nothing else looks for it meanwhile.
        let Some(mut state) = self.take_copy() else { return Ok(()) };
        if state.error.is_none() {
            let batch = state.feed(&data.data).and_then(|_| state.full_batch());
            let inserted = match batch {
                Ok(Some(batch)) => {
                    let mut guard = self.session.lock().await;
                    match guard.as_mut() {
                        Some(session) => session.copy_batch(&mut state.load, batch).await.map_err(|e| to_pgwire(&e)),
                        None => Err(user_error(SqlState::ProtocolViolation, "no session")),
                    }
                }
                Ok(None) => Ok(()),
                Err(e) => Err(e),
            };
            if let Err(e) = inserted {
                // Roll back now rather than hold the write lock until the client is done.
                if let Some(session) = self.session.lock().await.as_mut() {
                    session.copy_abort(&mut state.load).await;
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
        let mut guard = self.session.lock().await;
        let session = guard.as_mut().ok_or_else(|| user_error(SqlState::ProtocolViolation, "no session"))?;
        let (load, last) = state.finish();
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
        if let Some(mut state) = self.take_copy()
            && let Some(session) = self.session.lock().await.as_mut()
        {
            session.copy_abort(&mut state.load).await;
            session.statement_failed();
        }
        user_error(SqlState::QueryCanceled, format!("COPY from stdin failed: {}", fail.message))
    }
}
