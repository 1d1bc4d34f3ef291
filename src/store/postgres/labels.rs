//! The label tables' rows (see `store::filter`), written in the statement or transaction
//! that writes their events and deliveries, so a list by label never misses a row.

use sqlx::PgConnection;

use crate::domain::Event;
use crate::store::{Job, StoreResult};

/// One row per label of each event or delivery, column by column, with the event each
/// belongs to (so rows of an event not written, its idempotency key taken, can be dropped).
#[derive(Default)]
pub(super) struct LabelRows<'a> {
    pub app: Vec<&'a str>,
    pub name: Vec<&'a str>,
    pub value: Vec<&'a str>,
    pub id: Vec<&'a str>,
    pub event: Vec<&'a str>,
}

impl<'a> LabelRows<'a> {
    fn push(&mut self, event: &'a Event, id: &'a str) {
        for (name, value) in event.labels.iter() {
            self.app.push(event.app_id.as_str());
            self.name.push(name);
            self.value.push(value);
            self.id.push(id);
            self.event.push(event.id.as_str());
        }
    }

    /// The rows of `events`.
    pub fn of_events(events: impl IntoIterator<Item = &'a Event>) -> Self {
        let mut rows = Self::default();
        for e in events {
            rows.push(e, e.id.as_str());
        }
        rows
    }

    /// The rows of the deliveries `jobs`.
    pub fn of_jobs(jobs: impl IntoIterator<Item = &'a Job>) -> Self {
        let mut rows = Self::default();
        for j in jobs {
            rows.push(&j.event, j.delivery_id.as_str());
        }
        rows
    }
}

/// Writes the label rows of events and of deliveries known to be written.
pub(super) async fn insert(
    c: &mut PgConnection,
    events: &LabelRows<'_>,
    deliveries: &LabelRows<'_>,
) -> StoreResult<()> {
    if events.id.is_empty() && deliveries.id.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "WITH el AS (INSERT INTO event_labels (app, name, value, event_id) \
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])) \
         INSERT INTO delivery_labels (app, name, value, delivery_id) \
           SELECT * FROM unnest($5::text[], $6::text[], $7::text[], $8::text[])",
    )
    .bind(&events.app)
    .bind(&events.name)
    .bind(&events.value)
    .bind(&events.id)
    .bind(&deliveries.app)
    .bind(&deliveries.name)
    .bind(&deliveries.value)
    .bind(&deliveries.id)
    .execute(c)
    .await?;
    Ok(())
}
