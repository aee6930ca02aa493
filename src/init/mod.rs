//! `init`'s logic: the plan (pure: model and answers to edits) and the wizard.

pub mod plan;
pub mod wizard;
