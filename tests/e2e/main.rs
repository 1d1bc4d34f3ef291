//! End-to-end tests: each starts a real `herald` process on a random port with its own SQLite
//! file, and real HTTP receivers that record what they get.

mod formats;
mod harness;
mod publish;
mod receiver;
mod recovery;
mod rooms;
mod validation;
