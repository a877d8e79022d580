//! Outbound HTTP for flows' webhook nodes and (later) outbound events.
//!
//! One [`WebhookClient`] holds one `reqwest::Client` that never follows redirects, ignores
//! system proxies, speaks rustls and resolves names through an SSRF-filtering resolver, so a
//! webhook can only reach the addresses its [`AddressPolicy`] allows, whether the URL holds an
//! IP literal or a DNS name. Requests are signed the Standard Webhooks way
//! (<https://www.standardwebhooks.com>): `webhook-id`, `webhook-timestamp` and
//! `webhook-signature: v1,<base64 HMAC-SHA256>` over `"{id}.{timestamp}.{body}"`.
//!
//! Nothing here panics on any input: bad URLs, headers, secrets and refused addresses come back
//! as [`WebhookOutcome::Failed`] with a reason a flow builder can read.

use std::error::Error as StdError;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use baton_flow::document::HttpMethod;
use baton_flow::runtime::{WebhookCall, WebhookOutcome};
use hmac::{Hmac, Mac};
use rand::RngCore;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use reqwest::{Method, Url};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Sha256;

/// Largest response body read from a webhook (1 MiB); larger bodies fail the call.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// Prefix of Standard Webhooks secrets.
pub const SECRET_PREFIX: &str = "whsec_";

/// Headers a call may not set itself: the client frames the request.
const FRAMING_HEADERS: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "proxy-connection",
];

/// Which target addresses outbound requests may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressPolicy {
    /// Only public (globally routable) addresses. The default.
    #[default]
    PublicOnly,
    /// Public addresses and loopback (127.0.0.0/8, ::1), for local development.
    AllowLoopback,
    /// Anything, including private networks.
    AllowAll,
}

/// One HTTP attempt, for the run log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// 1-based.
    pub attempt: u32,
    /// The response status, when one arrived.
    pub status: Option<u16>,
    /// What went wrong, when something did (network error, timeout, refusal, too large).
    pub error: Option<String>,
    pub duration_ms: u64,
}

/// How to sign one message (Standard Webhooks).
#[derive(Clone, PartialEq, Eq)]
pub struct Signing {
    /// `whsec_` + base64 of the key bytes.
    pub secret: String,
    pub message_id: String,
    /// Unix seconds.
    pub timestamp: i64,
}

impl fmt::Debug for Signing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signing")
            .field("secret", &"<redacted>")
            .field("message_id", &self.message_id)
            .field("timestamp", &self.timestamp)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigningError {
    #[error("the signing secret is not valid base64 (expected `whsec_` followed by base64)")]
    InvalidSecret,
    #[error("the signing secret is empty")]
    EmptySecret,
}

/// A fresh Standard Webhooks secret: `whsec_` + base64 of 24 random bytes.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{SECRET_PREFIX}{}", BASE64.encode(bytes))
}

fn secret_key(secret: &str) -> Result<Vec<u8>, SigningError> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret).trim();
    if encoded.is_empty() {
        return Err(SigningError::EmptySecret);
    }
    let key = BASE64.decode(encoded).map_err(|_| SigningError::InvalidSecret)?;
    if key.is_empty() {
        return Err(SigningError::EmptySecret);
    }
    Ok(key)
}

fn mac_for(secret: &str, message_id: &str, timestamp: i64, body: &str) -> Result<Hmac<Sha256>, SigningError> {
    let key = secret_key(secret)?;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).map_err(|_| SigningError::InvalidSecret)?;
    mac.update(message_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    Ok(mac)
}

/// The `webhook-signature` value: `v1,<base64 HMAC-SHA256>` of `"{id}.{timestamp}.{body}"`,
/// keyed with the base64-decoded secret (the `whsec_` prefix is optional).
pub fn sign(secret: &str, message_id: &str, timestamp: i64, body: &str) -> Result<String, SigningError> {
    let mac = mac_for(secret, message_id, timestamp, body)?;
    Ok(format!("v1,{}", BASE64.encode(mac.finalize().into_bytes())))
}

