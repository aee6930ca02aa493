//! Interactive prompts. Each one has a flag or variable that answers it without a terminal.

use std::io::IsTerminal;

use dialoguer::theme::ColorfulTheme;
use dialoguer::{Confirm, Input, Password, Select};

use crate::error::{Error, Result};

/// Prompts need a person at a terminal on both ends.
pub fn is_interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

fn map(err: dialoguer::Error) -> Error {
    let dialoguer::Error::IO(io) = err;
    let _ = dialoguer::console::Term::stderr().show_cursor();
    Error::from(io)
}

pub fn select(prompt: &str, items: &[String], default: usize) -> Result<usize> {
    Select::with_theme(&ColorfulTheme::default())
        .with_prompt(prompt)
        .items(items)
        .default(default)
        .interact()
        .map_err(map)
}

pub fn input(prompt: &str, default: Option<&str>) -> Result<String> {
    let theme = ColorfulTheme::default();
    let mut input = Input::<String>::with_theme(&theme).with_prompt(prompt);
    if let Some(default) = default {
        input = input.default(default.to_string());
    }
    input.interact_text().map_err(map)
}

/// Masked input; an empty answer keeps `current` when there is one.
pub fn password(prompt: &str, current: Option<&str>) -> Result<Option<String>> {
    let answer = Password::with_theme(&ColorfulTheme::default())
        .with_prompt(prompt)
        .allow_empty_password(current.is_some())
        .interact()
        .map_err(map)?;
    Ok(if answer.trim().is_empty() {
        None
    } else {
        Some(answer.trim().to_string())
    })
}

pub fn confirm(prompt: &str, default: bool) -> Result<bool> {
    Confirm::with_theme(&ColorfulTheme::default())
        .with_prompt(prompt)
        .default(default)
        .interact()
        .map_err(map)
}
