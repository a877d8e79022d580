//! The web app (flows list, builder, inbox, settings) at `/app/` and the chat widget at `/widget.js`: the files of `web/dist`, embedded into the binary
//! at compile time by `build.rs`. App routes fall back to `index.html`; hashed assets are cached
//! for a year. Without a built app, `/app/` says how to build it.

use crate::state::AppState;
use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

mod assets {
    include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));
}

/// The app's Content-Security-Policy: its own scripts only, API calls and WebSockets to this server.
pub const CSP: &str =
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'";

const NOT_BUILT: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Baton</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;color:#1c1c1c}code{background:#f2f2f2;padding:.1rem .3rem;border-radius:3px}</style>
</head><body>
<h1>The web app is not built</h1>
<p>The web app is not built: run <code>npm ci &amp;&amp; npm run build</code> in <code>web/</code>, then build and start the server again (it embeds <code>web/dist</code> when it is compiled).</p>
<p>The API works without it: <a href="/docs">API documentation</a>.</p>
</body></html>"#;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/app", get(|| async { Redirect::to("/app/") }))
        .route("/app/", get(index))
        .route("/app/{*path}", get(file))
        .route("/widget.js", get(widget))
}

/// The chat widget (`web/dist/widget.js`), loaded by a script tag on customers' sites: any site may
/// load it, so it carries no frame or CSP restrictions of the app, and it is revalidated on use.
async fn widget() -> Response {
    match find("widget.js") {
        Some(bytes) => {
            let mut res = (StatusCode::OK, bytes).into_response();
            let headers = res.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
            headers.insert(
                header::HeaderName::from_static("cross-origin-resource-policy"),
                HeaderValue::from_static("cross-origin"),
            );
            res
        }
        None => respond(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "no-store",
            b"the chat widget is not built: run `npm run build` in web/",
        ),
    }
}

/// Whether the binary carries the built app.
pub fn is_built() -> bool {
    find("index.html").is_some()
}

fn find(path: &str) -> Option<&'static [u8]> {
    assets::ASSETS
        .binary_search_by(|(name, _)| (*name).cmp(path))
        .ok()
        .and_then(|i| assets::ASSETS.get(i))
        .map(|(_, bytes)| *bytes)
}

async fn index() -> Response {
    match find("index.html") {
        Some(bytes) => respond(StatusCode::OK, "text/html; charset=utf-8", "no-cache", bytes),
        // A page that says what to do, not an error (error statuses become JSON in `app()`).
        None => respond(
            StatusCode::OK,
            "text/html; charset=utf-8",
            "no-store",
            NOT_BUILT.as_bytes(),
        ),
    }
}

async fn file(Path(path): Path<String>) -> Response {
    if let Some(bytes) = find(&path) {
        // Vite names the files under assets/ by their content hash: they never change.
        let cache = if path.starts_with("assets/") {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        return respond(StatusCode::OK, content_type(&path), cache, bytes);
    }
    let last = path.rsplit('/').next().unwrap_or("");
    if path.starts_with("assets/") || last.contains('.') {
        return respond(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "no-store",
            b"not found",
        );
    }
    // An app route (/app/flows/…): the app reads the address itself.
    index().await
}

fn respond(status: StatusCode, content_type: &'static str, cache: &'static str, body: &'static [u8]) -> Response {
    let mut res = (status, body).into_response();
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" => "text/plain; charset=utf-8",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}