/// Checks a Standard Webhooks signature: `headers` are (`webhook-id`, `webhook-timestamp`,
/// `webhook-signature`); the signature header may hold several space-separated `v1,…` values
/// and any one matching is enough. The timestamp must be within `tolerance_secs` of `now`.
/// Comparison is constant-time.
pub fn verify(secret: &str, headers: (&str, &str, &str), body: &str, now: i64, tolerance_secs: i64) -> bool {
    let (message_id, timestamp, signatures) = headers;
    let Ok(timestamp) = timestamp.trim().parse::<i64>() else {
        return false;
    };
    let Some(skew) = now.checked_sub(timestamp) else {
        return false;
    };
    if skew.checked_abs().is_none_or(|skew| skew > tolerance_secs) {
        return false;
    }
    let Ok(mac) = mac_for(secret, message_id, timestamp, body) else {
        return false;
    };
    let mut matched = false;
    for candidate in signatures.split_whitespace() {
        let Some(encoded) = candidate.strip_prefix("v1,") else {
            continue;
        };
        let Ok(bytes) = BASE64.decode(encoded) else {
            continue;
        };
        // Check every candidate (no early exit) so timing does not reveal which one matched.
        if mac.clone().verify_slice(&bytes).is_ok() {
            matched = true;
        }
    }
    matched
}

/// What kind of address an IP is, for the SSRF guard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AddressClass {
    Public,
    Loopback,
    Private,
    LinkLocal,
    Unspecified,
    Broadcast,
    Multicast,
    SharedCgnat,
    Documentation,
    Reserved,
}

impl AddressClass {
    fn describe(self) -> &'static str {
        match self {
            AddressClass::Public => "a public",
            AddressClass::Loopback => "a loopback",
            AddressClass::Private => "a private",
            AddressClass::LinkLocal => "a link-local",
            AddressClass::Unspecified => "an unspecified",
            AddressClass::Broadcast => "a broadcast",
            AddressClass::Multicast => "a multicast",
            AddressClass::SharedCgnat => "a shared (carrier-grade NAT)",
            AddressClass::Documentation => "a documentation",
            AddressClass::Reserved => "a reserved",
        }
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    let [a, b, c, _] = ip.octets();
    if ip.is_unspecified() || a == 0 {
        // 0.0.0.0/8: "this network"; connecting to it reaches the local host on Linux.
        AddressClass::Unspecified
    } else if ip.is_broadcast() {
        AddressClass::Broadcast
    } else if a == 127 {
        AddressClass::Loopback
    } else if a == 10 || (a == 172 && (16..=31).contains(&b)) || (a == 192 && b == 168) {
        AddressClass::Private
    } else if a == 169 && b == 254 {
        AddressClass::LinkLocal
    } else if a == 100 && (64..=127).contains(&b) {
        AddressClass::SharedCgnat
    } else if (a == 192 && b == 0 && c == 2) || (a == 198 && b == 51 && c == 100) || (a == 203 && b == 0 && c == 113) {
        AddressClass::Documentation
    } else if (224..=239).contains(&a) {
        AddressClass::Multicast
    } else if a >= 240
        || (a == 192 && b == 0 && c == 0)
        || (a == 192 && b == 88 && c == 99)
        || (a == 198 && (18..=19).contains(&b))
    {
        // 240/4 future use, 192.0.0/24 IETF, 192.88.99/24 6to4 relay, 198.18/15 benchmarking.
        AddressClass::Reserved
    } else {
        AddressClass::Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    let s = ip.segments();
    let embedded_v4 = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    if ip.is_unspecified() {
        return AddressClass::Unspecified;
    }
    if ip.is_loopback() {
        return AddressClass::Loopback;
    }
    // NAT64 (64:ff9b::/96) carries an IPv4 address that the gateway will reach.
    if s[0] == 0x0064 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return classify_v4(embedded_v4(s[6], s[7]));
    }
    // 6to4 (2002::/16) carries an IPv4 address in bits 16..48.
    if s[0] == 0x2002 {
        return classify_v4(embedded_v4(s[1], s[2]));
    }
    if s[0] & 0xfe00 == 0xfc00 {
        return AddressClass::Private; // fc00::/7 unique local
    }
    if s[0] & 0xffc0 == 0xfe80 {
        return AddressClass::LinkLocal; // fe80::/10
    }
    if s[0] & 0xffc0 == 0xfec0 {
        return AddressClass::Private; // fec0::/10 deprecated site-local
    }
    if s[0] & 0xff00 == 0xff00 {
        return AddressClass::Multicast;
    }
    if (s[0] == 0x2001 && s[1] == 0x0db8) || s[0] & 0xfff0 == 0x3ff0 {
        return AddressClass::Documentation; // 2001:db8::/32, 3fff::/20
    }
    if s[0] == 0x0064 && s[1] == 0xff9b && s[2] == 0x0001 {
        return AddressClass::Private; // 64:ff9b:1::/48 local-use NAT64
    }
    if s[0] == 0x2001 && s[1] < 0x0200 {
        return AddressClass::Reserved; // 2001::/23 IETF protocol assignments (Teredo, ...)
    }
    if s[0] & 0xe000 == 0x2000 {
        return AddressClass::Public; // 2000::/3 global unicast
    }
    // Everything else (IPv4-compatible ::/96, discard 100::/64, unassigned space).
    AddressClass::Reserved
}

