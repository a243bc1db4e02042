//! Threats and their mitigation, activities, alerts, and files fetched from
//! agents or threats (uploads that appear after a delay, served as
//! password-protected zips).

use std::io::Write;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::super::http::{Reply, Req, contains_any, one_of, page};
use super::super::state::{Archive, State, Threat};
use super::inventory::filter_is_empty;

/// Activity type of a fetch-files request.
const FETCH_REQUEST: i64 = 81;
/// Activity type of an agent's upload of fetched files.
const AGENT_UPLOAD: i64 = 80;
/// Activity type of a threat file's upload.
const THREAT_UPLOAD: i64 = 86;

pub(super) fn route(state: &mut State, req: &Req, segments: &[&str]) -> Option<Reply> {
    Some(match (req.method.as_str(), segments) {
        ("GET", ["threats"]) => list_threats(state, req),
        ("POST", ["threats", "mitigate", action]) => mitigate(state, req, action),
        ("POST", ["threats", "incident"]) => {
            if filter_is_empty(req, "/filter") {
                return Some(Reply::invalid("filter: at least one criterion is required"));
            }
            let status = match req.body_str("/data/incidentStatus") {
                Some(s) if ["unresolved", "in_progress", "resolved"].contains(&s.as_str()) => s,
                _ => {
                    return Some(Reply::invalid(
                        "data.incidentStatus must be unresolved, in_progress or resolved",
                    ));
                }
            };
            let ids = threats_of_body(state, req);
            for t in state.threats.iter_mut().filter(|t| ids.contains(&t.id)) {
                t.incident_status.clone_from(&status);
                t.updated_at = Utc::now();
            }
            Reply::affected(ids.len())
        }
        ("POST", ["threats", "fetch-file"]) => fetch_threat_file(state, req),
        ("GET", ["threats", threat_id, "download-from-cloud"]) => {
            match state.threats.iter().find(|t| t.id == *threat_id) {
                Some(t) => Reply::data(json!({
                    "downloadUrl": format!("/sim/cloud/{}.zip", t.sha1),
                    "fileName": t.sha1,
                })),
                None => Reply::not_found("no such threat"),
            }
        }
        ("GET", ["threats", threat_id, "timeline"]) => {
            let items = visible_activities(state)
                .filter(|a| a.threat_id.as_deref() == Some(*threat_id))
                .map(activity_json)
                .collect();
            page(req, items)
        }
        ("GET", ["activities"]) => list_activities(state, req),
        ("GET", ["cloud-detection", "alerts"]) => list_alerts(state, req),
        ("POST", ["agents", agent_id, "actions", "fetch-files"]) => {
            fetch_agent_files(state, req, agent_id)
        }
        ("GET", ["agents", agent_id, "uploads", activity_id]) => {
            download(state, agent_id, activity_id)
        }
        ("GET", ["sim", "cloud", name]) => Reply::bytes(
            "application/zip",
            zip(&[format!("{name}.bin")], "infected").unwrap_or_default(),
        ),
        _ => return None,
    })
}

