//! Startup: protocol negotiation, the trust check (loopback connections are trusted until
//! authentication exists), the session, and the ParameterStatus values clients read.

use std::collections::HashMap;
use std::fmt::Debug;

use async_trait::async_trait;
use futures::Sink;
use pgwire::api::auth::{ServerParameterProvider, StartupHandler, finish_authentication, protocol_negotiation, save_startup_parameters_to_metadata};
use pgwire::api::{ClientInfo, PgWireConnectionState, PidSecretKeyGenerator, RandomPidSecretKeyGenerator};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};

use super::Connection;

/// PIDs are unique for the life of the process; keys are random.
static PIDS: std::sync::LazyLock<RandomPidSecretKeyGenerator> = std::sync::LazyLock::new(RandomPidSecretKeyGenerator::default);

fn fatal(code: &str, message: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new("FATAL".into(), code.into(), message)))
}

#[async_trait]
impl StartupHandler for Connection {
    async fn on_startup<C>(&self, client: &mut C, message: PgWireFrontendMessage) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let PgWireFrontendMessage::Startup(startup) = message else {
            // Trust authentication asks for no password, so nothing else belongs here.
            return Err(fatal("08P01", "unexpected message during startup".into()));
        };
        protocol_negotiation(client, &startup).await?;
        save_startup_parameters_to_metadata(client, &startup);
        let metadata = client.metadata().clone();
        let Some(user) = metadata.get("user").cloned() else {
            return Err(fatal("28000", "no PostgreSQL user name specified in startup packet".into()));
        };
        let database = metadata.get("database").cloned().unwrap_or_else(|| user.clone());
        let peer = client.socket_addr().ip();
        if !peer.is_loopback() && !self.allow_remote {
            return Err(fatal(
                "28000",
                format!("no pg_hba.conf entry for host \"{peer}\", user \"{user}\", database \"{database}\", no encryption (start QuartzDB with --allow-remote to trust other hosts)"),
            ));
        }
        if !self.engine.has_role(&user) {
            return Err(fatal("28000", format!("role \"{user}\" does not exist")));
        }
        if !self.engine.has_database(&database) {
            return Err(fatal("3D000", format!("database \"{database}\" does not exist")));
        }

        let (pid, key) = PIDS.generate(client);
        client.set_pid_and_secret_key(pid, key.clone());
        let mut session = self.engine.session(&database, &user, pid).map_err(|e| super::error::to_pgwire(&e))?;
        for (name, value) in &metadata {
            if !matches!(name.as_str(), "user" | "database" | "options" | "replication") {
                session.apply_startup_setting(name, value).map_err(|e| super::error::to_pgwire(&e))?;
            }
        }
        let params = Parameters(session.settings().reported().into_iter().map(|(k, v)| (k.to_string(), v)).collect());
        *self.session.lock().await = Some(session);
        self.registry.register(pid, key, self.cancel.clone());
        *self.pid.lock().expect("pid lock") = Some(pid);
        tracing::debug!(pid, %user, %database, peer = %client.socket_addr(), "connection started");

        finish_authentication(client, &params).await?;
        client.set_state(PgWireConnectionState::ReadyForQuery);
        Ok(())
    }
}

/// The ParameterStatus messages sent after authentication.
struct Parameters(HashMap<String, String>);

impl ServerParameterProvider for Parameters {
    fn server_parameters<C: ClientInfo>(&self, _client: &C) -> Option<HashMap<String, String>> {
        let mut params = self.0.clone();
        params.insert("server_version".into(), format!("{} (QuartzDB {})", quartzdb_planner::PG_VERSION, env!("CARGO_PKG_VERSION")));
        Some(params)
    }
}

