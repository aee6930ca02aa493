//! `init`'s logic: the plan (pure: model and answers to edits), the wizard and the report
//! both `init` and `init --migrate` print.

pub mod instrument;
pub mod plan;
pub mod report;
pub mod wizard;
