//! Schema files split into numbered migrations, for the journal and the
//! sync server alike.

/// Splits a schema file at its `-- migration: N` markers; the sync
/// server's schema follows the same convention.
pub(crate) fn split_migrations(schema: &'static str) -> Vec<&'static str> {
    let marker = "\n-- migration:";
    let mut starts: Vec<usize> = schema.match_indices(marker).map(|(i, _)| i + 1).collect();
    starts.push(schema.len());
    starts.windows(2).map(|w| &schema[w[0]..w[1]]).collect()
}
