//! Remote scripts: the library, runs that become per-agent tasks finishing
//! over time, and their result links.

use std::time::Instant;

use chrono::Utc;
use serde_json::{Value, json};

use super::super::http::{Reply, Req, one_of, page};
use super::super::state::{ScriptTask, State};
use super::inventory::{filter_is_empty, matching_agents};

const SCRIPTS: &[(&str, &str, &str)] = &[
    ("1800000000000000001", "Collect process list", "powershell"),
    (
        "1800000000000000002",
        "Collect browser history",
        "powershell",
    ),
    ("1800000000000000003", "List open ports", "bash"),
];

pub(super) fn route(state: &mut State, req: &Req, segments: &[&str]) -> Option<Reply> {
    Some(match (req.method.as_str(), segments) {
        ("GET", ["remote-scripts"]) => {
            let items = SCRIPTS
                .iter()
                .map(|(id, name, kind)| {
                    json!({ "id": id, "scriptName": name, "scriptType": kind, "inputRequired": false })
                })
                .collect();
            page(req, items)
        }
        ("POST", ["remote-scripts", "execute"]) => execute(state, req),
        ("GET", ["remote-scripts", "status"]) => statuses(state, req),
        ("POST", ["remote-scripts", "fetch-files"]) => links(state, req),
        ("GET", ["sim", "script-results", task_id]) => Reply::bytes(
            "application/zip",
            format!("simulated output of task {task_id}\n").into_bytes(),
        ),
        _ => return None,
    })
}

fn execute(state: &mut State, req: &Req) -> Reply {
    let Some(script_id) = req.body_str("/data/scriptId") else {
        return Reply::invalid("data.scriptId is required");
    };
    if !SCRIPTS.iter().any(|(id, _, _)| *id == script_id) {
        return Reply::not_found("no such script");
    }
    if req.body_str("/data/outputDestination").is_none() {
        return Reply::invalid("data.outputDestination is required");
    }
    if filter_is_empty(req, "/filter") {
        return Reply::invalid("filter: at least one criterion is required");
    }
    let description = req.body_str("/data/taskDescription").unwrap_or_default();
    let agents: Vec<usize> = matching_agents(state, |k| req.body_list(&format!("/filter/{k}")))
        .iter()
        .filter_map(|a| state.agents.iter().position(|b| b.id == a.id))
        .collect();
    let parent = state.id();
    for agent in &agents {
        let id = state.id();
        state.tasks.push(ScriptTask {
            id,
            parent: parent.clone(),
            agent: *agent,
            description: description.clone(),
            started: Instant::now(),
            created_at: Utc::now(),
        });
    }
    Reply::data(json!({ "parentTaskId": parent, "affected": agents.len(), "pending": false }))
}

fn task_status(state: &State, task: &ScriptTask) -> &'static str {
    let elapsed = task.started.elapsed();
    if elapsed >= state.config.script_duration {
        "completed"
    } else if elapsed * 3 >= state.config.script_duration {
        "in_progress"
    } else {
        "created"
    }
}

fn statuses(state: &State, req: &Req) -> Reply {
    let parents = req.list("parentTaskId");
    let ids = req.list("ids");
    let items = state
        .tasks
        .iter()
        .filter(|t| one_of(&t.parent, &parents) && one_of(&t.id, &ids))
        .map(|t| {
            let agent = &state.agents[t.agent];
            json!({
                "id": t.id,
                "parentTaskId": t.parent,
                "status": task_status(state, t),
                "detailedStatus": "simulated",
                "description": t.description,
                "agentId": agent.id,
                "agentComputerName": agent.computer_name,
                "agentOsType": agent.os_type,
                "createdAt": t.created_at.to_rfc3339(),
                "updatedAt": Utc::now().to_rfc3339(),
                "type": "script_execution",
            })
        })
        .collect();
    page(req, items)
}

fn links(state: &State, req: &Req) -> Reply {
    let ids = req.body_list("/data/taskIds");
    if ids.is_empty() {
        return Reply::invalid("data.taskIds is required");
    }
    let mut links: Vec<Value> = Vec::new();
    let mut errors: Vec<Value> = Vec::new();
    for id in ids {
        match state.tasks.iter().find(|t| t.id == id) {
            Some(t) if task_status(state, t) == "completed" => links.push(json!({
                "taskId": id,
                "fileName": format!("{}-output.zip", state.agents[t.agent].computer_name),
                "downloadUrl": format!("/sim/script-results/{id}"),
            })),
            _ => errors.push(json!({ "taskId": id, "errorString": "no results for this task" })),
        }
    }
    Reply::data(json!({ "download_links": links, "errors": errors }))
}
