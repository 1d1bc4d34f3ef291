//! An endpoint's health at a glance: how its deliveries of the last day went. The endpoint's
//! page counts its newest 250 of the day, the endpoints list its newest 50 each (a page of
//! 100 endpoints reads at most 5,000 rows through the endpoint's delivery index), and both
//! say so when the day held more.

use chrono::{DateTime, Duration, Utc};
use maud::{html, Markup};

use crate::api::AppState;
use crate::domain::{App, Delivery, DeliveryStatus, EndpointId};
use crate::store::{DeliveryQuery, Page, StoreResult};

/// The endpoint's newest deliveries of the last 24 hours, `limit` at most.
pub struct Day {
    pub recent: Vec<Delivery>,
    limit: u32,
}

impl Day {
    pub async fn read(
        state: &AppState,
        app: &App,
        ep: &EndpointId,
        limit: u32,
    ) -> StoreResult<Day> {
        let q = DeliveryQuery {
            endpoint: Some(ep.clone()),
            page: Page {
                limit,
                since: Some(Utc::now() - Duration::hours(24)),
                ..Page::default()
            },
            ..DeliveryQuery::default()
        };
        let recent = state.store.list_deliveries(&app.id, &q).await?;
        Ok(Day { recent, limit })
    }

    /// The success rate, as a line: "97% succeeded (97 of 100)".
    pub fn rate(&self) -> Markup {
        let (ok, all) = success_rate(&self.recent);
        let sampled = self.recent.len() == self.limit as usize;
        html! {
            @if all == 0 { span.muted { "nothing settled" } } @else {
                (ok * 100 / all) "% succeeded (" (ok) " of " (all)
                @if sampled { ", of the newest " (self.limit) } ")"
            }
        }
    }

    /// When its last attempt was made, among these deliveries.
    pub fn last_attempt(&self) -> Option<DateTime<Utc>> {
        self.recent
            .iter()
            .filter(|d| d.attempt_count > 0)
            .map(|d| d.updated_at)
            .max()
    }
}

/// Of the settled deliveries among `recent`, how many succeeded, and how many there were.
pub fn success_rate(recent: &[Delivery]) -> (usize, usize) {
    let settled = recent
        .iter()
        .filter(|d| d.status != DeliveryStatus::Pending);
    settled.fold((0, 0), |(ok, all), d| {
        (
            ok + usize::from(d.status == DeliveryStatus::Succeeded),
            all + 1,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{DeliveryId, EventId, Labels};

    fn delivery(status: DeliveryStatus) -> Delivery {
        let now = Utc::now();
        Delivery {
            id: DeliveryId::new(),
            event_id: EventId::new(),
            endpoint_id: EndpointId::new(),
            status,
            attempt_count: 1,
            next_attempt_at: None,
            labels: Labels::default(),
            created_at: now,
            updated_at: now,
            expires_at: None,
        }
    }

    #[test]
    fn the_success_rate_counts_settled_deliveries_only() {
        use DeliveryStatus::*;
        let all = [Succeeded, Succeeded, Failed, Pending, Expired].map(delivery);
        assert_eq!(success_rate(&all), (2, 4));
        assert_eq!(success_rate(&[delivery(Pending)]), (0, 0));
        let day = Day {
            recent: all.to_vec(),
            limit: 5,
        };
        let text = day.rate().into_string();
        assert!(
            text.contains("50% succeeded (2 of 4, of the newest 5)"),
            "{text}"
        );
    }
}
