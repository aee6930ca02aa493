//! The compose file: its services (merge keys and aliases applied), their environment and env
//! files, and lossless edits made through the one syntax tree that is rendered back.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rowan::ast::AstNode;
use serde::Serialize;
use yaml_edit::{Lang, Mapping, ScalarValue, SyntaxKind, YamlFile, YamlNode};

use crate::error::{Error, Result};
use crate::recipe::{self, EnvVar};

type SyntaxNode = rowan::SyntaxNode<Lang>;

/// How deep `<<` merges and aliases are followed; real files nest two or three levels, and the
/// bound keeps a cycle from looping.
const MAX_MERGE_DEPTH: usize = 16;

pub struct Compose {
    path: PathBuf,
    text: String,
    file: YamlFile,
    line_starts: Vec<usize>,
    /// The tree as read, never edited: offsets and anchors are looked up there.
    original: SyntaxNode,
    /// Each service's entry in `original`, by name: an editable node's hash follows its
    /// offset, which every edit before it moves, so nodes cannot be the keys.
    original_entries: HashMap<String, SyntaxNode>,
    services: Mapping,
    /// Every service in file order with its entry node, indexed once so that lookups stay
    /// constant-time on files with thousands of services.
    index: std::cell::RefCell<Index>,
    /// Built on the first alias followed: most files have none.
    anchors: std::cell::OnceCell<yaml_edit::AnchorRegistry>,
    newline: &'static str,
}

/// One file a service reads variables from (`env_file:`), resolved against the compose file's
/// folder as Compose does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvFile {
    pub path: PathBuf,
    /// Compose fails when a required file is missing (the default); an optional one is skipped.
    pub required: bool,
    /// The 1-based line of the entry in the compose file.
    pub line: usize,
}
/// How a service writes its environment: `KEY: value` or `- KEY=value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EnvStyle {
    Map,
    List,
}

/// What happened to one variable of the backend's environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum EnvOutcome {
    Added,
    Unchanged,
    /// `--force` replaced a different value.
    Replaced {
        previous: String,
    },
    /// A different value was already there and stays.
    Kept {
        existing: String,
        proposed: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceOutcome {
    Added,
    Replaced,
    /// The service exists; tracectl leaves it alone.
    Kept,
}

/// Quote a value the way the surrounding entries are quoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quoting {
    Double,
    Single,
    Plain,
}

fn scalar_text(node: &YamlNode) -> Option<String> {
    node.as_scalar().map(|s| s.as_string())
}

/// A plain scalar that YAML reads back as the same string, and never as a number, bool or null.
fn plain_is_safe(value: &str) -> bool {
    let Some(first) = value.chars().next() else {
        return false;
    };
    let reserved = matches!(
        value.to_ascii_lowercase().as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "~"
    );
    (first.is_ascii_alphabetic() || first == '$' || first == '/' || first == '.')
        && !reserved
        && !value.contains(": ")
        && !value.contains(" #")
        && !value.ends_with(':')
        && !value.ends_with(' ')
        && value.chars().all(|c| {
            !c.is_control()
                && !matches!(
                    c,
                    '\'' | '"' | '`' | '[' | ']' | ',' | '&' | '*' | '!' | '|' | '>' | '%' | '@'
                )
        })
}

fn quoted(value: &str, quoting: Quoting) -> ScalarValue {
    match quoting {
        Quoting::Plain if plain_is_safe(value) => ScalarValue::plain(value),
        Quoting::Single => ScalarValue::single_quoted(value),
        _ => ScalarValue::double_quoted(value),
    }
}

/// The quoting style of the first existing entry; `default` when there are none.
fn quoting_in_use<'a>(mut raw: impl Iterator<Item = &'a str>, default: Quoting) -> Quoting {
    match raw.next() {
        Some(text) if text.starts_with('"') => Quoting::Double,
        Some(text) if text.starts_with('\'') => Quoting::Single,
        Some(_) => Quoting::Plain,
        None => default,
    }
}

/// A service's environment as Compose sees it: its style (none when absent) and each key with
/// its value (`None` for a bare `- KEY`), inherited entries (`<<: *anchor`, aliases) included.
pub type Environment = (Option<EnvStyle>, Vec<(String, Option<String>)>);

/// A service's `command:` or `entrypoint:`, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeCommand {
    pub key: &'static str,
    pub value: CommandValue,
    /// The 1-based line of the entry.
    pub line: usize,
    /// The anchor of the `<<` block it comes from, when inherited.
    pub inherited: Option<String>,
    /// Written over several lines (a block scalar, or a list).
    pub multiline: bool,
}

/// A command as one string (Compose splits it into words, no shell) or a list of words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandValue {
    String(String),
    List(Vec<String>),
}

/// The new value of a command: a whole string, or items inserted into the list (`all`: the
/// whole new list, written when the service has no list of its own to insert into).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandEdit {
    String(String),
    List {
        inserts: Vec<(usize, String)>,
        all: Vec<String>,
    },
}

/// Where a new entry goes in a block mapping.
enum Place {
    /// After this entry.
    After(SyntaxNode),
    End,
    /// In place of this entry.
    Replace(SyntaxNode),
}

/// A value found by a merge-aware lookup: aliases followed, and the anchor named by the `<<`
/// that supplied it when it was inherited.
struct Found {
    value: YamlNode,
    entry: SyntaxNode,
    via: Option<String>,
}

fn syntax(node: &YamlNode) -> SyntaxNode {
    match node {
        YamlNode::Scalar(n) => n.syntax().clone(),
        YamlNode::Mapping(n) => n.syntax().clone(),
        YamlNode::Sequence(n) => n.syntax().clone(),
        YamlNode::Alias(n) => n.syntax().clone(),
        YamlNode::TaggedNode(n) => n.syntax().clone(),
    }
}

fn map_entries(mapping: &SyntaxNode) -> impl Iterator<Item = SyntaxNode> {
    mapping
        .children()
        .filter(|c| c.kind() == SyntaxKind::MAPPING_ENTRY)
}

fn entry_key_node(entry: &SyntaxNode) -> Option<SyntaxNode> {
    entry.children().find(|c| c.kind() == SyntaxKind::KEY)
}

/// A plain key is read off the green tree: asking an editable node for its text computes its
/// offset, which costs a walk over every preceding service.
fn entry_key(entry: &SyntaxNode) -> Option<String> {
    let node = entry_key_node(entry)?
        .children()
        .find(|c| c.kind() == SyntaxKind::SCALAR)?;
    let raw = node.green().to_string();
    let raw = raw.trim();
    if raw.starts_with(['"', '\'']) || raw.contains('\n') {
        return YamlNode::from_syntax(node).as_ref().and_then(scalar_text);
    }
    Some(raw.to_string())
}

fn entry_value(entry: &SyntaxNode) -> Option<YamlNode> {
    entry
        .children()
        .find(|c| c.kind() == SyntaxKind::VALUE)?
        .children()
        .find_map(YamlNode::from_syntax)
        .map(untagged)
}

/// A collection written with the core tag of its own kind (`!!map`, `!!seq`) is that collection:
/// Compose reads it so, and an edit goes inside it, keeping the tag.
fn untagged(node: YamlNode) -> YamlNode {
    let YamlNode::TaggedNode(tagged) = &node else {
        return node;
    };
    match tagged.tag().as_deref() {
        Some("!!map") => tagged.as_mapping().map_or(node, YamlNode::Mapping),
        Some("!!seq") => tagged.as_sequence().map_or(node, YamlNode::Sequence),
        Some("!!str") => tagged.value().map_or(node, YamlNode::Scalar),
        _ => node,
    }
}

/// The `&name` written on a node (`key: &name` then the node), if any.
fn anchor_of(node: &SyntaxNode) -> Option<String> {
    let holder = node.parent()?;
    holder
        .children_with_tokens()
        .take_while(|c| c.as_node() != Some(node))
        .filter_map(|c| c.into_token())
        .find(|t| t.kind() == SyntaxKind::ANCHOR)
        .map(|t| t.text().trim_start_matches('&').to_string())
}

/// The comment ending an entry's first line, with the spaces before it.
fn key_line_comment(entry: &SyntaxNode) -> Option<String> {
    let mut spaces = String::new();
    for token in entry
        .descendants_with_tokens()
        .filter_map(|e| e.into_token())
    {
        match token.kind() {
            SyntaxKind::NEWLINE => return None,
            SyntaxKind::WHITESPACE => spaces = token.text().to_string(),
            SyntaxKind::COMMENT => return Some(format!("{spaces}{}", token.text())),
            _ => spaces.clear(),
        }
    }
    None
}

fn is_null(node: &YamlNode) -> bool {
    matches!(node, YamlNode::Scalar(s) if s.is_null() || s.value().trim().is_empty())
}

