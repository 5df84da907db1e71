//! Simple and extended query: statements go to the connection's session; results stream back.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use arrow::datatypes::{DataType, SchemaRef};
use async_trait::async_trait;
use futures::{Sink, SinkExt, StreamExt};
use pgwire::api::portal::Portal;
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{DescribePortalResponse, DescribeStatementResponse, FieldInfo, QueryResponse, Response};
use pgwire::api::stmt::{QueryParser, StoredStatement};
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore, Type};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::startup::ParameterStatus;
use quartzdb_planner::Session;
use quartzdb_sql::ast::Statement;
use tokio::sync::Mutex;

use super::Connection;
use super::encode::{self, Format};
use super::error::{cancelled, error_info, timed_out, to_pgwire, user_error};
use super::params;
use crate::sqlstate::SqlState;

/// A statement prepared by Parse: parsed and described once.
#[derive(Debug)]
pub struct Prepared {
    /// `None` for an empty query string.
    statement: Option<Statement>,
    /// Types of `$1…$n` as reported to the client: its own where it gave them, else inferred.
    param_types: Vec<Type>,
    /// The Arrow type each parameter is converted to before binding.
    param_arrow: Vec<Option<DataType>>,
    columns: Option<SchemaRef>,
}

/// Parses and describes statements for the extended protocol, with the connection's session.
#[derive(Debug)]
pub struct StatementParser {
    session: Arc<Mutex<Option<Session>>>,
}

impl StatementParser {
    pub fn new(session: Arc<Mutex<Option<Session>>>) -> Self {
        Self { session }
    }
}

fn no_session() -> PgWireError {
    user_error(SqlState::ProtocolViolation, "query before startup completed")
}

#[async_trait]
impl QueryParser for StatementParser {
    type Statement = Arc<Prepared>;

    async fn parse_sql<C>(&self, _client: &C, sql: &str, types: &[Option<Type>]) -> PgWireResult<Self::Statement>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let mut statements = quartzdb_sql::parse(sql).map_err(|e| to_pgwire(&e))?;
        if statements.len() > 1 {
            return Err(user_error(SqlState::SyntaxError, "cannot insert multiple commands into a prepared statement"));
        }
        let Some(statement) = statements.pop() else {
            return Ok(Arc::new(Prepared { statement: None, param_types: vec![], param_arrow: vec![], columns: None }));
        };
        let mut guard = self.session.lock().await;
        let session = guard.as_mut().ok_or_else(no_session)?;
        let description = session.describe(&statement).await.map_err(|e| to_pgwire(&e))?;
        let n = description.params.len().max(types.len());
        let mut param_types = Vec::with_capacity(n);
        let mut param_arrow = Vec::with_capacity(n);
        for i in 0..n {
            let inferred = description.params.get(i).cloned().flatten();
            match types.get(i).cloned().flatten().filter(|t| *t != Type::UNKNOWN) {
                Some(given) => {
                    param_arrow.push(inferred.or_else(|| params::arrow_type(&given)));
                    param_types.push(given);
                }
                None => {
                    param_types.push(params::pg_type(inferred.as_ref()));
                    param_arrow.push(inferred);
                }
            }
        }
        Ok(Arc::new(Prepared { statement: Some(statement), param_types, param_arrow, columns: description.columns }))
    }

    fn get_parameter_types(&self, stmt: &Self::Statement) -> PgWireResult<Vec<Type>> {
        Ok(stmt.param_types.clone())
    }

    fn get_result_schema(&self, stmt: &Self::Statement, format: Option<&Format>) -> PgWireResult<Vec<FieldInfo>> {
        match &stmt.columns {
            Some(schema) => encode::fields(schema, format.unwrap_or(&Format::UnifiedText)),
            None => Ok(vec![]),
        }
    }
}

impl Connection {
    /// Runs one statement under the connection's cancel signal and `statement_timeout`, and
    /// turns its output into a response. A COPY TO is sent at once when `first` (no earlier
    /// result of the same query waits to be sent), else left to pgwire, in order.
    async fn run<C>(&self, client: &mut C, session: &mut Session, statement: Statement, params: Option<datafusion::common::ParamValues>, format: &Format, first: bool) -> PgWireResult<Response>
    where
        C: Sink<PgWireBackendMessage> + Unpin + Send,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let generation = self.cancel.generation();
        let busy = session.busy();
        let timeout = session.settings().statement_timeout_ms();
        let deadline = (timeout > 0).then(|| tokio::time::Instant::now() + Duration::from_millis(timeout));
        let execute = Box::pin(session.execute(statement, params));
        let output = tokio::select! {
            biased;
            _ = self.cancel.cancelled(generation) => return Err(cancelled()),
            _ = sleep_until(deadline) => return Err(timed_out()),
            output = execute => output,
        };
        for (name, value) in session.take_changed_settings() {
            client.feed(PgWireBackendMessage::ParameterStatus(ParameterStatus::new(name.to_string(), value))).await?;
        }
        let output = output.map_err(|e| to_pgwire(&e))?;
        if let quartzdb_planner::Output::CopyIn(copy) = output {
            let columns = copy.columns();
            let format = if copy.options.format == quartzdb_planner::copy::Format::Binary { 1 } else { 0 };
            *self.copy.lock().expect("copy lock") = Some(super::copy::CopyInProgress::new(copy));
            return Ok(Response::CopyIn(pgwire::api::results::CopyResponse::new(format, columns, futures::stream::empty())));
        }
        let delivery = encode::Delivery { tz: session.settings().time_zone(), cancel: self.cancel.clone(), generation, deadline, failed: session.stream_failure_flag(), busy };
        if let quartzdb_planner::Output::CopyOut(copy) = output {
            return match first {
                true => super::copy_out::send(client, copy, delivery).await,
                false => super::copy_out::response(copy, delivery),
            };
        }
        encode::response(output, format, delivery)
    }
}