fn classify(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

/// Whether outbound requests may reach `ip` under `policy`.
pub fn is_allowed_ip(ip: IpAddr, policy: &AddressPolicy) -> bool {
    match policy {
        AddressPolicy::AllowAll => true,
        AddressPolicy::AllowLoopback => {
            matches!(classify(ip), AddressClass::Public | AddressClass::Loopback)
        }
        AddressPolicy::PublicOnly => classify(ip) == AddressClass::Public,
    }
}

/// A target address the policy forbids. Travels through reqwest's error chain from the resolver.
#[derive(Debug, Clone)]
struct Refused {
    /// The host name as written, when the address came from DNS.
    host: Option<String>,
    ip: IpAddr,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let class = classify(self.ip).describe();
        match &self.host {
            Some(host) => write!(
                f,
                "refused: {host} resolves to {}, which is {class} address; the operator can allow it",
                self.ip
            ),
            None => write!(f, "refused: {} is {class} address; the operator can allow it", self.ip),
        }
    }
}

impl StdError for Refused {}

/// DNS resolution through the system resolver, dropping addresses the policy forbids.
struct GuardedResolver {
    policy: AddressPolicy,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = None;
            let mut allowed = Vec::with_capacity(found.len());
            for addr in found {
                if is_allowed_ip(addr.ip(), &policy) {
                    allowed.push(addr);
                } else if refused.is_none() {
                    refused = Some(addr.ip());
                }
            }
            if allowed.is_empty() {
                let error: Box<dyn StdError + Send + Sync> = match refused {
                    Some(ip) => Box::new(Refused { host: Some(host), ip }),
                    None => format!("{host} has no addresses").into(),
                };
                return Err(error);
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// An HTTP client builder for calls whose targets `policy` limits (webhooks, events, the AI
/// endpoint): no redirects, no proxies, rustls, `user-agent: baton/<version>`, and a resolver
/// that drops forbidden addresses. IP literals never reach a resolver: check them with
/// [`check_target`].
pub fn guarded_http(policy: AddressPolicy) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .use_rustls_tls()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(concat!("baton/", env!("CARGO_PKG_VERSION")))
        .dns_resolver(Arc::new(GuardedResolver { policy }))
}

/// The address of a URL host written as an IP literal (the URL parser normalises them: IPv6
/// in brackets, IPv4 in dotted form).
fn ip_literal(host: &str) -> Option<IpAddr> {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
        .parse::<IpAddr>()
        .ok()
}

/// Whether `url` is an http(s) URL whose host, when written as an IP address, `policy` allows
/// (names are checked when they are resolved, by [`guarded_http`]'s resolver).
pub fn check_target(url: &str, policy: AddressPolicy) -> Result<(), String> {
    let parsed = Url::parse(url.trim()).map_err(|e| format!("invalid URL `{url}`: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("`{url}` is not an http or https URL"));
    }
    let host = parsed.host_str().unwrap_or_default();
    // `localhost` (and names under it) is loopback without asking DNS.
    let localhost = host.eq_ignore_ascii_case("localhost") || host.to_ascii_lowercase().ends_with(".localhost");
    let ip = if localhost {
        Some(IpAddr::from([127, 0, 0, 1]))
    } else {
        ip_literal(host)
    };
    match ip {
        Some(ip) if !is_allowed_ip(ip, &policy) => Err(Refused {
            host: localhost.then(|| host.to_string()),
            ip,
        }
        .to_string()),
        _ => Ok(()),
    }
}

/// Outbound HTTP with retries, signing and the SSRF guard. Cheap to clone.
#[derive(Clone)]
pub struct WebhookClient {
    http: Result<reqwest::Client, String>,
    policy: AddressPolicy,
    base_backoff: Duration,
}

impl fmt::Debug for WebhookClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookClient")
            .field("policy", &self.policy)
            .field("base_backoff", &self.base_backoff)
            .finish()
    }
}

