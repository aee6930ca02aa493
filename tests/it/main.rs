//! The one integration-test binary: every test runs the built `tracectl` against real files and
//! real peers on loopback.

mod action;
mod collector;
mod collector_hostile;
mod common;
mod completions;
mod compose_edit;
mod compose_ports;
mod compose_shared_nodes;
mod doctor;
mod doctor_collector;
mod fake_http;
#[path = "../support/hermetic.rs"]
mod hermetic;
mod hostile_servers;
mod init;
mod init_apply;
mod init_e2e;
mod instrument;
mod instrument_e2e;
mod listen;
mod listen_check;
mod listen_grpc;
mod listen_hostile;
mod model;
mod odd_secrets_and_files;
mod peers;
mod sarif;
mod save_replay;
mod secrets;
mod send_test;
mod sigv4;
mod transaction_search;
mod version;
mod waterfall;
mod wizard;
