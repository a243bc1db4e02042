//! The simulated tenant: what it holds and how it is seeded.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Counters, SimConfig};

/// A fault the console answers a request with instead of serving it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// 429 with this Retry-After (seconds).
    Throttle(u64),
    /// A 5xx status with an error body.
    ServerError(u16),
    /// 200 with a body that is not JSON.
    InvalidJson,
    /// An HTML error page (as a proxy in front of a console sends).
    HtmlPage(u16),
    /// 200 with a JSON body cut in the middle.
    Truncated,
}

#[derive(Debug, Clone)]
pub(crate) struct Site {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub id: String,
    pub name: String,
    pub site: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct Agent {
    pub id: String,
    pub uuid: String,
    pub computer_name: String,
    pub ip: String,
    pub os_type: &'static str,
    pub site: usize,
    pub group: usize,
    pub network_status: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Threat {
    pub id: String,
    pub agent: usize,
    pub name: String,
    pub file_path: String,
    pub sha1: String,
    pub process: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub mitigation_status: String,
    pub incident_status: String,
    pub actions: Vec<(String, DateTime<Utc>)>,
}

#[derive(Debug, Clone)]
pub(crate) struct Activity {
    pub id: String,
    pub activity_type: i64,
    pub agent_id: Option<String>,
    pub threat_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub description: String,
    pub data: Value,
    /// Not listed before this instant (uploads in progress).
    pub visible_at: Instant,
}

/// A file archive an upload activity serves.
#[derive(Debug, Clone)]
pub(crate) struct Archive {
    pub agent_id: String,
    pub files: Vec<String>,
    pub password: String,
}

#[derive(Debug, Clone)]
pub(crate) struct DvQuery {
    pub id: String,
    pub started: Instant,
    pub limit: usize,
    pub cancelled: bool,
}

/// A Long Running Query of the simulated console.
#[derive(Debug, Clone)]
pub(crate) struct LrqQuery {
    pub tag: String,
    /// `PQ` or `LOG`.
    pub kind: String,
    pub launched: Instant,
    /// The launch or the last poll: the query expires this long after.
    pub last_seen: Instant,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub limit: usize,
    /// Neither tenant nor account ids: the near-empty scope.
    pub empty_scope: bool,
    /// LOG: the cursor to continue from (inclusive), when given.
    pub cursor: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct PowerQuery {
    pub id: String,
    pub started: Instant,
    pub limit: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct ScriptTask {
    pub id: String,
    pub parent: String,
    pub agent: usize,
    pub description: String,
    pub started: Instant,
    pub created_at: DateTime<Utc>,
}

/// Everything the console holds.
#[derive(Debug)]
pub(crate) struct State {
    pub config: SimConfig,
    pub rng: fastrand::Rng,
    pub next_id: u64,
    pub sites: Vec<Site>,
    pub groups: Vec<Group>,
    pub agents: Vec<Agent>,
    pub threats: Vec<Threat>,
    pub activities: Vec<Activity>,
    pub archives: HashMap<String, Archive>,
    pub dv_queries: Vec<DvQuery>,
    pub power_queries: Vec<PowerQuery>,
    /// Long Running Queries by id.
    pub lrq_queries: HashMap<String, LrqQuery>,
    /// When the LRQ requests of the last second were admitted.
    pub lrq_calls: VecDeque<Instant>,
    pub tasks: Vec<ScriptTask>,
    pub exclusions: Vec<Value>,
    pub restrictions: Vec<Value>,
    pub firewall_rules: Vec<Value>,
    pub alerts: Vec<Value>,
    pub counters: Counters,
    pub faults: VecDeque<Fault>,
    /// Faults for one route only (`GET /dv/query-status`), served before
    /// the general ones.
    pub route_faults: HashMap<String, VecDeque<Fault>>,
    /// When each rate-limited bucket's allowance is spent at its rate
    /// (the limiter's theoretical arrival time).
    pub allowance: HashMap<String, tokio::time::Instant>,
    pub started: DateTime<Utc>,
}

const SEVERITIES: [&str; 4] = ["Low", "Medium", "High", "Critical"];

const THREAT_NAMES: &[(&str, &str, &str)] = &[
    ("mimikatz.exe", "C:\\Users\\Public\\mimikatz.exe", "cmd.exe"),
    (
        "invoice.pdf.exe",
        "C:\\Users\\alice\\Downloads\\invoice.pdf.exe",
        "outlook.exe",
    ),
    ("eicar.com", "C:\\Temp\\eicar.com", "explorer.exe"),
    (
        "dropper.ps1",
        "C:\\ProgramData\\dropper.ps1",
        "powershell.exe",
    ),
    ("miner", "/tmp/.x/miner", "bash"),
    (
        "svc-update.exe",
        "C:\\Windows\\Temp\\svc-update.exe",
        "svchost.exe",
    ),
];

impl State {
    /// A tenant generated from the config's seed.
    pub fn seeded(config: &SimConfig) -> State {
        let mut state = State {
            config: config.clone(),
            rng: fastrand::Rng::with_seed(config.seed),
            next_id: 1_900_000_000_000_000_000 + config.seed % 1000 * 1_000_000,
            sites: Vec::new(),
            groups: Vec::new(),
            agents: Vec::new(),
            threats: Vec::new(),
            activities: Vec::new(),
            archives: HashMap::new(),
            dv_queries: Vec::new(),
            power_queries: Vec::new(),
            lrq_queries: HashMap::new(),
            lrq_calls: VecDeque::new(),
            tasks: Vec::new(),
            exclusions: Vec::new(),
            restrictions: Vec::new(),
            firewall_rules: Vec::new(),
            alerts: Vec::new(),
            counters: Counters::default(),
            faults: VecDeque::new(),
            route_faults: HashMap::new(),
            allowance: HashMap::new(),
            started: Utc::now(),
        };
        state.seed_tenant();
        state
    }

    /// A fresh object id (19 digits, like SentinelOne's).
    pub fn id(&mut self) -> String {
        self.next_id += 1 + self.rng.u64(0..1000);
        self.next_id.to_string()
    }

    fn seed_tenant(&mut self) {
        let sites = self.config.sites.max(1);
        for s in 0..sites {
            let id = self.id();
            self.sites.push(Site {
                id,
                name: format!("Site {}", s + 1),
            });
            for name in ["Default Group", "Servers"] {
                let id = self.id();
                self.groups.push(Group {
                    id,
                    name: name.to_string(),
                    site: s,
                });
            }
        }
        for a in 0..self.config.agents {
            let id = self.id();
            let site = a % sites;
            let os_type = ["windows", "windows", "macos", "linux"][a % 4];
            let prefix = match os_type {
                "windows" => "win",
                "macos" => "mac",
                _ => "lnx",
            };
            let uuid = format!("{:032x}", self.rng.u128(..));
            self.agents.push(Agent {
                id,
                uuid,
                computer_name: format!("{prefix}-lab-{:03}", a + 1),
                ip: format!("10.{}.{}.{}", site + 1, a / 250, a % 250 + 2),
                os_type,
                site,
                group: site * 2 + (a / sites) % 2,
                network_status: "connected".to_string(),
            });
        }
        let now = self.started;
        for t in 0..self.config.threats.min(self.config.agents * 4) {
            let (name, path, process) = THREAT_NAMES[t % THREAT_NAMES.len()];
            let id = self.id();
            let agent = t % self.config.agents.max(1);
            let created_at = now - chrono::Duration::minutes(17 * (t as i64 + 1));
            let sha1 = format!("{:040x}", self.rng.u128(..) ^ (t as u128));
            self.threats.push(Threat {
                id,
                agent,
                name: name.to_string(),
                file_path: path.to_string(),
                sha1,
                process: process.to_string(),
                created_at,
                updated_at: created_at,
                mitigation_status: "active".to_string(),
                incident_status: "unresolved".to_string(),
                actions: Vec::new(),
            });
        }
        for (i, threat) in self.threats.clone().iter().enumerate() {
            let alert_id = self.id();
            let activity_id = self.id();
            let agent = &self.agents[threat.agent];
            let alert = json!({
                "alertInfo": {
                    "alertId": alert_id,
                    "createdAt": threat.created_at.to_rfc3339(),
                    "eventType": "PROCESSCREATION",
                    "incidentStatus": "Unresolved",
                    "analystVerdict": "Undefined",
                    "source": "STAR",
                },
                "ruleInfo": {
                    "name": format!("Suspicious child of {}", threat.process),
                    "severity": SEVERITIES[i % SEVERITIES.len()],
                },
                "agentDetectionInfo": { "name": agent.computer_name, "osName": agent.os_type },
                "agentRealtimeInfo": { "id": agent.id },
                "sourceProcessInfo": { "name": threat.process, "fileHashSha1": threat.sha1 },
            });
            self.alerts.push(alert);
            let activity = Activity {
                id: activity_id,
                activity_type: 4003,
                agent_id: Some(agent.id.clone()),
                threat_id: Some(threat.id.clone()),
                created_at: threat.created_at,
                description: format!("Threat detected: {}.", threat.name),
                data: json!({ "computerName": agent.computer_name, "filePath": threat.file_path }),
                visible_at: Instant::now(),
            };
            self.activities.push(activity);
        }
    }

    /// Records an activity, listed from `after` on.
    pub fn add_activity(
        &mut self,
        activity_type: i64,
        agent_id: Option<String>,
        threat_id: Option<String>,
        description: String,
        data: Value,
        after: Duration,
    ) -> String {
        let id = self.id();
        self.activities.push(Activity {
            id: id.clone(),
            activity_type,
            agent_id,
            threat_id,
            created_at: Utc::now() + after,
            description,
            data,
            visible_at: Instant::now() + after,
        });
        id
    }

    pub fn agent_json(&self, agent: &Agent) -> Value {
        let site = &self.sites[agent.site];
        let group = &self.groups[agent.group];
        json!({
            "id": agent.id,
            "uuid": agent.uuid,
            "computerName": agent.computer_name,
            "osType": agent.os_type,
            "osName": match agent.os_type {
                "windows" => "Windows 11 Pro",
                "macos" => "macOS Sonoma",
                _ => "Ubuntu 22.04",
            },
            "agentVersion": "23.4.2.14",
            "isActive": true,
            "networkStatus": agent.network_status,
            "lastIpToMgmt": agent.ip,
            "networkInterfaces": [{ "name": "eth0", "inet": [agent.ip], "physical": "00:50:56:aa:bb:cc" }],
            "siteId": site.id,
            "siteName": site.name,
            "groupId": group.id,
            "groupName": group.name,
            "accountId": "1000000000000000001",
            "accountName": "Simulated Account",
            "activeThreats": self.threats.iter()
                .filter(|t| self.agents[t.agent].id == agent.id && t.mitigation_status == "active")
                .count(),
            "infected": self.threats.iter()
                .any(|t| self.agents[t.agent].id == agent.id && t.mitigation_status == "active"),
            "createdAt": self.started.to_rfc3339(),
            "updatedAt": self.started.to_rfc3339(),
        })
    }

    pub fn threat_json(&self, threat: &Threat) -> Value {
        let agent = &self.agents[threat.agent];
        let site = &self.sites[agent.site];
        json!({
            "id": threat.id,
            "agentRealtimeInfo": {
                "agentId": agent.id,
                "agentUuid": agent.uuid,
                "agentComputerName": agent.computer_name,
                "agentOsType": agent.os_type,
                "agentIsActive": true,
                "agentNetworkStatus": agent.network_status,
                "agentInfected": threat.mitigation_status == "active",
                "siteId": site.id,
                "siteName": site.name,
            },
            "agentDetectionInfo": {
                "accountId": "1000000000000000001",
                "siteId": site.id,
                "siteName": site.name,
                "agentIpV4": agent.ip,
                "agentOsName": agent.os_type,
            },
            "threatInfo": {
                "threatId": threat.id,
                "threatName": threat.name,
                "filePath": threat.file_path,
                "sha1": threat.sha1,
                "originatorProcess": threat.process,
                "classification": "Malware",
                "confidenceLevel": "malicious",
                "mitigationStatus": threat.mitigation_status,
                "incidentStatus": threat.incident_status,
                "analystVerdict": "undefined",
                "createdAt": threat.created_at.to_rfc3339(),
                "updatedAt": threat.updated_at.to_rfc3339(),
                "storyline": format!("{:016X}", threat.sha1.len() as u64 * 7919),
            },
            "mitigationStatus": threat.actions.iter().map(|(action, at)| json!({
                "action": action,
                "status": "success",
                "mitigationStartedAt": at.to_rfc3339(),
                "mitigationEndedAt": at.to_rfc3339(),
            })).collect::<Vec<_>>(),
            "indicators": [],
        })
    }
}
