//! The one integration-test binary: every test runs the built `tracectl` against real files and
//! real peers on loopback.

mod common;
mod completions;
mod compose_edit;
mod doctor;
mod fake_http;
mod init;
mod init_e2e;
mod listen;
mod peers;
mod send_test;
mod wizard;
