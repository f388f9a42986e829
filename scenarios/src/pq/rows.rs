//! A statement's result: libpq's `PGresult`, freed when its last row is dropped, read in the
//! binary format by `postgres-types`.

use std::ffi::CStr;
use std::ptr::NonNull;
use std::sync::Arc;

use postgres_types::{FromSql, Type, WrongType};
use pq_sys as ffi;

use super::Error;

/// An owned `PGresult` (cleared on drop).
pub(super) struct PgResult(NonNull<ffi::PGresult>);

// SAFETY: a PGresult is not tied to its connection or thread once returned by PQgetResult;
// this type only reads it (PQntuples, PQgetvalue, …) and frees it once, on drop.
unsafe impl Send for PgResult {}
// SAFETY: see above: every access through `&PgResult` is a read of immutable memory.
unsafe impl Sync for PgResult {}

impl PgResult {
    /// Takes ownership of what `PQgetResult` returned; `None` for its null.
    pub(super) fn new(raw: *mut ffi::PGresult) -> Option<PgResult> {
        NonNull::new(raw).map(PgResult)
    }

    pub(super) fn raw(&self) -> *mut ffi::PGresult {
        self.0.as_ptr()
    }

    pub(super) fn status(&self) -> ffi::ExecStatusType {
        // SAFETY: a valid PGresult.
        unsafe { ffi::PQresultStatus(self.raw()) }
    }

    /// The server's error, from a `PGRES_FATAL_ERROR` result.
    pub(super) fn error(&self) -> Error {
        let field = |code: u8| {
            // SAFETY: a valid PGresult; the field is a NUL-terminated string owned by it, or null.
            let p = unsafe { ffi::PQresultErrorField(self.raw(), code as i32) };
            match p.is_null() {
                true => String::new(),
                // SAFETY: non-null, NUL-terminated, alive while the result is.
                false => unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned(),
            }
        };
        let state = field(b'C');
        let message = field(b'M');
        match state.is_empty() {
            // libpq's own errors (a lost connection) carry no SQLSTATE.
            true => Error::Connection(message_of(self)),
            false => Error::Server { state, message },
        }
    }

    /// Rows affected, from the command tag (0 when it has none).
    pub(super) fn affected(&self) -> u64 {
        // SAFETY: a valid PGresult; PQcmdTuples returns a string owned by it ("" if none).
        let tuples = unsafe { CStr::from_ptr(ffi::PQcmdTuples(self.raw())) };
        tuples
            .to_str()
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    pub(super) fn rows(&self) -> usize {
        // SAFETY: a valid PGresult.
        unsafe { ffi::PQntuples(self.raw()) }.max(0) as usize
    }
}

fn message_of(result: &PgResult) -> String {
    // SAFETY: a valid PGresult; the message is owned by it.
    let m = unsafe { CStr::from_ptr(ffi::PQresultErrorMessage(result.raw())) };
    m.to_string_lossy().trim().to_string()
}

impl Drop for PgResult {
    fn drop(&mut self) {
        // SAFETY: owned, freed once.
        unsafe { ffi::PQclear(self.raw()) }
    }
}

/// The rows of one result and its columns' types (from the prepared statement's description).
pub(super) struct Rows {
    pub(super) result: PgResult,
    pub(super) columns: Arc<[Type]>,
}

/// One row of a result.
pub struct Row {
    rows: Arc<Rows>,
    index: usize,
}

impl std::fmt::Debug for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Row")
            .field("index", &self.index)
            .field("columns", &self.rows.columns)
            .finish()
    }
}

impl Row {
    /// Every row of `rows`.
    pub(super) fn all(rows: Rows) -> Vec<Row> {
        let n = rows.result.rows();
        let rows = Arc::new(rows);
        (0..n)
            .map(|index| Row {
                rows: rows.clone(),
                index,
            })
            .collect()
    }

    /// The first row, if any, and how many there were.
    pub(super) fn first(rows: Rows) -> (Option<Row>, usize) {
        let n = rows.result.rows();
        let row = (n > 0).then(|| Row {
            rows: Arc::new(rows),
            index: 0,
        });
        (row, n)
    }

    /// Columns in this row.
    pub fn len(&self) -> usize {
        self.rows.columns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Column `index` decoded as `T` (its binary value; `None`-able types read a NULL).
    pub fn try_get<'a, T: FromSql<'a>>(&'a self, index: usize) -> Result<T, Error> {
        let decode = |source| Error::Decode { index, source };
        let ty = self
            .rows
            .columns
            .get(index)
            .ok_or_else(|| decode(format!("no such column ({} in all)", self.len()).into()))?;
        if !T::accepts(ty) {
            return Err(decode(Box::new(WrongType::new::<T>(ty.clone()))));
        }
        let raw = self.rows.result.raw();
        let (row, col) = (self.index as i32, index as i32);
        // SAFETY: row and column are within the result (checked above and at construction);
        // the value is owned by the result, which `self` keeps alive for 'a.
        let value = unsafe {
            match ffi::PQgetisnull(raw, row, col) != 0 {
                true => None,
                false => {
                    let p = ffi::PQgetvalue(raw, row, col) as *const u8;
                    let len = ffi::PQgetlength(raw, row, col).max(0) as usize;
                    Some(std::slice::from_raw_parts(p, len))
                }
            }
        };
        T::from_sql_nullable(ty, value).map_err(decode)
    }
}
