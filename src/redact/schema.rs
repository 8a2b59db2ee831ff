//! The MCP schema as redaction reads it (2025-11-25 and 2026-07-28): which members of a message
//! are the protocol's and which carry data. Protocol members (versions, capabilities, server
//! info, content `type`/`mimeType`, roles, levels, tokens, cursors, task ids, list entries'
//! names and schemas…) are held out of the field rules and put back as they came; what in them
//! is free text (a description, a title, a status message) still gets the detectors, so a
//! hostile server cannot hide PHI there. Payload — tool results, resource contents, prompt
//! messages, completion values, log and progress messages, error messages and data — is
//! redacted as before. A message the schema does not know is payload whole.

use serde_json::Value;

use super::tree::{Members, Node, Text};
use crate::transport::is_revision_form;

/// One step from a message down to the object whose members are held.
enum Step {
    Key(&'static str),
    /// Every item of an array (or every member of an object used as a map).
    Each,
}

/// Which members of the object the steps reach are the protocol's.
enum Take {
    Keys(&'static [&'static str]),
    /// All members but these (the free text a list entry may carry stays payload).
    AllBut(&'static [&'static str]),
}

struct Rule {
    at: &'static [Step],
    take: Take,
}

use Step::{Each, Key};

const fn rule(at: &'static [Step], take: Take) -> Rule {
    Rule { at, take }
}

/// Members a list entry carries as free text; everything else in it is protocol.
const ENTRY_TEXT: &[&str] = &["title", "description"];
/// The members the schema defines for a tool, prompt, resource or template entry: their names
/// are the protocol's; any other name in an entry is the server's and gets the detectors.
const ENTRY_MEMBERS: &[&str] = &[
    "name",
    "title",
    "description",
    "inputSchema",
    "outputSchema",
    "annotations",
    "icons",
    "execution",
    "arguments",
    "uri",
    "uriTemplate",
    "mimeType",
    "size",
    "_meta",
];
/// What every list result carries besides its entries.
const LIST_PAGING: Take = Take::Keys(&["nextCursor", "ttlMs", "cacheScope"]);
/// A content block's protocol members (text, data and blobs are payload).
const CONTENT: Take = Take::Keys(&["type", "mimeType", "annotations", "uri"]);
const TASK: Take = Take::Keys(&[
    "taskId",
    "status",
    "createdAt",
    "lastUpdatedAt",
    "ttl",
    "pollInterval",
    "ttlMs",
    "pollIntervalMs",
    "resultType",
]);
/// MRTR (2026-07-28, SEP-2322): what a result asks of the client. `inputRequests` is held
/// whole — its keys are the server's handles, answered by the same keys, and each request's
/// form is protocol — so only its free text gets the detectors; `requestState` is opaque and
/// passes unaltered unless it holds a direct identifier (see `Scrub::state`).
const ROUND_TRIP: &[&str] = &["resultType", "inputRequests", "requestState"];

/// Results that are all protocol: the handshake, discovery, acknowledgements.
const WHOLE_RESULT: &[Rule] = &[rule(&[], Take::Keys(&["result"]))];
const WHOLE_PARAMS: &[Rule] = &[rule(&[], Take::Keys(&["params"]))];

const TOOL_RESULT: &[Rule] = &[
    rule(&[Key("result")], Take::Keys(&["isError"])),
    rule(&[Key("result")], Take::Keys(ROUND_TRIP)),
    rule(&[Key("result"), Key("content"), Each], CONTENT),
    rule(
        &[Key("result"), Key("content"), Each, Key("resource")],
        Take::Keys(&["uri", "mimeType"]),
    ),
    // A task instead of the result: 2025-11-25 nests it, the 2026 extension flattens it.
    rule(&[Key("result"), Key("task")], TASK),
    rule(&[Key("result")], TASK),
];

