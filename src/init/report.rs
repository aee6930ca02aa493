//! What `init` and `init --migrate` both print about the files they change (or would).

use serde_json::{Value, json};

use crate::init::plan::Plan;
use crate::output::Printer;
use crate::project::write::FileAction;

/// The `files` list of the JSON report; a dry run carries each change's diff.
pub fn files_json(plan: &Plan, dry_run: bool) -> Vec<Value> {
    plan.files
        .iter()
        .map(|f| {
            let mut v = json!({ "path": f.display, "action": f.action() });
            if dry_run && f.action() != FileAction::Unchanged {
                v["diff"] = json!(f.diff());
            }
            v
        })
        .collect()
}

/// A dry run in human form: the diff of every file that would change, then `summary`.
pub fn print_dry_run(printer: &Printer, plan: &Plan, summary: &str) {
    for file in plan
        .files
        .iter()
        .filter(|f| f.action() != FileAction::Unchanged)
    {
        printer.out(&file.diff());
    }
    printer.out(&format!("\n{summary}"));
    printer.out("Dry run: nothing was written.\n");
}

/// The word the summary puts before a file.
pub fn verb(action: FileAction, dry_run: bool) -> &'static str {
    match (action, dry_run) {
        (FileAction::Created, false) => "Created",
        (FileAction::Modified | FileAction::Permissions, false) => "Updated",
        (FileAction::Created, true) => "Would create",
        (FileAction::Modified | FileAction::Permissions, true) => "Would update",
        (FileAction::Unchanged, _) => "Unchanged",
    }
}

/// The one line `init -q` prints: which files changed (or would).
pub fn quiet_summary(plan: &Plan, dry_run: bool) -> String {
    let files: Vec<&str> = plan
        .files
        .iter()
        .filter(|f| f.action() != FileAction::Unchanged)
        .map(|f| f.display.as_str())
        .collect();
    if dry_run {
        format!(
            "Dry run: would update {}; nothing was written.\n",
            files.join(", ")
        )
    } else {
        format!("Updated {}.\n", files.join(", "))
    }
}
