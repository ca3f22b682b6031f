//! `nj_rank()`: the search ranking, an FTS5 auxiliary function.
//!
//! The index keeps no word positions (`detail=column`, see `fts_query`), and
//! FTS5's built-in `bm25()` gets term frequencies by re-reading and
//! re-tokenizing each matching article, which makes a broad search over a
//! large journal take seconds. `nj_rank` is BM25 over fields with a binary
//! term frequency: for each query term and each field that contains it,
//!
//! ```text
//! idf(term) * weight(field) * (k1 + 1) / (1 + k1 * (1 - b + b * len(field) / avglen(field)))
//! idf(term) = ln(1 + (N - n + 0.5) / (n + 0.5))
//! ```
//!
//! with k1 = 1.2 and b = 0.75, N articles, n of them holding the term. Everything it reads (which fields hold a
//! term, field lengths, row counts) is in the index, so ranking costs
//! microseconds per hit. Like `bm25()`, it returns the negated score, so
//! `ORDER BY rank` puts the best match first.
//!
//! This is the only unsafe code in newsjournal: FTS5's extension API is C.

use std::ffi::{c_int, c_void};
use std::ptr;

use rusqlite::ffi;
use rusqlite::Connection;

use crate::error::{Error, Result};

const K1: f64 = 1.2;
const B: f64 = 0.75;

/// Per-query values, computed on the first row and kept by FTS5.
struct QueryStats {
    /// Inverse document frequency of each query phrase.
    idf: Vec<f64>,
    /// Average length of each field, in tokens.
    avg_len: Vec<f64>,
}

/// Registers `nj_rank` with the connection's FTS5.
pub fn register(conn: &Connection) -> Result<()> {
    // SAFETY: the handle is valid for the connection's lifetime, and the
    // statement is finalized before returning. `fts5(?1)` with a bound
    // pointer of type "fts5_api_ptr" is FTS5's documented way to hand out
    // its API struct, which lives as long as the connection.
    unsafe {
        let db = conn.handle();
        let mut api: *mut ffi::fts5_api = ptr::null_mut();
        let mut stmt: *mut ffi::sqlite3_stmt = ptr::null_mut();
        let rc = ffi::sqlite3_prepare_v2(
            db,
            c"SELECT fts5(?1)".as_ptr(),
            -1,
            &mut stmt,
            ptr::null_mut(),
        );
        if rc != ffi::SQLITE_OK {
            return Err(fts5_missing());
        }
        ffi::sqlite3_bind_pointer(
            stmt,
            1,
            (&mut api as *mut *mut ffi::fts5_api).cast::<c_void>(),
            c"fts5_api_ptr".as_ptr(),
            None,
        );
        ffi::sqlite3_step(stmt);
        ffi::sqlite3_finalize(stmt);
        if api.is_null() || (*api).iVersion < 2 {
            return Err(fts5_missing());
        }
        let create = (*api).xCreateFunction.ok_or_else(fts5_missing)?;
        let rc = create(
            api,
            c"nj_rank".as_ptr(),
            ptr::null_mut(),
            Some(nj_rank),
            None,
        );
        if rc != ffi::SQLITE_OK {
            return Err(fts5_missing());
        }
    }
    Ok(())
}

fn fts5_missing() -> Error {
    Error::Other(anyhow::anyhow!(
        "this SQLite has no usable FTS5, which nj needs for search; reinstall nj"
    ))
}

unsafe extern "C" fn drop_stats(p: *mut c_void) {
    // SAFETY: FTS5 calls this once with the pointer from `Box::into_raw`.
    unsafe { drop(Box::from_raw(p.cast::<QueryStats>())) };
}

unsafe extern "C" fn count_row(
    _: *const ffi::Fts5ExtensionApi,
    _: *mut ffi::Fts5Context,
    n: *mut c_void,
) -> c_int {
    // SAFETY: `n` is the `&mut i64` passed to xQueryPhrase below.
    unsafe { *n.cast::<i64>() += 1 };
    ffi::SQLITE_OK
}

