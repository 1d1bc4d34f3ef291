//! The label table's rows (see `store::filter`), written in the statement or transaction
//! that writes their events, so a list by label never misses a row.

use sqlx::PgConnection;

use crate::domain::Event;
use crate::store::StoreResult;

/// One row per label of each event, column by column.
#[derive(Default)]
pub(super) struct LabelRows<'a> {
    pub app: Vec<&'a str>,
    pub name: Vec<&'a str>,
    pub value: Vec<&'a str>,
    pub event: Vec<&'a str>,
}

impl<'a> LabelRows<'a> {
    /// The rows of `events`.
    pub fn of(events: impl IntoIterator<Item = &'a Event>) -> Self {
        let mut rows = Self::default();
        for e in events {
            for (name, value) in e.labels.iter() {
                rows.app.push(e.app_id.as_str());
                rows.name.push(name);
                rows.value.push(value);
                rows.event.push(e.id.as_str());
            }
        }
        rows
    }
}

/// Writes the label rows of events known to be written.
pub(super) async fn insert(c: &mut PgConnection, rows: &LabelRows<'_>) -> StoreResult<()> {
    if rows.event.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO event_labels (app, name, value, event) \
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])",
    )
    .bind(&rows.app)
    .bind(&rows.name)
    .bind(&rows.value)
    .bind(&rows.event)
    .execute(c)
    .await?;
    Ok(())
}
