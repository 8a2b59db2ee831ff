//! Tasks, in both shapes: 2025-11-25 (`params.task` asks for one; `{"task":{…}}`, `tasks/get`,
//! `tasks/result`, `tasks/list`, `tasks/cancel`) and the 2026 extension (asked for by the
//! `io.modelcontextprotocol/tasks` client capability; a flat `resultType: "task"`, `tasks/get`
//! carrying the result, `tasks/update`, `tasks/cancel`). Every task completes at once. The mock
//! binds tasks to no one — `tasks/list` shows them all — so a test can see that the gatekeeper
//! does the binding.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::rpc::{self, Outcome, INVALID_PARAMS};

const EXTENSION: &str = "io.modelcontextprotocol/tasks";
const CREATED: &str = "2026-07-28T00:00:00Z";

#[derive(Default)]
pub struct Tasks {
    results: BTreeMap<String, Value>,
}

/// Whether a `tools/call` asks to run as a task.
pub fn wanted(message: &Value, modern: bool) -> bool {
    let params = message.get("params");
    if modern {
        let caps =
            params.and_then(|p| p.pointer("/_meta/io.modelcontextprotocol~1clientCapabilities"));
        caps.and_then(|c| c.get("extensions"))
            .is_some_and(|e| e.get(EXTENSION).is_some())
    } else {
        params
            .and_then(|p| p.get("task"))
            .is_some_and(Value::is_object)
    }
}

impl Tasks {
    /// Files `outcome`'s result under a new task and answers with the task instead.
    pub fn create(&mut self, outcome: &mut Outcome, modern: bool) {
        let Some(response) = outcome.response.as_mut() else {
            return;
        };
        let Some(result) = response.get("result").cloned() else {
            return;
        };
        let id = uuid::Uuid::new_v4().to_string();
        self.results.insert(id.clone(), result);
        response["result"] = if modern {
            json!({"resultType": "task", "taskId": id, "status": "working",
                   "createdAt": CREATED, "ttlMs": 60000, "pollIntervalMs": 100})
        } else {
            json!({"task": task(&id, "working")})
        };
    }

    /// `tasks/*`; `None` for any other method.
    pub fn handle(&mut self, message: &Value, modern: bool) -> Option<Outcome> {
        let method = message.get("method")?.as_str()?;
        if !method.starts_with("tasks/") {
            return None;
        }
        let id = message.get("id").cloned().unwrap_or(Value::Null);
        let task_id = message
            .pointer("/params/taskId")
            .and_then(Value::as_str)
            .unwrap_or("");
        let found = self.results.get(task_id).cloned();
        let result = match (method, found) {
            ("tasks/list", _) if !modern => Ok(json!({"tasks": self
                .results
                .keys()
                .map(|t| task(t, "completed"))
                .collect::<Vec<_>>()})),
            (_, None) => Err((INVALID_PARAMS, format!("Unknown task: {task_id}"))),
            ("tasks/get", Some(r)) if modern => {
                let mut t = task(task_id, "completed");
                t["resultType"] = json!("complete");
                t["result"] = r;
                Ok(t)
            }
            ("tasks/get", Some(_)) => Ok(task(task_id, "completed")),
            ("tasks/result", Some(r)) if !modern => Ok(r),
            ("tasks/cancel" | "tasks/update", Some(_)) if modern => {
                Ok(json!({"resultType": "complete"}))
            }
            ("tasks/cancel", Some(_)) => Ok(task(task_id, "cancelled")),
            _ => Err((rpc::METHOD_NOT_FOUND, format!("Method not found: {method}"))),
        };
        Some(Outcome {
            response: Some(match result {
                Ok(r) => json!({"jsonrpc": "2.0", "id": id, "result": r}),
                Err((code, m)) => rpc::error(id, code, &m),
            }),
            method: method.to_string(),
            ..Outcome::default()
        })
    }
}

fn task(id: &str, status: &str) -> Value {
    json!({"taskId": id, "status": status, "createdAt": CREATED, "lastUpdatedAt": CREATED,
           "ttl": 60000, "pollInterval": 100})
}
