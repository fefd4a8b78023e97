//! Router tests: each request goes through the whole application with `oneshot`. The shared
//! apps and helpers are here; the tests by concept in the files beside this one.

use axum::body::{to_bytes, Body};
use axum::http::{Request, StatusCode};
use serde_json::Value;
use tower::ServiceExt;

use crate::*;

mod model_api;
mod page_render;
mod plan_api;
mod run_store;

pub(crate) const SCENARIO: &str = r#"name = "Test plan"
[[tranche]]
name = "one"
system = "gb200-nvl72"
facility_gw = 1.0
start = "2026-01"
"#;

pub(crate) fn app() -> Router {
    let catalog = Catalog::embedded().expect("the shipped catalog loads");
    let scenarios = vec![ShippedScenario {
        name: "test".into(),
        text: SCENARIO.into(),
    }];
    local(router(AppState::new(
        catalog,
        scenarios,
        Store::in_memory().unwrap(),
    )))
}

/// `app` as a local client reaches it: with `Host: 127.0.0.1` when the request names none
/// (`oneshot` requests carry no Host; the guard refuses those). The guard itself is tested in
/// `tests/security.rs`.
fn local(app: Router) -> Router {
    app.layer(axum::middleware::map_request(
        |mut request: axum::extract::Request| async move {
            request
                .headers_mut()
                .entry(axum::http::header::HOST)
                .or_insert(axum::http::HeaderValue::from_static("127.0.0.1"));
            request
        },
    ))
}

pub(crate) async fn send(
    app: &Router,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, String) {
    let mut request = Request::builder().method(method).uri(uri);
    let body = match body {
        Some(v) => {
            request = request.header("content-type", "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    let response = app
        .clone()
        .oneshot(request.body(body).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

pub(crate) fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// An app with the shipped `openai-portfolio` scenario and risk portfolio, and its state.
pub(crate) fn risk_app() -> (Router, AppState) {
    let catalog = Catalog::embedded().expect("the shipped catalog loads");
    let scenarios = vec![ShippedScenario {
        name: "openai-portfolio".into(),
        text: include_str!("../../../../scenarios/openai-portfolio.toml").into(),
    }];
    let portfolio = ShippedScenario {
        name: "openai-portfolio-risk".into(),
        text: RISK_PORTFOLIO.into(),
    };
    let state = AppState::with_risk_portfolio(
        catalog,
        scenarios,
        Some(portfolio),
        Store::in_memory().unwrap(),
    );
    (local(router(state.clone())), state)
}

pub(crate) const RISK_PORTFOLIO: &str =
    include_str!("../../../../scenarios/openai-portfolio-risk.toml");

pub(crate) const SERVE_SPEC: &str = "model = \"llama3-70b\"\n[cluster]\nsystem = \"dgx-h100\"\n[serving]\ntp = 4\nprecision = \"fp8\"\ninput_tokens = 2000\noutput_tokens = 500\nttft_slo_s = 2.0\ntpot_slo_s = 0.05\n";
