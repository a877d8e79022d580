//! Workspaces, members, sessions and API keys.

use crate::sql::{args, sqlite_row};
use crate::{on_pool, on_read, Result, Store};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Workspace {
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

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Member {
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

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Session {
    pub token_hash: String,
    pub member_id: String,
    pub csrf_token: String,
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ApiKey {
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

/// An invitation to join a workspace, accepted through a link that carries its token.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Invite {
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

pub struct NewApiKey<'a> {
    pub id: &'a str,
    pub workspace_id: &'a str,
    pub name: &'a str,
    pub key_hash: &'a str,
    pub prefix: &'a str,
    pub role: &'a str,
    pub now: i64,
}

/// The columns of `invites`, in the order `Invite` is read.
macro_rules! invite_columns {
    () => {
        "id, workspace_id, token_hash, email, role, invited_by, created_at, expires_at, accepted_at, revoked_at"
    };
}

impl Store {
    pub async fn create_workspace(&self, w: NewWorkspace<'_>) -> Result<()> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO workspaces (id, name, widget_key, webhook_secret, settings, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(w.id).bind(w.name).bind(w.widget_key).bind(w.webhook_secret).bind(w.settings).bind(w.now)
            .execute(pool).await?.rows_affected());
        Ok(())
    }

    pub async fn workspace(&self, id: &str) -> Result<Option<Workspace>> {
        self.read_optional(
            "SELECT id, name, widget_key, webhook_secret, settings, created_at, fallback_flow_id FROM workspaces WHERE id = $1",
            args![id],
        )
        .await
    }

    pub async fn workspace_by_widget_key(&self, key: &str) -> Result<Option<Workspace>> {
        self.read_optional(
            "SELECT id, name, widget_key, webhook_secret, settings, created_at, fallback_flow_id FROM workspaces WHERE widget_key = $1",
            args![key],
        )
        .await
    }

    pub async fn workspaces(&self) -> Result<Vec<Workspace>> {
        Ok(on_read!(self, pool => sqlx::query_as(
            "SELECT id, name, widget_key, webhook_secret, settings, created_at, fallback_flow_id FROM workspaces ORDER BY created_at, id")
            .fetch_all(pool).await?))
    }

    pub async fn update_workspace_settings(&self, id: &str, settings: &str) -> Result<()> {
        on_pool!(self, pool => sqlx::query("UPDATE workspaces SET settings = $1 WHERE id = $2")
            .bind(settings).bind(id).execute(pool).await?.rows_affected());
        Ok(())
    }

    /// The workspace's AI provider settings (JSON), if it has any.
    pub async fn workspace_ai_settings(&self, id: &str) -> Result<Option<String>> {
        let row: Option<(Option<String>,)> = on_read!(self, pool => sqlx::query_as(
            "SELECT ai_settings FROM workspaces WHERE id = $1")
            .bind(id).fetch_optional(pool).await?);
        Ok(row.and_then(|(s,)| s))
    }

    pub async fn update_workspace_ai_settings(&self, id: &str, settings: Option<&str>) -> Result<()> {
        on_pool!(self, pool => sqlx::query("UPDATE workspaces SET ai_settings = $1 WHERE id = $2")
            .bind(settings).bind(id).execute(pool).await?.rows_affected());
        Ok(())
    }

    pub async fn create_member(&self, m: NewMember<'_>) -> Result<()> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO members (id, workspace_id, email, name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(m.id).bind(m.workspace_id).bind(m.email).bind(m.name).bind(m.role).bind(m.password_hash).bind(m.now)
            .execute(pool).await?.rows_affected());
        Ok(())
    }

    pub async fn member(&self, id: &str) -> Result<Option<Member>> {
        self.read_optional("SELECT id, workspace_id, email, name, role, password_hash, created_at, presence, last_assigned_at, deactivated_at FROM members WHERE id = $1", args![id]).await
    }

    pub async fn member_by_email(&self, email: &str) -> Result<Option<Member>> {
        Ok(on_read!(self, pool => sqlx::query_as(
            "SELECT id, workspace_id, email, name, role, password_hash, created_at, presence, last_assigned_at, deactivated_at FROM members WHERE email = $1")
            .bind(email).fetch_optional(pool).await?))
    }

    pub async fn members(&self, workspace_id: &str) -> Result<Vec<Member>> {
        Ok(on_read!(self, pool => sqlx::query_as(
            "SELECT id, workspace_id, email, name, role, password_hash, created_at, presence, last_assigned_at, deactivated_at FROM members WHERE workspace_id = $1 ORDER BY created_at, id")
            .bind(workspace_id).fetch_all(pool).await?))
    }

    /// Changes a member's role; false when the workspace has no such member.
    pub async fn set_member_role(&self, workspace_id: &str, id: &str, role: &str) -> Result<bool> {
        let n = on_pool!(self, pool => sqlx::query("UPDATE members SET role = $1 WHERE id = $2 AND workspace_id = $3")
            .bind(role).bind(id).bind(workspace_id).execute(pool).await?.rows_affected());
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
        Ok(n > 0)
    }

    pub async fn create_invite(&self, i: &Invite) -> Result<()> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO invites (id, workspace_id, token_hash, email, role, invited_by, created_at, expires_at, accepted_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
            .bind(&i.id).bind(&i.workspace_id).bind(&i.token_hash).bind(&i.email).bind(&i.role).bind(&i.invited_by)
            .bind(i.created_at).bind(i.expires_at).bind(i.accepted_at).bind(i.revoked_at)
            .execute(pool).await?.rows_affected());
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
        let n = on_pool!(self, pool => sqlx::query(
            "UPDATE invites SET revoked_at = $1 WHERE id = $2 AND workspace_id = $3 AND accepted_at IS NULL AND revoked_at IS NULL")
            .bind(now).bind(id).bind(workspace_id).execute(pool).await?.rows_affected());
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
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO sessions (token_hash, member_id, csrf_token, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(&s.token_hash).bind(&s.member_id).bind(&s.csrf_token).bind(s.expires_at)
            .execute(pool).await?.rows_affected());
        Ok(())
    }

    pub async fn session(&self, token_hash: &str) -> Result<Option<Session>> {
        self.read_optional(
            "SELECT token_hash, member_id, csrf_token, expires_at FROM sessions WHERE token_hash = $1",
            args![token_hash],
        )
        .await
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        on_pool!(self, pool => sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash).execute(pool).await?.rows_affected());
        Ok(())
    }

    pub async fn create_api_key(&self, k: NewApiKey<'_>) -> Result<()> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO api_keys (id, workspace_id, name, key_hash, prefix, role, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(k.id).bind(k.workspace_id).bind(k.name).bind(k.key_hash).bind(k.prefix).bind(k.role).bind(k.now)
            .execute(pool).await?.rows_affected());
        Ok(())
    }

    pub async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>> {
        self.read_optional("SELECT id, workspace_id, name, key_hash, prefix, role, created_at, revoked_at FROM api_keys WHERE key_hash = $1", args![key_hash]).await
    }

    pub async fn api_keys(&self, workspace_id: &str) -> Result<Vec<ApiKey>> {
        Ok(on_read!(self, pool => sqlx::query_as(
            "SELECT id, workspace_id, name, key_hash, prefix, role, created_at, revoked_at FROM api_keys WHERE workspace_id = $1 ORDER BY created_at, id")
            .bind(workspace_id).fetch_all(pool).await?))
    }

    /// Revokes a key of the workspace; false when there is no such key.
    pub async fn revoke_api_key(&self, workspace_id: &str, id: &str, now: i64) -> Result<bool> {
        let done = on_pool!(self, pool => sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND workspace_id = $3 AND revoked_at IS NULL")
            .bind(now).bind(id).bind(workspace_id).execute(pool).await?.rows_affected());
        Ok(done > 0)
    }
}

sqlite_row!(Workspace {
    id,
    name,
    widget_key,
    webhook_secret,
    settings,
    created_at,
    fallback_flow_id
});
sqlite_row!(Invite {
    id,
    workspace_id,
    token_hash,
    email,
    role,
    invited_by,
    created_at,
    expires_at,
    accepted_at,
    revoked_at
});
sqlite_row!(Session {
    token_hash,
    member_id,
    csrf_token,
    expires_at
});
sqlite_row!(ApiKey {
    id,
    workspace_id,
    name,
    key_hash,
    prefix,
    role,
    created_at,
    revoked_at
});
