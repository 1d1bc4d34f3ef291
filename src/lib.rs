//! Herald: a webhook delivery engine for real-time communication platforms.
//!
//! A tour of the modules, in the order an event flows through them:
//!
//! - [`api`] takes requests over HTTP, authenticates them and parses them into [`domain`]
//!   values, so nothing past it handles unchecked input.
//! - [`catalog`] knows each platform's event types, so a typo is refused at publish time
//!   instead of silently reaching nobody.
//! - [`store`] commits each event together with its deliveries (the outbox) before the API
//!   acknowledges it; it is the source of truth after a crash.
//! - [`dispatch`] takes fresh deliveries through memory, re-reads the store for retries, and
//!   sends each with per-endpoint limits behind an SSRF guard.
//! - [`formats`] turns a delivery into the exact bytes and headers a platform's receivers
//!   verify, and verifies them back.
//! - [`ingest`] turns webhooks other systems send (a LiveKit server's) into events.
//! - [`ui`] is the dashboard: the same store, read for a person in a browser.
//! - [`cli`] and [`config`] wire it together into one binary.
//!
//! Only `store` and `domain` (for the store suite) and `cli` (for the binary) are public; the
//! rest is the crate's own, so the compiler reports what nothing uses.

pub(crate) mod api;
pub(crate) mod catalog;
pub mod cli;
pub(crate) mod config;
pub(crate) mod dispatch;
pub mod domain;
pub(crate) mod formats;
pub(crate) mod ingest;
pub(crate) mod retention;
pub(crate) mod server;
pub mod store;
pub(crate) mod telemetry;
pub(crate) mod ui;
