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
use quartzdb_planner::copy::{CopyIn, Decoder};
use quartzdb_planner::{Error as PlannerError, Output};

use super::Connection;
use super::error::{to_pgwire, user_error};
use crate::sqlstate::SqlState;

/// A COPY FROM STDIN in progress on a connection.
pub struct CopyInProgress {
    copy: CopyIn,
    decoder: Decoder,
    error: Option<PlannerError>,
}

impl CopyInProgress {
    pub fn new(copy: CopyIn) -> Self {
        Self { decoder: copy.decoder(), copy, error: None }
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
            && let Err(e) = state.decoder.feed(&data.data)
        {
            state.error = Some(e.into());
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
        let result = match state.error {
            Some(e) => Err(e),
            None => match state.decoder.finish() {
                Ok(columns) => session.copy_in(&state.copy, columns).await,
                Err(e) => Err(e.into()),
            },
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
                Err(to_pgwire(&e))
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
