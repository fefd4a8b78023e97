//! The server on a shared machine (issue 17): every guard a request passes, each case tested
//! through the whole application (`oneshot`), and the timeouts through a real socket.
//!
//! Cases: cross-origin and wrong-type POSTs refused; a foreign Host refused, and allowed with
//! `--allowed-host`; the token required off loopback (bearer, `?token=` setting an HttpOnly
//! SameSite=Strict cookie, the cookie); the security headers on every response, with the page
//! script's hash in its policy; oversized and surplus stored runs refused; a slow client
//! dropped after the header timeout, and a slow body answered 408.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use axum::body::{to_bytes, Body};
use axum::http::{Request, StatusCode};
use axum::Router;
use catalog::Catalog;
use serde_json::{json, Value};
use server::{router, AppState, ServerConfig, ShippedScenario, Store};
use tower::ServiceExt;

const SCENARIO: &str = r#"name = "Test plan"
[[tranche]]
name = "one"
system = "gb200-nvl72"
facility_gw = 1.0
start = "2026-01"
"#;

fn state(config: ServerConfig) -> AppState {
    let catalog = Catalog::embedded().expect("the shipped catalog loads");
    let scenarios = vec![ShippedScenario {
        name: "test".into(),
        text: SCENARIO.into(),
    }];
    AppState::new(catalog, scenarios, Store::in_memory().unwrap()).with_config(config)
}