/// A double-quoted YAML scalar that reads back as `value`.
fn double_quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A list of service names short enough for a hint.
pub fn names_hint(names: &[String]) -> String {
    const SHOWN: usize = 12;
    let mut hint = names
        .iter()
        .take(SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        hint.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    hint
}

fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

/// 1-based (line, column) of a byte offset.
fn line_col(starts: &[usize], offset: usize) -> (usize, usize) {
    let line = starts.partition_point(|&s| s <= offset).max(1);
    (line, offset - starts[line - 1] + 1)
}

fn offset(node: &SyntaxNode) -> usize {
    usize::from(node.text_range().start())
}

/// A read-only view of the tree: its nodes know their offsets, where an editable node computes
/// its offset by summing every preceding sibling (thousands of services).
fn view_of(node: &SyntaxNode) -> SyntaxNode {
    SyntaxNode::new_root(node.green().into_owned())
}

/// The node at the same place as `node` in `view`, the view of `node`'s tree.
fn same_in_view(node: &SyntaxNode, view: &SyntaxNode) -> Option<SyntaxNode> {
    let mut path = Vec::new();
    let mut current = node.clone();
    while let Some(parent) = current.parent() {
        path.push(current.index());
        current = parent;
    }
    let mut found = view.clone();
    for index in path.into_iter().rev() {
        found = found.children_with_tokens().nth(index)?.into_node()?;
    }
    Some(found)
}

/// YAML indentation is spaces only; Compose rejects a tab there, and the parser would read the
/// line as something else. Block scalars and quoted strings may hold tabs on their own lines.
fn check_tabs(path: &Path, text: &str, starts: &[usize], root: &SyntaxNode) -> Result<()> {
    let exempt: Vec<(usize, usize)> = root
        .descendants()
        .filter(|n| n.kind() == SyntaxKind::SCALAR)
        .filter_map(|n| {
            let t = n.green().to_string();
            (t.contains('\n') && t.starts_with(['|', '>', '"', '\'']))
                .then(|| (offset(&n), offset(&n) + t.len()))
        })
        .collect();
    let mut next = 0;
    for (i, &start) in starts.iter().enumerate() {
        let line = text[start..].split('\n').next().unwrap_or("");
        let content = line.trim_start_matches([' ', '\t']);
        let lead = &line[..line.len() - content.len()];
        let content = content.trim_end_matches('\r');
        if !lead.contains('\t') || content.is_empty() || content.starts_with('#') {
            continue;
        }
        while next < exempt.len() && exempt[next].1 <= start {
            next += 1;
        }
        if next < exempt.len() && exempt[next].0 < start {
            continue;
        }
        let column = lead.find('\t').unwrap_or(0) + 1;
        return Err(Error::parse(
            path,
            i + 1,
            column,
            "this line is indented with a tab; YAML indentation must be spaces",
        ));
    }
    Ok(())
}

/// A key written twice in one mapping: Compose refuses the file, and an edit could land in the
/// shadowed copy.
fn check_duplicates(path: &Path, starts: &[usize], view: &SyntaxNode) -> Result<()> {
    for mapping in view
        .descendants()
        .filter(|n| n.kind() == SyntaxKind::MAPPING)
    {
        let mut seen: HashMap<String, usize> = HashMap::new();
        for entry in map_entries(&mapping) {
            let Some(key) = entry_key(&entry).filter(|k| k != "<<") else {
                continue;
            };
            let at = offset(&entry);
            let (line, column) = line_col(starts, at);
            if let Some(first) = seen.get(&key) {
                return Err(Error::parse(
                    path,
                    line,
                    column,
                    format!(
                        "`{key}` is defined twice in the same mapping (first at line {first}); Compose refuses duplicate keys"
                    ),
                ));
            }
            seen.insert(key, line);
        }
    }
    Ok(())
}

/// The anchor written on `node` itself (`&name` between the node and the previous sibling node
/// in its parent), as a token of the same tree.
fn anchor_token(node: &SyntaxNode) -> Option<rowan::SyntaxToken<Lang>> {
    let parent = node.parent()?;
    let mut found = None;
    for element in parent.children_with_tokens() {
        match element {
            rowan::NodeOrToken::Node(n) if n == *node => return found,
            rowan::NodeOrToken::Node(_) => found = None,
            rowan::NodeOrToken::Token(t) if t.kind() == SyntaxKind::ANCHOR => found = Some(t),
            rowan::NodeOrToken::Token(_) => {}
        }
    }
    None
}

/// For every anchor (by the offset of its `&name`), the offsets of the aliases that name it: an
/// alias names the latest anchor of that name before it.
fn alias_uses(view: &SyntaxNode) -> HashMap<usize, Vec<usize>> {
    let mut latest: HashMap<String, usize> = HashMap::new();
    let mut uses: HashMap<usize, Vec<usize>> = HashMap::new();
    for token in view
        .descendants_with_tokens()
        .filter_map(|e| e.into_token())
    {
        let at = usize::from(token.text_range().start());
        match token.kind() {
            SyntaxKind::ANCHOR => {
                latest.insert(token.text().trim_start_matches('&').to_string(), at);
            }
            SyntaxKind::REFERENCE => {
                if let Some(&anchor) = latest.get(token.text().trim_start_matches('*')) {
                    uses.entry(anchor).or_default().push(at);
                }
            }
            _ => {}
        }
    }
    uses
}

struct Index {
    entries: Vec<(String, SyntaxNode)>,
    by_name: HashMap<String, usize>,
}

impl Index {
    fn new(services: &SyntaxNode) -> Self {
        let mut index = Index {
            entries: Vec::new(),
            by_name: HashMap::new(),
        };
        for entry in map_entries(services) {
            if let Some(name) = entry_key(&entry) {
                index.put(name, entry);
            }
        }
        index
    }

    fn remove(&mut self, name: &str) {
        if let Some(i) = self.by_name.remove(name) {
            self.entries.remove(i);
            for (j, (n, _)) in self.entries.iter().enumerate().skip(i) {
                self.by_name.insert(n.clone(), j);
            }
        }
    }

    fn put(&mut self, name: String, entry: SyntaxNode) {
        match self.by_name.get(&name) {
            Some(&i) => self.entries[i].1 = entry,
            None => {
                self.by_name.insert(name.clone(), self.entries.len());
                self.entries.push((name, entry));
            }
        }
    }
}

impl Compose {
    /// Read and parse a compose file; text that is not UTF-8 is refused naming its line.
    pub fn read(path: &Path) -> Result<Self> {
        let text = super::read_text(path)?;
        // Before anything can quote the file back, even a parse error.
        crate::secret::register_all(crate::secret::in_text(&text));
        Self::parse(path, text)
    }

    pub fn parse(path: &Path, text: String) -> Result<Self> {
        let parsed = YamlFile::parse(&text);
        let file = parsed.tree();
        let starts = line_starts(&text);
        check_tabs(path, &text, &starts, &view_of(file.syntax()))?;
        if let Some(err) = parsed.positioned_errors().first() {
            let (line, column) = line_col(&starts, err.range.start as usize);
            return Err(Error::parse(path, line, column, err.message.clone()));
        }
        let mut documents = file.documents();
        let document = documents.next();
        if let Some(second) = documents.find(|d| d.syntax().children().next().is_some()) {
            let start = second
                .syntax()
                .descendants_with_tokens()
                .filter_map(|c| c.into_token())
                .find(|t| t.kind() == SyntaxKind::DOC_START)
                .map_or(offset(second.syntax()), |t| {
                    usize::from(t.text_range().start())
                });
            let (line, column) = line_col(&starts, start);
            return Err(Error::parse(
                path,
                line,
                column,
                "a second YAML document starts here; a compose file holds one document",
            ));
        }
        let Some(root) = document.as_ref().and_then(|d| d.as_mapping()) else {
            return Err(Error::project(
                path,
                "is not a compose file: the top level is not a mapping of keys such as `services:`",
                None,
            ));
        };
        let view = view_of(file.syntax());
        check_duplicates(path, &starts, &view)?;
        let services = root.get_mapping("services").ok_or_else(|| {
            Error::project(
                path,
                "has no `services` mapping",
                "a compose file lists its containers under `services:`; pass --compose-file to pick another file".to_string(),
            )
        })?;
        let index = Index::new(services.syntax());
        let mut original_entries = HashMap::new();
        if let Some(viewed) = same_in_view(services.syntax(), &view) {
            for entry in map_entries(&viewed) {
                if let Some(name) = entry_key(&entry) {
                    original_entries.insert(name, entry);
                }
            }
        }
        let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
        Ok(Compose {
            path: path.to_path_buf(),
            text,
            file,
            line_starts: starts,
            original: view,
            original_entries,
            services,
            index: std::cell::RefCell::new(index),
            anchors: std::cell::OnceCell::new(),
            newline,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The 1-based line of a node, in the text as read.
    fn line_of(&self, node: &SyntaxNode) -> usize {
        line_col(&self.line_starts, self.offset_of(node)).0
    }

    /// A node's offset in the text as read: up to the service it belongs to, summing the few
    /// siblings before it on the way, then that service's offset as read.
    fn offset_of(&self, node: &SyntaxNode) -> usize {
        let mut at = 0;
        let mut current = node.clone();
        loop {
            if let Some(entry) = self.original_entry(&current) {
                return offset(&entry) + at;
            }
            let Some(parent) = current.parent() else {
                return at;
            };
            at += parent
                .green()
                .children()
                .take(current.index())
                .map(|c| usize::from(c.text_len()))
                .sum::<usize>();
            current = parent;
        }
    }

    /// The entry in the tree as read of the service whose entry `node` is.
    fn original_entry(&self, node: &SyntaxNode) -> Option<SyntaxNode> {
        node.parent()
            .filter(|p| p == self.services.syntax())
            .and_then(|_| entry_key(node))
            .and_then(|name| self.original_entries.get(&name).cloned())
    }

    /// The node at the same place as `node` in the tree as read: through its service's entry,
    /// so that edits to other services do not matter (an edited service's own nodes may not map).
    fn in_original(&self, node: &SyntaxNode) -> Option<SyntaxNode> {
        let mut path = Vec::new();
        let mut current = node.clone();
        let mut found = loop {
            if let Some(entry) = self.original_entry(&current) {
                break entry;
            }
            let Some(parent) = current.parent() else {
                break self.original.clone();
            };
            path.push(current.index());
            current = parent;
        };
        for index in path.into_iter().rev() {
            found = found.children_with_tokens().nth(index)?.into_node()?;
        }
        Some(found)
    }

    fn entry(&self, name: &str) -> Option<SyntaxNode> {
        let index = self.index.borrow();
        index.by_name.get(name).map(|&i| index.entries[i].1.clone())
    }

    fn no_such_service(&self, name: &str) -> Error {
        Error::usage(
            format!("{} has no service '{name}'", self.path.display()),
            format!("services there: {}", names_hint(&self.service_names())),
        )
    }

    /// The service's mapping, through an alias if it is one.
    fn body(&self, name: &str) -> Result<SyntaxNode> {
        let entry = self.entry(name).ok_or_else(|| self.no_such_service(name))?;
        match entry_value(&entry).and_then(|v| self.deref(v)) {
            Some(YamlNode::Mapping(m)) => Ok(m.syntax().clone()),
            _ => Err(Error::parse(
                &self.path,
                self.line_of(&entry),
                1,
                format!("service '{name}' is not a mapping of keys such as `image:`"),
            )),
        }
    }

    /// Follow aliases to the node they name.
    fn deref(&self, node: YamlNode) -> Option<YamlNode> {
        let mut node = node;
        for _ in 0..MAX_MERGE_DEPTH {
            match node {
                YamlNode::Alias(alias) => {
                    let anchors = self
                        .anchors
                        .get_or_init(|| yaml_edit::AnchorRegistry::from_tree(self.file.syntax()));
                    node = anchors.resolve_alias(&alias).ok()?;
                }
                other => return Some(untagged(other)),
            }
        }
        None
    }

    /// The mappings a `<<` entry merges, in order, each with the anchor that names it.
    fn merge_sources(&self, entry: &SyntaxNode) -> Vec<(String, SyntaxNode)> {
        let resolve = |node: YamlNode| -> Option<(String, SyntaxNode)> {
            let name = match &node {
                YamlNode::Alias(a) => a.name(),
                _ => String::new(),
            };
            match self.deref(node)? {
                YamlNode::Mapping(m) => Some((name, m.syntax().clone())),
                _ => None,
            }
        };
        match entry_value(entry) {
            Some(YamlNode::Sequence(seq)) => seq.values().filter_map(resolve).collect(),
            Some(node) => resolve(node).into_iter().collect(),
            None => Vec::new(),
        }
    }

    /// `key` in `mapping` as YAML reads it: a local key first, then the `<<` sources in order.
    fn lookup(&self, mapping: &SyntaxNode, key: &str) -> Option<Found> {
        self.lookup_at(mapping, key, 0, &mut std::collections::HashSet::new())
    }

    /// Each mapping is searched once: merging one twice adds nothing, and a hostile file can
    /// name the same anchors over and over at every level.
    fn lookup_at(
        &self,
        mapping: &SyntaxNode,
        key: &str,
        depth: usize,
        seen: &mut std::collections::HashSet<SyntaxNode>,
    ) -> Option<Found> {
        if depth > MAX_MERGE_DEPTH || !seen.insert(mapping.clone()) {
            return None;
        }
        let mut merges = Vec::new();
        for entry in map_entries(mapping) {
            match entry_key(&entry).as_deref() {
                Some("<<") => merges.push(entry),
                Some(k) if k == key => {
                    let value = entry_value(&entry).and_then(|v| self.deref(v))?;
                    return Some(Found {
                        value,
                        entry,
                        via: None,
                    });
                }
                _ => {}
            }
        }
        for merge in merges {
            for (anchor, source) in self.merge_sources(&merge) {
                if let Some(mut found) = self.lookup_at(&source, key, depth + 1, seen) {
                    found.via = Some(anchor);
                    return Some(found);
                }
            }
        }
        None
    }

    /// Every key of a mapping with its scalar value, merged keys after local ones.
    fn merged_pairs(
        &self,
        mapping: &SyntaxNode,
        depth: usize,
        seen: &mut std::collections::HashSet<SyntaxNode>,
        out: &mut Vec<(String, Option<String>)>,
    ) {
        if depth > MAX_MERGE_DEPTH || !seen.insert(mapping.clone()) {
            return;
        }
        let mut merges = Vec::new();
        for entry in map_entries(mapping) {
            match entry_key(&entry) {
                Some(k) if k == "<<" => merges.push(entry),
                Some(k) if !out.iter().any(|(o, _)| *o == k) => {
                    let value = entry_value(&entry)
                        .and_then(|v| self.deref(v))
                        .as_ref()
                        .and_then(scalar_text);
                    out.push((k, value));
                }
                _ => {}
            }
        }
        for merge in merges {
            for (_, source) in self.merge_sources(&merge) {
                self.merged_pairs(&source, depth + 1, seen, out);
            }
        }
    }

    pub fn service_names(&self) -> Vec<String> {
        self.index
            .borrow()
            .entries
            .iter()
            .map(|(n, _)| n.clone())
            .collect()
    }

    pub fn has_service(&self, name: &str) -> bool {
        self.index.borrow().by_name.contains_key(name)
    }

    /// The 1-based line of the service's key.
    pub fn service_line(&self, name: &str) -> Option<usize> {
        self.entry(name).map(|e| self.line_of(&e))
    }

    /// The build folder of a service (`build: DIR` or `build: {context: DIR}`), as written,
    /// merged keys included.
    pub fn build_context(&self, name: &str) -> Option<String> {
        let body = self.body(name).ok()?;
        match self.lookup(&body, "build")?.value {
            YamlNode::Scalar(s) => Some(s.as_string()),
            YamlNode::Mapping(m) => scalar_text(&self.lookup(m.syntax(), "context")?.value),
            _ => None,
        }
    }

    /// Whether the service sets `key` (merged keys included).
    pub fn has_key(&self, name: &str, key: &str) -> bool {
        self.body(name)
            .ok()
            .is_some_and(|body| self.lookup(&body, key).is_some())
    }

    /// The service's `image:` as written, merged keys included.
    pub fn image(&self, name: &str) -> Option<String> {
        self.scalar(name, "image")
    }

    /// A scalar key of the service as written (aliases followed, merged keys included).
    pub fn scalar(&self, name: &str, key: &str) -> Option<String> {
        let body = self.body(name).ok()?;
        scalar_text(&self.deref(self.lookup(&body, key)?.value)?)
    }

    /// The service's environment as Compose resolves it (merge keys and aliases applied).
    pub fn environment(&self, name: &str) -> Result<Environment> {
        let body = self.body(name)?;
        let Some(found) = self.lookup(&body, "environment") else {
            return Ok((None, Vec::new()));
        };
        match &found.value {
            YamlNode::Mapping(m) => {
                let mut pairs = Vec::new();
                let mut seen = std::collections::HashSet::new();
                self.merged_pairs(m.syntax(), 0, &mut seen, &mut pairs);
                Ok((Some(EnvStyle::Map), pairs))
            }
            YamlNode::Sequence(s) => Ok((
                Some(EnvStyle::List),
                s.values()
                    .filter_map(|v| self.deref(v))
                    .filter_map(|v| scalar_text(&v))
                    .map(|item| match item.split_once('=') {
                        Some((k, v)) => (k.to_string(), Some(v.to_string())),
                        None => (item, None),
                    })
                    .collect(),
            )),
            v if is_null(v) => Ok((None, Vec::new())),
            _ => Err(Error::parse(
                &self.path,
                self.line_of(&found.entry),
                1,
                format!("the environment of service '{name}' is neither a mapping nor a list"),
            )),
        }
    }

    /// The files the service reads variables from (`env_file:` as a path, a list of paths, or a
    /// list of `{path, required}`), merged keys included, resolved against the compose folder.
    pub fn env_files(&self, name: &str) -> Result<Vec<EnvFile>> {
        let body = self.body(name)?;
        let Some(found) = self.lookup(&body, "env_file") else {
            return Ok(Vec::new());
        };
        let base = self.path.parent().unwrap_or(Path::new(""));
        let wrong = |node: &SyntaxNode| {
            Error::parse(
                &self.path,
                self.line_of(node),
                1,
                format!(
                    "env_file of service '{name}' must be a path, a list of paths, or a list of {{path, required}} entries"
                ),
            )
        };
        let one = |node: YamlNode| -> Result<EnvFile> {
            let at = syntax(&node);
            let (file, required) = match &node {
                YamlNode::Scalar(s) if !is_null(&node) => (s.as_string(), true),
                YamlNode::Mapping(m) => {
                    let file = self
                        .lookup(m.syntax(), "path")
                        .and_then(|f| scalar_text(&f.value))
                        .ok_or_else(|| wrong(&at))?;
                    let required = match self.lookup(m.syntax(), "required") {
                        None => true,
                        Some(f) => match scalar_text(&f.value)
                            .map(|t| t.to_ascii_lowercase())
                            .as_deref()
                        {
                            Some("true") => true,
                            Some("false") => false,
                            _ => return Err(wrong(&f.entry)),
                        },
                    };
                    (file, required)
                }
                _ => return Err(wrong(&at)),
            };
            Ok(EnvFile {
                path: base.join(file),
                required,
                line: self.line_of(&at),
            })
        };
        match found.value {
            YamlNode::Sequence(seq) => seq
                .values()
                .map(|v| {
                    self.deref(v)
                        .ok_or_else(|| wrong(&found.entry))
                        .and_then(one)
                })
                .collect(),
            ref v if is_null(v) => Ok(Vec::new()),
            v => Ok(vec![one(v)?]),
        }
    }

    /// Set the variables in the service's environment, keeping its style and quoting. A different
    /// existing value stays unless `force`. Inherited variables are kept: a local environment
    /// that would replace an inherited one merges it with `<<: *anchor`, or the edit is refused.
    pub fn set_env(&self, name: &str, vars: &[EnvVar], force: bool) -> Result<Vec<EnvOutcome>> {
        let (_, existing) = self.environment(name)?;
        let body = self.body(name)?;
        let outcomes: Vec<EnvOutcome> = vars
            .iter()
            .map(|var| {
                let current = existing
                    .iter()
                    .find(|(k, _)| *k == var.key)
                    .map(|(_, v)| v.clone());
                decide(current, &var.value, force)
            })
            .collect();
        let changed: Vec<&EnvVar> = vars
            .iter()
            .zip(&outcomes)
            .filter(|(_, o)| matches!(o, EnvOutcome::Added | EnvOutcome::Replaced { .. }))
            .map(|(v, _)| v)
            .collect();
        if changed.is_empty() {
            return Ok(outcomes);
        }
        let body_map = Mapping::cast(body.clone()).expect("a service body is a mapping");
        let local = map_entries(&body).find(|e| entry_key(e).as_deref() == Some("environment"));
        let forced: Vec<&str> = vars
            .iter()
            .zip(&outcomes)
            .filter(|(_, o)| matches!(o, EnvOutcome::Replaced { .. }))
            .map(|(v, _)| v.key.as_str())
            .collect();
        match local.as_ref().map(|e| (e, entry_value(e))) {
            Some((_, Some(YamlNode::Mapping(env)))) => {
                let replaced: Vec<SyntaxNode> = map_entries(env.syntax())
                    .filter(|e| entry_key(e).is_some_and(|k| forced.contains(&k.as_str())))
                    .collect();
                self.refuse_shared(name, Some(env.syntax()), &replaced)?;
            }
            Some((_, Some(YamlNode::Sequence(env)))) => {
                let replaced: Vec<SyntaxNode> = env
                    .values()
                    .filter(|v| {
                        scalar_text(v)
                            .is_some_and(|t| forced.contains(&t.split('=').next().unwrap_or("")))
                    })
                    .filter_map(|v| syntax(&v).parent())
                    .collect();
                self.refuse_shared(name, Some(env.syntax()), &replaced)?;
            }
            Some((entry, _)) => {
                self.refuse_shared(name, Some(&body), std::slice::from_ref(entry))?
            }
            None => self.refuse_shared(name, Some(&body), &[])?,
        }
        match local {
            Some(entry) => match entry_value(&entry) {
                Some(YamlNode::Mapping(env)) => {
                    let raw: Vec<String> = env
                        .values()
                        .filter_map(|v| v.as_scalar().map(|s| s.value()))
                        .collect();
                    let quoting = quoting_in_use(raw.iter().map(String::as_str), Quoting::Double);
                    for var in &changed {
                        env.set(var.key.as_str(), quoted(&var.value, quoting));
                    }
                }
                Some(YamlNode::Sequence(env)) => {
                    let raw: Vec<String> = env
                        .values()
                        .filter_map(|v| v.as_scalar().map(|s| s.value()))
                        .collect();
                    let quoting = quoting_in_use(raw.iter().map(String::as_str), Quoting::Plain);
                    let keys: Vec<Option<String>> = env
                        .values()
                        .map(|v| {
                            scalar_text(&v).map(|t| t.split('=').next().unwrap_or("").to_string())
                        })
                        .collect();
                    for var in &changed {
                        let item = quoted(&format!("{}={}", var.key, var.value), quoting);
                        match keys.iter().position(|k| k.as_deref() == Some(&var.key)) {
                            Some(i) => {
                                env.set(i, item);
                            }
                            None => env.push(item),
                        }
                    }
                }
                Some(YamlNode::Alias(alias)) => {
                    let anchor = alias.name();
                    match self.deref(YamlNode::Alias(alias)) {
                        Some(YamlNode::Mapping(_)) => {
                            let lines = self.env_lines(Some(&anchor), &changed, &body);
                            self.put_entry(
                                &body_map,
                                "environment",
                                &lines,
                                Place::Replace(entry),
                            )?;
                        }
                        _ => {
                            return Err(Error::parse(
                                &self.path,
                                self.line_of(&entry),
                                1,
                                format!(
                                    "the environment of service '{name}' is `*{anchor}`, which is not a mapping of variables; tracectl cannot add to it without dropping its variables"
                                ),
                            ));
                        }
                    }
                }
                Some(v) if !is_null(&v) => {
                    return Err(Error::parse(
                        &self.path,
                        self.line_of(&entry),
                        1,
                        format!(
                            "the environment of service '{name}' is neither a mapping nor a list"
                        ),
                    ));
                }
                _ => {
                    let lines = self.env_lines(None, &changed, &body);
                    self.put_entry(&body_map, "environment", &lines, Place::Replace(entry))?;
                }
            },
            None => {
                let inherited = self.lookup(&body, "environment");
                let anchor = match &inherited {
                    None => None,
                    Some(found) => {
                        let anchor = match &found.value {
                            YamlNode::Mapping(m) => anchor_of(m.syntax()),
                            _ => None,
                        };
                        if anchor.is_none() {
                            let via = found.via.clone().unwrap_or_default();
                            return Err(Error::project(
                                &self.path,
                                format!(
                                    "service '{name}' inherits its environment through `<<: *{via}` (environment at line {}); a local `environment:` would replace every inherited variable",
                                    self.line_of(&found.entry)
                                ),
                                format!(
                                    "give that environment its own anchor (`environment: &{via}-env`, as a mapping) so tracectl can merge it with `<<: *{via}-env`, or copy its variables into service '{name}'"
                                ),
                            ));
                        }
                        anchor
                    }
                };
                let lines = self.env_lines(anchor.as_deref(), &changed, &body);
                self.put_entry(&body_map, "environment", &lines, Place::End)?;
            }
        }
        Ok(outcomes)
    }

    /// Refuse an edit that would reach past the backend: `grown` gains entries and each of
    /// `replaced` is rewritten, so an anchor on any of them or on a node holding them (and, for
    /// a rewritten node, one inside it) that an alias elsewhere names would carry the edit to
    /// that alias too, or leave it naming nothing. The alias the backend itself is written as
    /// (`api: *svc`) is its own.
    fn refuse_shared(
        &self,
        service: &str,
        grown: Option<&SyntaxNode>,
        replaced: &[SyntaxNode],
    ) -> Result<()> {
        let uses = alias_uses(&self.original);
        if uses.is_empty() {
            return Ok(());
        }
        let own_alias = self
            .entry(service)
            .and_then(|e| self.in_original(&e))
            .and_then(|e| match entry_value(&e) {
                Some(YamlNode::Alias(a)) => a
                    .syntax()
                    .descendants_with_tokens()
                    .filter_map(|t| t.into_token())
                    .find(|t| t.kind() == SyntaxKind::REFERENCE)
                    .map(|t| usize::from(t.text_range().start())),
                _ => None,
            });
        let mut anchors = Vec::new();
        for node in grown.into_iter().chain(replaced) {
            let Some(node) = self.in_original(node) else {
                continue;
            };
            anchors.extend(node.ancestors().filter_map(|n| anchor_token(&n)));
        }
        for node in replaced {
            if let Some(node) = self.in_original(node) {
                anchors.extend(
                    node.descendants_with_tokens()
                        .filter_map(|e| e.into_token())
                        .filter(|t| t.kind() == SyntaxKind::ANCHOR),
                );
            }
        }
        let starts = &self.line_starts;
        for anchor in anchors {
            let at = usize::from(anchor.text_range().start());
            let Some(&alias) = uses
                .get(&at)
                .and_then(|u| u.iter().find(|&&u| Some(u) != own_alias))
            else {
                continue;
            };
            let name = anchor.text().trim_start_matches('&');
            let (line, column) = line_col(starts, at);
            return Err(Error::parse(
                &self.path,
                line,
                column,
                format!(
                    "`&{name}` is shared with line {} (`*{name}`): an edit here for service '{service}' would reach it too; \
                     move what they share into a top-level block (`x-shared: &{name}`) that each uses, then run tracectl again",
                    line_col(starts, alias).0
                ),
            ));
        }
        Ok(())
    }

    /// A new `environment:` block mapping, relative to its key, merging `anchor` first.
    fn env_lines(&self, anchor: Option<&str>, vars: &[&EnvVar], body: &SyntaxNode) -> Vec<String> {
        let unit = self.unit_below(body);
        let pad = " ".repeat(unit);
        let mut lines = vec!["environment:".to_string()];
        if let Some(anchor) = anchor {
            lines.push(format!("{pad}<<: *{anchor}"));
        }
        for var in vars {
            lines.push(format!("{pad}{}: {}", var.key, double_quoted(&var.value)));
        }
        lines
    }

    /// How far the file indents a nested block under `mapping`'s keys: read off the first
    /// nested block mapping, else 2.
    fn unit_below(&self, mapping: &SyntaxNode) -> usize {
        let column =
            |m: &SyntaxNode| Mapping::cast(m.clone()).map(|m| m.detect_indentation_level());
        let own = column(mapping).unwrap_or(0);
        map_entries(mapping)
            .filter_map(|e| match entry_value(&e) {
                Some(YamlNode::Mapping(m)) if !m.is_flow_style() => column(m.syntax()),
                _ => None,
            })
            .find(|&c| c > own)
            .map_or(2, |c| c - own)
    }

    /// Put `key` (its block written in `lines`, relative to the key's column) into a block
    /// mapping through the syntax tree: the entry is parsed at the mapping's own column and its
    /// node put in place, so the file's indentation holds at every depth.
    fn put_entry(
        &self,
        mapping: &Mapping,
        key: &str,
        lines: &[String],
        place: Place,
    ) -> Result<SyntaxNode> {
        if mapping.is_flow_style() {
            return Err(Error::project(
                &self.path,
                format!(
                    "cannot add `{key}` at line {}: the mapping is written in flow style (`{{...}}`)",
                    self.line_of(mapping.syntax())
                ),
                "rewrite that mapping in block style (one `key: value` per line), then run tracectl again".to_string(),
            ));
        }
        let column = mapping.detect_indentation_level();
        // At the end means after the last entry.
        let place = match place {
            Place::End => match map_entries(mapping.syntax()).last() {
                Some(last) => Place::After(last),
                None => Place::End,
            },
            other => other,
        };
        let target = match place {
            Place::Replace(entry) => entry,
            Place::After(previous) if previous.green().to_string().ends_with('\n') => {
                // Straight after the previous entry, which ends its line: no search through
                // the mapping, which can hold thousands of services.
                let elements = self.parse_entry_after(column, lines)?;
                let at = previous.index() + 1;
                let parent = previous
                    .parent()
                    .ok_or_else(|| self.internal("the entry has no parent"))?;
                let entry = elements
                    .iter()
                    .find_map(|e| e.as_node().cloned())
                    .ok_or_else(|| self.internal("the new entry is empty"))?;
                parent.splice_children(at..at, elements);
                return Ok(entry);
            }
            Place::After(previous) => {
                let after = entry_key(&previous)
                    .ok_or_else(|| self.internal("the previous entry has no key"))?;
                mapping.insert_after(after.as_str(), key, "placeholder");
                self.local_entry(mapping, key)?
            }
            Place::End => {
                mapping.set(key, "placeholder");
                self.local_entry(mapping, key)?
            }
        };
        let newline_after = target.green().to_string().ends_with('\n');
        // A comment on the replaced entry's key line stays on the new key line.
        let mut lines = lines.to_vec();
        if let (Some(comment), Some(first)) = (key_line_comment(&target), lines.first_mut()) {
            first.push_str(&comment);
        }
        let entry = self.parse_entry(column, &lines, newline_after)?;
        let at = target.index();
        let parent = target
            .parent()
            .ok_or_else(|| self.internal("the entry has no parent"))?;
        parent.splice_children(at..at + 1, vec![entry.clone().into()]);
        Ok(entry)
    }

    fn local_entry(&self, mapping: &Mapping, key: &str) -> Result<SyntaxNode> {
        map_entries(mapping.syntax())
            .find(|e| entry_key(e).as_deref() == Some(key))
            .ok_or_else(|| self.internal("the new entry is missing"))
    }

    fn internal(&self, what: &str) -> Error {
        Error::project(
            &self.path,
            format!("internal error while editing: {what}"),
            "nothing was written; please report this with the compose file".to_string(),
        )
    }

    /// A new entry as the elements that follow a previous entry ending its line (the new key's
    /// indentation, then the entry), parsed at `column`, detached and editable.
    fn parse_entry_after(
        &self,
        column: usize,
        lines: &[String],
    ) -> Result<Vec<rowan::SyntaxElement<Lang>>> {
        let mut all = vec!["tracectl-previous: 0".to_string()];
        all.extend(lines.iter().cloned());
        let holder = self.parse_holder(column, &all, true)?;
        let elements: Vec<rowan::SyntaxElement<Lang>> = holder
            .children_with_tokens()
            .skip_while(|e| e.kind() != SyntaxKind::MAPPING_ENTRY)
            .skip(1)
            .collect();
        for element in &elements {
            match element {
                rowan::NodeOrToken::Node(n) => n.detach(),
                rowan::NodeOrToken::Token(t) => t.detach(),
            }
        }
        Ok(elements)
    }

    /// One mapping entry parsed from text with its key at `column`, detached and editable.
    fn parse_entry(
        &self,
        column: usize,
        lines: &[String],
        newline_after: bool,
    ) -> Result<SyntaxNode> {
        let holder = self.parse_holder(column, lines, newline_after)?;
        let entry = map_entries(&holder)
            .next()
            .ok_or_else(|| self.internal("the new entry is empty"))?;
        entry.detach();
        Ok(entry)
    }

    /// The block mapping that `lines`, written at `column`, parse into (editable).
    fn parse_holder(
        &self,
        column: usize,
        lines: &[String],
        newline_after: bool,
    ) -> Result<SyntaxNode> {
        let pad = " ".repeat(column);
        let mut text = String::new();
        if column > 0 {
            text.push_str("x:");
            text.push_str(self.newline);
        }
        for (i, line) in lines.iter().enumerate() {
            text.push_str(&pad);
            text.push_str(line);
            if newline_after || i + 1 < lines.len() {
                text.push_str(self.newline);
            }
        }
        let parsed = YamlFile::parse(&text);
        if parsed.has_errors() {
            return Err(self.internal("the new entry does not parse"));
        }
        let root = parsed
            .tree()
            .document()
            .and_then(|d| d.as_mapping())
            .ok_or_else(|| self.internal("the new entry is not a mapping"))?;
        let holder = if column > 0 {
            root.get_mapping("x")
                .ok_or_else(|| self.internal("the new entry is not nested"))?
        } else {
            root
        };
        Ok(holder.syntax().clone())
    }

    /// Add the X-Ray daemon service after service `after` (or, with `force`, put it in place of
    /// an existing one) through the syntax tree, in the file's indentation; returns the render.
    pub fn with_daemon(
        &self,
        after: &str,
        style: EnvStyle,
        force: bool,
    ) -> Result<(String, ServiceOutcome)> {
        self.with_service(recipe::DAEMON_SERVICE, after, force, || {
            let unit = self.unit_below(self.services.syntax());
            self.daemon_lines(style, unit)
        })
    }

    /// Add the collector service after service `after` (or, with `force`, put it in place of
    /// an existing one); returns the render. `honeycomb`: its Honeycomb exporter, if any.
    pub fn with_collector(
        &self,
        after: &str,
        style: EnvStyle,
        honeycomb: Option<&recipe::CollectorHoneycomb>,
        force: bool,
    ) -> Result<(String, ServiceOutcome)> {
        // On the backend's networks: a service on none joins only `default`, which a backend
        // that names its networks may not be on.
        let networks = self.networks(after);
        self.with_service(recipe::COLLECTOR_SERVICE, after, force, || {
            self.collector_lines(style, honeycomb, &networks)
        })
    }

    /// Add service `name` (its entry lines from `lines`) after service `after`, or with
    /// `force` in place of an existing `name`; without `force` an existing one is kept as it is.
    /// The daemon and the collector share this so both refuse the same files the same way.
    fn with_service(
        &self,
        name: &str,
        after: &str,
        force: bool,
        lines: impl FnOnce() -> Vec<String>,
    ) -> Result<(String, ServiceOutcome)> {
        let existing = self.entry(name);
        if existing.is_some() && !force {
            return Ok((self.render(), ServiceOutcome::Kept));
        }
        self.check_services_block(name)?;
        if !self.has_service(after) {
            return Err(self.no_such_service(after));
        }
        let lines = lines();
        let (place, outcome) = match existing {
            Some(entry) => {
                self.refuse_shared(name, None, std::slice::from_ref(&entry))?;
                (Place::Replace(entry), ServiceOutcome::Replaced)
            }
            None => {
                let entry = self
                    .entry(after)
                    .ok_or_else(|| self.no_such_service(after))?;
                (Place::After(entry), ServiceOutcome::Added)
            }
        };
        let entry = self.put_entry(&self.services, name, &lines, place)?;
        self.index.borrow_mut().put(name.to_string(), entry);
        Ok((self.render(), outcome))
    }

    /// Put the collector in the place of service `old` (the daemon), keeping the comment on
    /// its key line; every other byte of the file stays.
    pub fn replace_with_collector(
        &self,
        old: &str,
        style: EnvStyle,
        honeycomb: Option<&recipe::CollectorHoneycomb>,
    ) -> Result<String> {
        let entry = self.entry(old).ok_or_else(|| self.no_such_service(old))?;
        self.check_services_block(recipe::COLLECTOR_SERVICE)?;
        self.refuse_shared(old, None, std::slice::from_ref(&entry))?;
        // The collector takes the daemon's place on its networks, where the services that sent
        // to the daemon can reach it.
        let lines = self.collector_lines(style, honeycomb, &self.networks(old));
        let entry = self.put_entry(
            &self.services,
            recipe::COLLECTOR_SERVICE,
            &lines,
            Place::Replace(entry),
        )?;
        let mut index = self.index.borrow_mut();
        index.remove(old);
        index.put(recipe::COLLECTOR_SERVICE.to_string(), entry);
        Ok(self.render())
    }

    fn check_services_block(&self, name: &str) -> Result<()> {
        if self.services.is_flow_style() {
            return Err(Error::project(
                &self.path,
                format!("cannot place service {name} here: `services` is written in flow style"),
                "add the service by hand, or rewrite `services:` as a block mapping".to_string(),
            ));
        }
        Ok(())
    }

    /// The service another container reaches as `host`: the service of that name, else the one
    /// whose network aliases or `container_name` it is (Compose's DNS answers all three).
    pub fn service_reached_as(&self, host: &str) -> Option<String> {
        if self.has_service(host) {
            return Some(host.to_string());
        }
        self.service_names().into_iter().find(|name| {
            if self.scalar(name, "container_name").as_deref() == Some(host) {
                return true;
            }
            let Some(YamlNode::Mapping(networks)) = self
                .body(name)
                .ok()
                .and_then(|body| self.lookup(&body, "networks"))
                .and_then(|hit| self.deref(hit.value))
            else {
                return false;
            };
            map_entries(networks.syntax()).any(|entry| {
                let Some(YamlNode::Mapping(net)) = entry_value(&entry).and_then(|v| self.deref(v))
                else {
                    return false;
                };
                match self
                    .lookup(net.syntax(), "aliases")
                    .and_then(|a| self.deref(a.value))
                {
                    Some(YamlNode::Sequence(aliases)) => aliases
                        .values()
                        .filter_map(|v| self.deref(v))
                        .any(|v| scalar_text(&v).as_deref() == Some(host)),
                    _ => false,
                }
            })
        })
    }

    /// The networks a service joins by name (`networks:` as a list or a map), as written.
    pub fn networks(&self, name: &str) -> Vec<String> {
        let Some(value) = self
            .body(name)
            .ok()
            .and_then(|body| self.lookup(&body, "networks"))
            .and_then(|hit| self.deref(hit.value))
        else {
            return Vec::new();
        };
        match value {
            YamlNode::Sequence(seq) => seq
                .values()
                .filter_map(|v| self.deref(v))
                .filter_map(|v| scalar_text(&v))
                .collect(),
            YamlNode::Mapping(m) => map_entries(m.syntax())
                .filter_map(|e| entry_key(&e))
                .filter(|k| k != "<<")
                .collect(),
            _ => Vec::new(),
        }
    }

    fn collector_lines(
        &self,
        style: EnvStyle,
        honeycomb: Option<&recipe::CollectorHoneycomb>,
        networks: &[String],
    ) -> Vec<String> {
        let unit = self.unit_below(self.services.syntax());
        let i1 = " ".repeat(unit);
        let i2 = " ".repeat(unit * 2);
        let dash = " ".repeat(unit + self.dash_indent(unit));
        let q = double_quoted;
        let mut lines = vec![format!("{}:", recipe::COLLECTOR_SERVICE)];
        lines.push(format!("{i1}image: {}", q(recipe::COLLECTOR_IMAGE)));
        lines.push(format!("{i1}environment:"));
        for var in recipe::collector_env(honeycomb) {
            lines.push(match style {
                EnvStyle::Map => format!("{i2}{}: {}", var.key, q(&var.value)),
                EnvStyle::List => format!("{dash}- {}", q(&format!("{}={}", var.key, var.value))),
            });
        }
        if !networks.is_empty() {
            lines.push(format!("{i1}networks:"));
            lines.extend(networks.iter().map(|n| format!("{dash}- {}", q(n))));
        }
        lines
    }

    /// Where other services name `target` as a service (`depends_on`, `links`, `volumes_from`,
    /// `network_mode: service:...`): each as (service, key, line). Compose rejects a file whose
    /// services reference one that is gone, so replacing `target` must not leave these behind.
    pub fn references_to(&self, target: &str) -> Vec<(String, &'static str, usize)> {
        let mut found = Vec::new();
        for name in self.service_names() {
            if name == target {
                continue;
            }
            let Ok(body) = self.body(&name) else { continue };
            for key in [
                "depends_on",
                "links",
                "volumes_from",
                "network_mode",
                "ipc",
                "pid",
                "extends",
            ] {
                let Some(hit) = self.lookup(&body, key) else {
                    continue;
                };
                let names = |text: &str| match key {
                    "links" | "volumes_from" => text.split(':').next() == Some(target),
                    "network_mode" | "ipc" | "pid" => text.strip_prefix("service:") == Some(target),
                    _ => text == target,
                };
                let value = self.deref(hit.value.clone()).unwrap_or(hit.value);
                let nodes: Vec<(String, SyntaxNode)> = match &value {
                    // `extends: {service: NAME}` (a `file:` names a service of another file).
                    YamlNode::Mapping(m) if key == "extends" => {
                        match (
                            self.lookup(m.syntax(), "service"),
                            self.lookup(m.syntax(), "file"),
                        ) {
                            (Some(service), None) => scalar_text(&service.value)
                                .map(|t| (t, service.entry))
                                .into_iter()
                                .collect(),
                            _ => Vec::new(),
                        }
                    }
                    YamlNode::Sequence(seq) => seq
                        .values()
                        .filter_map(|v| Some((scalar_text(&self.deref(v.clone())?)?, syntax(&v))))
                        .collect(),
                    YamlNode::Mapping(m) => map_entries(m.syntax())
                        .filter_map(|e| Some((entry_key(&e)?, e)))
                        .collect(),
                    value => scalar_text(value)
                        .map(|t| (t, syntax(value)))
                        .into_iter()
                        .collect(),
                };
                for (text, node) in nodes {
                    if names(text.trim()) {
                        found.push((name.clone(), key, self.line_of(&node)));
                    }
                }
            }
        }
        found
    }

    /// Files whose services this one pulls in, as written with their lines: top-level
    /// `include:` (a path, a list of paths, or entries with `path:`) and services' `extends:`
    /// with a `file:`. tracectl reads none of their services.
    pub fn other_files(&self) -> Vec<(String, usize)> {
        let mut out = Vec::new();
        let mut push = |node: Option<YamlNode>| {
            if let Some(YamlNode::Scalar(sc)) = node {
                out.push((sc.as_string(), self.line_of(sc.syntax())));
            }
        };
        let root = self
            .services
            .syntax()
            .ancestors()
            .skip(1)
            .find(|n| n.kind() == SyntaxKind::MAPPING);
        if let Some(hit) = root.and_then(|r| self.lookup(&r, "include")) {
            let items: Vec<YamlNode> = match self.deref(hit.value) {
                Some(YamlNode::Sequence(seq)) => seq.values().collect(),
                Some(v) => vec![v],
                None => Vec::new(),
            };
            for item in items {
                match self.deref(item) {
                    Some(YamlNode::Mapping(m)) => {
                        match self
                            .lookup(m.syntax(), "path")
                            .and_then(|p| self.deref(p.value))
                        {
                            Some(YamlNode::Sequence(paths)) => {
                                for p in paths.values() {
                                    push(self.deref(p));
                                }
                            }
                            other => push(other),
                        }
                    }
                    other => push(other),
                }
            }
        }
        for name in self.service_names() {
            let Ok(body) = self.body(&name) else { continue };
            if let Some(hit) = self.lookup(&body, "extends")
                && let Some(YamlNode::Mapping(m)) = self.deref(hit.value)
                && let Some(file) = self.lookup(m.syntax(), "file")
            {
                push(self.deref(file.value));
            }
        }
        out
    }

    /// Make every `depends_on` and `links` reference to service `old` name `new`, through the
    /// tree, each scalar keeping its quotes and a link its alias; returns what was renamed as
    /// (service, key, line), lines as they were before. `volumes_from` and `network_mode` are
    /// not renamed: they share the old service's volumes or network, which `new` does not have.
    pub fn rename_references(&self, old: &str, new: &str) -> Vec<(String, &'static str, usize)> {
        let mut renamed = Vec::new();
        for name in self.service_names() {
            if name == old {
                continue;
            }
            let Ok(body) = self.body(&name) else { continue };
            for key in ["depends_on", "links"] {
                let Some(hit) = self.lookup(&body, key) else {
                    continue;
                };
                // Through an alias too: the anchored list or map is renamed where it stands
                // (every service that merges it named the daemon as well).
                let Some(value) = self.deref(hit.value.clone()) else {
                    continue;
                };
                match &value {
                    YamlNode::Sequence(seq) => {
                        for v in seq.values() {
                            // Through a `!!str` tag: the scalar inside is renamed, the tag kept.
                            let Some(YamlNode::Scalar(scalar)) = self.deref(v.clone()) else {
                                continue;
                            };
                            let text = scalar.as_string();
                            let (target, alias) = match text.trim().split_once(':') {
                                Some((t, a)) if key == "links" => (t, Some(a)),
                                _ => (text.trim(), None),
                            };
                            if target != old {
                                continue;
                            }
                            renamed.push((name.clone(), key, self.line_of(&syntax(&v))));
                            // The raw text keeps its quotes: only the name inside changes.
                            let raw = scalar.syntax().text().to_string();
                            let replaced = match alias {
                                Some(a) => {
                                    raw.replacen(&format!("{old}:{a}"), &format!("{new}:{a}"), 1)
                                }
                                None => raw.replacen(old, new, 1),
                            };
                            scalar.set_value(&replaced);
                        }
                    }
                    YamlNode::Mapping(m) if key == "depends_on" => {
                        // The map and every map it merges (`<<: *deps`), each once.
                        let mut maps = vec![m.clone()];
                        let mut i = 0;
                        while i < maps.len() && i < MAX_MERGE_DEPTH {
                            let merges: Vec<SyntaxNode> = map_entries(maps[i].syntax())
                                .filter(|e| entry_key(e).as_deref() == Some("<<"))
                                .collect();
                            for merge in merges {
                                let sources = match entry_value(&merge) {
                                    Some(YamlNode::Sequence(seq)) => seq.values().collect(),
                                    Some(node) => vec![node],
                                    None => Vec::new(),
                                };
                                for source in sources {
                                    if let Some(YamlNode::Mapping(src)) = self.deref(source)
                                        && !maps.iter().any(|m| m.syntax() == src.syntax())
                                    {
                                        maps.push(src);
                                    }
                                }
                            }
                            i += 1;
                        }
                        for m in maps {
                            let entry = map_entries(m.syntax())
                                .find(|e| entry_key(e).is_some_and(|k| k.trim() == old));
                            if let Some(entry) = entry {
                                renamed.push((name.clone(), key, self.line_of(&entry)));
                                m.rename_key(old, new);
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        renamed
    }

    /// Remove variables from the service's own `environment:` (map or list) through the tree,
    /// with their lines; returns the keys removed. A variable the service inherits through a
    /// merge key is not its own to remove: that is refused, naming the line.
    pub fn remove_env(&self, name: &str, keys: &[&str]) -> Result<Vec<String>> {
        let (_, existing) = self.environment(name)?;
        let present: Vec<&str> = keys
            .iter()
            .copied()
            .filter(|k| existing.iter().any(|(e, _)| e == k))
            .collect();
        if present.is_empty() {
            return Ok(Vec::new());
        }
        let body = self.body(name)?;
        let local = map_entries(&body).find(|e| entry_key(e).as_deref() == Some("environment"));
        let doomed: Vec<(String, SyntaxNode)> = match local.as_ref().and_then(entry_value) {
            Some(YamlNode::Mapping(env)) => map_entries(env.syntax())
                .filter_map(|e| entry_key(&e).map(|k| (k, e)))
                .filter(|(k, _)| present.contains(&k.as_str()))
                .collect(),
            Some(YamlNode::Sequence(env)) => env
                .values()
                .filter_map(|v| {
                    let key = scalar_text(&v)?.split('=').next()?.to_string();
                    Some((key, syntax(&v).parent()?))
                })
                .filter(|(k, _)| present.contains(&k.as_str()))
                .collect(),
            _ => Vec::new(),
        };
        if let Some(missing) = present
            .iter()
            .find(|k| !doomed.iter().any(|(d, _)| d == *k))
        {
            return Err(Error::project(
                &self.path,
                format!(
                    "service '{name}' inherits {missing} through a merge key (line {}); tracectl only removes variables written in the service itself",
                    self.line_in_service(name, missing).unwrap_or(0)
                ),
                format!("remove {missing} from the shared block by hand, then run tracectl again"),
            ));
        }
        let nodes: Vec<SyntaxNode> = doomed.iter().map(|(_, n)| n.clone()).collect();
        self.refuse_shared(name, None, &nodes)?;
        for node in nodes.iter().rev() {
            remove_line(node);
        }
        Ok(doomed.into_iter().map(|(k, _)| k).collect())
    }

    /// The extra indent of a block sequence's dashes under its key, read off the file (0 or
    /// the nesting unit are both common).
    fn dash_indent(&self, unit: usize) -> usize {
        let indent_of = |line: &str| line.len() - line.trim_start_matches(' ').len();
        let mut previous: Option<&str> = None;
        for line in self.text.lines() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            if let Some(p) = previous
                && p.trim_end().ends_with(':')
                && line.trim_start().starts_with("- ")
            {
                return indent_of(line).saturating_sub(indent_of(p));
            }
            previous = Some(line);
        }
        unit
    }

    fn daemon_lines(&self, style: EnvStyle, unit: usize) -> Vec<String> {
        let i1 = " ".repeat(unit);
        let i2 = " ".repeat(unit * 2);
        let dash = " ".repeat(unit + self.dash_indent(unit));
        let q = double_quoted;
        let mut lines = vec![format!("{}:", recipe::DAEMON_SERVICE)];
        lines.push(format!("{i1}image: {}", q(recipe::DAEMON_IMAGE)));
        lines.push(format!("{i1}environment:"));
        for var in recipe::daemon_env() {
            lines.push(match style {
                EnvStyle::Map => format!("{i2}{}: {}", var.key, q(&var.value)),
                EnvStyle::List => format!("{dash}- {}", q(&format!("{}={}", var.key, var.value))),
            });
        }
        lines.push(format!("{i1}command:"));
        for arg in recipe::DAEMON_COMMAND {
            lines.push(format!("{dash}- {}", q(arg)));
        }
        lines.push(format!("{i1}ports:"));
        for port in recipe::DAEMON_PORTS {
            lines.push(format!("{dash}- {}", q(port)));
        }
        lines
    }

    /// The command of an existing daemon service when it is one string: the image's entrypoint
    /// then receives it as a single argument it does not understand.
    pub fn daemon_single_string_command(&self) -> Option<String> {
        let body = self.body(recipe::DAEMON_SERVICE).ok()?;
        match self.lookup(&body, "command")?.value {
            YamlNode::Scalar(s) if s.as_string().contains(' ') => Some(s.as_string()),
            YamlNode::Sequence(seq) if seq.len() == 1 => seq
                .first()
                .as_ref()
                .and_then(scalar_text)
                .filter(|c| c.contains(' ')),
            _ => None,
        }
    }

    /// The text as read from disk.
    pub fn source(&self) -> &str {
        &self.text
    }

    /// The 1-based line of key `needle` in service `service` (merged keys included), else of
    /// the variable `needle` in its environment, else of the service's key.
    pub fn line_in_service(&self, service: &str, needle: &str) -> Option<usize> {
        let key_line = self.service_line(service)?;
        if needle == service {
            return Some(key_line);
        }
        let Ok(body) = self.body(service) else {
            return Some(key_line);
        };
        if let Some(found) = self.lookup(&body, needle) {
            return Some(self.line_of(&found.entry));
        }
        let line = self
            .lookup(&body, "environment")
            .and_then(|env| match &env.value {
                YamlNode::Mapping(m) => self
                    .lookup(m.syntax(), needle)
                    .map(|f| self.line_of(&f.entry)),
                // A variable listed twice takes its last value, as Compose does: point there.
                YamlNode::Sequence(s) => s
                    .values()
                    .filter(|v| {
                        scalar_text(v).is_some_and(|t| {
                            t == needle
                                || t.strip_prefix(needle).is_some_and(|r| r.starts_with('='))
                        })
                    })
                    .last()
                    .map(|v| self.line_of(&syntax(&v))),
                _ => None,
            });
        Some(line.unwrap_or(key_line))
    }

    /// The published ports of a service, as written.
    pub fn ports(&self, name: &str) -> Vec<String> {
        self.port_entries(name)
            .into_iter()
            .map(|(p, _)| p)
            .collect()
    }

    /// The service's `ports:` as short-syntax specs with the line of each entry: a long-syntax
    /// entry (`target:`, `published:`, `host_ip:`, `protocol:`) is written as the short spec
    /// Compose reads it as (`127.0.0.1:14318:4318/tcp`); values are not interpolated.
    pub fn port_entries(&self, name: &str) -> Vec<(String, usize)> {
        let Ok(body) = self.body(name) else {
            return Vec::new();
        };
        let Some(YamlNode::Sequence(seq)) = self.lookup(&body, "ports").map(|f| f.value) else {
            return Vec::new();
        };
        seq.values()
            .filter_map(|v| {
                let line = self.line_of(&syntax(&v));
                match self.deref(v)? {
                    YamlNode::Mapping(m) => {
                        let field = |key: &str| {
                            self.lookup(m.syntax(), key)
                                .and_then(|f| scalar_text(&f.value))
                                .filter(|t| !t.is_empty())
                        };
                        let target = field("target")?;
                        let mut spec = match field("published") {
                            Some(published) => match field("host_ip") {
                                Some(ip) if ip.contains(':') && !ip.starts_with('[') => {
                                    format!("[{ip}]:{published}:{target}")
                                }
                                Some(ip) => format!("{ip}:{published}:{target}"),
                                None => format!("{published}:{target}"),
                            },
                            None => target,
                        };
                        if let Some(protocol) = field("protocol") {
                            spec = format!("{spec}/{protocol}");
                        }
                        Some((spec, line))
                    }
                    other => scalar_text(&other).map(|t| (t, line)),
                }
            })
            .collect()
    }

    /// A `build:` option of a service written as a mapping (`dockerfile`, `target`), merged keys
    /// included.
    pub fn build_option(&self, name: &str, option: &str) -> Option<String> {
        let body = self.body(name).ok()?;
        match self.lookup(&body, "build")?.value {
            YamlNode::Mapping(m) => scalar_text(&self.lookup(m.syntax(), option)?.value),
            _ => None,
        }
    }

    /// A service's `command:` or `entrypoint:` as written (merged keys included); `None` when
    /// absent or null. A value that is neither a string nor a list of strings is refused.
    pub fn command(&self, name: &str, key: &'static str) -> Result<Option<ComposeCommand>> {
        let body = self.body(name)?;
        let Some(found) = self.lookup(&body, key) else {
            return Ok(None);
        };
        let line = self.line_of(&found.entry);
        let wrong = || {
            Error::parse(
                &self.path,
                line,
                1,
                format!("`{key}` of service '{name}' must be a string or a list of strings"),
            )
        };
        let value = match &found.value {
            v if is_null(v) => return Ok(None),
            YamlNode::Scalar(s) => CommandValue::String(s.as_string()),
            YamlNode::TaggedNode(_) => return Err(wrong()),
            YamlNode::Sequence(seq) => CommandValue::List(
                seq.values()
                    .map(|v| {
                        self.deref(v)
                            .as_ref()
                            .and_then(scalar_text)
                            .ok_or_else(wrong)
                    })
                    .collect::<Result<_>>()?,
            ),
            _ => return Err(wrong()),
        };
        let multiline = syntax(&found.value)
            .text()
            .to_string()
            .trim()
            .contains('\n');
        Ok(Some(ComposeCommand {
            key,
            value,
            line,
            inherited: found.via,
            multiline,
        }))
    }

    /// Write a service's `command:`/`entrypoint:` through the tree. A string keeps its quoting; a
    /// list gains the `inserts` (index in the old list, item), each item quoted like the items
    /// there. A value the service inherits through `<<` gets a local entry instead, so the shared
    /// block (and every other service using it) is left alone.
    pub fn set_command(&self, name: &str, key: &str, edit: &CommandEdit) -> Result<()> {
        let body = self.body(name)?;
        let body_map = Mapping::cast(body.clone()).expect("a service body is a mapping");
        let local = map_entries(&body).find(|e| entry_key(e).as_deref() == Some(key));
        let value = local.as_ref().and_then(entry_value);
        match (&local, value, edit) {
            (Some(entry), Some(YamlNode::Scalar(s)), CommandEdit::String(new)) => {
                self.refuse_shared(name, None, std::slice::from_ref(entry))?;
                let quoting = quoting_in_use(std::iter::once(s.value().trim()), Quoting::Double);
                // A multi-line or block scalar is rewritten as one quoted line.
                let quoting = if s.value().trim_start().starts_with(['|', '>']) {
                    Quoting::Double
                } else {
                    quoting
                };
                body_map.set(key, quoted(new, quoting));
            }
            (Some(entry), Some(YamlNode::Sequence(seq)), CommandEdit::List { inserts, .. }) => {
                self.refuse_shared(name, Some(seq.syntax()), std::slice::from_ref(entry))?;
                let raw: Vec<String> = seq
                    .values()
                    .filter_map(|v| v.as_scalar().map(|s| s.value()))
                    .collect();
                let quoting = quoting_in_use(raw.iter().map(|r| r.trim()), Quoting::Double);
                // Later indexes first, so the earlier ones still point where they did.
                let mut inserts = inserts.clone();
                inserts.sort_by_key(|b| std::cmp::Reverse(b.0));
                for (at, item) in inserts {
                    seq.insert(at, quoted(&item, quoting));
                }
            }
            _ => {
                let line = match edit {
                    CommandEdit::String(new) => format!("{key}: {}", double_quoted(new)),
                    CommandEdit::List { all, .. } => format!(
                        "{key}: [{}]",
                        all.iter()
                            .map(|i| double_quoted(i))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                self.refuse_shared(name, Some(&body), local.as_slice())?;
                let place = match local {
                    Some(entry) => Place::Replace(entry),
                    None => Place::End,
                };
                self.put_entry(&body_map, key, &[line], place)?;
            }
        }
        Ok(())
    }

    /// The document as it stands: the text read plus every edit made through the tree.
    pub fn render(&self) -> String {
        // From the green tree: walking the editable nodes costs far more.
        self.file.syntax().green().to_string()
    }
}

/// Detach an entry with the indentation before it on its line, so that no blank line is left.
/// Element by element: a ranged splice that only deletes detaches while it counts, and skips.
fn remove_line(node: &SyntaxNode) {
    let indent = node
        .prev_sibling_or_token()
        .and_then(|p| p.into_token())
        .filter(|t| t.text().chars().all(|c| c == ' '));
    let newline = node
        .next_sibling_or_token()
        .and_then(|n| n.into_token())
        .filter(|t| t.text().trim_matches(' ') == "\n")
        .filter(|_| !node.green().to_string().ends_with('\n'));
    // The first entry's indent sits before the block, outside this node: the next entry's
    // indent goes instead, so the line that moves up keeps exactly one indent.
    let next_indent = node
        .next_sibling_or_token()
        .filter(|_| indent.is_none() && node.prev_sibling_or_token().is_none())
        .and_then(|t| t.into_token())
        .filter(|t| !t.text().is_empty() && t.text().chars().all(|c| c == ' '));
    node.detach();
    for token in [indent, newline, next_indent].into_iter().flatten() {
        token.detach();
    }
}

fn decide(current: Option<Option<String>>, wanted: &str, force: bool) -> EnvOutcome {
    match current {
        None => EnvOutcome::Added,
        Some(Some(v)) if v == wanted => EnvOutcome::Unchanged,
        Some(v) if force => EnvOutcome::Replaced {
            previous: v.unwrap_or_default(),
        },
        Some(v) => EnvOutcome::Kept {
            existing: v.unwrap_or_default(),
            proposed: wanted.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Compose {
        Compose::parse(Path::new("c.yml"), text.to_string()).unwrap()
    }

    #[test]
    fn removed_variables_take_their_lines_and_nothing_else() {
        let map = "services:\n  api:\n    environment:\n      A: \"1\"\n      AWS_XRAY_URL: \"*\"  # naming\n      B: 2\n      AWS_XRAY_DAEMON_ADDRESS: \"xray-daemon:2000\"\n    build: ./api\n  db:\n    image: x\n";
        let c = parse(map);
        let removed = c
            .remove_env("api", &["AWS_XRAY_URL", "AWS_XRAY_DAEMON_ADDRESS", "NOPE"])
            .unwrap();
        assert_eq!(removed, ["AWS_XRAY_URL", "AWS_XRAY_DAEMON_ADDRESS"]);
        assert_eq!(
            c.render(),
            "services:\n  api:\n    environment:\n      A: \"1\"\n      B: 2\n    build: ./api\n  db:\n    image: x\n"
        );
        let list = "services:\n  api:\n    environment:\n      - A=1\n      - AWS_XRAY_URL=*   # naming\n      - AWS_XRAY_DAEMON_ADDRESS=xray-daemon:2000\n    ports:\n      - 80:80\n";
        let c = parse(list);
        c.remove_env("api", &["AWS_XRAY_URL", "AWS_XRAY_DAEMON_ADDRESS"])
            .unwrap();
        assert_eq!(
            c.render(),
            "services:\n  api:\n    environment:\n      - A=1\n    ports:\n      - 80:80\n"
        );
        parse(&c.render());
    }

    /// Adds `vars` to the `api` service's environment; the document then renders as `expected`,
    /// and adding them again changes nothing.
    #[track_caller]
    fn set_env_renders(c: &Compose, vars: &[EnvVar], expected: &str) {
        c.set_env("api", vars, false).unwrap();
        assert_eq!(c.render(), expected);
        c.set_env("api", vars, false).unwrap();
        assert_eq!(c.render(), expected, "a second run is a no-op");
    }

    fn var(key: &str, value: &str) -> EnvVar {
        EnvVar {
            key: key.into(),
            value: value.into(),
        }
    }

    #[test]
    fn plain_scalars_only_when_they_read_back_the_same() {
        for safe in [
            "https://api.honeycomb.io",
            "x-honeycomb-team=${HONEYCOMB_API_KEY}",
            "xray-daemon:2000",
            "${AWS_REGION}",
        ] {
            assert!(plain_is_safe(safe), "{safe}");
        }
        for unsafe_ in [
            "*4567*", "true", "no", "a: b", "a #b", "'q'", "", "-o", "1234", "x:",
        ] {
            assert!(!plain_is_safe(unsafe_), "{unsafe_}");
        }
    }

    #[test]
    fn map_env_keeps_quoting_and_reports_conflicts() {
        let c = parse(
            "services:\n  api:\n    environment:\n      A: 'one'   # note\n      OTEL_SERVICE_NAME: mine\n",
        );
        let outcomes = c
            .set_env(
                "api",
                &[
                    var("B", "two"),
                    var("OTEL_SERVICE_NAME", "${X}"),
                    var("A", "one"),
                ],
                false,
            )
            .unwrap();
        assert_eq!(outcomes[0], EnvOutcome::Added);
        assert_eq!(
            outcomes[1],
            EnvOutcome::Kept {
                existing: "mine".into(),
                proposed: "${X}".into()
            }
        );
        assert_eq!(outcomes[2], EnvOutcome::Unchanged);
        assert_eq!(
            c.render(),
            "services:\n  api:\n    environment:\n      A: 'one'   # note\n      OTEL_SERVICE_NAME: mine\n      B: 'two'\n"
        );
    }

    #[test]
    fn list_env_is_extended_in_list_style_and_forced_values_replace() {
        let c = parse(
            "services:\n  api:\n    environment:\n      - A=1\n      - OTEL_SERVICE_NAME=old\n",
        );
        let outcomes = c
            .set_env(
                "api",
                &[var("OTEL_SERVICE_NAME", "new"), var("AWS_XRAY_URL", "*")],
                true,
            )
            .unwrap();
        assert_eq!(
            outcomes[0],
            EnvOutcome::Replaced {
                previous: "old".into()
            }
        );
        assert_eq!(
            c.render(),
            "services:\n  api:\n    environment:\n      - A=1\n      - OTEL_SERVICE_NAME=new\n      - \"AWS_XRAY_URL=*\"\n"
        );
    }

    fn parse_err(text: &str) -> String {
        match Compose::parse(Path::new("c.yml"), text.to_string()) {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(e) => e.to_string(),
        }
    }

    /// The keys of a service's mapping, read back by a fresh parse of `text`.
    fn keys_of(text: &str, service: &str) -> Vec<String> {
        let c = parse(text);
        let body = c.body(service).unwrap();
        map_entries(&body).filter_map(|e| entry_key(&e)).collect()
    }

    #[test]
    fn an_aliased_map_environment_is_merged_not_replaced() {
        let c = parse("x-env: &env\n  A: 1\nservices:\n  api:\n    environment: *env\n");
        let (style, vars) = c.environment("api").unwrap();
        assert_eq!(style, Some(EnvStyle::Map));
        assert_eq!(vars, vec![("A".to_string(), Some("1".to_string()))]);
        set_env_renders(
            &c,
            &[var("B", "2")],
            "x-env: &env\n  A: 1\nservices:\n  api:\n    environment:\n      <<: *env\n      B: \"2\"\n",
        );
    }

    #[test]
    fn a_comment_on_an_aliased_environment_stays_on_its_line() {
        let c = parse(
            "x-env: &env\n  A: 1\nservices:\n  api:\n    environment: *env  # shared\n# end\n",
        );
        set_env_renders(
            &c,
            &[var("B", "2")],
            "x-env: &env\n  A: 1\nservices:\n  api:\n    environment:  # shared\n      <<: *env\n      B: \"2\"\n# end\n",
        );
    }

    #[test]
    fn an_aliased_list_environment_is_refused_naming_the_anchor() {
        let c = parse("x-env: &env\n  - A=1\nservices:\n  api:\n    environment: *env\n");
        let err = c.set_env("api", &[var("B", "2")], false).unwrap_err();
        assert!(err.to_string().starts_with("c.yml:5:"), "{err}");
        assert!(err.to_string().contains("*env"), "{err}");
    }

    #[test]
    fn a_column_zero_comment_does_not_end_the_service() {
        let text = "services:\n  api:\n    build: ./api\n#    image: old\n    ports:\n      - \"80:80\"\n    volumes:\n      - ./a:/a\n  db:\n    image: b\n";
        let c = parse(text);
        let (out, outcome) = c.with_daemon("api", EnvStyle::Map, false).unwrap();
        assert_eq!(outcome, ServiceOutcome::Added);
        assert!(
            out.starts_with(
                "services:\n  api:\n    build: ./api\n#    image: old\n    ports:\n      - \"80:80\"\n    volumes:\n      - ./a:/a\n  xray-daemon:\n    image: \"amazon/aws-xray-daemon\"\n"
            ),
            "{out}"
        );
        assert!(out.ends_with("  db:\n    image: b\n"), "{out}");
        assert_eq!(keys_of(&out, "api"), ["build", "ports", "volumes"]);
        assert_eq!(
            keys_of(&out, "xray-daemon"),
            ["image", "environment", "command", "ports"]
        );
    }

    #[test]
    fn the_daemon_keeps_crlf_and_a_four_space_indent() {
        let text = "services:\r\n    api:\r\n        environment:\r\n            - A=1\r\n";
        let c = parse(text);
        let (out, _) = c.with_daemon("api", EnvStyle::List, false).unwrap();
        assert!(out.starts_with(text), "{out}");
        assert!(!out.replace("\r\n", "").contains('\n'), "{out:?}");
        assert!(
            out.contains("\r\n    xray-daemon:\r\n        image: \"amazon/aws-xray-daemon\"\r\n        environment:\r\n            - \"AWS_"),
            "{out:?}"
        );
    }

    #[test]
    fn forcing_the_daemon_replaces_its_entry_in_place() {
        let text = "services:\n  api:\n    image: a\n  xray-daemon:\n    image: old\n    command: \"-o -n x\"\n  db:\n    image: b\n";
        let c = parse(text);
        assert_eq!(c.daemon_single_string_command().as_deref(), Some("-o -n x"));
        let (out, outcome) = c.with_daemon("api", EnvStyle::Map, true).unwrap();
        assert_eq!(outcome, ServiceOutcome::Replaced);
        assert!(!out.contains("old"), "{out}");
        assert!(out.ends_with("  db:\n    image: b\n"), "{out}");
        let again = parse(&out);
        assert!(again.daemon_single_string_command().is_none());
        assert_eq!(again.service_names(), ["api", "xray-daemon", "db"]);
    }

    #[test]
    fn long_syntax_ports_read_as_their_short_spec() {
        let text = "x-p: &p\n  target: 4318\n  published: \"${P:-14318}\"\nservices:\n  c:\n    image: x\n    ports:\n      - target: 4318\n        published: \"14318\"\n        host_ip: 127.0.0.1\n        protocol: TCP\n      - {target: 4317, published: 14317, host_ip: \"::1\"}\n      - target: 9\n      - *p\n      - \"1:2/udp\"\n      - {published: 3}\n";
        let c = parse(text);
        assert_eq!(
            c.port_entries("c"),
            [
                ("127.0.0.1:14318:4318/TCP".to_string(), 8),
                ("[::1]:14317:4317".to_string(), 12),
                ("9".to_string(), 13),
                ("${P:-14318}:4318".to_string(), 14),
                ("1:2/udp".to_string(), 15),
            ]
        );
    }

    #[test]
    fn merged_build_and_environment_are_seen() {
        let text = "x-base: &base\n  build: ./api\n  environment: &base-env\n    A: \"1\"\n  env_file: common.env\nx-more: &more\n  ports:\n    - \"80:80\"\nservices:\n  api:\n    <<: [*base, *more]\n    image: x\n";
        let c = parse(text);
        assert_eq!(c.build_context("api").as_deref(), Some("./api"));
        assert_eq!(c.ports("api"), ["80:80"]);
        assert_eq!(c.port_entries("api"), [("80:80".to_string(), 8)]);
        let (style, vars) = c.environment("api").unwrap();
        assert_eq!(style, Some(EnvStyle::Map));
        assert_eq!(vars, vec![("A".to_string(), Some("1".to_string()))]);
        assert_eq!(c.line_in_service("api", "A"), Some(4));
        let files = c.env_files("api").unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].path, Path::new("common.env"));
        c.set_env("api", &[var("A", "1"), var("B", "two")], false)
            .unwrap();
        assert!(
            c.render().ends_with(
                "    <<: [*base, *more]\n    image: x\n    environment:\n      <<: *base-env\n      B: \"two\"\n"
            ),
            "{}",
            c.render()
        );
        let again = parse(&c.render());
        let (_, vars) = again.environment("api").unwrap();
        let keys: Vec<&str> = vars.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["B", "A"]);
    }

    #[test]
    fn an_inherited_environment_without_an_anchor_is_refused() {
        let text =
            "x-base: &base\n  environment:\n    A: \"1\"\nservices:\n  api:\n    <<: *base\n";
        let c = parse(text);
        let err = c.set_env("api", &[var("B", "2")], false).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("<<: *base"), "{message}");
        assert!(message.contains("line 2"), "{message}");
        assert!(err.hint().unwrap().contains("&base-env"));
        assert_eq!(c.render(), text);
    }

    #[test]
    fn a_local_environment_wins_over_an_inherited_one() {
        let text = "x-base: &base\n  environment:\n    A: \"1\"\nservices:\n  api:\n    <<: *base\n    environment:\n      C: \"3\"\n";
        let c = parse(text);
        let (_, vars) = c.environment("api").unwrap();
        assert_eq!(vars, vec![("C".to_string(), Some("3".to_string()))]);
    }

    #[test]
    fn a_new_environment_follows_the_files_indentation() {
        let c = parse(
            "services:\n    api:\n        image: a\n        deploy:\n            replicas: 1\n",
        );
        set_env_renders(
            &c,
            &[var("A", "x")],
            "services:\n    api:\n        image: a\n        deploy:\n            replicas: 1\n        environment:\n            A: \"x\"\n",
        );
    }

    #[test]
    fn stream_level_comments_and_directives_are_accepted() {
        for text in [
            "# my project\n---\nservices:\n  api:\n    image: a\n",
            "%YAML 1.2\n---\nservices:\n  api:\n    image: a\n",
            "\u{feff}services:\n  api:\n    image: a\n",
        ] {
            let c = parse(text);
            assert!(c.has_service("api"), "{text}");
            let (out, _) = c.with_daemon("api", EnvStyle::Map, false).unwrap();
            assert!(out.starts_with(text), "{out}");
        }
    }

    #[test]
    fn a_second_document_is_refused_naming_its_line() {
        let err = parse_err("services:\n  api:\n    image: a\n---\nservices: {}\n");
        assert!(
            err.starts_with("c.yml:4:1: a second YAML document"),
            "{err}"
        );
    }

    #[test]
    fn duplicate_keys_are_refused_naming_both_lines() {
        for (text, line, first) in [
            (
                "services:\n  api:\n    image: a\n  api:\n    image: b\n",
                4,
                2,
            ),
            ("services:\n  api:\n    image: a\n    image: b\n", 4, 3),
            (
                "services:\n  api:\n    environment:\n      A: 1\n      A: 2\n",
                5,
                4,
            ),
            ("services:\n  api:\n    image: a\nservices: {}\n", 4, 1),
        ] {
            let err = parse_err(text);
            assert!(err.starts_with(&format!("c.yml:{line}:")), "{err}");
            assert!(err.contains(&format!("first at line {first}")), "{err}");
        }
    }

    #[test]
    fn tab_indentation_is_refused_naming_the_line() {
        let err = parse_err("services:\n  api:\n\timage: a\n");
        assert!(err.starts_with("c.yml:3:1: "), "{err}");
        assert!(err.contains("tab"), "{err}");
        // Tabs inside a block scalar, after a value or in a comment are fine.
        parse(
            "services:\n  api:\n    image: a\t# x\n\t# note\n    command: |\n      a\n      \tb\n",
        );
    }

    #[test]
    fn parse_errors_name_the_line_in_plain_words() {
        let err = parse_err("services:\n  api:\n    image: \"a\n");
        assert!(err.starts_with("c.yml:3:"), "{err}");
        for internal in ["from_str", "Document", "YamlError", "rowan"] {
            assert!(!err.contains(internal), "{err}");
        }
    }

    #[test]
    fn env_files_in_every_form() {
        let c = parse(
            "services:\n  a:\n    env_file: a.env\n  b:\n    env_file:\n      - b.env\n      - path: ./opt.env\n        required: false\n  c:\n    image: x\n  d:\n    env_file: [{required: true}]\n",
        );
        let a = c.env_files("a").unwrap();
        assert_eq!(
            a,
            vec![EnvFile {
                path: "a.env".into(),
                required: true,
                line: 3
            }]
        );
        let b = c.env_files("b").unwrap();
        assert_eq!(b.len(), 2);
        assert_eq!(
            (b[0].path.as_path(), b[0].required, b[0].line),
            (Path::new("b.env"), true, 6)
        );
        assert_eq!(
            (b[1].path.as_path(), b[1].required, b[1].line),
            (Path::new("./opt.env"), false, 7)
        );
        assert!(c.env_files("c").unwrap().is_empty());
        let err = c.env_files("d").unwrap_err().to_string();
        assert!(err.starts_with("c.yml:12:"), "{err}");
    }

    #[test]
    fn a_file_without_a_final_newline_takes_the_daemon_and_an_environment() {
        let c = parse("services:\n  api:\n    image: a");
        c.set_env("api", &[var("A", "1")], false).unwrap();
        let (out, _) = c.with_daemon("api", EnvStyle::Map, false).unwrap();
        assert!(
            out.starts_with("services:\n  api:\n    image: a\n    environment:\n      A: \"1\"\n  xray-daemon:\n"),
            "{out}"
        );
        assert_eq!(keys_of(&out, "api"), ["image", "environment"]);
        assert_eq!(
            keys_of(&out, "xray-daemon"),
            ["image", "environment", "command", "ports"]
        );
    }

    #[test]
    fn a_flow_style_backend_takes_variables_and_the_daemon_follows_it() {
        let c = parse(
            "services:\n    api: {build: ./api, environment: {A: \"1\"}}\n    db:\n        image: b\n",
        );
        c.set_env("api", &[var("B", "2")], false).unwrap();
        let (out, _) = c.with_daemon("api", EnvStyle::Map, false).unwrap();
        assert!(
            out.starts_with("services:\n    api: {build: ./api, environment: {A: \"1\", B: \"2\"}}\n    xray-daemon:\n        image: "),
            "{out}"
        );
        assert_eq!(keys_of(&out, "db"), ["image"]);
        let err = parse("services:\n  api: {build: ./api}\n")
            .set_env("api", &[var("B", "2")], false)
            .unwrap_err();
        assert!(err.to_string().contains("flow style"), "{err}");
        assert!(
            err.to_string()
                .starts_with("c.yml: cannot add `environment` at line 2"),
            "{err}"
        );
    }

    #[test]
    fn merges_that_repeat_anchors_at_every_level_stay_cheap() {
        let mut text = String::from("x-0: &a0\n  A: \"1\"\n");
        for level in 1..=14 {
            let sources = vec![format!("*a{}", level - 1); 10].join(", ");
            text.push_str(&format!("x-{level}: &a{level}\n  <<: [{sources}]\n"));
        }
        text.push_str("services:\n  api:\n    <<: *a14\n    image: x\n");
        let started = std::time::Instant::now();
        let c = parse(&text);
        assert!(c.build_context("api").is_none());
        let (_, vars) = c.environment("api").unwrap();
        assert!(vars.is_empty());
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn a_variable_listed_twice_is_found_where_its_last_value_is() {
        let c = parse(
            "services:\n  api:\n    image: a\n    environment:\n      - P=http\n      - Q=1\n      - P=grpc\n",
        );
        assert_eq!(c.line_in_service("api", "P"), Some(7));
        assert_eq!(c.line_in_service("api", "Q"), Some(6));
    }

    #[test]
    fn quoted_and_plain_keys_are_the_same_key() {
        let err = parse_err("services:\n  api:\n    image: a\n  \"api\":\n    image: b\n");
        assert!(err.contains("first at line 2"), "{err}");
        let c = parse("services:\n  'api':\n    image: a\n");
        assert!(c.has_service("api"));
    }

    #[test]
    fn lookups_stay_fast_on_thousands_of_services() {
        let mut text = String::from("services:\n");
        for i in 0..8000 {
            text.push_str(&format!(
                "  s{i}:\n    build: ./s{i}\n    environment:\n      A: \"{i}\"\n"
            ));
        }
        let started = std::time::Instant::now();
        let c = parse(&text);
        for name in c.service_names() {
            assert!(c.build_context(&name).is_some());
        }
        for name in c.service_names() {
            c.line_in_service(&name, "A");
        }
        c.set_env("s7999", &[var("B", "1")], false).unwrap();
        c.with_daemon("s4000", EnvStyle::Map, false).unwrap();
        // Quadratic work takes tens of seconds here even in a release build, minutes in a debug
        // one; linear work takes a few seconds in a debug build beside a loaded test run.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn daemon_goes_after_the_backend_in_the_files_indentation() {
        let c = parse(
            "services:\n    api:\n        image: a\n\n    # the database\n    db:\n        image: b\n",
        );
        let (text, outcome) = c.with_daemon("api", EnvStyle::Map, false).unwrap();
        assert_eq!(outcome, ServiceOutcome::Added);
        let expected_start = "services:\n    api:\n        image: a\n    xray-daemon:\n        image: \"amazon/aws-xray-daemon\"\n        environment:\n            AWS_ACCESS_KEY_ID:";
        assert!(text.starts_with(expected_start), "{text}");
        assert!(
            text.ends_with(
                "            - \"2000:2000/udp\"\n\n    # the database\n    db:\n        image: b\n"
            ),
            "{text}"
        );
        assert!(
            Compose::parse(Path::new("c.yml"), text)
                .unwrap()
                .has_service("xray-daemon")
        );
    }

    #[test]
    fn a_collection_with_its_own_core_tag_is_that_collection() {
        let c = parse(
            "services:\n  api:\n    environment: !!map\n      A: \"1\"\n  w:\n    environment: !!seq\n      - B=2\n",
        );
        assert_eq!(
            c.environment("w").unwrap().1,
            [("B".to_string(), Some("2".to_string()))]
        );
        set_env_renders(
            &c,
            &[var("C", "3")],
            "services:\n  api:\n    environment: !!map\n      A: \"1\"\n      C: \"3\"\n  w:\n    environment: !!seq\n      - B=2\n",
        );
    }

    #[test]
    fn lines_stay_those_of_the_file_as_read_after_an_edit() {
        let text = "services:\n  api:\n    image: a\n  xray-daemon: &d\n    image: x\n  web:\n    <<: *d\n";
        let c = parse(text);
        c.set_env("api", &[var("A", "1"), var("B", "2")], false)
            .unwrap();
        assert_eq!(c.service_line("web"), Some(6));
        assert_eq!(c.line_in_service("web", "image"), Some(5));
        let err = c.with_daemon("api", EnvStyle::Map, true).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("c.yml:4:16: `&d` is shared with line 7"),
            "{err}"
        );
    }

    #[test]
    fn an_edit_that_an_alias_elsewhere_would_see_is_refused() {
        for (text, force, at) in [
            (
                "services:\n  api:\n    environment: &e\n      A: 1\n  w:\n    environment: *e\n",
                false,
                "c.yml:3:18:",
            ),
            (
                "services:\n  api: &s\n    image: a\n  w:\n    <<: *s\n",
                false,
                "c.yml:2:8:",
            ),
            (
                "services:\n  api:\n    environment:\n      B: &v old\n  w:\n    environment:\n      B: *v\n",
                true,
                "c.yml:4:10:",
            ),
        ] {
            let c = parse(text);
            let err = c.set_env("api", &[var("B", "new")], force).unwrap_err();
            assert!(err.to_string().starts_with(at), "{err}");
            assert_eq!(c.render(), text);
        }
        // The backend's own alias is not sharing.
        let c = parse("x: &s\n  image: a\nservices:\n  api: *s\n");
        c.set_env("api", &[var("B", "new")], false).unwrap();
    }

    #[test]
    fn flow_style_services_cannot_take_the_daemon() {
        let c = parse("services: {api: {image: a}}\n");
        let err = c.with_daemon("api", EnvStyle::Map, false).unwrap_err();
        assert!(err.to_string().contains("flow style"), "{err}");
    }
}

#[cfg(test)]
mod removal_edges {
    use super::*;

    fn removed(text: &str, keys: &[&str]) -> String {
        let c = Compose::parse(Path::new("c.yml"), text.to_string()).unwrap();
        c.remove_env("api", keys).unwrap();
        c.render()
    }

    #[test]
    fn the_first_or_only_variable_takes_its_line_and_indent() {
        assert_eq!(
            removed(
                "services:\n  api:\n    environment:\n      X: \"1\"\n      A: b\n    build: .\n",
                &["X"]
            ),
            "services:\n  api:\n    environment:\n      A: b\n    build: .\n"
        );
        assert_eq!(
            removed(
                "services:\n  api:\n    environment:\n      - X=1\n      - A=b\n    build: .\n",
                &["X"]
            ),
            "services:\n  api:\n    environment:\n      - A=b\n    build: .\n"
        );
    }

    #[test]
    fn crlf_lines_go_whole() {
        let crlf = |s: &str| s.replace('\n', "\r\n");
        assert_eq!(
            removed(
                &crlf(
                    "services:\n  api:\n    environment:\n      A: b\n      X: \"1\"\n      C: d\n    build: .\n"
                ),
                &["X"]
            ),
            crlf("services:\n  api:\n    environment:\n      A: b\n      C: d\n    build: .\n")
        );
        assert_eq!(
            removed(
                &crlf(
                    "services:\n  api:\n    environment:\n      X: \"1\"\n      C: d\n    build: .\n"
                ),
                &["X"]
            ),
            crlf("services:\n  api:\n    environment:\n      C: d\n    build: .\n")
        );
    }
}
