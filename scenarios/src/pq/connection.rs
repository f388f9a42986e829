//! One libpq connection: non-blocking, its socket on tokio's reactor, single statements as
//! `pgbench -M prepared` sends them and several at once in pipeline mode; see the
//! module's documentation.

use std::ffi::{c_char, c_int, CStr, CString};
use std::mem::ManuallyDrop;
use std::os::fd::{AsRawFd, RawFd};
use std::ptr::{self, NonNull};
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use postgres_types::{IsNull, ToSql, Type};
use pq_sys as ffi;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

use super::rows::{PgResult, Row, Rows};
use super::Error;

/// A statement's parameters, as `postgres-types` encodes them.
pub type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// What every connection of a pool is opened with.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The connection string (a `postgresql://` URL or `key=value` pairs).
    url: CString,
    application_name: CString,
    /// `-c statement_timeout=…`.
    options: CString,
    connect_timeout: CString,
}

impl Settings {
    /// Checks the connection string now (libpq's own parser), so a bad one fails before any
    /// connection is tried. The error never repeats the string (it may hold a password).
    pub fn new(
        url: &str,
        application_name: &str,
        statement_timeout: Duration,
        connect_timeout: Duration,
    ) -> Result<Settings, Error> {
        let c = |s: &str| CString::new(s).map_err(|_| Error::Url("a NUL byte in it".into()));
        let url = c(url)?;
        let mut message: *mut c_char = ptr::null_mut();
        // SAFETY: a NUL-terminated string; the options and the message are freed below.
        let parsed = unsafe { ffi::PQconninfoParse(url.as_ptr(), &mut message) };
        if parsed.is_null() {
            let why = match message.is_null() {
                true => "not a PostgreSQL connection string".to_string(),
                // SAFETY: libpq's NUL-terminated message, freed with PQfreemem.
                false => unsafe {
                    let why = CStr::from_ptr(message).to_string_lossy().trim().to_string();
                    ffi::PQfreemem(message.cast());
                    why
                },
            };
            return Err(Error::Url(why));
        }
        // SAFETY: what PQconninfoParse returned, freed once.
        unsafe { ffi::PQconninfoFree(parsed) };
        Ok(Settings {
            url,
            application_name: c(application_name)?,
            options: c(&format!(
                "-c statement_timeout={}",
                statement_timeout.as_millis()
            ))?,
            connect_timeout: c(&connect_timeout.as_secs().max(1).to_string())?,
        })
    }
}

/// A prepared statement on one connection: its name and its parameters' and columns' types.
struct Statement {
    name: CString,
    params: Vec<Type>,
    columns: Arc<[Type]>,
}

/// What ends an exchange's results.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Ending {
    /// One statement outside pipeline mode: its result, then libpq's null.
    Null,
    /// Several statements in pipeline mode: their results, then the Sync's.
    Sync,
}

/// The socket, as the reactor sees it (libpq owns and closes it).
struct Socket(RawFd);

impl AsRawFd for Socket {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

/// Whether to read once, without waiting, before waiting on the reactor for a reply.
///
/// Under load the server has often answered by the time the client runs again after its send
/// (its backend ran meanwhile); a read then takes the reply without a trip through the reactor
/// (its epoll_wait, the wake-up, the task's rescheduling), as pgbench does by trying each of its
/// connections before it polls. With idle cores the reply comes later and the read finds
/// nothing: a wasted system call per round trip. So the read is tried while it pays: a reply it
/// completes earns 2, one it misses costs 1, and below zero it stops but for one probe every
/// 16 round trips (it keeps reading while more than a third of its reads take the reply).
///
/// Measured on this project's 2-core machine, point-read, closed model, 8 connections, four
/// alternating pairs of 6 s runs, the read on every round trip: 18.9–19.6k operations/s against
/// 15.4–18.0k without it (+8 to +26%); as built, 0.42 epoll_wait per operation instead of 0.9
/// (the credit stays high under that load). Read on every round trip, it cost the open model
/// at 500/s ~20 µs of client CPU per operation and moved the start lag's p99 from 111–182 µs to
/// 158–257 µs; as built, the open model is as it was.
#[derive(Debug)]
struct ReadAhead {
    /// Replies taken by the read, less the reads that missed (between −8 and 8).
    credit: i8,
    /// Round trips since the last read while the credit is spent.
    idle: u8,
}

impl Default for ReadAhead {
    /// A new connection reads ahead (until three misses in a row).
    fn default() -> ReadAhead {
        ReadAhead { credit: 2, idle: 0 }
    }
}

impl ReadAhead {
    const PROBE_EVERY: u8 = 16;

