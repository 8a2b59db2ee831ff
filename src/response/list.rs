//! `tools/list`, `prompts/list`, `resources/list` and `resources/templates/list` shown per
//! role, and 2025-11-25's `tasks/list` per caller: what the caller may not use is removed from
//! every message that carries such a list, one message or a batch of them. A list shown per
//! caller is marked `cacheScope: "private"` (MCP 2026-07-28 §Caching): no shared cache may
//! hand it to another authorization context.

use std::sync::Arc;

use crate::auth::Identity;
use crate::jsonrpc::Request;
use crate::policy::Policy;
use crate::redact::tree::Node;

/// Which list a result carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    Tools,
    Prompts,
    Resources,
    ResourceTemplates,
    /// 2025-11-25 `tasks/list`: only the tasks the caller created.
    Tasks,
}

impl ListKind {
    pub fn of(method: &str) -> Option<Self> {
        match method {
            "tools/list" => Some(ListKind::Tools),
            "prompts/list" => Some(ListKind::Prompts),
            "resources/list" => Some(ListKind::Resources),
            "resources/templates/list" => Some(ListKind::ResourceTemplates),
            "tasks/list" => Some(ListKind::Tasks),
            _ => None,
        }
    }

    /// The member of `result` that holds the list.
    fn member(self) -> &'static str {
        match self {
            ListKind::Tools => "tools",
            ListKind::Prompts => "prompts",
            ListKind::Resources => "resources",
            ListKind::ResourceTemplates => "resourceTemplates",
            ListKind::Tasks => "tasks",
        }
    }
}

/// The lists a request asked for, and who is to see them.
pub struct ListFilter {
    kinds: Vec<ListKind>,
    identity: Identity,
    policy: Arc<Policy>,
    /// The task ids the caller owns (`tasks/list`); none known: none shown.
    own_tasks: Vec<String>,
}

impl ListFilter {
    /// A filter when some call of the request lists something; `None` otherwise.
    pub fn for_request(
        request: &Request,
        identity: &Identity,
        policy: &Arc<Policy>,
    ) -> Option<Self> {
        let mut kinds: Vec<ListKind> = request
            .calls()
            .iter()
            .filter_map(|c| ListKind::of(&c.method))
            .collect();
        kinds.dedup();
        (!kinds.is_empty()).then(|| ListFilter::new(kinds, identity.clone(), Arc::clone(policy)))
    }

    pub fn new(kinds: Vec<ListKind>, identity: Identity, policy: Arc<Policy>) -> Self {
        ListFilter {
            kinds,
            identity,
            policy,
            own_tasks: Vec::new(),
        }
    }

    /// Whether the request lists tasks (the shell then says which are the caller's).
    pub fn lists_tasks(&self) -> bool {
        self.kinds.contains(&ListKind::Tasks)
    }

    pub fn with_own_tasks(mut self, ids: Vec<String>) -> Self {
        self.own_tasks = ids;
        self
    }

    /// The message (or batch) with what the caller may not see removed; `None` when the bytes
    /// are not JSON or a list is not an array — the caller then fails closed.
    /// Read on redaction's own tree, so what is kept is written back in the server's order.
    pub fn apply(&self, bytes: &[u8]) -> Option<Vec<u8>> {
        let mut root = Node::parse(bytes).ok()?;
        match &mut root {
            Node::Array(messages) => messages.iter_mut().try_for_each(|m| self.message(m))?,
            message => self.message(message)?,
        }
        Some(root.to_json())
    }

    fn message(&self, message: &mut Node) -> Option<()> {
        let Some(result) = message.get_mut("result") else {
            return Some(());
        };
        for kind in &self.kinds {
            if let Some(items) = result.get_mut(kind.member()) {
                items
                    .as_array_mut()?
                    .retain(|item| self.visible(*kind, item));
            }
        }
        Some(())
    }

    fn visible(&self, kind: ListKind, item: &Node) -> bool {
        let (policy, who) = (&self.policy, &self.identity);
        let field = |key: &str| item.get(key).and_then(Node::as_str);
        match kind {
            ListKind::Tools => field("name").is_some_and(|n| policy.tool_visible(who, n)),
            ListKind::Prompts => field("name").is_some_and(|n| policy.prompt_visible(who, n)),
            ListKind::Resources => field("uri").is_some_and(|u| policy.resource_visible(who, u)),
            ListKind::ResourceTemplates => policy.all_resources_visible(who),
            ListKind::Tasks => {
                field("taskId").is_some_and(|id| self.own_tasks.iter().any(|t| t == id))
            }
        }
    }
}
