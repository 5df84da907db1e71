//! One connection's session: its DataFusion context (catalog, functions, type planner), its
//! settings, and [`Session::execute`], which runs one statement.

use std::sync::{Arc, Mutex};

use arrow::array::{RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::ParamValues;
use datafusion::execution::SessionStateBuilder;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::prelude::{SQLOptions, SessionConfig, SessionContext};
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{self, Expr as SqlExpr, ObjectName, Statement, UtilityOption};
use futures::StreamExt;
use quartzdb_storage::{Catalog, QualifiedName, Storage, Txn, TxnView};

use crate::catalog_provider::{CatalogSource, PlanningScope, QuartzCatalog};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::output::{CommandTag, Output};
use crate::settings::Settings;
use crate::transaction::{Action, Block, SavepointOp};
use crate::type_planner::PgTypePlanner;
use crate::{ddl, dml, functions, names, params};

/// What Describe reports for a statement before it runs.
#[derive(Debug, Clone)]
pub struct Description {
    /// Inferred type of each `$n`, in order; `None` where nothing constrains it.
    pub params: Vec<Option<DataType>>,
    /// Result columns, or `None` for statements that return no rows.
    pub columns: Option<SchemaRef>,
}

pub struct Session {
    engine: Arc<Engine>,
    ctx: SessionContext,
    database: String,
    user: String,
    scope: Arc<Mutex<PlanningScope>>,
    /// What the session's statements read: its open transaction's view, or the published catalog.
    source: CatalogSource,
    settings: Settings,
    /// Settings changed by the last statement that the client must be told about.
    changed_settings: Vec<(&'static str, String)>,
    block: Block,
    /// The open block's writing transaction, from its first write (or first statement, for
    /// REPEATABLE READ and SERIALIZABLE) to its end.
    txn: Option<BlockTxn>,
    /// The block's `SET CONSTRAINTS` choices, given to its transaction when it first writes.
    constraint_modes: quartzdb_storage::ConstraintModes,
    /// The settings generation last copied into the planning scope.
    settings_shown: Option<u64>,
    /// Set by the wire layer when a result stream failed after the statement returned.
    stream_failed: Arc<std::sync::atomic::AtomicBool>,
    /// Settings as they were before the block's first `SET LOCAL`, and the names it changed.
    local: Option<(Settings, Vec<String>)>,
    /// Optimized plans of parameterized queries (see [`crate::plan_cache`]).
    plans: crate::plan_cache::PlanCache,
    /// `PREPARE`d statements.
    prepared: crate::prepared::PreparedStatements,
    /// Open cursors.
    cursors: crate::cursor::Cursors,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("database", &self.database).field("user", &self.user).finish()
    }
}

impl Session {
    pub(crate) fn new(engine: Arc<Engine>, database: &str, user: &str, pid: i32) -> Result<Self> {
        let storage = engine.storage().clone();
        storage.catalog().database(database)?;
        let started_us = chrono::Utc::now().timestamp_micros();
        let session = crate::pg_catalog::session_views::SessionSnapshot {
            pid,
            user: user.to_string(),
            database: database.to_string(),
            started_us,
            ..Default::default()
        };
        let scope = Arc::new(Mutex::new(PlanningScope { session, activity: engine.activity().clone(), ..Default::default() }));
        engine.activity().register(pid, &scope);
        let ctx = build_context(&storage, database, user, pid, scope.clone());
        Ok(Self {
            engine,
            ctx,
            database: database.to_string(),
            user: user.to_string(),
            source: CatalogSource::new(storage, scope.clone()),
            scope,
            settings: Settings::default(),
            changed_settings: Vec::new(),
            block: Block::default(),
            txn: None,
            constraint_modes: Default::default(),
            stream_failed: Default::default(),
            settings_shown: None,
            local: None,
            plans: Default::default(),
            prepared: Default::default(),
            cursors: Default::default(),
        })
    }

    pub fn database(&self) -> &str {
        &self.database
    }

    /// The backend process id this session reports (`pg_backend_pid()`).
    pub fn pid(&self) -> i32 {
        self.scope.lock().expect("scope lock").session.pid
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Applies a setting given in the startup packet (e.g. `application_name`); unknown names
    /// are ignored there, as PostgreSQL's clients send some it may not know.
    pub fn apply_startup_setting(&mut self, name: &str, value: &str) -> Result<()> {
        match self.settings.set(name, value) {
            Ok(_) | Err(Error::UnknownSetting(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub(crate) fn storage(&self) -> &Arc<Storage> {
        self.engine.storage()
    }

    pub(crate) fn context(&self) -> &SessionContext {
        &self.ctx
    }

    pub(crate) fn source(&self) -> &CatalogSource {
        &self.source
    }

    /// The catalog as this session's statements see it (its open transaction's changes included).
    pub(crate) fn catalog(&self) -> Arc<Catalog> {
        self.source.catalog()
    }

    /// The transaction a writing statement runs in: the open block's (begun now if this is its
    /// first write), or one of the statement's own. Hand it back with [`Self::end_write`].
    pub(crate) async fn begin_write(&mut self) -> Result<WriteTxn> {
        if self.block.is_idle() {
            return Ok(WriteTxn::Statement(self.lock().await?));
        }
        if self.txn.is_none() {
            let mut txn = self.lock().await?;
            txn.modes = self.constraint_modes.clone();
            self.txn = Some(BlockTxn::new(txn));
        }
        let txn = self.txn.as_ref().expect("just set").txn.clone();
        Ok(WriteTxn::Block(txn.lock_owned().await))
    }

    /// Ends a writing statement: inside a block its transaction stays open for the next
    /// statement; otherwise it commits, or with an error rolls back.
    pub(crate) async fn end_write<T>(&mut self, txn: WriteTxn, result: Result<T>) -> Result<T> {
        match txn {
            WriteTxn::Block(guard) => {
                drop(guard);
                result
            }
            WriteTxn::Statement(txn) => {
                self.scope.lock().expect("scope lock").txn = None;
                let value = result?;
                self.storage().commit(txn).await?;
                Ok(value)
            }
        }
    }

    /// The columns of an open cursor (the wire layer describes it as a portal, as PostgreSQL does).
    pub fn cursor_schema(&self, name: &str) -> Option<SchemaRef> {
        self.cursors.schema(name).ok()
    }

    /// The flag the wire layer sets when a result stream fails after the statement returned;
    /// the next statement then fails an open block, as PostgreSQL's would be.
    #[cfg(test)]
    pub(crate) fn plan_cache(&self) -> &crate::plan_cache::PlanCache {
        &self.plans
    }

    /// Marks the session active (in `pg_stat_activity`) until the returned guard is dropped: the
    /// wire layer holds it while the statement runs and its rows are sent.
    pub fn busy(&self) -> crate::activity::Busy {
        crate::activity::Busy::start(&self.scope.lock().expect("scope lock").session.busy)
    }

    pub fn stream_failure_flag(&self) -> Arc<std::sync::atomic::AtomicBool> {
        self.stream_failed.clone()
    }

    /// Waits for the write lock (at most `lock_timeout`) and starts a transaction, with the
    /// block's savepoints so far (they all mark its start).
    async fn lock(&mut self) -> Result<Txn> {
        let storage = self.storage().clone();
        let timeout = self.settings.lock_timeout_ms();
        let mut txn = if timeout > 0 {
            tokio::time::timeout(std::time::Duration::from_millis(timeout), storage.begin()).await.map_err(|_| Error::LockTimeout)?
        } else {
            storage.begin().await
        };
        for name in self.block.savepoints() {
            txn.savepoint(name);
        }
        self.scope.lock().expect("scope lock").txn = Some(txn.view().clone());
        Ok(txn)
    }

    /// `SET CONSTRAINTS`: the block's foreign keys (all, or those named) become deferred or
    /// immediate; IMMEDIATE also runs the checks deferred so far. Outside a block it does
    /// nothing, as in PostgreSQL.
    async fn set_constraints(&mut self, deferred: bool, names: Option<Vec<String>>) -> Result<()> {
        if self.block.is_idle() {
            return Ok(());
        }
        self.constraint_modes.set(names.as_deref(), deferred);
        let storage = self.storage().clone();
        if let Some(block) = self.txn.as_ref() {
            let mut txn = block.txn.lock().await;
            txn.modes.set(names.as_deref(), deferred);
            if !deferred {
                storage.check_deferred(&mut txn, names.as_deref()).await?;
            }
        }
        Ok(())
    }

    /// COMMIT or ROLLBACK of the block.
    async fn end_block(&mut self, commit: bool) -> Result<()> {
        self.end_local_settings();
        self.constraint_modes = Default::default();
        self.cursors.end_block(commit);
        self.sync_transaction_settings();
        self.scope.lock().expect("scope lock").txn = None;
        let Some(block) = self.txn.take() else { return Ok(()) };
        // No statement holds it any more (statements run one at a time); dropping it rolls back.
        let txn = std::sync::Arc::try_unwrap(block.txn).map_err(|_| Error::Internal("the block's transaction is still in use".into()))?.into_inner();
        if commit {
            self.storage().commit(txn).await?;
        }
        Ok(())
    }

    async fn savepoint(&mut self, op: SavepointOp, name: &str) -> Result<()> {
        let Some(block) = self.txn.as_ref() else { return Ok(()) };
        let mut txn = block.txn.lock().await;
        match op {
            SavepointOp::Create => txn.savepoint(name),
            SavepointOp::RollbackTo => txn.rollback_to(name)?,
            SavepointOp::Release => txn.release(name)?,
        }
        Ok(())
    }

    /// `transaction_isolation` and `transaction_read_only` show the block's (or the defaults).
    fn sync_transaction_settings(&mut self) {
        let (isolation, read_only) = if self.block.is_idle() {
            let d = self.settings.transaction_defaults();
            (d.isolation, d.read_only)
        } else {
            (self.block.isolation, self.block.read_only)
        };
        let _ = self.settings.set("transaction_isolation", isolation.name());
        let _ = self.settings.set("transaction_read_only", if read_only { "on" } else { "off" });
    }

    /// Records a failure the wire layer saw after the statement returned (e.g. while its rows
    /// were streamed), so an open transaction block fails as it does in PostgreSQL.
    pub fn statement_failed(&mut self) {
        self.block.after_error();
    }

    /// Settings the last statements changed that must be sent as ParameterStatus.
    pub fn take_changed_settings(&mut self) -> Vec<(&'static str, String)> {
        std::mem::take(&mut self.changed_settings)
    }

    /// Resolves a table name against this session's database and schema.
    pub(crate) fn qualify(&self, name: &ObjectName) -> Result<QualifiedName> {
        names::qualified(name, &self.database, "public")
    }

    /// Executes one statement. `params` binds `$n` placeholders (extended protocol).
    #[tracing::instrument(skip_all)]
    pub async fn execute(&mut self, stmt: Statement, params: Option<ParamValues>) -> Result<Output> {
        tracing::debug!(sql = %stmt, "execute");
        if self.stream_failed.swap(false, std::sync::atomic::Ordering::AcqRel) {
            self.block.after_error();
        }
        self.show_session(&stmt);
        // Any error, in transaction control too, fails an open block. (Boxed: the statement
        // futures nest deep enough to pass rustc's layout depth limit in the server crate.)
        let result = Box::pin(self.run(stmt, params)).await;
        if result.is_err() {
            self.block.after_error();
        }
        {
            let mut scope = self.scope.lock().expect("scope lock");
            scope.session.block = self.block.state();
            scope.session.stream_failed = self.stream_failed.clone();
        }
        // Sequences advanced by this statement are made durable before its result is sent.
        self.storage().flush_sequences()?;
        result
    }

    /// What this statement's planning reads of the session: the zone, the open transaction's
    /// view (a cancelled statement may have left its own there), what the catalogs show.
    fn show_session(&mut self, stmt: &Statement) {
        let mut scope = self.scope.lock().expect("scope lock");
        scope.time_zone = self.settings.time_zone();
        scope.txn = self.txn.as_ref().map(|b| b.view.clone());
        let shown = &mut scope.session;
        if self.settings_shown != Some(self.settings.generation()) {
            shown.settings = Arc::new(self.settings.rows());
            self.settings_shown = Some(self.settings.generation());
        }
        shown.statement_us = chrono::Utc::now().timestamp_micros();
        shown.statement = Some(Arc::new(stmt.clone()));
    }

    /// Runs one statement: EXECUTE binds its prepared statement, transaction control is
    /// answered, everything else is dispatched.
    async fn run(&mut self, stmt: Statement, params: Option<ParamValues>) -> Result<Output> {
        let stmt = match stmt {
            Statement::Execute { name: Some(name), parameters, immediate: false, .. } => self.prepared.bind(&names::single(&name)?, &parameters)?,
            other => other,
        };
        match self.block.before(&stmt, self.settings.transaction_defaults())? {
            Action::Done(output) => {
                self.sync_transaction_settings();
                Ok(output)
            }
            Action::End { commit, output } => self.end_block(commit).await.map(|_| output),
            Action::Savepoint { op, name, output } => self.savepoint(op, &name).await.map(|_| output),
            Action::Run => {
                if !self.block.is_idle() && self.block.isolation.locks_at_start() && self.txn.is_none() {
                    self.txn = Some(BlockTxn::new(self.lock().await?));
                }
                self.dispatch(stmt, params).await
            }
        }
    }

    async fn dispatch(&mut self, stmt: Statement, params: Option<ParamValues>) -> Result<Output> {
        match stmt {
            Statement::Query(ref q) if crate::set_config::call(q).is_some() => {
                let (name, value, local) = crate::set_config::call(q).expect("checked");
                self.set_config(&name, &value, local)
            }
            Statement::Query(_) | Statement::Explain { .. } => self.query(stmt, params).await,
            Statement::CreateExtension(create) => ddl::extension::create(self, create).await,
            Statement::DropExtension(drop) => ddl::extension::drop(self, drop).await,
            Statement::Set(ast::Set::SingleAssignment { variable, values, .. }) if variable.to_string() == quartzdb_sql::parser::SET_CONSTRAINTS => {
                let (deferred, names) = crate::set_constraints::resolve(&self.catalog(), self.database(), &values)?;
                self.set_constraints(deferred, names).await?;
                Ok(Output::Command(CommandTag::new("SET CONSTRAINTS")))
            }
            Statement::Set(set) => self.set(set),
            Statement::Reset(reset) => self.reset(reset.reset),
            Statement::ShowVariable { variable } => self.show(&variable),
            copy @ Statement::Copy { .. } => crate::copy::start(self, copy).await,
            Statement::Prepare { name, data_types, statement } => {
                // PostgreSQL plans at PREPARE: an unknown table or column fails here.
                self.describe(&statement).await?;
                self.prepared.prepare(&names::ident(&name), data_types, *statement)?;
                Ok(Output::Command(CommandTag::new("PREPARE")))
            }
            Statement::Deallocate { name, .. } => {
                let name = names::ident(&name);
                self.prepared.deallocate(&name)?;
                Ok(Output::Command(CommandTag::new(if name.eq_ignore_ascii_case("all") { "DEALLOCATE ALL" } else { "DEALLOCATE" })))
            }
            Statement::Discard { object_type } => self.discard(object_type),
            Statement::Declare { stmts } => self.declare(stmts).await,
            ref fetch @ Statement::Fetch { ref name, ref direction, .. } => self.cursors.fetch(&names::ident(name), direction, quartzdb_sql::is_move(fetch)).await,
            Statement::Close { cursor } => {
                let (name, tag) = match &cursor {
                    ast::CloseCursor::All => (None, "CLOSE CURSOR ALL"),
                    ast::CloseCursor::Specific { name } => (Some(names::ident(name)), "CLOSE CURSOR"),
                };
                self.cursors.close(name.as_deref())?;
                Ok(Output::Command(CommandTag::new(tag)))
            }
            stmt if is_write(&stmt) => {
                let mut txn = self.begin_write().await?;
                let result = self.write(&mut txn, stmt, params).await;
                self.end_write(txn, result).await
            }
            other => Err(Error::Unsupported(format!("statement \"{}\"", statement_keyword(&other)))),
        }
    }

    /// Runs a statement that writes, in `txn`.
    async fn write(&mut self, txn: &mut Txn, stmt: Statement, params: Option<ParamValues>) -> Result<Output> {
        match stmt {
            Statement::Insert(insert) => dml::insert::execute(self, txn, insert, params).await,
            Statement::Update(update) => dml::update::execute(self, txn, update, params).await,
            Statement::Delete(delete) => dml::delete::execute(self, txn, delete, params).await,
            Statement::CreateTable(create) => ddl::create_table::execute(self, txn, create).await,
            Statement::Drop { object_type: ast::ObjectType::Index, if_exists, names, .. } => ddl::index::drop(self, txn, &names, if_exists).await,
            Statement::Drop { object_type, if_exists, names, cascade, .. } => {
                ddl::drop::execute(self, txn, object_type, if_exists, names, cascade).await
            }
            Statement::Truncate(t) => ddl::truncate::execute(self, txn, t).await,
            Statement::CreateSchema { schema_name, if_not_exists, .. } => {
                ddl::schema::create(self, txn, schema_name, if_not_exists).await
            }
            Statement::CreateView(view) => ddl::view::create(self, txn, view).await,
            Statement::CreateIndex(create) => ddl::index::create(self, txn, create).await,
            Statement::AlterTable(alter) => ddl::alter::execute(self, txn, alter).await,
            Statement::Vacuum(vacuum) => ddl::vacuum::execute(self, txn, vacuum).await,
            Statement::Comment { object_type, object_name, comment, .. } => ddl::comment::execute(self, txn, object_type, object_name, comment).await,
            other => Err(Error::Internal(format!("not a writing statement: {}", statement_keyword(&other)))),
        }
    }

    /// Plans a statement without running it, for the extended protocol's Describe.
    pub async fn describe(&mut self, stmt: &Statement) -> Result<Description> {
        match stmt {
            Statement::Query(_) | Statement::Explain { .. } => {
                let plan = self.plan_query(stmt.clone()).await?;
                let params = params::parameter_types(&plan)?;
                Ok(Description { params, columns: Some(Arc::new(plan.schema().as_arrow().clone())) })
            }
            Statement::Insert(_) | Statement::Update(_) | Statement::Delete(_) => dml::describe(self, stmt).await,
            Statement::ShowVariable { variable } => {
                Ok(Description { params: vec![], columns: Some(show_schema(&show_name(variable))) })
            }
            Statement::Fetch { .. } if quartzdb_sql::is_move(stmt) => Ok(Description { params: vec![], columns: None }),
            Statement::Fetch { name, .. } => Ok(Description { params: vec![], columns: Some(self.cursors.schema(&names::ident(name))?) }),
            _ => Ok(Description { params: vec![], columns: None }),
        }
    }

    /// Plans a read-only statement; anything that would write or change state is refused.
    pub(crate) async fn plan_query(&self, stmt: Statement) -> Result<LogicalPlan> {
        let mut stmt = explain_options(stmt)?;
        crate::pg_catalog::empty_subqueries::rewrite(&mut stmt);
        if let Statement::Query(q) = &mut stmt {
            // Named first: `SELECT 1` is `?column?`, not the name of the cast typing it.
            names::name_all_output_columns(q);
            names::type_select_literals(q);
        }
        self.scope.lock().expect("scope lock").search = self.settings.search();
        let plan = self.ctx.state().statement_to_plan(DFStatement::Statement(Box::new(stmt))).await?;
        SQLOptions::new().with_allow_ddl(false).with_allow_dml(false).with_allow_statements(false).verify_plan(&plan)?;
        Ok(crate::declared_types::mark(crate::case_types::mark_case_types(plan), &self.catalog()))
    }

    /// Plans any statement with DataFusion, without the read-only check (for DML inputs).
    pub(crate) async fn plan_statement(&self, stmt: Statement) -> Result<LogicalPlan> {
        Ok(self.ctx.state().statement_to_plan(DFStatement::Statement(Box::new(stmt))).await?)
    }

    /// Plans with `table` exposed with its `_rowaddr` column, for UPDATE and DELETE.
    pub(crate) async fn plan_with_row_addr(&self, table: &QualifiedName, stmt: Statement) -> Result<LogicalPlan> {
        self.scope.lock().expect("scope lock").dml_target = Some(table.clone());
        let result = self.plan_statement(stmt).await;
        self.scope.lock().expect("scope lock").dml_target = None;
        result
    }

    /// Runs a plan to completion and returns its batches (for DML, whose rows are needed whole).
    pub(crate) async fn collect(&self, plan: LogicalPlan) -> Result<Vec<RecordBatch>> {
        Ok(self.ctx.execute_logical_plan(plan).await?.collect().await?)
    }

    /// `plan` with its correlated subqueries computed row by row when DataFusion cannot
    /// decorrelate them all (see [`crate::subplan`]); as it is otherwise. Plans without
    /// correlated subqueries, the common case, are not optimized here.
    async fn run_correlated_subqueries(&self, plan: LogicalPlan) -> Result<Runnable> {
        if !crate::subplan::has_correlated_subqueries(&plan) {
            return Ok(Runnable::Planned(plan));
        }
        // DataFusion's decorrelation can also fail outright on forms it does not cover; the
        // optimizer's error is kept when running the subqueries row by row fails too.
        let failure = match self.ctx.state().optimize(&plan) {
            Ok(optimized) if !crate::subplan::is_left_correlated(&optimized) => return Ok(Runnable::Optimized(optimized)),
            Ok(_) => None,
            Err(e) => Some(e),
        };
        match (crate::subplan::run_correlated_subqueries(&self.ctx, plan).await, failure) {
            (Ok(plan), _) => Ok(Runnable::Planned(plan)),
            (Err(_), Some(e)) => Err(e.into()),
            (Err(e), None) => Err(e),
        }
    }

    /// Starts a plan and gives its schema and rows; an optimized one is not optimized again.
    async fn start(&self, plan: Runnable) -> Result<(SchemaRef, datafusion::execution::SendableRecordBatchStream)> {
        match plan {
            Runnable::Planned(plan) => {
                let df = self.ctx.execute_logical_plan(plan).await?;
                let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
                Ok((schema, df.execute_stream().await?))
            }
            Runnable::Optimized(plan) => {
                let state = self.ctx.state();
                let physical = state.query_planner().create_physical_plan(&plan, &state).await?;
                Ok((Arc::new(plan.schema().as_arrow().clone()), datafusion::physical_plan::execute_stream(physical, state.task_ctx())?))
            }
        }
    }

    /// Runs a query without parameters (COPY TO's).
    pub(crate) async fn run_query(&mut self, stmt: Statement) -> Result<Output> {
        self.query(stmt, None).await
    }

    async fn query(&mut self, stmt: Statement, params: Option<ParamValues>) -> Result<Output> {
        let (schema, stream) = match params {
            Some(values) => self.run_prepared(stmt, values).await?,
            None => {
                let plan = self.plan_query(stmt).await?;
                let plan = params::bind(plan, None)?;
                self.start(self.run_correlated_subqueries(plan).await?).await?
            }
        };
        Ok(Output::Rows { schema, stream, command: CommandTag::new("SELECT") })
    }

    /// Runs a plan with `$n` parameters: optimized while the parameters are still placeholders,
    /// then bound. The optimizer then never sees (or prints into column names, again and again)
    /// a 768-float vector literal, and the ANN rule works on `ORDER BY embedding <-> $1` as is.
    async fn run_prepared(&mut self, stmt: Statement, values: ParamValues) -> Result<(SchemaRef, datafusion::execution::SendableRecordBatchStream)> {
        let started = std::time::Instant::now();
        let state = self.ctx.state();
        let key = stmt.to_string();
        let again = stmt.clone();
        let catalog = self.catalog();
        let search = self.settings.search();
        let cached = self.plans.get(&key, &catalog, &search);
        if cached.is_some()
            && let Some(ready) = self.plans.physical(&key, &values)?
        {
            tracing::debug!(reuse_us = started.elapsed().as_micros() as u64, "reused the physical plan of a prepared query");
            return run_ready(ready, &state);
        }
        let optimized = match cached {
            Some(p) => p,
            None => {
                let plan = self.plan_query(stmt).await?;
                match state.optimize(&plan) {
                    Ok(optimized) => {
                        self.plans.insert(key.clone(), catalog, search, &plan, &optimized);
                        optimized
                    }
                    Err(e) => {
                        // Some rewrites need the values; plan the bound statement the ordinary way.
                        tracing::debug!(error = %e, "optimizing with placeholders failed");
                        return self.start(self.run_correlated_subqueries(params::bind(plan, Some(values))?).await?).await;
                    }
                }
            }
        };
        if crate::subplan::is_left_correlated(&optimized) {
            let plan = self.plan_query(again).await?;
            let plan = crate::subplan::run_correlated_subqueries(&self.ctx, params::bind(plan, Some(values))?).await?;
            return self.start(Runnable::Planned(plan)).await;
        }
        if self.plans.physical_untried(&key) {
            let ready = plan_with_slots(&optimized, &values, &state).await;
            self.plans.set_physical(&key, ready.clone());
            if let Some(ready) = ready {
                tracing::debug!(plan_us = started.elapsed().as_micros() as u64, "planned a prepared query to reuse");
                return run_ready(ready, &state);
            }
        }
        let bound = crate::vector::ann_rule::bind_parameters(optimized.with_param_values(values.clone())?, &values)?;
        // Fold what the values made constant (`LIMIT $1::int`, `$1::vector`): the physical
        // planner takes only literal limits, and a folded cast runs once instead of per batch.
        let bound = {
            use datafusion::optimizer::OptimizerRule;
            datafusion::optimizer::simplify_expressions::SimplifyExpressions::new().rewrite(bound, &datafusion::optimizer::OptimizerContext::new())?.data
        };
        let schema: SchemaRef = Arc::new(bound.schema().as_arrow().clone());
        let optimized_at = started.elapsed();
        let physical = state.query_planner().create_physical_plan(&bound, &state).await?;
        let stream = datafusion::physical_plan::execute_stream(physical, state.task_ctx())?;
        tracing::debug!(optimize_us = optimized_at.as_micros() as u64, physical_us = (started.elapsed() - optimized_at).as_micros() as u64, "planned prepared query");
        Ok((schema, stream))
    }

    /// Undoes the block's `SET LOCAL`s at its end.
    fn end_local_settings(&mut self) {
        if let Some((saved, names)) = self.local.take() {
            for name in names {
                if let Some(reported) = self.settings.restore_from(&saved, &name) {
                    let v = self.settings.get(reported).map(str::to_string).unwrap_or_default();
                    self.changed_settings.push((reported, v));
                }
            }
        }
    }

    fn set(&mut self, set: ast::Set) -> Result<Output> {
        if let ast::Set::SingleAssignment { scope: Some(ast::ContextModifier::Local), variable, .. } = &set {
            if self.block.is_idle() {
                // PostgreSQL warns and changes nothing.
                tracing::debug!("SET LOCAL outside a transaction block has no effect");
                return Ok(Output::Command(CommandTag::new("SET")));
            }
            let local = self.local.get_or_insert_with(|| (self.settings.clone(), Vec::new()));
            local.1.push(variable.to_string());
        }
        let (name, value) = match set {
            // `SET SESSION CHARACTERISTICS AS TRANSACTION ...` sets the defaults of later blocks.
            ast::Set::SetTransaction { modes, session: true, snapshot: None } => {
                for mode in modes {
                    let (name, value) = match mode {
                        ast::TransactionMode::IsolationLevel(level) => ("default_transaction_isolation", level.to_string().to_ascii_lowercase()),
                        ast::TransactionMode::AccessMode(ast::TransactionAccessMode::ReadOnly) => ("default_transaction_read_only", "on".to_string()),
                        ast::TransactionMode::AccessMode(ast::TransactionAccessMode::ReadWrite) => ("default_transaction_read_only", "off".to_string()),
                    };
                    self.settings.set(name, &value)?;
                }
                self.sync_transaction_settings();
                return Ok(Output::Command(CommandTag::new("SET")));
            }
            ast::Set::SingleAssignment { variable, values, .. } => (variable.to_string(), set_value(&values)?),
            ast::Set::SetTimeZone { value, .. } => ("TimeZone".to_string(), set_value(&[value])?),
            ast::Set::SetNames { charset_name, .. } => ("client_encoding".to_string(), charset_name.to_string()),
            other => return Err(Error::Unsupported(format!("{other}"))),
        };
        let reported = if value.eq_ignore_ascii_case("default") {
            self.settings.reset(&name)?
        } else {
            self.settings.set(&name, &value)?
        };
        if let Some(canonical) = reported {
            let v = self.settings.get(canonical)?.to_string();
            self.changed_settings.push((canonical, v));
        }
        // Outside a block, `transaction_isolation` shows the (maybe changed) default.
        if self.block.is_idle() {
            self.sync_transaction_settings();
        }
        Ok(Output::Command(CommandTag::new("SET")))
    }

    /// `DECLARE name CURSOR [WITH HOLD] FOR query`: starts the query, keeps its stream.
    async fn declare(&mut self, stmts: Vec<ast::Declare>) -> Result<Output> {
        for d in stmts {
            let (Some(query), [name]) = (d.for_query, d.names.as_slice()) else {
                return Err(Error::Unsupported("DECLARE of anything but one cursor".into()));
            };
            if d.binary == Some(true) {
                return Err(Error::Unsupported("BINARY cursors".into()));
            }
            let scroll = d.scroll == Some(true);
            let hold = d.hold == Some(true);
            if !hold && self.block.is_idle() {
                return Err(Error::NoTransactionBlock("DECLARE CURSOR".into()));
            }
            let Output::Rows { schema, stream, .. } = self.query(Statement::Query(query), None).await? else {
                return Err(Error::Internal("a cursor's query returned no rows".into()));
            };
            self.cursors.declare(&names::ident(name), schema, stream, scroll, hold, !self.block.is_idle())?;
        }
        Ok(Output::Command(CommandTag::new("DECLARE CURSOR")))
    }

    /// `DISCARD ALL | PLANS | SEQUENCES | TEMP`.
    fn discard(&mut self, what: ast::DiscardObject) -> Result<Output> {
        match what {
            ast::DiscardObject::ALL => {
                self.prepared.clear();
                let _ = self.cursors.close(None);
                self.plans = Default::default();
                self.reset(ast::Reset::ALL)?;
            }
            ast::DiscardObject::PLANS => self.plans = Default::default(),
            // QuartzDB has no temporary objects, and nextval keeps no per-session state.
            ast::DiscardObject::SEQUENCES | ast::DiscardObject::TEMP => {}
        }
        Ok(Output::Command(CommandTag::new(format!("DISCARD {what}"))))
    }

    /// `RESET name` / `RESET ALL`.
    fn reset(&mut self, reset: ast::Reset) -> Result<Output> {
        let names: Vec<String> = match reset {
            ast::Reset::ALL => self.settings.all().into_iter().map(|(k, _)| k.to_string()).filter(|k| !crate::settings::is_read_only(k)).collect(),
            ast::Reset::ConfigurationParameter(name) => vec![name.to_string()],
        };
        for name in names {
            if let Some(reported) = self.settings.reset(&name)? {
                let v = self.settings.get(reported)?.to_string();
                self.changed_settings.push((reported, v));
            }
        }
        Ok(Output::Command(CommandTag::new("RESET")))
    }

    /// `SELECT set_config(name, value, is_local)`: `SET [LOCAL] name = value`, answered with the
    /// setting's new value.
    fn set_config(&mut self, name: &str, value: &str, local: bool) -> Result<Output> {
        let set = ast::Set::SingleAssignment {
            scope: local.then_some(ast::ContextModifier::Local),
            hivevar: false,
            variable: ast::ObjectName::from(name.split('.').map(ast::Ident::new).collect::<Vec<_>>()),
            values: vec![SqlExpr::Value(ast::Value::SingleQuotedString(value.to_string()).into())],
        };
        self.set(set)?;
        let schema = Arc::new(Schema::new(vec![Field::new("set_config", DataType::Utf8, true)]));
        let value = self.settings.get(name)?.to_string();
        let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(StringArray::from(vec![value]))])?;
        let stream = futures::stream::iter(vec![Ok(batch)]).boxed();
        Ok(Output::Rows { schema: schema.clone(), stream: Box::pin(RecordBatchStreamAdapter::new(schema, stream)), command: CommandTag::new("SELECT") })
    }

    fn show(&self, variable: &[ast::Ident]) -> Result<Output> {
        let name = show_name(variable);
        let (schema, columns): (SchemaRef, Vec<Arc<dyn arrow::array::Array>>) = if name.eq_ignore_ascii_case("all") {
            let all = self.settings.all();
            let schema = Arc::new(Schema::new(vec![
                Field::new("name", DataType::Utf8, false),
                Field::new("setting", DataType::Utf8, false),
            ]));
            let names: StringArray = all.iter().map(|(k, _)| Some(*k)).collect();
            let values: StringArray = all.iter().map(|(_, v)| Some(v.as_str())).collect();
            (schema, vec![Arc::new(names), Arc::new(values)])
        } else {
            let value = self.settings.get(&name)?.to_string();
            (show_schema(&name), vec![Arc::new(StringArray::from(vec![value]))])
        };
        let batch = RecordBatch::try_new(schema.clone(), columns)?;
        let stream = futures::stream::iter(vec![Ok(batch)]).boxed();
        Ok(Output::Rows {
            schema: schema.clone(),
            stream: Box::pin(RecordBatchStreamAdapter::new(schema, stream)),
            command: CommandTag::new("SHOW"),
        })
    }
}

/// A DataFusion context over one database of QuartzDB's catalog, with Postgres settings, types
/// and functions. Sessions use one each; view expansion uses a fresh one.
pub(crate) fn build_context(storage: &Arc<Storage>, database: &str, user: &str, pid: i32, scope: Arc<Mutex<PlanningScope>>) -> SessionContext {
    let mut config = SessionConfig::new()
        .with_default_catalog_and_schema(database, "public")
        .with_create_default_catalog_and_schema(false)
        // QuartzDB's own information_schema, in PostgreSQL's types (pg_catalog::information_schema).
        .with_information_schema(false);
    let opts = config.options_mut();
    opts.sql_parser.dialect = datafusion::common::config::Dialect::PostgreSQL;
    // Postgres: `1.5` is numeric; strings are plain text; NULLs sort as the largest value.
    opts.sql_parser.parse_float_as_decimal = true;
    opts.sql_parser.map_string_types_to_utf8view = false;
    opts.sql_parser.default_null_ordering = "nulls_max".into();
    opts.sql_parser.recursion_limit = 200;
    opts.execution.time_zone = Some("+00:00".into());
    // A top-k's dynamic filter re-evaluates the sort key on every row to pre-filter it: for
    // `ORDER BY embedding <-> $1 LIMIT k` that computes each distance twice.
    opts.optimizer.enable_topk_dynamic_filter_pushdown = false;
    let catalog_functions = crate::pg_catalog::functions::all();
    let source = CatalogSource::new(storage.clone(), scope.clone());
    let object_functions = crate::pg_catalog::objects::all(&source, database);
    // The reg-cast rule runs before type coercion (which would compare an OID with text); the
    // vector cast rule after it, so it also sees the casts coercion adds.
    let mut rules = datafusion::optimizer::Analyzer::new().rules;
    rules.insert(0, Arc::new(crate::scalar_subquery::SingleRowSubqueries::default()));
    rules.insert(0, Arc::new(crate::in_subquery_values::InSubqueryValues));
    rules.insert(0, Arc::new(crate::sort_subqueries::SortSubqueries));
    rules.insert(0, Arc::new(crate::array_input::ArrayTextComparisons));
    rules.insert(0, Arc::new(crate::pg_catalog::casts::RegCasts::new(catalog_functions.iter().chain(&object_functions))));
    rules.push(Arc::new(crate::vector::cast::VectorCasts::default()));
    rules.push(Arc::new(crate::array_input::ArrayTextCasts::default()));
    rules.push(Arc::new(crate::bytea_input::ByteaTextCasts::default()));
    rules.push(Arc::new(crate::checked_arithmetic::CheckedArithmetic::default()));
    rules.push(Arc::new(crate::int_casts::IntegerCasts::default()));
    rules.push(Arc::new(crate::like_escape::LikeEscape::default()));
    rules.push(Arc::new(crate::datetime::casts::DateTimeCasts::new(scope.clone())));
    let builder = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .with_type_planner(Arc::new(PgTypePlanner))
        .with_analyzer_rules(rules)
        .with_optimizer_rule(Arc::new(crate::vector::ann_rule::AnnRule))
        .with_physical_optimizer_rule(Arc::new(crate::vector::top_k::DistanceTopK));
    let state = crate::vector::register(builder).build();
    let ctx = SessionContext::new_with_state(state);
    ctx.register_catalog(database, Arc::new(QuartzCatalog::new(source.clone(), database.to_string())));
    for udf in functions::session_functions(database, user, pid) {
        ctx.register_udf(udf);
    }
    ctx.register_udf(functions::SetVal::udf(source.clone(), database));
    ctx.register_udf(functions::NextVal::udf(source, database));
    ctx.register_udf(crate::pg_catalog::session_views::CurrentSetting::udf(scope.clone()));
    ctx.register_udaf(crate::scalar_subquery::udaf());
    ctx.register_udf(crate::scalar_subquery::single_value_udf());
    ctx.register_udf(crate::expand_array::udf());
    ctx.register_udf(crate::set_config::udf());
    ctx.register_udf(crate::format_function::udf());
    ctx.register_udf(crate::parse_ident::udf());
    ctx.register_udf(crate::regexp_split::udf());
    ctx.register_udf(crate::datetime::at_time_zone::udf());
    ctx.register_udtf("pg_get_keywords", Arc::new(crate::pg_catalog::keywords::Keywords));
    for udf in crate::activity::cancel_backend_udfs(scope.clone()) {
        ctx.register_udf(udf);
    }
    for udf in crate::json_build::udfs() {
        ctx.register_udf(udf);
    }
    for udf in object_functions {
        ctx.register_udf(udf);
    }
    for udf in catalog_functions {
        ctx.register_udf(udf);
    }
    ctx
}

/// The setting `SHOW` names: `SHOW time zone` is two words, `SHOW hnsw.ef_search` a dotted name.
fn show_name(variable: &[ast::Ident]) -> String {
    let words: Vec<&str> = variable.iter().map(|i| i.value.as_str()).collect();
    let dotted = words.join(".");
    if words.len() > 1 && crate::settings::is_known(&dotted) { dotted } else { words.join(" ") }
}

/// SHOW's column is named as the setting is spelled (`SHOW timezone` → `TimeZone`, `SHOW
/// TRANSACTION ISOLATION LEVEL` → `transaction_isolation`), as in PostgreSQL.
fn show_schema(name: &str) -> SchemaRef {
    let canonical = crate::settings::canonical(name).unwrap_or(name);
    Arc::new(Schema::new(vec![Field::new(canonical, DataType::Utf8, false)]))
}

/// The text of a SET value: `SET x = 'a'`, `SET x TO a`, `SET x = 5`, lists joined by `, `.
/// The physical plan of an optimized parameterized query with its parameters read from slots,
/// when it can run again with other values (see [`crate::param_slots`]); `None` when it cannot
/// or planning it that way failed (the bind-then-plan path then reports any error).
async fn plan_with_slots(optimized: &LogicalPlan, values: &ParamValues, state: &datafusion::execution::SessionState) -> Option<crate::plan_cache::ReadyPlan> {
    let slots = crate::param_slots::ParamSlots::new(values)?;
    let planned = async {
        let Some(slotted) = crate::param_slots::slot_parameters(optimized.clone(), &slots)? else { return Ok(None) };
        let schema: SchemaRef = Arc::new(slotted.schema().as_arrow().clone());
        let plan = state.query_planner().create_physical_plan(&slotted, state).await?;
        Ok::<_, datafusion::error::DataFusionError>(crate::plan_cache::rebindable(&plan)?.then_some((plan, schema)))
    };
    match planned.await {
        Ok(Some((plan, schema))) => Some(crate::plan_cache::ReadyPlan { plan, schema, slots, running: Arc::new(()) }),
        Ok(None) => None,
        Err(e) => {
            tracing::debug!(error = %e, "planning with parameter slots failed");
            None
        }
    }
}

/// Runs a reusable plan (its slots already filled); the stream holds the plan's `running`
/// token until it is dropped.
/// A plan ready to run: as planned (to be optimized), or already optimized.
enum Runnable {
    Planned(LogicalPlan),
    Optimized(LogicalPlan),
}

fn run_ready(ready: crate::plan_cache::ReadyPlan, state: &datafusion::execution::SessionState) -> Result<(SchemaRef, datafusion::execution::SendableRecordBatchStream)> {
    // Operators keep per-run state (a join's built side, a top-k's dynamic filter).
    let plan = datafusion::physical_plan::execution_plan::reset_plan_states(ready.plan)?;
    let stream = datafusion::physical_plan::execute_stream(plan, state.task_ctx())?;
    let running = ready.running;
    let stream = stream.map(move |batch| {
        let _running = &running;
        batch
    });
    Ok((ready.schema.clone(), Box::pin(RecordBatchStreamAdapter::new(ready.schema, stream))))
}

fn set_value(values: &[SqlExpr]) -> Result<String> {
    let parts: Vec<String> = values
        .iter()
        .map(|v| match v {
            SqlExpr::Value(v) => match &v.value {
                ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => s.clone(),
                other => other.to_string(),
            },
            SqlExpr::Identifier(i) => i.value.clone(),
            other => other.to_string(),
        })
        .collect();
    if parts.is_empty() {
        return Err(Error::Syntax("SET requires a value".into()));
    }
    Ok(parts.join(", "))
}

/// Maps PostgreSQL's `EXPLAIN (ANALYZE, VERBOSE)` options onto the flags DataFusion reads.
fn explain_options(stmt: Statement) -> Result<Statement> {
    let Statement::Explain { describe_alias, mut analyze, mut verbose, query_plan, estimate, statement, format, options } = stmt else {
        return Ok(stmt);
    };
    for UtilityOption { name, arg } in options.iter().flatten() {
        let on = match arg {
            None => true,
            Some(SqlExpr::Value(v)) => !matches!(&v.value, ast::Value::Boolean(false)) && v.value.to_string().to_ascii_lowercase() != "'off'",
            Some(SqlExpr::Identifier(i)) => !i.value.eq_ignore_ascii_case("off") && !i.value.eq_ignore_ascii_case("false"),
            Some(_) => true,
        };
        match name.value.to_ascii_lowercase().as_str() {
            "analyze" => analyze = on,
            "verbose" => verbose = on,
            "costs" | "buffers" | "timing" | "summary" | "settings" | "wal" => {}
            other => return Err(Error::Unsupported(format!("EXPLAIN option \"{other}\""))),
        }
    }
    if !matches!(statement.as_ref(), Statement::Query(_)) {
        return Err(Error::Unsupported("EXPLAIN of statements other than queries".into()));
    }
    Ok(Statement::Explain { describe_alias, analyze, verbose, query_plan, estimate, statement, format, options: None })
}

/// The open block's transaction. The session keeps it (a statement only locks it), so a
/// cancelled statement leaves it in place: the block fails, and ROLLBACK TO SAVEPOINT or
/// ROLLBACK decide what becomes of it.
struct BlockTxn {
    txn: Arc<tokio::sync::Mutex<Txn>>,
    view: Arc<TxnView>,
}

impl BlockTxn {
    fn new(txn: Txn) -> Self {
        let view = txn.view().clone();
        Self { txn: Arc::new(tokio::sync::Mutex::new(txn)), view }
    }
}

/// A writing statement's transaction: the block's, or its own.
pub(crate) enum WriteTxn {
    Block(tokio::sync::OwnedMutexGuard<Txn>),
    Statement(Txn),
}

impl std::ops::Deref for WriteTxn {
    type Target = Txn;
    fn deref(&self) -> &Txn {
        match self {
            WriteTxn::Block(t) => t,
            WriteTxn::Statement(t) => t,
        }
    }
}

impl std::ops::DerefMut for WriteTxn {
    fn deref_mut(&mut self) -> &mut Txn {
        match self {
            WriteTxn::Block(t) => t,
            WriteTxn::Statement(t) => t,
        }
    }
}

/// Statements [`Session::write`] runs.
fn is_write(stmt: &Statement) -> bool {
    matches!(
        stmt,
        Statement::Insert(_)
            | Statement::Update(_)
            | Statement::Delete(_)
            | Statement::CreateTable(_)
            | Statement::Drop { .. }
            | Statement::Truncate(_)
            | Statement::CreateSchema { .. }
            | Statement::CreateView(_)
            | Statement::CreateIndex(_)
            | Statement::AlterTable(_)
            | Statement::Vacuum(_)
            | Statement::Comment { .. }
    )
}

/// The leading keywords of a statement, for error messages.
fn statement_keyword(stmt: &Statement) -> String {
    stmt.to_string().split_whitespace().take(2).collect::<Vec<_>>().join(" ")
}

/// Counts rows in batches.
pub(crate) fn row_count(batches: &[RecordBatch]) -> usize {
    batches.iter().map(|b| b.num_rows()).sum()
}
