//! What every request passes before a handler sees it, and what every response carries.
//!
//! In order: the Host must be one this server answers to (DNS rebinding); the access token,
//! when the server has one (always, off loopback); a request that changes state or starts
//! work (any method but GET and HEAD) must not come from another origin and must say its body
//! is JSON or TOML, which a cross-site form or `no-cors` fetch cannot (CSRF); the body is
//! read within the body timeout and the size limit. Every response gets a
//! Content-Security-Policy (with `frame-ancestors 'none'`), `X-Content-Type-Options: nosniff`,
//! `X-Frame-Options: DENY` and `Referrer-Policy: no-referrer` (so a `?token=` URL never
//! leaks in a Referer).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::{csp, ApiError, AppState, BODY_LIMIT_BYTES};

/// The cookie a browser keeps the access token in.
pub const TOKEN_COOKIE: &str = "gigawatt_token";
/// The media type of a TOML body (scenarios and specs sent as text).
pub const TOML_TYPE: &str = "application/toml";
/// Default wait for a request's headers, and for the next request on an idle keep-alive
/// connection.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Default wait for a request's whole body.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// Default most connections served at once; more wait in the listen queue.
pub const MAX_CONNECTIONS: usize = 256;
/// Default largest stored run (input text plus result JSON).
pub const MAX_RUN_BYTES: usize = 8 * 1024 * 1024;
/// Default most runs the store keeps.
pub const MAX_RUNS: u64 = 1000;

/// How the server protects itself; [`ServerConfig::default`] is a loopback server without a
/// token.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The address the server is bound to (its IP is a Host it answers to; an unspecified
    /// address, 0.0.0.0 or ::, accepts any IP address as Host).
    pub bound: SocketAddr,
    /// Further host names it answers to (`--allowed-host`), without a port.
    pub allowed_hosts: Vec<String>,
    /// The access token; `None` serves without one (allowed on loopback only, which
    /// [`crate::serve`] enforces).
    pub token: Option<String>,
    /// Wait for a request's headers (and for the next request on an idle connection).
    pub header_timeout: Duration,
    /// Wait for a request's whole body.
    pub body_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// Largest stored run, input text plus result JSON, in bytes.
    pub max_run_bytes: usize,
    /// Most runs the store keeps.
    pub max_runs: u64,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            bound: SocketAddr::from(([127, 0, 0, 1], 8080)),
            allowed_hosts: Vec::new(),
            token: None,
            header_timeout: HEADER_TIMEOUT,
            body_timeout: BODY_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
            max_run_bytes: MAX_RUN_BYTES,
            max_runs: MAX_RUNS,
        }
    }
}

impl ServerConfig {
    /// Whether `host` (a Host header: name or IP, with or without a port) is one this server
    /// answers to.
    pub fn host_allowed(&self, host: &str) -> bool {
        let name = strip_port(host).to_ascii_lowercase();
        let name = name.trim_end_matches('.');
        if name == "localhost" || self.allowed_hosts.iter().any(|h| h == name) {
            return true;
        }
        let Some(ip) = parse_ip(name) else {
            return false;
        };
        ip.is_loopback() || ip == self.bound.ip() || self.bound.ip().is_unspecified()
    }

    /// Normalizes `--allowed-host` values: lower case, no port, no trailing dot.
    pub fn normalize_host(host: &str) -> String {
        strip_port(host.trim())
            .to_ascii_lowercase()
            .trim_end_matches('.')
            .to_string()
    }
}

/// The host part of a Host header (`[::1]:8080` -> `[::1]`, `a.example:80` -> `a.example`).
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return match host.find(']') {
            Some(end) => &host[..=end],
            None => host,
        };
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

fn parse_ip(name: &str) -> Option<IpAddr> {
    let bare = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .unwrap_or(name);
    bare.parse().ok()
}

/// Compares secrets in time that does not depend on where they differ.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The token a request carries: `Authorization: Bearer`, the cookie, or `?token=`.
fn presented_tokens(request: &Request) -> (Option<String>, Option<String>) {
    let headers = request.headers();
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_string());
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == TOKEN_COOKIE)
        .map(|(_, value)| value.to_string());
    (bearer.or(cookie), query_token(request.uri().query()))
}

fn query_token(query: Option<&str>) -> Option<String> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == "token")
        .map(|(_, value)| value.to_string())
}

/// The query without its `token=` pair.
fn query_without_token(query: &str) -> String {
    query
        .split('&')
        .filter(|pair| !pair.starts_with("token=") && *pair != "token")
        .collect::<Vec<_>>()
        .join("&")
}

fn refuse(status: StatusCode, message: String) -> Response {
    ApiError::new(status, message).into_response()
}

/// The media type of a Content-Type header, lower case, without parameters.
fn media_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
}

/// `scheme://host:port` -> `host:port`, lower case.
fn origin_authority(origin: &str) -> Option<String> {
    let (_, rest) = origin.split_once("://")?;
    Some(rest.trim_end_matches('/').to_ascii_lowercase())
}

/// The middleware: checks, then the handler, then the headers every response carries.
pub(crate) async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = check_and_run(&state, request, next).await;
    let headers = response.headers_mut();
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(csp::DEFAULT_POLICY));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

