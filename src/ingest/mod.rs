//! Inbound adapters: webhooks other systems send to Herald, verified and republished.
//!
//! A LiveKit or plugNmeet server already emits signed webhooks for its rooms; pointing it at
//! Herald turns each into an event of the app, so it fans out with Herald's filters,
//! retries and log instead of going to one URL with no retries.

pub mod livekit;