const TOOLS_LIST: &[Rule] = &[
    rule(&[Key("result")], LIST_PAGING),
    rule(
        &[Key("result"), Key("tools"), Each],
        Take::AllBut(ENTRY_TEXT),
    ),
];
const PROMPTS_LIST: &[Rule] = &[
    rule(&[Key("result")], LIST_PAGING),
    rule(
        &[Key("result"), Key("prompts"), Each],
        Take::AllBut(ENTRY_TEXT),
    ),
];
const RESOURCES_LIST: &[Rule] = &[
    rule(&[Key("result")], LIST_PAGING),
    rule(
        &[Key("result"), Key("resources"), Each],
        Take::AllBut(ENTRY_TEXT),
    ),
];
const TEMPLATES_LIST: &[Rule] = &[
    rule(&[Key("result")], LIST_PAGING),
    rule(
        &[Key("result"), Key("resourceTemplates"), Each],
        Take::AllBut(ENTRY_TEXT),
    ),
];

const RESOURCE_READ: &[Rule] = &[
    rule(&[Key("result")], Take::Keys(ROUND_TRIP)),
    rule(&[Key("result")], Take::Keys(&["ttlMs", "cacheScope"])),
    rule(
        &[Key("result"), Key("contents"), Each],
        Take::Keys(&["uri", "mimeType"]),
    ),
];

const PROMPT_GET: &[Rule] = &[
    rule(&[Key("result")], Take::Keys(ROUND_TRIP)),
    rule(
        &[Key("result"), Key("messages"), Each],
        Take::Keys(&["role"]),
    ),
    rule(
        &[Key("result"), Key("messages"), Each, Key("content")],
        CONTENT,
    ),
    rule(
        &[
            Key("result"),
            Key("messages"),
            Each,
            Key("content"),
            Key("resource"),
        ],
        Take::Keys(&["uri", "mimeType"]),
    ),
];

const COMPLETION: &[Rule] = &[rule(
    &[Key("result"), Key("completion")],
    Take::Keys(&["total", "hasMore"]),
)];

const TASKS: &[Rule] = &[
    rule(&[Key("result")], TASK),
    rule(&[Key("result")], Take::Keys(ROUND_TRIP)),
    rule(&[Key("result")], LIST_PAGING),
    rule(&[Key("result"), Key("tasks"), Each], TASK),
];

const LOG_MESSAGE: &[Rule] = &[rule(&[Key("params")], Take::Keys(&["level", "logger"]))];
const PROGRESS: &[Rule] = &[rule(
    &[Key("params")],
    Take::Keys(&["progressToken", "progress", "total"]),
)];
const CANCELLED: &[Rule] = &[rule(&[Key("params")], Take::Keys(&["requestId"]))];
const UPDATED: &[Rule] = &[rule(&[Key("params")], Take::Keys(&["uri"]))];
const TASK_STATUS: &[Rule] = &[rule(&[Key("params")], TASK)];
const ELICITATION_DONE: &[Rule] = &[rule(&[Key("params")], Take::Keys(&["elicitationId"]))];

const SAMPLING: &[Rule] = &[
    rule(
        &[Key("params")],
        Take::Keys(&[
            "modelPreferences",
            "maxTokens",
            "temperature",
            "stopSequences",
            "includeContext",
            "tools",
            "toolChoice",
            "task",
        ]),
    ),
    rule(
        &[Key("params"), Key("messages"), Each],
        Take::Keys(&["role"]),
    ),
    rule(
        &[Key("params"), Key("messages"), Each, Key("content")],
        CONTENT,
    ),
];

/// The form an elicitation asks for is protocol (its titles and descriptions get the
/// detectors); the message shown to the user is payload.
const ELICITATION: &[Rule] = &[rule(
    &[Key("params")],
    Take::Keys(&["mode", "url", "elicitationId", "requestedSchema", "task"]),
)];

/// The `_meta` members the protocol defines (2026-07-28 moved server info, the revision and
/// subscription ids there).
const META: Take = Take::Keys(&[
    "io.modelcontextprotocol/serverInfo",
    "io.modelcontextprotocol/protocolVersion",
    "io.modelcontextprotocol/subscriptionId",
    "io.modelcontextprotocol/related-task",
    "progressToken",
]);

/// Every message: an error's code, and the protocol's own `_meta` keys.
const ALWAYS: &[Rule] = &[
    rule(&[Key("error")], Take::Keys(&["code"])),
    rule(&[Key("result"), Key("_meta")], META),
    rule(&[Key("params"), Key("_meta")], META),
];

/// What a request asked, so each answer is read by the method it answers.
#[derive(Debug, Clone, Default)]
pub struct Asked {
    /// (id as JSON text, method) of every call.
    calls: Vec<(String, String)>,
    /// The uris the client named (`resources/read`, `resources/subscribe`): echoed back as
    /// they were sent.
    uris: Vec<String>,
}

