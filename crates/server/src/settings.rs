//! Workspace settings (stored as JSON on the workspace) and the [`World`] a turn reads.

use baton_flow::document::{Category, EscapeKind};
use baton_flow::hours::BusinessHours;
use baton_flow::runtime::{EscapeSettings, HandoffSettings, ReplyTargets, StaticWorld, World};
use baton_store::Store;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use utoipa::ToSchema;

/// A workspace's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct WorkspaceSettings {
    /// Hand-off to people switched on.
    pub handoff_enabled: bool,
    /// Messages and times of the hand-off (Handover nodes may override them).
    #[schema(value_type = HandoffShape)]
    pub handoff: HandoffSettings,
    /// Web origins allowed to start widget conversations (empty: any origin): scheme and host,
    /// no path, no trailing `/`.
    #[schema(schema_with = crate::api_enums::origins_schema)]
    pub allowed_origins: Vec<String>,
    /// How queued conversations find an agent: agents claim them (`manual`), or the online
    /// agent of the team who has waited longest gets them (`round_robin`).
    pub assignment: Assignment,
    /// Hours of the workspace's default queue (Handover nodes without a team); none: always open.
    #[schema(value_type = Option<crate::api_enums::BusinessHoursShape>)]
    pub business_hours: Option<BusinessHours>,
    /// Escapes at questions: the phrases that ask for a person, start over or cancel, whether
    /// corrections are read, and what is said (docs/flow-format.md#escapes).
    #[schema(value_type = EscapesShape)]
    pub escapes: EscapeSettings,
    /// Hours a conversation may wait on the customer's answer before it closes as `abandoned`
    /// (0: never).
    #[schema(maximum = 8760)]
    pub abandon_after_hours: u32,
    /// Reply targets of the agents of the default queue and of teams without their own
    /// (docs/handover.md#reply-targets).
    #[schema(value_type = ReplyTargetsShape)]
    pub reply_targets: ReplyTargets,
    /// Saved replies agents insert and edit before sending (at most 200).
    pub canned_replies: Vec<CannedReply>,
}

/// A saved reply: its text is a template over the conversation's variables, the contact
/// (`contact.name`) and the agent (`agent.name`), e.g. `Hi {{ contact.name | default("there") }}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CannedReply {
    /// What agents pick it by (1 to 100 characters, unique).
    #[schema(min_length = 1, max_length = 100)]
    pub title: String,
    /// 1 to 2,000 characters.
    #[schema(min_length = 1, max_length = 2000)]
    pub text: String,
}

/// Most canned replies a workspace keeps.
pub const MAX_CANNED_REPLIES: usize = 200;

impl CannedReply {
    /// The first field that does not hold, with why, of the reply at `index`.
    pub fn invalid_field(&self, index: usize, earlier: &[CannedReply]) -> Option<(String, String)> {
        let field = |name: &str| format!("canned_replies[{index}].{name}");
        let title = self.title.trim();
        if title.is_empty() || title.chars().count() > 100 {
            return Some((field("title"), "1 to 100 characters".into()));
        }
        if earlier.iter().any(|c| c.title.trim().eq_ignore_ascii_case(title)) {
            return Some((field("title"), format!("another canned reply is called `{title}`")));
        }
        if self.text.trim().is_empty() || self.text.chars().count() > 2000 {
            return Some((field("text"), "1 to 2,000 characters".into()));
        }
        if let Err(e) = baton_flow::template::Template::parse(&self.text) {
            return Some((field("text"), e.to_string()));
        }
        None
    }
}

/// The schema of reply targets (`baton_flow::sla::ReplyTargets`; a test checks the two have the
/// same fields).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ReplyTargets)]
pub struct ReplyTargetsShape {
    /// Seconds from assignment to the agent's first reply (0: no target).
    #[schema(maximum = 604800)]
    pub first_reply_seconds: u32,
    /// Seconds from a customer's message to the agent's next reply (0: no target).
    #[schema(maximum = 604800)]
    pub next_reply_seconds: u32,
    /// When a target passes: back to the queue (`requeue`), to the next online agent of the
    /// team (`next_agent`), or on from the Handover node's `timeout` port (`flow`).
    #[schema(value_type = crate::api_enums::WhenMissedShape)]
    pub when_missed: String,
}

/// The schema of the hand-off settings (`baton_flow::runtime::HandoffSettings`; a test checks
/// the two have the same fields).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = HandoffSettings)]
pub struct HandoffShape {
    pub confirmation_message: String,
    pub off_hours_message: String,
    pub no_agent_message: String,
    pub stalling_message: String,
    pub cancelled_message: String,
    /// 0: never send the stalling message.
    pub stalling_seconds: u32,
    /// 0: wait forever.
    pub max_wait_seconds: u32,
}