/// One request to carry out (shared by webhook nodes and outbound events).
struct Request<'a> {
    method: Method,
    url: &'a str,
    headers: Vec<(&'a str, &'a str)>,
    body: Option<&'a str>,
    signing: Option<&'a Signing>,
    timeout: Duration,
    retries: u32,
    read_body: bool,
}

/// How one attempt ended.
enum AttemptEnd {
    /// A response; `body` is Null when not read.
    Response { status: u16, body: Value },
    /// Worth another attempt (network error, timeout, 5xx is handled separately).
    Transient(String),
    /// Not worth another attempt (refused address, response too large, bad request).
    Final(String),
}

/// What a request came to.
enum Ended {
    Response { status: u16, body: Value },
    Failed(String),
}

impl WebhookClient {
    /// Builds the client: no redirects, no proxies, rustls, `user-agent: baton/<version>`, and
    /// the SSRF-filtering resolver. Retries wait `base_backoff * 2^(n-1)` before retry `n`.
    pub fn new(policy: AddressPolicy, base_backoff: Duration) -> WebhookClient {
        let http = guarded_http(policy)
            .build()
            .map_err(|e| format!("the HTTP client could not start: {}", error_chain(&e)));
        WebhookClient {
            http,
            policy,
            base_backoff,
        }
    }

    pub fn policy(&self) -> AddressPolicy {
        self.policy
    }

    /// Carries out a flow's webhook call. Non-2xx responses come back as `Response` (the
    /// runtime decides); `Failed` means no usable response after all attempts.
    pub async fn call(&self, call: &WebhookCall, signing: Option<&Signing>) -> (WebhookOutcome, Vec<Attempt>) {
        let method = match call.method {
            HttpMethod::Get => Method::GET,
            HttpMethod::Post => Method::POST,
            HttpMethod::Put => Method::PUT,
            HttpMethod::Patch => Method::PATCH,
            HttpMethod::Delete => Method::DELETE,
        };
        let request = Request {
            method,
            url: &call.url,
            headers: call.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect(),
            body: call.body.as_deref(),
            signing,
            timeout: Duration::from_millis(u64::from(call.timeout_ms.max(1))),
            retries: call.retries,
            read_body: true,
        };
        let (ended, attempts) = self.execute(request).await;
        let outcome = match ended {
            Ended::Response { status, body } => WebhookOutcome::Response { status, body },
            Ended::Failed(reason) => WebhookOutcome::Failed { reason },
        };
        (outcome, attempts)
    }

    /// POSTs a signed JSON body (outbound events), with the same retries and guard. Returns the
    /// final status, if any response arrived; the response body is not read.
    pub async fn post_signed(
        &self,
        url: &str,
        body: &str,
        signing: &Signing,
        timeout: Duration,
        retries: u32,
    ) -> (Option<u16>, Vec<Attempt>) {
        let request = Request {
            method: Method::POST,
            url,
            headers: Vec::new(),
            body: Some(body),
            signing: Some(signing),
            timeout: timeout.max(Duration::from_millis(1)),
            retries,
            read_body: false,
        };
        let (ended, attempts) = self.execute(request).await;
        match ended {
            Ended::Response { status, .. } => (Some(status), attempts),
            Ended::Failed(_) => (None, attempts),
        }
    }