async fn check_and_run(state: &AppState, request: Request, next: Next) -> Response {
    let config = &state.inner.config;
    // 1. Host.
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| request.uri().authority().map(|a| a.to_string()));
    let Some(host) = host else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "the request has no Host header\n  fix: send `Host: 127.0.0.1:PORT` (HTTP/1.1 requires it)".into(),
        );
    };
    if !config.host_allowed(&host) {
        return refuse(
            StatusCode::FORBIDDEN,
            format!(
                "this server does not answer to the host `{host}` (a guard against DNS rebinding)\n  fix: open it as http://{}, or start it with `--allowed-host {}`",
                config.bound,
                ServerConfig::normalize_host(&host)
            ),
        );
    }
    // 2. The access token.
    if let Some(token) = &config.token {
        let (carried, in_query) = presented_tokens(&request);
        if let Some(given) = in_query {
            if !same_secret(given.as_bytes(), token.as_bytes()) {
                return refuse(
                    StatusCode::UNAUTHORIZED,
                    "the token in the URL is not this server's\n  fix: open the URL the server printed when it started".into(),
                );
            }
            // Keep the token in an HttpOnly cookie and drop it from the address bar (and so
            // from history and bookmarks).
            let rest = query_without_token(request.uri().query().unwrap_or(""));
            let target = if rest.is_empty() {
                request.uri().path().to_string()
            } else {
                format!("{}?{rest}", request.uri().path())
            };
            let cookie = format!("{TOKEN_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/");
            return (
                StatusCode::SEE_OTHER,
                [(header::LOCATION, target), (header::SET_COOKIE, cookie)],
            )
                .into_response();
        }
        let ok = carried.is_some_and(|c| same_secret(c.as_bytes(), token.as_bytes()));
        if !ok && request.uri().path() != "/healthz" {
            return refuse(
                StatusCode::UNAUTHORIZED,
                "this server needs its access token\n  fix: open the URL with `?token=` that the server printed when it started, or send `Authorization: Bearer TOKEN`".into(),
            );
        }
    }
    // 3. Cross-site requests that change state or start work.
    let changes = !matches!(*request.method(), Method::GET | Method::HEAD);
    if changes {
        let headers = request.headers();
        if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
            let same = origin_authority(origin).is_some_and(|a| a == host.to_ascii_lowercase());
            if !same {
                return refuse(
                    StatusCode::FORBIDDEN,
                    format!(
                        "a request from the origin `{origin}` may not change this server's state or start work (a guard against cross-site request forgery)\n  fix: use the dashboard this server serves, or call the API from a program (no Origin header)"
                    ),
                );
            }
        }
        if headers
            .get("sec-fetch-site")
            .is_some_and(|v| v.as_bytes() == b"cross-site")
        {
            return refuse(
                StatusCode::FORBIDDEN,
                "a cross-site request may not change this server's state or start work\n  fix: use the dashboard this server serves".into(),
            );
        }
        if request.method() == Method::POST {
            let kind = media_type(headers);
            if !matches!(kind.as_deref(), Some("application/json" | TOML_TYPE)) {
                return refuse(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    format!(
                        "the request body's Content-Type is {}\n  fix: send `Content-Type: application/json` (or `{TOML_TYPE}` with a scenario or spec as TOML text)",
                        kind.map_or("missing".to_string(), |k| format!("`{k}`"))
                    ),
                );
            }
        }
    }
    // 4. The body, within the size limit and the body timeout.
    let (parts, body) = request.into_parts();
    let read = tokio::time::timeout(
        config.body_timeout,
        Limited::new(body, BODY_LIMIT_BYTES).collect(),
    )
    .await;
    let bytes = match read {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
            return ApiError::body_too_large().into_response();
        }
        Ok(Err(e)) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!("the request body could not be read: {e}"),
            )
        }
        Err(_) => {
            let mut response = refuse(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body did not arrive within {} s\n  fix: send the whole body at once",
                    config.body_timeout.as_secs_f64()
                ),
            );
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return response;
        }
    };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// A fresh random token: 32 hex digits (128 bits) from the operating system.
pub fn generate_token() -> Result<String, String> {
    let mut bytes = [0u8; 16];
    random_bytes(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(unix)]
fn random_bytes(out: &mut [u8]) -> Result<(), String> {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(out))
        .map_err(|e| format!("failed to read /dev/urandom for a token: {e}\n  fix: give one with --token or GIGAWATT_TOKEN"))
}

#[cfg(not(unix))]
fn random_bytes(out: &mut [u8]) -> Result<(), String> {
    // SipHash keyed by the OS-seeded keys of `RandomState`: unpredictable without them.
    use std::hash::{BuildHasher, Hasher};
    for (i, chunk) in out.chunks_mut(8).enumerate() {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_usize(i);
        let v = h.finish().to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        let loopback = ServerConfig::default();
        for ok in [
            "localhost",
            "localhost:8080",
            "127.0.0.1:8080",
            "[::1]:9",
            "LOCALHOST",
        ] {
            assert!(loopback.host_allowed(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8080",
            "10.0.0.1",
            "[::2]:80",
            "",
        ] {
            assert!(!loopback.host_allowed(bad), "{bad}");
        }
        let named = ServerConfig {
            allowed_hosts: vec![ServerConfig::normalize_host("Dash.Example:443")],
            ..ServerConfig::default()
        };
        assert!(named.host_allowed("dash.example"));
        let everywhere = ServerConfig {
            bound: "0.0.0.0:80".parse().unwrap(),
            ..ServerConfig::default()
        };
        assert!(everywhere.host_allowed("192.168.1.5:80"));
        assert!(!everywhere.host_allowed("evil.example"));
    }

    #[test]
    fn tokens_are_fresh_hex() {
        let a = generate_token().unwrap();
        let b = generate_token().unwrap();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        assert!(same_secret(a.as_bytes(), a.as_bytes()));
        assert!(!same_secret(a.as_bytes(), b.as_bytes()));
    }

    #[test]
    fn the_token_leaves_the_query() {
        assert_eq!(query_without_token("token=abc&run=3"), "run=3");
        assert_eq!(query_token(Some("a=1&token=xyz")), Some("xyz".into()));
    }
}