/// The schema of the escape settings (`baton_flow::escape::EscapeSettings`; a test checks the
/// two have the same fields).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = EscapeSettings)]
pub struct EscapesShape {
    /// Phrases that ask for a person (empty: off), at most 50 of at most 100 characters.
    #[schema(max_items = 50)]
    pub human: Vec<String>,
    #[schema(max_items = 50)]
    pub start_over: Vec<String>,
    #[schema(max_items = 50)]
    pub cancel: Vec<String>,
    pub corrections: bool,
    /// Ask the intent classifier when a typed text is not an answer and no phrase is in it.
    pub classify: bool,
    #[schema(max_length = 1000)]
    pub cancel_message: String,
    #[schema(max_length = 1000)]
    pub start_over_message: String,
    #[schema(max_length = 1000)]
    pub correction_message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Assignment {
    #[default]
    Manual,
    RoundRobin,
}

impl Default for WorkspaceSettings {
    fn default() -> Self {
        WorkspaceSettings {
            handoff_enabled: true,
            handoff: HandoffSettings::default(),
            allowed_origins: Vec::new(),
            assignment: Assignment::Manual,
            business_hours: None,
            escapes: EscapeSettings::default(),
            abandon_after_hours: baton_flow::runtime::default_abandon_after_hours(),
            reply_targets: ReplyTargets::default(),
            canned_replies: Vec::new(),
        }
    }
}

/// Settings by workspace (and its webhook signing secret), kept for a moment (other instances
/// may change them) and dropped at once when they change here.
pub struct SettingsCache {
    store: Store,
    cache: Mutex<HashMap<String, CachedWorkspace>>,
}

/// Why a workspace's settings could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("storage: {0}")]
    Store(#[from] baton_store::StoreError),
    #[error("workspace not found")]
    NoWorkspace,
}

#[derive(Clone)]
struct CachedWorkspace {
    read_at: Instant,
    settings: Arc<WorkspaceSettings>,
    webhook_secret: Arc<str>,
}

/// How long a workspace's settings are reused before they are read again.
const SETTINGS_TTL: Duration = Duration::from_millis(2000);

impl SettingsCache {
    pub fn new(store: Store) -> SettingsCache {
        SettingsCache {
            store,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub async fn get(&self, workspace_id: &str) -> Result<Arc<WorkspaceSettings>, SettingsError> {
        Ok(self.workspace(workspace_id).await?.settings)
    }

    /// The secret the workspace's webhook calls are signed with.
    pub async fn webhook_secret(&self, workspace_id: &str) -> Result<Arc<str>, SettingsError> {
        Ok(self.workspace(workspace_id).await?.webhook_secret)
    }

    async fn workspace(&self, workspace_id: &str) -> Result<CachedWorkspace, SettingsError> {
        if let Some(cached) = self.cache.lock().unwrap_or_else(|p| p.into_inner()).get(workspace_id) {
            if cached.read_at.elapsed() < SETTINGS_TTL {
                return Ok(cached.clone());
            }
        }
        let ws = self
            .store
            .workspace(workspace_id)
            .await?
            .ok_or(SettingsError::NoWorkspace)?;
        let settings: WorkspaceSettings = serde_json::from_str(&ws.settings).unwrap_or_default();
        let cached = CachedWorkspace {
            read_at: Instant::now(),
            settings: Arc::new(settings),
            webhook_secret: ws.webhook_secret.into(),
        };
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(workspace_id.to_string(), cached.clone());
        Ok(cached)
    }

    pub fn forget(&self, workspace_id: &str) {
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(workspace_id);
    }
}

/// Who can take a conversation right now: teams' hours, online agents and reply targets, per
/// workspace.
#[derive(Debug, Clone, Default)]
pub struct Availability {
    /// By team slug.
    pub teams: HashMap<String, TeamAvailability>,
    /// Emails of every online member of the workspace.
    pub online: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct TeamAvailability {
    pub hours: Option<BusinessHours>,
    /// Online members' emails.
    pub online: Vec<String>,
    /// None: the workspace's.
    pub reply_targets: Option<ReplyTargets>,
}

/// Availability by workspace, kept for a moment and dropped when presence or teams change.
pub struct AvailabilityCache {
    store: Store,
    cache: Mutex<HashMap<String, (Instant, Arc<Availability>)>>,
}

/// How long a workspace's availability is reused (changes on this instance drop it at once).
const AVAILABILITY_TTL: Duration = Duration::from_millis(1000);

impl AvailabilityCache {
    pub fn new(store: Store) -> AvailabilityCache {
        AvailabilityCache {
            store,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub async fn get(&self, workspace_id: &str) -> Result<Arc<Availability>, SettingsError> {
        if let Some((at, a)) = self.cache.lock().unwrap_or_else(|p| p.into_inner()).get(workspace_id) {
            if at.elapsed() < AVAILABILITY_TTL {
                return Ok(a.clone());
            }
        }
        let teams = self.store.teams(workspace_id).await?;
        let memberships = self.store.team_members(workspace_id).await?;
        let members = self.store.members(workspace_id).await?;
        let online: Vec<&baton_store::Member> = members.iter().filter(|m| m.presence == "online").collect();
        let mut availability = Availability {
            teams: HashMap::new(),
            online: online.iter().map(|m| m.email.clone()).collect(),
        };
        for t in &teams {
            let hours = t.business_hours.as_deref().and_then(|h| serde_json::from_str(h).ok());
            let reply_targets = t.reply_targets.as_deref().and_then(|r| serde_json::from_str(r).ok());
            let emails = memberships
                .iter()
                .filter(|tm| tm.team_id == t.id && tm.presence == "online")
                .filter_map(|tm| online.iter().find(|m| m.id == tm.member_id).map(|m| m.email.clone()))
                .collect();
            let team = TeamAvailability {
                hours,
                online: emails,
                reply_targets,
            };
            availability.teams.insert(t.slug.clone(), team);
        }
        let availability = Arc::new(availability);
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(workspace_id.to_string(), (Instant::now(), availability.clone()));
        Ok(availability)
    }

    pub fn forget(&self, workspace_id: &str) {
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(workspace_id);
    }
}

/// What the flow may read about the workspace right now: hand-off settings, business hours at
/// the server's clock, and which agents are online.
pub struct ServerWorld<'a> {
    settings: &'a WorkspaceSettings,
    availability: &'a Availability,
    intent: &'a baton_ai::OfflineProvider,
    now_ms: i64,
}

impl<'a> ServerWorld<'a> {
    pub fn new(
        settings: &'a WorkspaceSettings,
        availability: &'a Availability,
        intent: &'a baton_ai::OfflineProvider,
        now_ms: i64,
    ) -> ServerWorld<'a> {
        ServerWorld {
            settings,
            availability,
            intent,
            now_ms,
        }
    }
}

impl WorkspaceSettings {
    /// The world of a simulated conversation of this workspace (the builder's test
    /// conversation, `baton chat --settings`): its hand-off, escapes, silence and reply targets
    /// (the workspace's, for every team), read with `intent`.
    pub fn simulated_world(&self, intent: &baton_ai::OfflineProvider) -> StaticWorld {
        StaticWorld {
            settings: self.handoff.clone(),
            handoff_enabled: self.handoff_enabled,
            escapes: self.escapes.clone(),
            abandon_after_hours: self.abandon_after_hours,
            reply_targets: self.reply_targets,
            ..intent.default_world()
        }
    }
}

impl World for ServerWorld<'_> {
    fn settings(&self) -> &HandoffSettings {
        &self.settings.handoff
    }
    fn handoff_enabled(&self) -> bool {
        self.settings.handoff_enabled
    }
    fn is_open(&self, team: Option<&str>) -> bool {
        let hours = match team.and_then(|t| self.availability.teams.get(t)) {
            Some(t) => t.hours.as_ref(),
            None => self.settings.business_hours.as_ref(),
        };
        hours.is_none_or(|h| h.is_open(self.now_ms))
    }
    fn agents_available(&self, team: Option<&str>, agent: Option<&str>) -> bool {
        let pool: &[String] = match team {
            Some(t) => self.availability.teams.get(t).map_or(&[], |t| t.online.as_slice()),
            None => &self.availability.online,
        };
        match agent {
            Some(a) => pool.iter().any(|e| e.eq_ignore_ascii_case(a)),
            None => !pool.is_empty(),
        }
    }
    fn escapes(&self) -> &EscapeSettings {
        &self.settings.escapes
    }
    fn abandon_after_hours(&self) -> u32 {
        self.settings.abandon_after_hours
    }
    fn reply_targets(&self, team: Option<&str>) -> ReplyTargets {
        team.and_then(|t| self.availability.teams.get(t))
            .and_then(|t| t.reply_targets)
            .unwrap_or(self.settings.reply_targets)
    }
    fn escape_intent(&self, text: &str, categories: &[Category]) -> Option<EscapeKind> {
        EscapeKind::from_name(&self.intent.escape_intent(text, categories)?)
    }
}