    async fn execute(&self, request: Request<'_>) -> (Ended, Vec<Attempt>) {
        let prepared = match self.prepare(&request) {
            Ok(prepared) => prepared,
            Err(reason) => {
                let attempt = Attempt {
                    attempt: 1,
                    status: None,
                    error: Some(reason.clone()),
                    duration_ms: 0,
                };
                return (Ended::Failed(reason), vec![attempt]);
            }
        };
        let (http, url, headers) = prepared;
        let total = request.retries.saturating_add(1);
        let mut attempts = Vec::new();
        let mut number = 1u32;
        loop {
            let started = Instant::now();
            let mut builder = http
                .request(request.method.clone(), url.clone())
                .headers(headers.clone());
            if let Some(body) = request.body {
                builder = builder.body(body.to_owned());
            }
            // The deadline covers sending and reading the whole response.
            let end = match tokio::time::timeout(request.timeout, attempt_once(builder, request.read_body)).await {
                Ok(end) => end,
                Err(_) => AttemptEnd::Transient(timed_out(request.timeout)),
            };
            let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            let (record_status, record_error) = match &end {
                AttemptEnd::Response { status, .. } => (Some(*status), None),
                AttemptEnd::Transient(e) | AttemptEnd::Final(e) => (None, Some(e.clone())),
            };
            attempts.push(Attempt {
                attempt: number,
                status: record_status,
                error: record_error,
                duration_ms,
            });
            let retry = match &end {
                AttemptEnd::Response { status, .. } => *status >= 500,
                AttemptEnd::Transient(_) => true,
                AttemptEnd::Final(_) => false,
            };
            if !retry || number >= total {
                let ended = match end {
                    AttemptEnd::Response { status, body } => Ended::Response { status, body },
                    AttemptEnd::Final(reason) => Ended::Failed(reason),
                    AttemptEnd::Transient(reason) => Ended::Failed(if number > 1 {
                        format!("{reason} (after {number} attempts)")
                    } else {
                        reason
                    }),
                };
                return (ended, attempts);
            }
            tokio::time::sleep(self.backoff(number)).await;
            number += 1;
        }
    }

    /// `base_backoff * 2^(n-1)` before retry `n` (n = attempts made so far).
    fn backoff(&self, attempts_made: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempts_made.saturating_sub(1));
        self.base_backoff.saturating_mul(factor)
    }

    /// Everything that can be checked before sending: client, URL, scheme, IP literal, headers,
    /// signature.
    fn prepare(&self, request: &Request<'_>) -> Result<(reqwest::Client, Url, HeaderMap), String> {
        let http = self.http.clone()?;
        let url = Url::parse(request.url.trim()).map_err(|e| format!("invalid URL `{}`: {e}", request.url))?;
        match url.scheme() {
            "http" | "https" => {}
            other => {
                return Err(format!(
                    "unsupported URL scheme `{other}` in `{}`; use http or https",
                    request.url
                ))
            }
        }
        let host = match url.host_str() {
            Some(host) if !host.is_empty() => host,
            _ => return Err(format!("the URL `{}` has no host", request.url)),
        };
        if let Some(ip) = ip_literal(host) {
            if !is_allowed_ip(ip, &self.policy) {
                return Err(format!("request to {} {}", redacted(&url), Refused { host: None, ip }));
            }
        }

        let mut headers = HeaderMap::new();
        for (name, value) in &request.headers {
            let header =
                HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| format!("invalid header name `{name}`"))?;
            if FRAMING_HEADERS.contains(&header.as_str()) {
                continue;
            }
            if request.signing.is_some() && header.as_str().starts_with("webhook-") {
                continue; // the signature headers below win
            }
            let value = HeaderValue::from_str(value).map_err(|_| format!("invalid value for header `{name}`"))?;
            headers.append(header, value);
        }
        if request.body.is_some() && !headers.contains_key(CONTENT_TYPE) {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        if let Some(signing) = request.signing {
            let signature = sign(
                &signing.secret,
                &signing.message_id,
                signing.timestamp,
                request.body.unwrap_or(""),
            )
            .map_err(|e| format!("cannot sign the request: {e}"))?;
            let id = HeaderValue::from_str(&signing.message_id)
                .map_err(|_| "cannot sign the request: invalid message id".to_owned())?;
            let signature = HeaderValue::from_str(&signature)
                .map_err(|_| "cannot sign the request: invalid signature".to_owned())?;
            headers.insert(HeaderName::from_static("webhook-id"), id);
            headers.insert(
                HeaderName::from_static("webhook-timestamp"),
                HeaderValue::from(signing.timestamp),
            );
            headers.insert(HeaderName::from_static("webhook-signature"), signature);
        }
        Ok((http, url, headers))
    }
}