/// Sleeps until `deadline`, or forever when there is none (no statement_timeout).
pub(crate) async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Runs a result's row stream to the end, so that the next statement of a multi-statement
/// query cannot run before this one's rows are read.
async fn materialize(response: Response) -> Response {
    match response {
        Response::Query(q) => {
            let (command_tag, row_schema, data_rows) = (q.command_tag, q.row_schema, q.data_rows);
            let rows: Vec<PgWireResult<_>> = data_rows.collect().await;
            if let Some(Err(e)) = rows.iter().find(|r| r.is_err()) {
                return Response::Error(Box::new(ErrorInfo::from(clone_error(e))));
            }
            let mut q = QueryResponse::new(row_schema, futures::stream::iter(rows));
            q.command_tag = command_tag;
            Response::Query(q)
        }
        other => other,
    }
}

fn clone_error(e: &PgWireError) -> PgWireError {
    match e {
        PgWireError::UserError(info) => {
            let mut copy = ErrorInfo::new(info.severity.clone(), info.code.clone(), info.message.clone());
            copy.detail = info.detail.clone();
            PgWireError::UserError(Box::new(copy))
        }
        other => user_error(SqlState::InternalError, other.to_string()),
    }
}

/// `DEALLOCATE name` of a statement prepared with the protocol's Parse (as psycopg sends it):
/// the wire layer holds those. SQL-level `PREPARE`d names, and `ALL`, go to the session.
/// `DEALLOCATE ALL` leaves Parse-prepared statements in place (pgwire's store cannot list them;
/// they only take memory until the connection ends, and a new Parse of a name replaces it).
fn deallocate_protocol_statement<S: PortalStore>(store: &S, statement: &Statement) -> Option<Response> {
    let Statement::Deallocate { name, .. } = statement else { return None };
    let name = quartzdb_planner::names::ident(name);
    if name.eq_ignore_ascii_case("all") || store.get_statement(&name).is_none() {
        return None;
    }
    store.rm_statement(&name);
    Some(Response::Execution(pgwire::api::results::Tag::new("DEALLOCATE")))
}

/// The cursors a DECLARE opens or a CLOSE closes (`None` for CLOSE ALL).
fn cursor_names(statement: &Statement) -> Vec<Option<String>> {
    use quartzdb_sql::ast::CloseCursor;
    match statement {
        Statement::Declare { stmts } => stmts.iter().flat_map(|d| d.names.iter().map(|n| Some(quartzdb_planner::names::ident(n)))).collect(),
        Statement::Close { cursor: CloseCursor::Specific { name } } => vec![Some(quartzdb_planner::names::ident(name))],
        Statement::Close { cursor: CloseCursor::All } => vec![None],
        _ => vec![],
    }
}

/// In PostgreSQL a cursor is also a portal of the protocol: psycopg describes its named cursors
/// with Describe Portal. Each open cursor gets a portal (whose Execute fetches the rest of it);
/// a closed one loses it.
fn cursor_portals<S: PortalStore>(store: &S, session: &Session, names: &[Option<String>]) {
    use pgwire::api::store::MemPortalStore;
    let Some(store) = store.as_any().downcast_ref::<MemPortalStore<Arc<Prepared>>>() else { return };
    for name in names {
        let Some(name) = name else { continue };
        match session.cursor_schema(name) {
            Some(schema) => {
                let statement = quartzdb_sql::parse(&format!("FETCH ALL FROM {}", quartzdb_planner::names::quote_ident(name))).ok().and_then(|mut s| s.pop());
                let prepared = Arc::new(Prepared { statement, param_types: vec![], param_arrow: vec![], columns: Some(schema) });
                let stored = Arc::new(StoredStatement::new(String::new(), prepared, vec![]));
                store.put_portal(Arc::new(Portal::new_cursor(name.clone(), stored)));
            }
            None => store.rm_portal(name),
        }
    }
}

fn into_error_response(e: PgWireError) -> Response {
    Response::Error(Box::new(ErrorInfo::from(e)))
}