/// Computes the per-query statistics.
///
/// SAFETY: `api` and `fts` are the live pointers FTS5 passed to `nj_rank`.
unsafe fn query_stats(
    api: &ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
) -> std::result::Result<QueryStats, c_int> {
    unsafe {
        let (
            Some(row_count),
            Some(col_count),
            Some(total_size),
            Some(phrase_count),
            Some(query_phrase),
        ) = (
            api.xRowCount,
            api.xColumnCount,
            api.xColumnTotalSize,
            api.xPhraseCount,
            api.xQueryPhrase,
        )
        else {
            return Err(ffi::SQLITE_ERROR);
        };
        let mut rows: i64 = 0;
        check(row_count(fts, &mut rows))?;
        let rows_f = rows.max(1) as f64;
        let mut avg_len = Vec::new();
        for col in 0..col_count(fts) {
            let mut total: i64 = 0;
            check(total_size(fts, col, &mut total))?;
            avg_len.push((total as f64 / rows_f).max(1.0));
        }
        let mut idf = Vec::new();
        for phrase in 0..phrase_count(fts) {
            let mut hits: i64 = 0;
            check(query_phrase(
                fts,
                phrase,
                (&mut hits as *mut i64).cast(),
                Some(count_row),
            ))?;
            let n = hits as f64;
            // Lucene's form, which stays positive for a term in every row,
            // so small journals still rank by field weights.
            idf.push((1.0 + (rows_f - n + 0.5) / (n + 0.5)).ln());
        }
        Ok(QueryStats { idf, avg_len })
    }
}

fn check(rc: c_int) -> std::result::Result<(), c_int> {
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(rc)
    }
}

/// SAFETY: called by FTS5 with valid pointers for the current row.
unsafe fn score(
    api: &ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    weights: &[f64],
) -> std::result::Result<f64, c_int> {
    unsafe {
        let (Some(get_aux), Some(set_aux), Some(first_col), Some(next_col), Some(col_size)) = (
            api.xGetAuxdata,
            api.xSetAuxdata,
            api.xPhraseFirstColumn,
            api.xPhraseNextColumn,
            api.xColumnSize,
        ) else {
            return Err(ffi::SQLITE_ERROR);
        };
        let mut stats = get_aux(fts, 0).cast::<QueryStats>();
        if stats.is_null() {
            let fresh = Box::into_raw(Box::new(query_stats(api, fts)?));
            check(set_aux(fts, fresh.cast(), Some(drop_stats)))?;
            stats = fresh;
        }
        let stats = &*stats;
        let mut total = 0.0;
        for (phrase, idf) in stats.idf.iter().enumerate() {
            let mut iter = ffi::Fts5PhraseIter {
                a: ptr::null(),
                b: ptr::null(),
            };
            let mut col: c_int = -1;
            check(first_col(fts, phrase as c_int, &mut iter, &mut col))?;
            while col >= 0 {
                let mut len: c_int = 0;
                check(col_size(fts, col, &mut len))?;
                let c = col as usize;
                let weight = weights.get(c).copied().unwrap_or(1.0);
                let avg = stats.avg_len.get(c).copied().unwrap_or(1.0);
                total += idf * weight * (K1 + 1.0) / (1.0 + K1 * (1.0 - B + B * len as f64 / avg));
                next_col(fts, &mut iter, &mut col);
            }
        }
        Ok(-total)
    }
}

unsafe extern "C" fn nj_rank(
    api: *const ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    ctx: *mut ffi::sqlite3_context,
    n_val: c_int,
    values: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: FTS5 passes valid pointers, and `values` holds `n_val` values.
    unsafe {
        let weights: Vec<f64> = (0..n_val.max(0) as usize)
            .map(|i| ffi::sqlite3_value_double(*values.add(i)))
            .collect();
        match score(&*api, fts, &weights) {
            Ok(s) => ffi::sqlite3_result_double(ctx, s),
            Err(rc) => ffi::sqlite3_result_error_code(ctx, rc),
        }
    }
}
