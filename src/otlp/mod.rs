//! OTLP: exporter settings, the synthetic trace, and sending it over HTTP.

pub mod config;
pub mod send;
pub mod trace;