fn app(config: ServerConfig) -> Router {
    router(state(config))
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn plan_post(host: &str) -> axum::http::request::Builder {
    Request::post("/api/plan").header("host", host)
}

fn plan_json() -> Body {
    Body::from(json!({ "input": SCENARIO }).to_string())
}

#[tokio::test]
async fn cross_origin_posts_are_refused_and_same_origin_ones_served() {
    let app = app(ServerConfig::default());
    let foreign = send(
        &app,
        plan_post("127.0.0.1:8080")
            .header("content-type", "application/json")
            .header("origin", "https://evil.example")
            .body(plan_json())
            .unwrap(),
    )
    .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN, "{}", foreign.body);
    assert!(
        foreign.body.contains("cross-site request forgery"),
        "{}",
        foreign.body
    );
    // Another port on the same machine is another origin too; so is `null` (sandboxed frames).
    for origin in ["http://127.0.0.1:9999", "null"] {
        let answer = send(
            &app,
            plan_post("127.0.0.1:8080")
                .header("content-type", "application/json")
                .header("origin", origin)
                .body(plan_json())
                .unwrap(),
        )
        .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{origin}");
    }
    let fetch_metadata = send(
        &app,
        plan_post("127.0.0.1:8080")
            .header("content-type", "application/json")
            .header("sec-fetch-site", "cross-site")
            .body(plan_json())
            .unwrap(),
    )
    .await;
    assert_eq!(fetch_metadata.status, StatusCode::FORBIDDEN);
    let delete = send(
        &app,
        Request::delete("/api/runs/1")
            .header("host", "127.0.0.1:8080")
            .header("origin", "https://evil.example")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(delete.status, StatusCode::FORBIDDEN);
    // The dashboard's own requests carry its origin and are served.
    let own = send(
        &app,
        plan_post("127.0.0.1:8080")
            .header("content-type", "application/json")
            .header("origin", "http://127.0.0.1:8080")
            .body(plan_json())
            .unwrap(),
    )
    .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
}

#[tokio::test]
async fn posts_that_are_not_json_or_toml_are_refused() {
    let app = app(ServerConfig::default());
    for kind in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        let mut request = plan_post("localhost:8080");
        if let Some(kind) = kind {
            request = request.header("content-type", kind);
        }
        let answer = send(&app, request.body(Body::from(SCENARIO)).unwrap()).await;
        assert_eq!(
            answer.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{kind:?}"
        );
        let v: Value = serde_json::from_str(&answer.body).unwrap();
        assert!(
            v["error"].as_str().unwrap().contains("application/json"),
            "{}",
            answer.body
        );
    }
    // Heavy work too: a risk run with an empty text/plain body starts nothing.
    let risk = send(
        &app,
        Request::post("/api/risk")
            .header("host", "localhost")
            .header("content-type", "text/plain")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(risk.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // The documented types are served.
    let toml = send(
        &app,
        plan_post("localhost:8080")
            .header("content-type", "application/toml; charset=utf-8")
            .body(Body::from(SCENARIO))
            .unwrap(),
    )
    .await;
    assert_eq!(toml.status, StatusCode::OK, "{}", toml.body);
    let json = send(
        &app,
        plan_post("localhost:8080")
            .header("content-type", "application/json")
            .body(plan_json())
            .unwrap(),
    )
    .await;
    assert_eq!(json.status, StatusCode::OK);
}

fn app_with_hosts(hosts: &[&str]) -> Router {
    app(ServerConfig {
        allowed_hosts: hosts
            .iter()
            .map(|h| ServerConfig::normalize_host(h))
            .collect(),
        ..ServerConfig::default()
    })
}

#[tokio::test]
async fn a_foreign_host_is_refused_unless_allowed() {
    let get = |host: &str| {
        Request::get("/healthz")
            .header("host", host)
            .body(Body::empty())
            .unwrap()
    };
    let app = app(ServerConfig::default());
    for host in ["evil.example", "evil.example:8080", "10.1.2.3:8080"] {
        let answer = send(&app, get(host)).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{host}");
        assert!(answer.body.contains("--allowed-host"), "{}", answer.body);
    }
    for host in [
        "localhost:8080",
        "127.0.0.1:8080",
        "[::1]:8080",
        "127.0.0.1",
    ] {
        assert_eq!(send(&app, get(host)).await.status, StatusCode::OK, "{host}");
    }
    // No Host at all.
    let none = send(&app, Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!(none.status, StatusCode::BAD_REQUEST);

    let allowed = app_with_hosts(&["dash.example.org"]);
    assert_eq!(
        send(&allowed, get("dash.example.org")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        send(&allowed, get("DASH.example.org:443")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        send(&allowed, get("evil.example")).await.status,
        StatusCode::FORBIDDEN
    );
}

const TOKEN: &str = "0123456789abcdef0123456789abcdef";

fn exposed() -> ServerConfig {
    ServerConfig {
        bound: "0.0.0.0:8080".parse().unwrap(),
        token: Some(TOKEN.into()),
        ..ServerConfig::default()
    }
}

#[tokio::test]
async fn off_loopback_a_token_is_required() {
    // `serve` refuses to listen beyond loopback without one.
    let data = std::env::temp_dir().join(format!("gigawatt-security-{}", std::process::id()));
    let refused = server::serve(
        "0.0.0.0:0".parse().unwrap(),
        &data,
        Catalog::embedded().unwrap(),
        Vec::new(),
        None,
        ServerConfig::default(),
        |_| panic!("it must not listen"),
    )
    .await;
    let message = refused.unwrap_err().to_string();
    assert!(message.contains("needs an access token"), "{message}");
    let _ = std::fs::remove_dir_all(&data);

    let app = app(exposed());
    let host = "192.168.1.20:8080";
    let runs = |auth: Option<&str>, cookie: Option<&str>| {
        let mut r = Request::get("/api/runs").header("host", host);
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        if let Some(c) = cookie {
            r = r.header("cookie", c);
        }
        r.body(Body::empty()).unwrap()
    };
    let none = send(&app, runs(None, None)).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED, "{}", none.body);
    assert!(none.body.contains("token"));
    let wrong = send(&app, runs(Some("Bearer not-the-token-at-all-xx"), None)).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let bearer = send(&app, runs(Some(&format!("Bearer {TOKEN}")), None)).await;
    assert_eq!(bearer.status, StatusCode::OK, "{}", bearer.body);
    // Pages too.
    let page = send(
        &app,
        Request::get("/plan")
            .header("host", host)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    // The browser's way: the printed URL sets an HttpOnly, SameSite=Strict cookie and drops
    // the token from the address.
    let visit = send(
        &app,
        Request::get(format!("/runs?kind=plan&token={TOKEN}"))
            .header("host", host)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(visit.status, StatusCode::SEE_OTHER);
    assert_eq!(visit.headers["location"], "/runs?kind=plan");
    let cookie = visit.headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.starts_with(&format!("gigawatt_token={TOKEN};")),
        "{cookie}"
    );
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let bad_visit = send(
        &app,
        Request::get("/plan?token=guess")
            .header("host", host)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(bad_visit.status, StatusCode::UNAUTHORIZED);
    assert!(bad_visit.headers.get("set-cookie").is_none());
    let with_cookie = send(
        &app,
        runs(None, Some(&format!("theme=dark; gigawatt_token={TOKEN}"))),
    )
    .await;
    assert_eq!(with_cookie.status, StatusCode::OK);
    // Health checks (load balancers) need none; they reveal only versions.
    let health = send(
        &app,
        Request::get("/healthz")
            .header("host", host)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(health.status, StatusCode::OK);
    // With the token, a name not allowed is still refused.
    let foreign = send(
        &app,
        Request::get("/api/runs")
            .header("host", "evil.example")
            .header("authorization", format!("Bearer {TOKEN}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
}

fn assert_security_headers(answer: &Answer, what: &str) {
    let csp = answer
        .headers
        .get("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no Content-Security-Policy"))
        .to_str()
        .unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(csp.contains("default-src 'none'"), "{what}: {csp}");
    assert_eq!(
        answer.headers["x-content-type-options"], "nosniff",
        "{what}"
    );
    assert_eq!(answer.headers["x-frame-options"], "DENY", "{what}");
    assert_eq!(answer.headers["referrer-policy"], "no-referrer", "{what}");
}

/// The text of each inline `<script>` of a page.
fn inline_scripts(html: &str) -> Vec<&str> {
    html.split("<script>")
        .skip(1)
        .map(|rest| rest.split("</script>").next().unwrap())
        .collect()
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = app(ServerConfig::default());
    let get = |path: &str| {
        Request::get(path)
            .header("host", "127.0.0.1:8080")
            .body(Body::empty())
            .unwrap()
    };
    for path in [
        "/plan",
        "/train",
        "/infer",
        "/reliability",
        "/risk",
        "/catalog",
        "/runs",
        "/runs/99",
        "/nowhere",
    ] {
        let answer = send(&app, get(path)).await;
        assert_security_headers(&answer, path);
        // The page's one inline script runs: its hash is in the policy; nothing else does.
        let csp = answer.headers["content-security-policy"].to_str().unwrap();
        let scripts = inline_scripts(&answer.body);
        assert_eq!(scripts.len(), 1, "{path}: one inline script");
        let hash = server::csp::base64(&server::csp::sha256(scripts[0].as_bytes()));
        assert!(
            csp.contains(&format!("script-src 'sha256-{hash}';")),
            "{path}: the policy does not allow the page's script: {csp}"
        );
    }
    for request in [
        get("/healthz"),
        get("/api/runs"),
        get("/api/nowhere"),
        get("/api/openapi.json"),
        Request::get("/healthz")
            .header("host", "evil.example")
            .body(Body::empty())
            .unwrap(),
        plan_post("localhost")
            .header("content-type", "text/plain")
            .body(Body::empty())
            .unwrap(),
        plan_post("localhost")
            .header("content-type", "application/json")
            .body(plan_json())
            .unwrap(),
    ] {
        let what = request.uri().to_string();
        let answer = send(&app, request).await;
        assert_security_headers(&answer, &what);
        let csp = answer.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'none'"), "{what}: {csp}");
    }
}

#[tokio::test]
async fn oversized_and_surplus_stored_runs_are_refused() {
    let save = || {
        Request::post("/api/runs")
            .header("host", "localhost")
            .header("content-type", "application/json")
            .body(Body::from(
                json!({ "kind": "plan", "input": SCENARIO }).to_string(),
            ))
            .unwrap()
    };
    // A plan's result is tens of kilobytes: over a 4 KiB limit.
    let small_store = app(ServerConfig {
        max_run_bytes: 4096,
        ..ServerConfig::default()
    });
    let answer = send(&small_store, save()).await;
    assert_eq!(
        answer.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        answer.body
    );
    assert!(answer.body.contains("--max-run-mib"), "{}", answer.body);
    let list = send(
        &small_store,
        Request::get("/api/runs")
            .header("host", "localhost")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(list.body.trim(), "[]", "nothing was stored");

    let two_runs = app(ServerConfig {
        max_runs: 2,
        ..ServerConfig::default()
    });
    for _ in 0..2 {
        assert_eq!(send(&two_runs, save()).await.status, StatusCode::CREATED);
    }
    let third = send(&two_runs, save()).await;
    assert_eq!(third.status, StatusCode::CONFLICT, "{}", third.body);
    assert!(third.body.contains("--max-runs"), "{}", third.body);
    // Deleting one makes room.
    let delete = send(
        &two_runs,
        Request::delete("/api/runs/1")
            .header("host", "localhost")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(delete.status, StatusCode::NO_CONTENT);
    assert_eq!(send(&two_runs, save()).await.status, StatusCode::CREATED);
}

/// A server on a real socket; the test's runtime keeps it running.
async fn listening(config: ServerConfig) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let header_timeout = config.header_timeout;
    let app = app(ServerConfig {
        bound: addr,
        ..config
    });
    tokio::spawn(server::listen::serve_connections(
        listener,
        app,
        header_timeout,
        16,
        std::future::pending(),
    ));
    addr
}

/// Reads until the server closes the connection (true) or `limit` passes (false); what it
/// sent.
fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, bool) {
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return (String::from_utf8_lossy(&got).into_owned(), true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return (String::from_utf8_lossy(&got).into_owned(), true)
            }
            Err(_) => return (String::from_utf8_lossy(&got).into_owned(), false),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_dropped_after_the_timeouts() {
    let addr = listening(ServerConfig {
        header_timeout: Duration::from_millis(300),
        body_timeout: Duration::from_millis(300),
        ..ServerConfig::default()
    })
    .await;
    tokio::task::spawn_blocking(move || {
        // Half a request's headers, then nothing: closed after the header timeout.
        let started = Instant::now();
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            .unwrap();
        let (_, closed) = read_until_closed(&mut stream, Duration::from_secs(5));
        assert!(closed, "a client with partial headers was kept");
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(250) && waited < Duration::from_secs(3),
            "closed after {waited:?}"
        );

        // An idle keep-alive connection is closed too.
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .unwrap();
        let (answer, closed) = read_until_closed(&mut stream, Duration::from_secs(5));
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(closed, "an idle connection was kept");

        // A body that never finishes: 408 after the body timeout, and the connection closed.
        let started = Instant::now();
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .write_all(
                b"POST /api/plan HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/toml\r\nContent-Length: 1000\r\n\r\nname = ",
            )
            .unwrap();
        let (answer, closed) = read_until_closed(&mut stream, Duration::from_secs(5));
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(closed, "a client with a partial body was kept");
        assert!(started.elapsed() < Duration::from_secs(3));

        // The server still answers others.
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .write_all(
                b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            )
            .unwrap();
        let (answer, _) = read_until_closed(&mut stream, Duration::from_secs(5));
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    })
    .await
    .unwrap();
}
