//! COPY FROM STDIN on the wire: after the CopyInResponse, the client's CopyData messages are
//! decoded as they arrive and the rows inserted at CopyDone (see `quartzdb_planner::copy`).
//!
//! A malformed line does not end the exchange early: PostgreSQL's clients keep sending until
//! CopyDone, so the first error is kept, the rest of the data skipped, and the error reported
//! then, with nothing written.

use std::fmt::Debug;

use async_trait::async_trait;
use futures::{Sink, SinkExt};
use pgwire::api::{ClientInfo, PgWireConnectionState};
use pgwire::api::copy::CopyHandler;
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::copy::{CopyData, CopyDone, CopyFail};
use quartzdb_planner::copy::{CopyIn, Decoder, Format};
use quartzdb_planner::{Error as PlannerError, Output};

use super::Connection;
use super::binary_copy::BinaryDecoder;
use super::error::{to_pgwire, user_error};
use crate::sqlstate::SqlState;

/// A COPY FROM STDIN in progress on a connection.
pub struct CopyInProgress {
    copy: CopyIn,
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
        Self { decoder, copy, error: None }
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
        let mut guard = self.copy.lock().expect("copy lock");
        if let Some(state) = guard.as_mut()
            && state.error.is_none()
        {
            let fed = match &mut state.decoder {
                Decoding::Text(d) => d.feed(&data.data).map_err(|e| to_pgwire(&PlannerError::from(e))),
                Decoding::Binary(d) => d.feed(&data.data),
            };
            state.error = fed.err();
        }
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
        let columns = match state.error {
            Some(e) => Err(e),
            None => match state.decoder {
                Decoding::Text(d) => d.finish().map_err(|e| to_pgwire(&PlannerError::from(e))),
                Decoding::Binary(d) => d.finish(),
            },
        };
        let result = match columns {
            Ok(columns) => session.copy_in(&state.copy, columns).await.map_err(|e| to_pgwire(&e)),
            Err(e) => Err(e),
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
        self.take_copy();
        user_error(SqlState::QueryCanceled, format!("COPY from stdin failed: {}", fail.message))
    }
}
