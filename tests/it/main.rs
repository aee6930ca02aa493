//! The one integration-test binary: every test runs the built `tracectl` against real files and
//! real peers on loopback.

mod attack;
mod attack_listen;
mod common;
mod completions;
mod compose_edit;
mod doctor;
mod fake_http;
#[path = "../support/hermetic.rs"]
mod hermetic;
mod init;
mod init_apply;
mod init_e2e;
mod listen;
mod model;
mod peers;
mod secrets;
mod send_test;
mod sigv4;
mod wizard;
