//! Pieces of SQL the set-based statements share that sea-query does not build: numbered
//! placeholders for `IN (...)` lists and `VALUES` rows (both engines take `$n`), and an
//! `UPDATE ... RETURNING *` that hands back the updated rows in one statement.

use sea_orm::{ConnectionTrait, EntityTrait, FromQueryResult, QueryTrait, UpdateMany};

use crate::ModelResult;

/// `$first, $first+1, ...`: `count` numbered placeholders.
pub(crate) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rows of a `VALUES` list: `rows` tuples of `width` placeholders numbered from
/// `$first`, e.g. `($1, $2), ($3, $4)`.
pub(crate) fn value_rows(first: usize, rows: usize, width: usize) -> String {
    (0..rows)
        .map(|row| format!("({})", placeholders(first + row * width, width)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs `update` as one `UPDATE ... RETURNING *` and returns the rows it changed, as
/// they are after it (sea-orm's `ActiveModel::update` reads the row before and, on
/// SQLite, again after: three statements).
///
/// # Errors
/// On database failure.
pub(crate) async fn update_returning<E, C>(
    conn: &C,
    mut update: UpdateMany<E>,
) -> ModelResult<Vec<E::Model>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    QueryTrait::query(&mut update).returning_all();
    let statement = conn.get_database_backend().build(update.as_query());
    let mut rows = Vec::new();
    for row in conn.query_all(statement).await? {
        rows.push(E::Model::from_query_result(&row, "")?);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_value_rows_are_numbered_from_the_first() {
        assert_eq!(placeholders(3, 2), "$3, $4");
        assert_eq!(placeholders(1, 0), "");
        assert_eq!(value_rows(1, 2, 2), "($1, $2), ($3, $4)");
        assert_eq!(value_rows(5, 1, 3), "($5, $6, $7)");
    }
}