impl Asked {
    /// From the calls of a request: (id, method, uri named, if any).
    pub fn new<'c>(
        calls: impl IntoIterator<Item = (Option<&'c Value>, &'c str, Option<&'c str>)>,
    ) -> Self {
        let mut asked = Asked::default();
        for (id, method, uri) in calls {
            let id = id.map_or_else(|| "null".to_string(), Value::to_string);
            asked.calls.push((id, method.to_string()));
            asked.uris.extend(uri.map(str::to_string));
        }
        asked
    }

    /// The method a response answers: the only call's, or the one with its id.
    fn method_for(&self, id: Option<&Node>) -> Option<&str> {
        if let [(_, only)] = self.calls.as_slice() {
            return Some(only);
        }
        let id = id.map_or_else(|| "null".to_string(), Node::to_json_string);
        self.calls
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, m)| m.as_str())
    }
}

/// The schema's rules for one message.
fn rules_for(message: &Members, asked: &Asked) -> [&'static [Rule]; 2] {
    let get = |key: &str| message.iter().find(|(k, _)| k == key).map(|(_, v)| v);
    let own = get("method").and_then(Node::as_str);
    let rules = match own {
        // A request or notification the server sends.
        Some(method) => match method {
            "ping" | "roots/list" | "notifications/subscriptions/acknowledged" => WHOLE_PARAMS,
            "notifications/message" => LOG_MESSAGE,
            "notifications/progress" => PROGRESS,
            "notifications/cancelled" => CANCELLED,
            "notifications/resources/updated" => UPDATED,
            "notifications/tasks/status" | "notifications/tasks" => TASK_STATUS,
            "notifications/elicitation/complete" => ELICITATION_DONE,
            m if m.starts_with("notifications/") && m.ends_with("/list_changed") => WHOLE_PARAMS,
            "sampling/createMessage" => SAMPLING,
            "elicitation/create" => ELICITATION,
            _ => &[],
        },
        // A response: by what it answers.
        None if get("result").is_some() => match asked.method_for(get("id")) {
            Some(
                "initialize"
                | "ping"
                | "server/discover"
                | "logging/setLevel"
                | "resources/subscribe"
                | "resources/unsubscribe"
                | "subscriptions/listen",
            ) => WHOLE_RESULT,
            Some("tools/list") => TOOLS_LIST,
            Some("prompts/list") => PROMPTS_LIST,
            Some("resources/list") => RESOURCES_LIST,
            Some("resources/templates/list") => TEMPLATES_LIST,
            Some("tools/call" | "tasks/result") => TOOL_RESULT,
            Some("resources/read") => RESOURCE_READ,
            Some("prompts/get") => PROMPT_GET,
            Some("completion/complete") => COMPLETION,
            Some("tasks/get" | "tasks/list" | "tasks/cancel" | "tasks/update") => TASKS,
            _ => &[],
        },
        None => &[],
    };
    [rules, ALWAYS]
}

/// Numbers in protocol members shorter than this pass unread: no identifier the detectors or
/// the known values find is shorter.
const MIN_IDENTIFIER_DIGITS: usize = 6;
/// Members the schema defines as numbers (or echoes of what the client chose): they pass as
/// they came, whatever their digits.
const PROTOCOL_NUMBERS: &[&str] = &[
    "progressToken",
    "requestId",
    "progress",
    "total",
    "ttl",
    "ttlMs",
    "pollInterval",
    "pollIntervalMs",
    "size",
    "maxTokens",
    "temperature",
    "priority",
    "code",
];

/// Protocol members taken out of a message, in the order their placeholders were left.
pub(super) struct Held<'a> {
    members: Vec<(Text<'a>, Node<'a>)>,
    /// Per member: its name is the server's own (a list entry's member the schema does not
    /// name), not one of the rule's constants, so it is text to the detectors too.
    named_by_server: Vec<bool>,
}

/// A placeholder's key: no JSON text from a server can hold one (it is never parsed, only
/// made here), and no detector or key glob a profile writes matches it.
const MARK: &str = "\u{0}gatekeeper:held:";

