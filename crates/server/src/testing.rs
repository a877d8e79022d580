//! Helpers for tests that run against PostgreSQL: a fresh database per test on the server
//! named by `BATON_TEST_POSTGRES_URL` (default: the local development server).

use sqlx::Connection;

/// Where test databases are created.
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
    let name = format!(
        "baton_t_{}",
        crate::ids::random_token(9).to_lowercase().replace(['-', '_'], "x")
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .map_err(|e| format!("creating {name}: {e}"))?;
    let _ = conn.close().await;
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    Ok(Some(format!("{base}/{name}")))
}
