//! tracectl as a library: `main.rs` parses the command line and runs it; the fuzz targets reach
//! the decoders of untrusted input through [`fuzzing`].

mod aws;
pub mod cli;
mod commands;
mod doctor;
mod error;
mod honeycomb;
mod listen;
mod otlp;
mod output;
mod project;
mod prompt;
mod recipe;
mod secret;
mod settings;
mod xray;

pub use commands::run;
pub use error::{Error, ExitStatus};
pub use output::Printer;

/// The decoders `listen` runs on bytes from the network, for fuzz targets.
pub mod fuzzing {
    pub use crate::listen::decode::{decode_otlp, decode_xray};
}