/// Takes the protocol members out of `message`, leaving placeholders.
pub(super) fn detach<'a>(message: &mut Node<'a>, asked: &Asked) -> Held<'a> {
    let mut held = Held {
        members: Vec::new(),
        named_by_server: Vec::new(),
    };
    let Node::Object(members) = message else {
        return held;
    };
    for rules in rules_for(members, asked) {
        for rule in rules {
            take(message, rule.at, &rule.take, &mut held);
        }
    }
    held
}

fn take<'a>(node: &mut Node<'a>, at: &[Step], what: &Take, held: &mut Held<'a>) {
    match (at.split_first(), node) {
        (None, Node::Object(members)) => {
            for (key, value) in members.iter_mut() {
                let (chosen, named_by_server) = match what {
                    Take::Keys(keys) => (keys.contains(&key.as_ref()), false),
                    Take::AllBut(keep) => (
                        !keep.contains(&key.as_ref()) && !key.starts_with(MARK),
                        !ENTRY_MEMBERS.contains(&key.as_ref()),
                    ),
                };
                if chosen {
                    let mark = Text::from(format!("{MARK}{}", held.members.len()));
                    let key = std::mem::replace(key, mark);
                    held.members
                        .push((key, std::mem::replace(value, Node::Null)));
                    held.named_by_server.push(named_by_server);
                }
            }
        }
        (Some((Key(name), rest)), node) => {
            if let Some(child) = node.get_mut(name) {
                take(child, rest, what, held);
            }
        }
        (Some((Each, rest)), Node::Array(items)) => {
            items
                .iter_mut()
                .for_each(|item| take(item, rest, what, held));
        }
        (Some((Each, rest)), Node::Object(members)) => {
            members
                .iter_mut()
                .for_each(|(_, v)| take(v, rest, what, held));
        }
        _ => {}
    }
}

impl<'a> Held<'a> {
    pub(super) fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Puts every held member back where its placeholder is. `text` gets each string a held
    /// member carries that is not of its member's strict protocol form, to be scrubbed; a
    /// placeholder the walk removed (its parent went) is simply gone.
    /// `opaque` scrubs a value that must pass unaltered unless it holds direct identifiers.
    pub(super) fn reattach(
        mut self,
        message: &mut Node<'a>,
        asked: &Asked,
        text: &mut dyn FnMut(&mut Node<'a>),
        opaque: &dyn Fn(&str) -> Option<String>,
    ) {
        let mut scrub = Scrub {
            asked,
            text,
            opaque,
        };
        for ((key, value), named_by_server) in self.members.iter_mut().zip(&self.named_by_server) {
            scrub.loose(key, value);
            if *named_by_server {
                scrub.name(key);
            }
        }
        let mut slots: Vec<Option<(Text<'a>, Node<'a>)>> =
            self.members.into_iter().map(Some).collect();
        put_back(message, &mut slots);
    }
}

/// How a held value's strings are checked.
struct Scrub<'s, 'a> {
    asked: &'s Asked,
    text: &'s mut dyn FnMut(&mut Node<'a>),
    opaque: &'s dyn Fn(&str) -> Option<String>,
}

impl<'a> Scrub<'_, 'a> {
    /// The strings of a held value that are not of their member's strict form, and its
    /// member names, go to `text`; an opaque state to `opaque`.
    fn loose(&mut self, key: &str, value: &mut Node<'a>) {
        match value {
            Node::String(_) if key == "requestState" => self.state(value),
            Node::String(s) if !strict_form(key, s, self.asked) => (self.text)(value),
            // A number the schema does not define, long enough to be an identifier.
            Node::Number(n)
                if !PROTOCOL_NUMBERS.contains(&key)
                    && n.to_string().len() >= MIN_IDENTIFIER_DIGITS =>
            {
                (self.text)(value)
            }
            Node::Array(items) => items.iter_mut().for_each(|v| self.loose(key, v)),
            Node::Object(members) => {
                for (k, v) in members.iter_mut() {
                    self.loose(k, v);
                    self.name(k);
                }
            }
            _ => {}
        }
    }

    /// A member name a server wrote is text too (an SSN as a key passes nowhere).
    fn name(&mut self, key: &mut Text<'a>) {
        let mut name = Node::String(key.clone());
        (self.text)(&mut name);
        if let Node::String(clean) = name {
            *key = clean;
        }
    }

    /// An opaque blob the client must hand back as it came (`requestState`, SEP-2322):
    /// altering it breaks the round trip, so it passes byte-identical — unless it, or its
    /// Base64 decoding, holds a direct identifier: then that is scrubbed (and re-encoded), and
    /// the server refuses the retry rather than a role reading what it may not.
    fn state(&mut self, value: &mut Node<'a>) {
        use base64::engine::general_purpose::{
            STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD,
        };
        use base64::Engine;
        let Some(raw) = value.as_str().map(str::to_string) else {
            return;
        };
        let engines = [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD];
        let decoded = engines.iter().find_map(|e| {
            let bytes = e.decode(&raw).ok()?;
            Some((*e, String::from_utf8(bytes).ok()?))
        });
        let clean = match &decoded {
            Some((engine, plain)) => (self.opaque)(plain).map(|c| engine.encode(c)),
            None => (self.opaque)(&raw),
        };
        if let Some(clean) = clean {
            *value = Node::string(clean);
        }
    }
}

