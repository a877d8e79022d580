//! Helpers for Baton's tests and benchmarks: a dev-dependency only, so nothing here ships in
//! the served binary.

use rand::Rng;
use sqlx::Connection;

/// Where test databases are created: `BATON_TEST_POSTGRES_URL`, or the local development
/// server.
pub fn postgres_admin_url() -> String {
    std::env::var("BATON_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Creates an empty database and returns its URL. `Ok(None)` when PostgreSQL is not reachable
/// outside CI (the caller skips, saying so); in CI (`CI` set) an unreachable server is an error,
/// so a test that needs PostgreSQL never passes without it.
pub async fn fresh_postgres_database() -> Result<Option<String>, String> {
    let admin = postgres_admin_url();
    let mut conn = match sqlx::PgConnection::connect(&admin).await {
        Ok(c) => c,
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("PostgreSQL at {admin} is not reachable ({e}); skipping outside CI");
            return Ok(None);
        }
        Err(e) => return Err(format!("PostgreSQL at {admin} is required in CI: {e}")),
    };
    let suffix: String = rand::thread_rng()
        .sample_iter(rand::distributions::Alphanumeric)
        .take(12)
        .map(|c| char::from(c).to_ascii_lowercase())
        .collect();
    let name = format!("baton_t_{suffix}");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .map_err(|e| format!("creating {name}: {e}"))?;
    let _ = conn.close().await;
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    Ok(Some(format!("{base}/{name}")))
}

/// Drops a database [`fresh_postgres_database`] made (its connections are closed first).
pub async fn drop_postgres_database(url: &str) -> Result<(), String> {
    let name = url.rsplit_once('/').map_or(url, |(_, n)| n);
    let name = name.split('?').next().unwrap_or(name);
    if !name.starts_with("baton_t_") || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("{name} is not a test database"));
    }
    let admin = postgres_admin_url();
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .map_err(|e| format!("PostgreSQL at {admin}: {e}"))?;
    let dropped = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut conn)
    .await
    .map(|_| ())
    .map_err(|e| format!("dropping {name}: {e}"));
    let _ = conn.close().await;
    dropped
}
