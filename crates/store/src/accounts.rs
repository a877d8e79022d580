//! Workspaces, members, sessions and API keys.

use crate::sql::{args, stored_row};
use crate::{Result, Store};
use serde::Serialize;

stored_row! {
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct Workspace, columns workspace_columns {
        pub id: String,
        pub name: String,
        pub widget_key: String,
        #[serde(skip)]
        pub webhook_secret: String,
        /// JSON object of workspace settings.
        #[serde(skip)]
        pub settings: String,
        pub created_at: i64,
        /// The flow a new conversation starts on when no live flow's entry rules hold.
        pub fallback_flow_id: Option<String>,
    }
}

stored_row! {
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct Member, columns member_columns {
        pub id: String,
        pub workspace_id: String,
        pub email: String,
        pub name: String,
        pub role: String,
        #[serde(skip)]
        pub password_hash: String,
        pub created_at: i64,
        /// `online`, `away` or `offline`.
        pub presence: String,
        /// When the member was last given a conversation (round-robin picks the longest idle).
        pub last_assigned_at: i64,
        /// When an admin deactivated the member (they cannot sign in or be given conversations).
        pub deactivated_at: Option<i64>,
    }
}

stored_row! {
    #[derive(Debug, Clone, PartialEq)]
    pub struct Session, columns session_columns {
        pub token_hash: String,
        pub member_id: String,
        pub csrf_token: String,
        pub expires_at: i64,
    }
}

stored_row! {
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct ApiKey, columns api_key_columns {
        pub id: String,
        pub workspace_id: String,
        pub name: String,
        #[serde(skip)]
        pub key_hash: String,
        /// The first characters of the key, to recognise it in a list.
        pub prefix: String,
        pub role: String,
        pub created_at: i64,
        pub revoked_at: Option<i64>,
    }
}

pub struct NewWorkspace<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub widget_key: &'a str,
    pub webhook_secret: &'a str,
    pub settings: &'a str,
    pub now: i64,
}

pub struct NewMember<'a> {
    pub id: &'a str,
    pub workspace_id: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    pub role: &'a str,
    pub password_hash: &'a str,
    pub now: i64,
}

stored_row! {
    /// An invitation to join a workspace, accepted through a link that carries its token.
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct Invite, columns invite_columns {
        pub id: String,
        pub workspace_id: String,
        #[serde(skip)]
        pub token_hash: String,
        pub email: String,
        pub role: String,
        /// The member who invited.
        pub invited_by: String,
        pub created_at: i64,
        pub expires_at: i64,
        pub accepted_at: Option<i64>,
        pub revoked_at: Option<i64>,
    }
}

pub struct NewApiKey<'a> {
    pub id: &'a str,
    pub workspace_id: &'a str,
    pub name: &'a str,
    pub key_hash: &'a str,
    pub prefix: &'a str,
    pub role: &'a str,
    pub now: i64,
}

impl Store {
    pub async fn create_workspace(&self, w: NewWorkspace<'_>) -> Result<()> {
        self.write("INSERT INTO workspaces (id, name, widget_key, webhook_secret, settings, created_at) VALUES ($1, $2, $3, $4, $5, $6)", args![w.id, w.name, w.widget_key, w.webhook_secret, w.settings, w.now]).await?;
        Ok(())
    }

    pub async fn workspace(&self, id: &str) -> Result<Option<Workspace>> {
        self.read_optional(
            concat!("SELECT ", workspace_columns!(), " FROM workspaces WHERE id = $1"),
            args![id],
        )
        .await
    }

    pub async fn workspace_by_widget_key(&self, key: &str) -> Result<Option<Workspace>> {
        self.read_optional(
            concat!(
                "SELECT ",
                workspace_columns!(),
                " FROM workspaces WHERE widget_key = $1"
            ),
            args![key],
        )
        .await
    }

    pub async fn workspaces(&self) -> Result<Vec<Workspace>> {
        self.read_all(
            concat!(
                "SELECT ",
                workspace_columns!(),
                " FROM workspaces ORDER BY created_at, id"
            ),
            args![],
        )
        .await
    }

    pub async fn update_workspace_settings(&self, id: &str, settings: &str) -> Result<()> {
        self.write("UPDATE workspaces SET settings = $1 WHERE id = $2", args![settings, id])
            .await?;
        Ok(())
    }

    /// The workspace's AI provider settings (JSON), if it has any.
    pub async fn workspace_ai_settings(&self, id: &str) -> Result<Option<String>> {
        let row: Option<(Option<String>,)> = self
            .read_optional("SELECT ai_settings FROM workspaces WHERE id = $1", args![id])
            .await?;
        Ok(row.and_then(|(s,)| s))
    }

    pub async fn update_workspace_ai_settings(&self, id: &str, settings: Option<&str>) -> Result<()> {
        self.write(
            "UPDATE workspaces SET ai_settings = $1 WHERE id = $2",
            args![settings, id],
        )
        .await?;
        Ok(())
    }

    pub async fn create_member(&self, m: NewMember<'_>) -> Result<()> {
        self.write("INSERT INTO members (id, workspace_id, email, name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)", args![m.id, m.workspace_id, m.email, m.name, m.role, m.password_hash, m.now]).await?;
        Ok(())
    }

    pub async fn member(&self, id: &str) -> Result<Option<Member>> {
        self.read_optional(
            concat!("SELECT ", member_columns!(), " FROM members WHERE id = $1"),
            args![id],
        )
        .await
    }

    pub async fn member_by_email(&self, email: &str) -> Result<Option<Member>> {
        self.read_optional(
            concat!("SELECT ", member_columns!(), " FROM members WHERE email = $1"),
            args![email],
        )
        .await
    }