/// Whether a protocol string has its member's exact form, so it passes byte-identical: a
/// revision date, a version number, a lower-case token without digits, a URI the client named
/// or one that holds no number and no address. Anything else in a protocol member is text to
/// the detectors (a server cannot smuggle an SSN through `mimeType`).
fn strict_form(key: &str, s: &str, asked: &Asked) -> bool {
    match key {
        "protocolVersion" | "supportedVersions" => is_revision_form(s),
        "version" => {
            let core = s.strip_prefix('v').unwrap_or(s);
            let (numbers, rest) = core.split_once(['-', '+']).unwrap_or((core, ""));
            !numbers.is_empty()
                && numbers.split('.').count() <= 4
                && numbers
                    .split('.')
                    .all(|n| !n.is_empty() && n.len() <= 3 && n.bytes().all(|b| b.is_ascii_digit()))
                && rest.len() <= 32
                && rest.bytes().all(|b| b.is_ascii_alphabetic() || b == b'.')
        }
        "type" | "role" | "level" | "status" | "resultType" | "cacheScope" | "mode"
        | "includeContext" | "jsonrpc" => {
            (1..=40).contains(&s.len())
                && s.bytes()
                    .all(|b| b.is_ascii_alphabetic() || b == b'_' || b == b'-')
        }
        "mimeType" => {
            let (kind, sub) = s.split_once('/').unwrap_or(("", ""));
            let token = |t: &str| {
                !t.is_empty()
                    && t.bytes()
                        .all(|b| b.is_ascii_alphabetic() || b"-+.".contains(&b))
            };
            s.len() <= 100
                && token(kind)
                && token(sub.split(';').next().unwrap_or(""))
                && sub
                    .split(';')
                    .skip(1)
                    .all(|p| p.trim().eq_ignore_ascii_case("charset=utf-8"))
        }
        // JSON Schema's own identifiers: the meta-schema a tool's schema names, and references.
        "$schema" | "$id" | "$ref" => {
            s.len() <= 512
                && !s.contains('@')
                && !s.bytes().any(|b| b.is_ascii_whitespace())
                && s.starts_with(['h', '#', 'u'])
        }
        "uri" | "uriTemplate" => {
            asked.uris.iter().any(|u| u == s)
                || (s.len() <= 512
                    && s.contains(':')
                    && !s.contains('@')
                    && !s
                        .bytes()
                        .any(|b| b.is_ascii_digit() || b.is_ascii_whitespace()))
        }
        _ => false,
    }
}

/// Swaps each placeholder for its member; returns when every slot is filled.
fn put_back<'a>(node: &mut Node<'a>, slots: &mut [Option<(Text<'a>, Node<'a>)>]) {
    match node {
        Node::Object(members) => {
            for (key, value) in members.iter_mut() {
                if let Some(slot) = key
                    .strip_prefix(MARK)
                    .and_then(|i| i.parse::<usize>().ok())
                    .and_then(|i| slots.get_mut(i))
                    .and_then(Option::take)
                {
                    (*key, *value) = slot;
                } else if value.is_container() {
                    put_back(value, slots);
                }
            }
        }
        Node::Array(items) => items.iter_mut().for_each(|item| put_back(item, slots)),
        _ => {}
    }
}
