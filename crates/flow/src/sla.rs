//! Agent reply targets (SLAs): how long a conversation a person owns may wait for the agent's
//! first reply, and for the next reply after each customer message, and what happens when a
//! target passes. Targets are settings of a team (or the workspace's default queue); the
//! runtime keeps the running clock in [`ReplyClock`] and reports a missed target as
//! `Effect::ReplyMissed`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A team's reply targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ReplyTargets {
    /// Seconds from assignment to the agent's first reply (0: no target).
    pub first_reply_seconds: u32,
    /// Seconds from a customer's message to the agent's next reply (0: no target).
    pub next_reply_seconds: u32,
    /// What happens when a target passes without a reply.
    pub when_missed: WhenMissed,
}

/// Longest target accepted: a week.
pub const MAX_TARGET_SECONDS: u32 = 7 * 24 * 3600;

impl ReplyTargets {
    /// The seconds of `target` (0: none).
    pub fn seconds(&self, target: ReplyTarget) -> u32 {
        match target {
            ReplyTarget::FirstReply => self.first_reply_seconds,
            ReplyTarget::NextReply => self.next_reply_seconds,
        }
    }

    /// The first field that is out of range, with why.
    pub fn invalid_field(&self) -> Option<(&'static str, String)> {
        let too_long = |s: u32| s > MAX_TARGET_SECONDS;
        if too_long(self.first_reply_seconds) {
            return Some(("first_reply_seconds", format!("at most {MAX_TARGET_SECONDS} (a week)")));
        }
        if too_long(self.next_reply_seconds) {
            return Some(("next_reply_seconds", format!("at most {MAX_TARGET_SECONDS} (a week)")));
        }
        None
    }
}

/// What happens to a conversation whose agent missed a reply target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WhenMissed {
    /// Back to the team's queue, unassigned, for anyone to claim.
    #[default]
    Requeue,
    /// To the next online agent of the team in round-robin (the queue when nobody else is
    /// online).
    NextAgent,
    /// The flow goes on from the Handover node's `timeout` port (the queue when the
    /// conversation did not come through a Handover node).
    Flow,
}

impl WhenMissed {
    pub const ALL: [WhenMissed; 3] = [WhenMissed::Requeue, WhenMissed::NextAgent, WhenMissed::Flow];

    pub fn as_str(self) -> &'static str {
        match self {
            WhenMissed::Requeue => "requeue",
            WhenMissed::NextAgent => "next_agent",
            WhenMissed::Flow => "flow",
        }
    }
}

/// Which target a reply was due by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyTarget {
    FirstReply,
    NextReply,
}

impl ReplyTarget {
    pub fn as_str(self) -> &'static str {
        match self {
            ReplyTarget::FirstReply => "first_reply",
            ReplyTarget::NextReply => "next_reply",
        }
    }
}

/// The reply clock of a conversation a person owns: the team whose targets apply and the
/// target running now, if any (none after the agent replied, until the customer writes again).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReplyClock {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running: Option<RunningTarget>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunningTarget {
    pub timer: u64,
    pub target: ReplyTarget,
}