    pub async fn members(&self, workspace_id: &str) -> Result<Vec<Member>> {
        self.read_all(
            concat!(
                "SELECT ",
                member_columns!(),
                " FROM members WHERE workspace_id = $1 ORDER BY created_at, id"
            ),
            args![workspace_id],
        )
        .await
    }

    /// Changes a member's role; false when the workspace has no such member.
    pub async fn set_member_role(&self, workspace_id: &str, id: &str, role: &str) -> Result<bool> {
        let n = self
            .write(
                "UPDATE members SET role = $1 WHERE id = $2 AND workspace_id = $3",
                args![role, id, workspace_id],
            )
            .await?;
        self.accounts_changed();
        Ok(n > 0)
    }

    /// Deactivates a member (`Some(when)`: signed out everywhere, offline) or brings them back
    /// (`None`); false when the workspace has no such member.
    pub async fn set_member_deactivated(&self, workspace_id: &str, id: &str, at: Option<i64>) -> Result<bool> {
        let mut tx = self.begin().await?;
        let n = tx
            .execute(
                "UPDATE members SET deactivated_at = $1, presence = 'offline' WHERE id = $2 AND workspace_id = $3",
                args![at, id, workspace_id],
            )
            .await?;
        if n > 0 && at.is_some() {
            tx.execute("DELETE FROM sessions WHERE member_id = $1", args![id])
                .await?;
        }
        tx.commit().await?;
        self.accounts_changed();
        Ok(n > 0)
    }

    pub async fn create_invite(&self, i: &Invite) -> Result<()> {
        self.write(
            concat!(
                "INSERT INTO invites (",
                invite_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            ),
            args![
                &i.id,
                &i.workspace_id,
                &i.token_hash,
                &i.email,
                &i.role,
                &i.invited_by,
                i.created_at,
                i.expires_at,
                i.accepted_at,
                i.revoked_at
            ],
        )
        .await?;
        Ok(())
    }

    pub async fn invite_by_token(&self, token_hash: &str) -> Result<Option<Invite>> {
        self.read_optional(
            concat!("SELECT ", invite_columns!(), " FROM invites WHERE token_hash = $1"),
            args![token_hash],
        )
        .await
    }

    /// The workspace's invitations not yet accepted, revoked or expired, newest first.
    pub async fn pending_invites(&self, workspace_id: &str, now: i64) -> Result<Vec<Invite>> {
        self.read_all(
            concat!("SELECT ", invite_columns!(), " FROM invites WHERE workspace_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at DESC, id"),
            args![workspace_id, now],
        )
        .await
    }

    /// Revokes a pending invitation; false when the workspace has none with this id.
    pub async fn revoke_invite(&self, workspace_id: &str, id: &str, now: i64) -> Result<bool> {
        let n = self.write("UPDATE invites SET revoked_at = $1 WHERE id = $2 AND workspace_id = $3 AND accepted_at IS NULL AND revoked_at IS NULL", args![now, id, workspace_id]).await?;
        Ok(n > 0)
    }

    /// Accepts an invitation: the member is created and the invitation used, together. False
    /// when the invitation was used, revoked or expired meanwhile (nothing is written).
    pub async fn accept_invite(&self, invite_id: &str, m: NewMember<'_>) -> Result<bool> {
        let mut tx = self.begin().await?;
        let used = tx
            .execute(
                "UPDATE invites SET accepted_at = $1 WHERE id = $2 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $1",
                args![m.now, invite_id],
            )
            .await?;
        if used == 0 {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO members (id, workspace_id, email, name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            args![m.id, m.workspace_id, m.email, m.name, m.role, m.password_hash, m.now],
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn create_session(&self, s: &Session) -> Result<()> {
        self.write(
            concat!(
                "INSERT INTO sessions (",
                session_columns!(),
                ") VALUES ($1, $2, $3, $4)"
            ),
            args![&s.token_hash, &s.member_id, &s.csrf_token, s.expires_at],
        )
        .await?;
        Ok(())
    }

    pub async fn session(&self, token_hash: &str) -> Result<Option<Session>> {
        self.read_optional(
            concat!("SELECT ", session_columns!(), " FROM sessions WHERE token_hash = $1"),
            args![token_hash],
        )
        .await
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        self.write("DELETE FROM sessions WHERE token_hash = $1", args![token_hash])
            .await?;
        self.accounts_changed();
        Ok(())
    }

    pub async fn create_api_key(&self, k: NewApiKey<'_>) -> Result<()> {
        self.write("INSERT INTO api_keys (id, workspace_id, name, key_hash, prefix, role, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)", args![k.id, k.workspace_id, k.name, k.key_hash, k.prefix, k.role, k.now]).await?;
        Ok(())
    }

    pub async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>> {
        self.read_optional(
            concat!("SELECT ", api_key_columns!(), " FROM api_keys WHERE key_hash = $1"),
            args![key_hash],
        )
        .await
    }

    pub async fn api_keys(&self, workspace_id: &str) -> Result<Vec<ApiKey>> {
        self.read_all(
            concat!(
                "SELECT ",
                api_key_columns!(),
                " FROM api_keys WHERE workspace_id = $1 ORDER BY created_at, id"
            ),
            args![workspace_id],
        )
        .await
    }

    /// Revokes a key of the workspace; false when there is no such key.
    pub async fn revoke_api_key(&self, workspace_id: &str, id: &str, now: i64) -> Result<bool> {
        let done = self
            .write(
                "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND workspace_id = $3 AND revoked_at IS NULL",
                args![now, id, workspace_id],
            )
            .await?;
        Ok(done > 0)
    }
}