    /// Whether to read before this wait.
    fn wanted(&mut self) -> bool {
        if self.credit >= 0 {
            return true;
        }
        self.idle += 1;
        if self.idle >= Self::PROBE_EVERY {
            self.idle = 0;
            return true;
        }
        false
    }

    /// What the read found: the whole reply (`true`), or not.
    fn record(&mut self, taken: bool) {
        self.credit = match taken {
            true => (self.credit.max(0) + 2).min(8),
            false => (self.credit - 1).max(-8),
        };
    }
}

/// One connection; see the module's documentation.
pub struct Connection {
    raw: NonNull<ffi::PGconn>,
    /// Deregistered before libpq closes the socket (see `Drop`).
    socket: ManuallyDrop<AsyncFd<Socket>>,
    /// Prepared statements by their SQL. Looked up for every statement an operation runs:
    /// foldhash (hashbrown's own hasher) instead of SipHash, whose flooding resistance buys
    /// nothing for keys the program itself writes (measured: ~900 of ~34k instructions per
    /// point read went to SipHash).
    statements: foldhash::HashMap<String, Arc<Statement>>,
    /// The exchange whose results have not all been read, by what ends it: an exchange
    /// abandoned half-way (its future dropped) leaves this set until [`Connection::settle`].
    in_flight: Option<Ending>,
    /// Lost: libpq reported the connection bad; it is never used again.
    lost: bool,
    /// The parameters' encoded values, reused by every exchange.
    values: BytesMut,
    bounds: Vec<Option<(usize, usize)>>,
    /// Whether to read once before waiting for a reply (see [`ReadAhead`]).
    read_ahead: ReadAhead,
}

// SAFETY: a PGconn may be used from any thread, one at a time; `Connection` is only used
// through `&mut self` (it is not `Sync`), so never from two threads at once.
unsafe impl Send for Connection {}

/// A libpq handle on its way out of the blocking connect (not yet in a `Connection`).
struct Raw(NonNull<ffi::PGconn>);

// SAFETY: as for `Connection`: moved between threads, used by one at a time.
unsafe impl Send for Raw {}

impl Raw {
    fn message(&self) -> String {
        // SAFETY: a valid PGconn; the message is owned by it.
        let m = unsafe { CStr::from_ptr(ffi::PQerrorMessage(self.0.as_ptr())) };
        m.to_string_lossy().trim().to_string()
    }