fn time(text: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Threats matching a threat filter whose values `get` returns by key.
fn matching(state: &State, get: impl Fn(&str) -> Vec<String>) -> Vec<Threat> {
    let ids = get("ids");
    let names = get("computerName__contains");
    let processes = get("originatedProcess__contains");
    let paths = get("filePath__contains");
    let hashes = get("contentHashes");
    let agent_ids = get("agentIds");
    let statuses = get("mitigationStatuses");
    state
        .threats
        .iter()
        .filter(|t| {
            let agent = &state.agents[t.agent];
            one_of(&t.id, &ids)
                && contains_any(&agent.computer_name, &names)
                && contains_any(&t.process, &processes)
                && contains_any(&t.file_path, &paths)
                && one_of(&t.sha1, &hashes)
                && one_of(&agent.id, &agent_ids)
                && one_of(&t.mitigation_status, &statuses)
        })
        .cloned()
        .collect()
}

fn threats_of_body(state: &State, req: &Req) -> Vec<String> {
    matching(state, |k| req.body_list(&format!("/filter/{k}")))
        .into_iter()
        .map(|t| t.id)
        .collect()
}

fn list_threats(state: &State, req: &Req) -> Reply {
    let from = time(req.q("createdAt__gte"));
    let to = time(req.q("createdAt__lt"));
    let mut threats: Vec<Threat> = matching(state, |k| req.list(k))
        .into_iter()
        .filter(|t| from.is_none_or(|f| t.created_at >= f) && to.is_none_or(|e| t.created_at < e))
        .collect();
    match req.q("sortBy") {
        Some("updatedAt") => threats.sort_by_key(|t| t.updated_at),
        Some("id") => threats.sort_by(|a, b| a.id.cmp(&b.id)),
        _ => threats.sort_by_key(|t| t.created_at),
    }
    if req.q("sortOrder") != Some("asc") && req.q("sortBy").is_some() {
        threats.reverse();
    }
    let items = threats.iter().map(|t| state.threat_json(t)).collect();
    page(req, items)
}

fn mitigate(state: &mut State, req: &Req, action: &str) -> Reply {
    let status = match action {
        "kill" | "quarantine" | "remediate" | "rollback-remediation" => "mitigated",
        "un-quarantine" => "active",
        other => return Reply::invalid(&format!("unknown mitigation action {other:?}")),
    };
    if filter_is_empty(req, "/filter") {
        return Reply::invalid("filter: at least one criterion is required");
    }
    let ids = threats_of_body(state, req);
    let now = Utc::now();
    for t in state.threats.iter_mut().filter(|t| ids.contains(&t.id)) {
        t.mitigation_status = status.to_string();
        t.updated_at = now;
        t.actions.push((action.to_string(), now));
    }
    state
        .counters
        .mitigations
        .push((action.to_string(), ids.clone()));
    Reply::affected(ids.len())
}

fn visible_activities(state: &State) -> impl Iterator<Item = &super::super::state::Activity> {
    let now = std::time::Instant::now();
    state.activities.iter().filter(move |a| a.visible_at <= now)
}

fn activity_json(a: &super::super::state::Activity) -> Value {
    json!({
        "id": a.id,
        "activityType": a.activity_type,
        "agentId": a.agent_id,
        "threatId": a.threat_id,
        "createdAt": a.created_at.to_rfc3339(),
        "updatedAt": a.created_at.to_rfc3339(),
        "primaryDescription": a.description,
        "data": a.data,
    })
}

fn list_activities(state: &State, req: &Req) -> Reply {
    let types = req.list("activityTypes");
    let agents = req.list("agentIds");
    let threats = req.list("threatIds");
    let after = time(req.q("createdAt__gt"));
    let mut items: Vec<_> = visible_activities(state)
        .filter(|a| one_of(&a.activity_type.to_string(), &types))
        .filter(|a| agents.is_empty() || a.agent_id.as_ref().is_some_and(|id| agents.contains(id)))
        .filter(|a| {
            threats.is_empty() || a.threat_id.as_ref().is_some_and(|id| threats.contains(id))
        })
        .filter(|a| after.is_none_or(|t| a.created_at > t))
        .collect();
    items.sort_by_key(|a| a.created_at);
    if req.q("sortOrder") == Some("desc") {
        items.reverse();
    }
    page(req, items.into_iter().map(activity_json).collect())
}

fn list_alerts(state: &State, req: &Req) -> Reply {
    let from = time(req.q("createdAt__gte"));
    let to = time(req.q("createdAt__lt"));
    let mut alerts: Vec<Value> = state
        .alerts
        .iter()
        .filter(|a| {
            let at = time(a.pointer("/alertInfo/createdAt").and_then(Value::as_str));
            at.is_some_and(|t| from.is_none_or(|f| t >= f) && to.is_none_or(|e| t < e))
        })
        .cloned()
        .collect();
    alerts.sort_by(|a, b| {
        let key = |v: &Value| {
            v.pointer("/alertInfo/createdAt")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        key(a).cmp(&key(b))
    });
    if req.q("sortOrder") != Some("asc") {
        alerts.reverse();
    }
    page(req, alerts)
}

fn fetch_agent_files(state: &mut State, req: &Req, agent_id: &str) -> Reply {
    if !state.agents.iter().any(|a| a.id == agent_id) {
        return Reply::not_found(&format!("The agent with ID {agent_id} is not found"));
    }
    let files = req.body_list("/data/files");
    let Some(password) = req.body_str("/data/password") else {
        return Reply::invalid("data.password is required");
    };
    if files.is_empty() || files.len() > 10 {
        return Reply::invalid("data.files: 1 to 10 paths");
    }
    let batch = format!("{:032x}", state.rng.u128(..));
    let delay = state.config.upload_delay;
    state.add_activity(
        FETCH_REQUEST,
        Some(agent_id.to_string()),
        None,
        "Fetch files requested".to_string(),
        json!({ "commandBatchUuid": batch, "files": files }),
        Duration::ZERO,
    );
    upload(
        state,
        agent_id,
        None,
        AGENT_UPLOAD,
        &batch,
        files,
        password,
        delay,
    );
    Reply::data(json!({ "success": true }))
}

#[allow(clippy::too_many_arguments)]
fn upload(
    state: &mut State,
    agent_id: &str,
    threat_id: Option<String>,
    activity_type: i64,
    batch: &str,
    files: Vec<String>,
    password: String,
    delay: Duration,
) {
    let id = state.id();
    let file_name = format!("{batch}.zip");
    state.activities.push(super::super::state::Activity {
        id: id.clone(),
        activity_type,
        agent_id: Some(agent_id.to_string()),
        threat_id,
        created_at: Utc::now() + delay,
        description: "Files uploaded".to_string(),
        data: json!({
            "commandBatchUuid": batch,
            "downloadUrl": format!("/agents/{agent_id}/uploads/{id}"),
            "fileName": file_name,
        }),
        visible_at: std::time::Instant::now() + delay,
    });
    state.archives.insert(
        id,
        Archive {
            agent_id: agent_id.to_string(),
            files,
            password,
        },
    );
}

fn fetch_threat_file(state: &mut State, req: &Req) -> Reply {
    let Some(password) = req.body_str("/data/password") else {
        return Reply::invalid("data.password is required");
    };
    if filter_is_empty(req, "/filter") {
        return Reply::invalid("filter: at least one criterion is required");
    }
    let ids = threats_of_body(state, req);
    let delay = state.config.upload_delay;
    for id in &ids {
        let threat = state.threats.iter().find(|t| t.id == *id).cloned();
        if let Some(t) = threat {
            let agent_id = state.agents[t.agent].id.clone();
            let batch = format!("{:032x}", state.rng.u128(..));
            upload(
                state,
                &agent_id,
                Some(t.id.clone()),
                THREAT_UPLOAD,
                &batch,
                vec![t.file_path.clone()],
                password.clone(),
                delay,
            );
        }
    }
    Reply::affected(ids.len())
}

fn download(state: &State, agent_id: &str, activity_id: &str) -> Reply {
    let ready = visible_activities(state).any(|a| a.id == activity_id);
    match state.archives.get(activity_id) {
        Some(archive) if ready && archive.agent_id == agent_id => {
            match zip(&archive.files, &archive.password) {
                Ok(bytes) => Reply::bytes("application/zip", bytes),
                Err(e) => Reply::error(500, 5000010, "Server Error", &e.to_string()),
            }
        }
        _ => Reply::not_found("no such upload"),
    }
}

/// A zip (AES-256, `password`) holding one small text file per path; the
/// entry names are the paths without drive letter or leading separator.
fn zip(paths: &[String], password: &str) -> zip::result::ZipResult<Vec<u8>> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for path in paths {
        let b = path.as_bytes();
        let no_drive = if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
            &path[2..]
        } else {
            path.as_str()
        };
        let name = no_drive
            .replace('\\', "/")
            .trim_start_matches('/')
            .to_string();
        let name = if name.is_empty() {
            "file".to_string()
        } else {
            name
        };
        let options = zip::write::SimpleFileOptions::default()
            .with_aes_encryption(zip::AesMode::Aes256, password);
        writer.start_file(name, options)?;
        writer.write_all(format!("simulated content of {path}\n").as_bytes())?;
    }
    Ok(writer.finish()?.into_inner())
}