async fn attempt_once(builder: reqwest::RequestBuilder, read_body: bool) -> AttemptEnd {
    let mut response = match builder.send().await {
        Ok(response) => response,
        Err(error) => return send_error(&error),
    };
    let status = response.status().as_u16();
    if !read_body {
        return AttemptEnd::Response {
            status,
            body: Value::Null,
        };
    }
    if response
        .content_length()
        .is_some_and(|len| len > MAX_RESPONSE_BYTES as u64)
    {
        return AttemptEnd::Final(too_large(status));
    }
    let mut bytes: Vec<u8> = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if bytes.len().saturating_add(chunk.len()) > MAX_RESPONSE_BYTES {
                    return AttemptEnd::Final(too_large(status));
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(error) => {
                return AttemptEnd::Transient(format!("reading the response failed: {}", error_chain(&error)))
            }
        }
    }
    AttemptEnd::Response {
        status,
        body: parse_body(&bytes),
    }
}

fn too_large(status: u16) -> String {
    format!("response too large (status {status}; more than {MAX_RESPONSE_BYTES} bytes)")
}

fn timed_out(timeout: Duration) -> String {
    format!("timed out after {} ms", timeout.as_millis())
}

/// Empty → Null; JSON → the value; anything else → the text as a string.
fn parse_body(bytes: &[u8]) -> Value {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Value::Null;
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(value) => value,
        Err(_) => Value::String(String::from_utf8_lossy(bytes).into_owned()),
    }
}

fn send_error(error: &reqwest::Error) -> AttemptEnd {
    if let Some(refused) = find_refused(error) {
        let target = error.url().map(redacted).unwrap_or_else(|| "the webhook".to_owned());
        return AttemptEnd::Final(format!("request to {target} {refused}"));
    }
    if error.is_timeout() {
        return AttemptEnd::Transient("timed out".to_owned());
    }
    if error.is_builder() {
        return AttemptEnd::Final(format!("invalid request: {}", error_chain(error)));
    }
    AttemptEnd::Transient(format!("request failed: {}", error_chain(error)))
}

fn find_refused(error: &reqwest::Error) -> Option<&Refused> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some(refused) = e.downcast_ref::<Refused>() {
            return Some(refused);
        }
        current = e.source();
    }
    None
}

/// The error and its sources, without the URL (it may hold credentials) and without repeats.
fn error_chain(error: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let top = error.to_string();
    let top = match error.url() {
        Some(url) => top.replace(url.as_str(), &redacted(url)),
        None => top,
    };
    parts.push(top);
    let mut current = error.source();
    while let Some(e) = current {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}

/// The URL without user info, query or fragment, for messages.
fn redacted(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles() {
        let client = WebhookClient::new(AddressPolicy::PublicOnly, Duration::from_millis(10));
        assert_eq!(client.backoff(1), Duration::from_millis(10));
        assert_eq!(client.backoff(2), Duration::from_millis(20));
        assert_eq!(client.backoff(3), Duration::from_millis(40));
        assert_eq!(client.backoff(200), Duration::from_millis(10) * u32::MAX);
    }

    #[test]
    fn bodies_parse() {
        assert_eq!(parse_body(b""), Value::Null);
        assert_eq!(parse_body(b" \r\n"), Value::Null);
        assert_eq!(parse_body(b"{\"a\":1}"), serde_json::json!({"a": 1}));
        assert_eq!(parse_body(b"hello"), Value::String("hello".into()));
        assert_eq!(parse_body(&[0xff, 0xfe]), Value::String("\u{fffd}\u{fffd}".into()));
    }

    #[test]
    fn redaction_drops_credentials_and_query() {
        let url = Url::parse("https://user:pw@example.com/hook?token=x#f").unwrap();
        assert_eq!(redacted(&url), "https://example.com/hook");
    }
}