    fn finish(self) {
        // SAFETY: a valid PGconn, closed and freed once.
        unsafe { ffi::PQfinish(self.0.as_ptr()) }
    }
}

impl Connection {
    /// Opens a connection (libpq's blocking connect on tokio's blocking pool, bounded by the
    /// settings' connect timeout), then makes it non-blocking.
    pub async fn connect(settings: &Settings) -> Result<Connection, Error> {
        let settings = settings.clone();
        let raw = tokio::task::spawn_blocking(move || {
            let keys = [
                c"dbname",
                c"application_name",
                c"options",
                c"connect_timeout",
            ];
            let values = [
                settings.url.as_ptr(),
                settings.application_name.as_ptr(),
                settings.options.as_ptr(),
                settings.connect_timeout.as_ptr(),
            ];
            let keys: Vec<*const c_char> = keys
                .iter()
                .map(|k| k.as_ptr())
                .chain([ptr::null()])
                .collect();
            let values: Vec<*const c_char> = values.into_iter().chain([ptr::null()]).collect();
            // SAFETY: null-terminated arrays of NUL-terminated strings that outlive the call;
            // expand_dbname = 1 reads the URL's own parameters, the later keys override them.
            let raw = unsafe { ffi::PQconnectdbParams(keys.as_ptr(), values.as_ptr(), 1) };
            NonNull::new(raw).map(Raw)
        })
        .await
        .map_err(|e| Error::Connection(format!("connecting: {e}")))?
        .ok_or_else(|| Error::Connection("libpq could not allocate a connection".into()))?;
        // SAFETY: a valid PGconn.
        if unsafe { ffi::PQstatus(raw.0.as_ptr()) } != ffi::ConnStatusType::CONNECTION_OK {
            let why = raw.message();
            raw.finish();
            return Err(Error::Connection(why));
        }
        // SAFETY: a valid, connected PGconn.
        let ready = unsafe { ffi::PQsetnonblocking(raw.0.as_ptr(), 1) == 0 };
        // SAFETY: a valid PGconn.
        let fd = unsafe { ffi::PQsocket(raw.0.as_ptr()) };
        if !ready || fd < 0 {
            let why = raw.message();
            raw.finish();
            return Err(Error::Connection(format!(
                "preparing the connection: {why}"
            )));
        }
        let interest = Interest::READABLE | Interest::WRITABLE;
        // SAFETY: libpq's open socket; it stays open, the same descriptor, until PQfinish,
        // which `Drop` calls only after this registration is dropped (nothing here resets the
        // connection, which would replace the socket).
        let socket = match unsafe { AsyncFd::register_with_interest(Socket(fd), interest) } {
            Ok(socket) => socket,
            Err(e) => {
                raw.finish();
                return Err(Error::Connection(format!("registering the socket: {e}")));
            }
        };
        Ok(Connection {
            raw: raw.0,
            socket: ManuallyDrop::new(socket),
            statements: foldhash::HashMap::default(),
            in_flight: None,
            lost: false,
            values: BytesMut::new(),
            bounds: Vec::new(),
            read_ahead: ReadAhead::default(),
        })
    }

    fn raw(&self) -> *mut ffi::PGconn {
        self.raw.as_ptr()
    }

    fn message(&self) -> String {
        Raw(self.raw).message()
    }

    /// The connection is lost: it is marked so (and never reused), and the error says why.
    fn lose(&mut self, what: &str) -> Error {
        self.lost = true;
        Error::Connection(format!("{what}: {}", self.message()))
    }

    /// Usable for a new exchange: not lost, nothing in flight, outside any transaction.
    pub fn is_idle(&self) -> bool {
        // SAFETY: a valid PGconn.
        let (status, tx) = unsafe {
            (
                ffi::PQstatus(self.raw()),
                ffi::PQtransactionStatus(self.raw()),
            )
        };
        !self.lost
            && self.in_flight.is_none()
            && status == ffi::ConnStatusType::CONNECTION_OK
            && tx == ffi::PGTransactionStatusType::PQTRANS_IDLE
    }

    /// Not known to be lost (a transaction may be open, an exchange in flight).
    pub fn is_open(&self) -> bool {
        // SAFETY: a valid PGconn.
        !self.lost && unsafe { ffi::PQstatus(self.raw()) } == ffi::ConnStatusType::CONNECTION_OK
    }

    /// Runs one statement (prepared and cached on first use) in its own exchange; its result.
    async fn run(&mut self, sql: &str, params: Params<'_>) -> Result<Rows, Error> {
        let stmt = self.prepare(sql).await?;
        self.queue(&stmt, params)?;
        let result = self.exchange(Ending::Null).await?;
        Ok(Rows {
            result,
            columns: stmt.columns.clone(),
        })
    }

    /// Every row.
    pub async fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, Error> {
        Ok(Row::all(self.run(sql, params).await?))
    }