#[async_trait]
impl SimpleQueryHandler for Connection {
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let statements = match quartzdb_sql::parse(query) {
            Ok(s) => s,
            Err(e) => return Ok(vec![Response::Error(Box::new(error_info(&e)))]),
        };
        if statements.is_empty() {
            return Ok(vec![Response::EmptyQuery]);
        }
        let several = statements.len() > 1;
        let mut guard = self.session.lock().await;
        let session = guard.as_mut().ok_or_else(no_session)?;
        let mut responses = Vec::with_capacity(statements.len());
        for statement in statements {
            if let Some(done) = deallocate_protocol_statement(client.portal_store(), &statement) {
                responses.push(done);
                continue;
            }
            let cursors = cursor_names(&statement);
            let response = match self.run(client, session, statement, None, &encode::text(), responses.is_empty()).await {
                Ok(r) if several => materialize(r).await,
                Ok(r) => r,
                Err(e) => into_error_response(e),
            };
            let failed = matches!(response, Response::Error(_));
            if failed {
                session.statement_failed();
            } else {
                cursor_portals(client.portal_store(), session, &cursors);
            }
            responses.push(response);
            if failed {
                // PostgreSQL stops a multi-statement query at its first error.
                break;
            }
        }
        Ok(responses)
    }
}

#[async_trait]
impl ExtendedQueryHandler for Connection {
    type Statement = Arc<Prepared>;
    type QueryParser = StatementParser;

    fn query_parser(&self) -> Arc<Self::QueryParser> {
        self.parser.clone()
    }

    /// pgwire answers Describe of a statement that has parameters but returns no rows with an
    /// empty RowDescription; PostgreSQL says NoData, and JDBC's executeUpdate fails on the former
    /// ("A result was returned when none was expected").
    async fn on_describe<C>(&self, client: &mut C, message: pgwire::messages::extendedquery::Describe) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        use pgwire::messages::data::{NoData, ParameterDescription};
        if message.target_type == pgwire::messages::extendedquery::TARGET_TYPE_BYTE_STATEMENT
            && let Some(stmt) = client.portal_store().get_statement(message.name.as_deref().unwrap_or(pgwire::api::DEFAULT_NAME))
            && stmt.statement.columns.is_none()
            && !stmt.statement.param_types.is_empty()
        {
            let oids = stmt.statement.param_types.iter().map(|t| t.oid()).collect();
            client.send(PgWireBackendMessage::ParameterDescription(ParameterDescription::new(oids))).await?;
            client.send(PgWireBackendMessage::NoData(NoData::new())).await?;
            return Ok(());
        }
        self._on_describe(client, message).await
    }

    async fn do_describe_statement<C>(&self, _client: &mut C, target: &StoredStatement<Self::Statement>) -> PgWireResult<DescribeStatementResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let prepared = &target.statement;
        let fields = self.parser.get_result_schema(prepared, None)?;
        Ok(DescribeStatementResponse::new(prepared.param_types.clone(), fields))
    }

    async fn do_describe_portal<C>(&self, _client: &mut C, portal: &Portal<Self::Statement>) -> PgWireResult<DescribePortalResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let fields = self.parser.get_result_schema(&portal.statement.statement, Some(&portal.result_column_format))?;
        Ok(DescribePortalResponse::new(fields))
    }

    async fn do_query<C>(&self, client: &mut C, portal: &Portal<Self::Statement>, _max_rows: usize) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let prepared = portal.statement.statement.clone();
        let Some(statement) = prepared.statement.clone() else {
            return Ok(Response::EmptyQuery);
        };
        if let Some(done) = deallocate_protocol_statement(client.portal_store(), &statement) {
            return Ok(done);
        }
        let cursors = cursor_names(&statement);
        if portal.parameters.len() != prepared.param_types.len() {
            return Err(user_error(
                SqlState::ProtocolViolation,
                format!(
                    "bind message supplies {} parameters, but prepared statement requires {}",
                    portal.parameters.len(),
                    prepared.param_types.len()
                ),
            ));
        }
        let mut values = Vec::with_capacity(portal.parameters.len());
        for (i, value) in portal.parameters.iter().enumerate() {
            let format = portal.parameter_format.format_for(i);
            values.push(params::decode(value.as_ref(), format, &prepared.param_types[i])?);
        }
        let mut guard = self.session.lock().await;
        let session = guard.as_mut().ok_or_else(no_session)?;
        let values = quartzdb_planner::params::coerce(values, &prepared.param_arrow, session.settings().time_zone()).map_err(|e| to_pgwire(&e))?;
        let params = if prepared.param_types.is_empty() { None } else { Some(values) };
        let response = self.run(client, session, statement, params, &portal.result_column_format, true).await;
        if matches!(response, Err(_) | Ok(Response::Error(_))) {
            session.statement_failed();
        } else {
            cursor_portals(client.portal_store(), session, &cursors);
        }
        match response? {
            Response::Error(e) => Err(PgWireError::UserError(e)),
            other => Ok(other),
        }
    }
}

