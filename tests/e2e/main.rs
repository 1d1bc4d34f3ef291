//! End-to-end tests: each starts a real `herald` process on a random port with its own
//! database, and real HTTP receivers that record what they get. The store suite drives the
//! `Store` trait directly. Both run on SQLite, or on PostgreSQL when
//! `HERALD_TEST_DATABASE_URL=postgres://...` names a server.

mod bench;
mod breaker;
mod cluster;
mod cluster_breaker;
mod cluster_edit;
mod cluster_start;
mod dashboard;
mod db;
mod expiry;
mod faults;
mod fidelity;
mod formats;
mod fuzz;
mod hangups;
mod harness;
mod hostile;
mod hygiene;
mod isolation;
mod layout;
mod ledgers;
mod observe;
mod pauses;
mod pg_restart;
mod polling;
mod public_url;
mod publish;
mod ratelimit;
mod readme;
mod receiver;
mod recovery;
mod retention;
mod rooms;
mod schemas;
mod secrets;
mod send_test;
mod sequences;
mod signing;
mod slow_reader;
mod stops;
mod storage;
mod store;
mod store_lists;
mod store_log;
mod store_queue;
mod store_rows;
mod store_upgrade;
mod svix_api;
mod telemetry;
mod upgrade;
mod validation;
mod verification;
mod webhook_docs;
