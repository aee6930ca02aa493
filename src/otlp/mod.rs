//! OTLP: exporter settings, the synthetic trace, and sending it over HTTP or gRPC.

pub mod config;
pub mod grpc;
pub mod send;
pub mod trace;