    /// At most one row.
    pub async fn query_opt(&mut self, sql: &str, params: Params<'_>) -> Result<Option<Row>, Error> {
        match Row::first(self.run(sql, params).await?) {
            (row, 0 | 1) => Ok(row),
            (_, n) => Err(Error::RowCount(n)),
        }
    }

    /// Exactly one row.
    pub async fn query_one(&mut self, sql: &str, params: Params<'_>) -> Result<Row, Error> {
        match Row::first(self.run(sql, params).await?) {
            (Some(row), 1) => Ok(row),
            (_, n) => Err(Error::RowCount(n)),
        }
    }

    /// Rows affected.
    pub async fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64, Error> {
        Ok(self.run(sql, params).await?.result.affected())
    }

    /// Several statements, each with its parameters, in one exchange (one round trip, one
    /// Sync: as pgbench sends what stands between `\startpipeline` and `\endpipeline`). The
    /// first error wins; the statements after it are not run.
    pub async fn pipeline(&mut self, statements: &[(&str, Params<'_>)]) -> Result<(), Error> {
        // Each statement prepared (a cache hit after the first time) before the pipeline
        // starts, since preparing is an exchange of its own; looked up again to queue it.
        for (sql, _) in statements {
            self.prepare(sql).await?;
        }
        self.enter_pipeline()?;
        for (sql, params) in statements {
            let stmt = self.statements[*sql].clone();
            if let Err(e) = self.queue(&stmt, params) {
                // Statements already queued cannot be taken back: the connection is not used
                // again (closing it ends whatever it held).
                self.lost = true;
                return Err(e);
            }
        }
        self.exchange(Ending::Sync).await.map(drop)
    }

    /// Reads what an abandoned exchange left in flight (its future was dropped), so the
    /// connection can be used again.
    pub async fn settle(&mut self) -> Result<(), Error> {
        match self.in_flight {
            Some(ending) => self.read_to_end(ending).await.map(drop),
            None => Ok(()),
        }
    }

    fn enter_pipeline(&mut self) -> Result<(), Error> {
        // SAFETY: a valid PGconn, idle (no exchange in flight).
        match unsafe { ffi::PQenterPipelineMode(self.raw()) } == 1 {
            true => Ok(()),
            false => Err(self.lose("entering pipeline mode")),
        }
    }

    /// The cached statement for `sql`, prepared (and described) in one exchange on first use.
    async fn prepare(&mut self, sql: &str) -> Result<Arc<Statement>, Error> {
        if let Some(stmt) = self.statements.get(sql) {
            return Ok(stmt.clone());
        }
        let name = CString::new(format!("s{}", self.statements.len()))
            .expect("a statement's name has no NUL");
        let text = CString::new(sql).map_err(|_| Error::Protocol("a NUL byte in SQL".into()))?;
        self.enter_pipeline()?;
        // SAFETY: a valid PGconn in pipeline mode; NUL-terminated strings; no parameter types
        // given (the server infers them, and the description reports them).
        let queued = unsafe {
            ffi::PQsendPrepare(self.raw(), name.as_ptr(), text.as_ptr(), 0, ptr::null()) == 1
                && ffi::PQsendDescribePrepared(self.raw(), name.as_ptr()) == 1
        };
        if !queued {
            return Err(self.lose("preparing a statement"));
        }
        let described = self.exchange(Ending::Sync).await?;
        let d = described.raw();
        let ty = |oid: ffi::Oid| {
            Type::from_oid(oid).unwrap_or_else(|| {
                // Not a built-in type (the schema defines none); named by its OID so that
                // only types that accept any type (none the operations use) would decode it.
                Type::new(
                    format!("oid_{oid}"),
                    oid,
                    postgres_types::Kind::Simple,
                    "".into(),
                )
            })
        };
        // SAFETY: the description's result: parameter and column counts and types.
        let (params, columns) = unsafe {
            (
                (0..ffi::PQnparams(d))
                    .map(|i| ty(ffi::PQparamtype(d, i)))
                    .collect::<Vec<_>>(),
                (0..ffi::PQnfields(d))
                    .map(|i| ty(ffi::PQftype(d, i)))
                    .collect::<Arc<[_]>>(),
            )
        };
        let stmt = Arc::new(Statement {
            name,
            params,
            columns,
        });
        self.statements.insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }

    /// Queues one execution of `stmt` (binary parameters and results): in pipeline mode it waits
    /// for the Sync; outside it, libpq adds the Sync and starts sending.
    fn queue(&mut self, stmt: &Statement, params: Params<'_>) -> Result<(), Error> {
        if params.len() != stmt.params.len() {
            return Err(Error::ParameterCount {
                expected: stmt.params.len(),
                given: params.len(),
            });
        }
        self.values.clear();
        self.bounds.clear();
        for (index, (value, ty)) in params.iter().zip(&stmt.params).enumerate() {
            let start = self.values.len();
            match value.to_sql_checked(ty, &mut self.values) {
                Ok(IsNull::No) => self.bounds.push(Some((start, self.values.len() - start))),
                Ok(IsNull::Yes) => self.bounds.push(None),
                Err(source) => return Err(Error::Encode { index, source }),
            }
        }
        // The pointers are taken once every value is written (the buffer may have moved).
        // At most a handful of parameters: fixed arrays up to 16, the heap beyond.
        let n = self.bounds.len();
        let base = self.values.as_ptr();
        let pointer = |b: &Option<(usize, usize)>| match b {
            // SAFETY: within the buffer written above.
            Some((start, _)) => unsafe { base.add(*start) }.cast::<c_char>(),
            None => ptr::null(),
        };
        let length = |b: &Option<(usize, usize)>| b.map_or(0, |(_, len)| len as c_int);
        let formats = [1 as c_int; 16];
        let sent = if n <= 16 {
            let mut values = [ptr::null::<c_char>(); 16];
            let mut lengths = [0 as c_int; 16];
            for (i, b) in self.bounds.iter().enumerate() {
                values[i] = pointer(b);
                lengths[i] = length(b);
            }
            self.send(stmt, &values[..n], &lengths[..n], &formats[..n])
        } else {
            let values: Vec<_> = self.bounds.iter().map(pointer).collect();
            let lengths: Vec<_> = self.bounds.iter().map(length).collect();
            self.send(stmt, &values, &lengths, &vec![1; n])
        };
        match sent {
            true => Ok(()),
            false => Err(self.lose("sending a statement")),
        }
    }

    fn send(
        &self,
        stmt: &Statement,
        values: &[*const c_char],
        lengths: &[c_int],
        formats: &[c_int],
    ) -> bool {
        // SAFETY: a valid PGconn, idle or in pipeline mode; `n` values with their lengths and formats
        // (binary), pointing into a buffer that outlives the call (libpq copies them).
        unsafe {
            ffi::PQsendQueryPrepared(
                self.raw(),
                stmt.name.as_ptr(),
                values.len() as c_int,
                values.as_ptr(),
                lengths.as_ptr(),
                formats.as_ptr(),
                1,
            ) == 1
        }
    }

    /// Sends what was queued (ending a pipeline with its Sync) and reads the results up to the
    /// exchange's end: the last statement's result, or the first error.
    async fn exchange(&mut self, ending: Ending) -> Result<PgResult, Error> {
        // SAFETY: a valid PGconn, in pipeline mode when the exchange ends with a Sync.
        if ending == Ending::Sync && unsafe { ffi::PQpipelineSync(self.raw()) } != 1 {
            return Err(self.lose("sending"));
        }
        self.in_flight = Some(ending);
        self.flush().await?;
        self.read_to_end(ending)
            .await?
            .ok_or_else(|| Error::Protocol("an exchange without a result".into()))
    }

    /// Sends what libpq still holds (a non-blocking connection may not send it all at once).
    async fn flush(&mut self) -> Result<(), Error> {
        loop {
            // SAFETY: a valid PGconn.
            match unsafe { ffi::PQflush(self.raw()) } {
                0 => return Ok(()),
                1 => {
                    let mut ready = self
                        .socket
                        .writable()
                        .await
                        .map_err(|e| Error::Connection(format!("waiting to send: {e}")))?;
                    ready.clear_ready();
                    // libpq may also need to read before it can write more.
                    // SAFETY: a valid PGconn.
                    if unsafe { ffi::PQconsumeInput(self.raw()) } == 0 {
                        return Err(self.lose("receiving"));
                    }
                }
                _ => return Err(self.lose("sending")),
            }
        }
    }

    /// Reads results up to the end of the exchange in flight: the last successful result, or
    /// the first error (in a pipeline, the statements after an error come back aborted and are
    /// skipped). A pipeline's end leaves pipeline mode.
    async fn read_to_end(&mut self, ending: Ending) -> Result<Option<PgResult>, Error> {
        let mut last = None;
        let mut first_error = None;
        let mut ends = 0;
        loop {
            let result = self.next().await?;
            use ffi::ExecStatusType::*;
            let done = match result {
                None if ending == Ending::Null => true,
                None => {
                    // The end of one statement's results in a pipeline; two in a row mean
                    // libpq has nothing more queued, so the Sync waited for was never sent.
                    ends += 1;
                    if ends > 1 {
                        self.lost = true;
                        return Err(Error::Protocol(
                            "waiting for a Sync libpq does not hold".into(),
                        ));
                    }
                    false
                }
                Some(result) => {
                    ends = 0;
                    match result.status() {
                        PGRES_PIPELINE_SYNC => {
                            // SAFETY: a valid PGconn whose pipeline has just ended: idle.
                            if unsafe { ffi::PQexitPipelineMode(self.raw()) } != 1 {
                                return Err(self.lose("leaving pipeline mode"));
                            }
                            true
                        }
                        PGRES_TUPLES_OK | PGRES_COMMAND_OK => {
                            last = Some(result);
                            false
                        }
                        PGRES_PIPELINE_ABORTED => false,
                        PGRES_FATAL_ERROR => {
                            let e = result.error();
                            if let Error::Connection(_) = e {
                                self.lost = true;
                                return Err(e);
                            }
                            first_error.get_or_insert(e);
                            false
                        }
                        other => {
                            first_error
                                .get_or_insert(Error::Protocol(format!("result status {other:?}")));
                            false
                        }
                    }
                }
            };
            if done {
                self.in_flight = None;
                self.forget_readiness();
                return match first_error {
                    Some(e) => Err(e),
                    None => Ok(last),
                };
            }
        }
    }

    /// The next result (`None` between two statements' results), waiting on the socket while
    /// libpq has not received it whole.
    async fn next(&mut self) -> Result<Option<PgResult>, Error> {
        // SAFETY: a valid PGconn.
        let mut busy = unsafe { ffi::PQisBusy(self.raw()) } != 0;
        if busy && self.read_ahead.wanted() {
            busy = self.receive().ok_or_else(|| self.lose("receiving"))?;
            self.read_ahead.record(!busy);
        }
        while busy {
            if self.lost {
                return Err(Error::Connection("the connection was lost".into()));
            }
            // The socket's one reader slot, not `readable()`'s future: one task reads a
            // connection at a time, and the slot saves the future's entry in the reactor's
            // list of waiters (a lock to add it, another to take it out, every wait).
            let mut ready = std::future::poll_fn(|cx| self.socket.poll_read_ready(cx))
                .await
                .map_err(|e| Error::Connection(format!("waiting to receive: {e}")))?;
            let Some(more) = self.receive() else {
                return Err(self.lose("receiving"));
            };
            busy = more;
            if busy && !self.socket_has_data() {
                // Everything sent so far was read and the result is still incomplete: wait
                // for the next readiness (one that arrived meanwhile is kept by tokio). The
                // reactor's readiness is edge-triggered: cleared while bytes wait in the socket
                // (libpq reads at most its buffer's free space at once), it would never come
                // back, and a large result would hang.
                ready.clear_ready();
            }
        }
        // SAFETY: a valid PGconn; PQgetResult does not block once PQisBusy says 0.
        Ok(PgResult::new(unsafe { ffi::PQgetResult(self.raw()) }))
    }

    /// Reads what the socket holds (without waiting): whether libpq still lacks part of the
    /// next result, or `None` when the connection failed.
    fn receive(&self) -> Option<bool> {
        // SAFETY: a valid PGconn.
        if unsafe { ffi::PQconsumeInput(self.raw()) } == 0 {
            return None;
        }
        // SAFETY: a valid PGconn.
        Some(unsafe { ffi::PQisBusy(self.raw()) } != 0)
    }

    /// Bytes are waiting in the socket (a peek that reads nothing; an error counts as data, so
    /// that libpq reads it and reports it).
    fn socket_has_data(&self) -> bool {
        let mut byte = 0u8;
        // SAFETY: a one-byte buffer that outlives the call; MSG_PEEK leaves the data in place.
        let n = unsafe {
            libc::recv(
                self.socket.get_ref().0,
                (&raw mut byte).cast(),
                1,
                libc::MSG_PEEK | libc::MSG_DONTWAIT,
            )
        };
        n != -1 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::WouldBlock
    }

    /// After an exchange's last result nothing more is on its way (ReadyForQuery is the last
    /// message the server sends before it waits for the next request), so the readiness that
    /// woke this exchange is stale: cleared now, the next exchange's wait lasts until its own
    /// reply instead of ending at once on an empty socket. (A notice the server sends on its
    /// own after it is read with the next reply, whose arrival is a new readiness.)
    fn forget_readiness(&self) {
        // Polled once with a waker that does nothing: no task is registered for a readiness
        // that is not there (cheaper than building and polling `readable()`'s future).
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        if let std::task::Poll::Ready(Ok(mut ready)) = self.socket.poll_read_ready(&mut cx) {
            ready.clear_ready();
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        // SAFETY: dropped once, here: the reactor lets go of the descriptor before libpq
        // closes it (after the close, its number may already belong to another socket).
        unsafe { ManuallyDrop::drop(&mut self.socket) };
        // SAFETY: a valid PGconn, closed and freed once.
        unsafe { ffi::PQfinish(self.raw()) }
    }
}

#[cfg(test)]
mod tests {
    use super::ReadAhead;

    /// Reads made over `waits` waits when the read completes the reply at `hit(i)`.
    fn reads(waits: usize, hit: impl Fn(usize) -> bool) -> usize {
        let mut r = ReadAhead::default();
        (0..waits)
            .filter(|&i| {
                let wanted = r.wanted();
                if wanted {
                    r.record(hit(i));
                }
                wanted
            })
            .count()
    }

    #[test]
    fn a_read_that_never_finds_the_reply_is_only_probed() {
        // The first three reads, which spend the starting credit, then one in 16.
        assert_eq!(reads(1603, |_| false), 3 + 1600 / 16);
    }

    #[test]
    fn a_read_that_finds_the_reply_once_in_two_is_always_made() {
        assert_eq!(reads(1000, |i| i % 2 == 0), 1000);
        assert_eq!(reads(1000, |i| i % 2 == 1), 1000);
    }

    #[test]
    fn a_read_that_finds_the_reply_once_in_five_stops_paying_and_mostly_stops() {
        let n = reads(1600, |i| i % 5 == 0);
        assert!(n < 1600 / 3, "{n} reads");
    }

    #[test]
    fn a_probe_that_finds_the_reply_turns_the_read_back_on() {
        let mut r = ReadAhead::default();
        while r.wanted() {
            r.record(false);
        }
        let probe = (0..ReadAhead::PROBE_EVERY).find(|_| r.wanted());
        assert!(probe.is_some(), "a probe within 16 waits");
        r.record(true);
        assert!(
            r.wanted() && r.wanted(),
            "reads again after a probe that paid"
        );
    }
}
