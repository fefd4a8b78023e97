//! Router tests: each request goes through the whole application with `oneshot`.

use axum::body::{to_bytes, Body};
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt;

use super::*;

const SCENARIO: &str = r#"name = "Test plan"
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

#[tokio::test]
async fn healthz_reports_versions() {
    let (status, body) = send(&app(), "GET", "/healthz", None).await;
    assert_eq!(status, StatusCode::OK);
    let v = json_of(&body);
    assert_eq!(v["status"], "ok");
    assert_eq!(v["engine_version"], engine::ENGINE_VERSION);
}

#[tokio::test]
async fn plan_ok_in_every_format() {
    let app = app();
    let (status, body) = send(
        &app,
        "POST",
        "/api/plan",
        Some(json!({ "input": SCENARIO })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v = json_of(&body);
    assert!(v["totals"]["facility_gw"].as_f64().unwrap() > 0.9);
    let (status, html) = send(
        &app,
        "POST",
        "/api/plan?format=html",
        Some(json!({ "scenario": SCENARIO })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<svg"), "the report has charts");
    // Plain TOML bodies work too.
    let response = app
        .clone()
        .oneshot(
            Request::post("/api/plan?format=csv")
                .header("content-type", "application/toml")
                .body(Body::from(SCENARIO))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn bad_input_is_400_with_the_cli_message() {
    let app = app();
    let text = "name = \"x\"\n[[tranche]]\nsystem = \"gb200-nvl72x\"\nfacility_gw = 1.0\nstart = \"2026-01\"\n";
    let (status, body) = send(
        &app,
        "POST",
        "/api/plan",
        Some(json!({ "input": text, "origin": "bad.toml" })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let v = json_of(&body);
    let catalog = Catalog::embedded().unwrap();
    let EngineError::Invalid(expected) = engine::plan_text(&catalog, "bad.toml", text).unwrap_err();
    assert_eq!(v["error"], expected.to_string());
    assert!(
        v["error"].as_str().unwrap().starts_with("bad.toml:3:"),
        "{body}"
    );
    assert_eq!(v["diagnostics"][0]["line"], 3);

    let (status, body) = send(
        &app,
        "POST",
        "/api/plan",
        Some(json!({ "input": "name = " })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "malformed TOML");
    assert!(json_of(&body)["error"]
        .as_str()
        .unwrap()
        .starts_with("scenario.toml:1:"));

    let response = app
        .clone()
        .oneshot(
            Request::post("/api/plan")
                .header("content-type", "application/json")
                .body(Body::from("{not json"))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "malformed JSON");

    let (status, _) = send(
        &app,
        "POST",
        "/api/plan?format=pdf",
        Some(json!({ "input": SCENARIO })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let big = "#".repeat(BODY_LIMIT_BYTES + 10);
    let response = app()
        .oneshot(
            Request::post("/api/plan")
                .header("content-type", "application/toml")
                .body(Body::from(big))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn unknown_runs_and_paths_are_404() {
    let app = app();
    for uri in [
        "/api/runs/999",
        "/api/runs/abc",
        "/api/runs/..%2F..%2Fetc%2Fpasswd",
        "/api/runs/-1/verify",
        "/api/nothing",
        "/runs/999",
        "/nothing",
        "/runs/compare?a=1&b=2",
    ] {
        let (status, _) = send(&app, "GET", uri, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
    }
    let (status, _) = send(&app, "DELETE", "/api/runs/5", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn runs_save_list_view_compare_verify_delete() {
    let app = app();
    let (status, body) = send(
        &app,
        "POST",
        "/api/runs",
        Some(json!({ "kind": "plan", "input": SCENARIO, "name": "base" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let a = json_of(&body)["run"]["id"].as_i64().unwrap();
    let changed = SCENARIO.replace("facility_gw = 1.0", "facility_gw = 2.0");
    let (_, body) = send(&app, "POST", "/api/runs", Some(json!({ "input": changed }))).await;
    let b = json_of(&body)["run"]["id"].as_i64().unwrap();

    let (_, body) = send(&app, "GET", "/api/runs", None).await;
    let list = json_of(&body);
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["id"], b);
    assert_eq!(list[1]["name"], "base");
    assert_eq!(list[1]["input_hash"], engine::content_hash(SCENARIO));

    let (status, body) = send(&app, "GET", &format!("/api/runs/{a}"), None).await;
    assert_eq!(status, StatusCode::OK);
    let run = json_of(&body);
    assert_eq!(run["input_text"], SCENARIO);
    assert_eq!(run["engine_version"], engine::ENGINE_VERSION);
    assert!(run["result"]["totals"]["capex_usd"].as_f64().unwrap() > 0.0);

    let (_, body) = send(&app, "GET", &format!("/api/runs/{a}/verify"), None).await;
    assert_eq!(json_of(&body)["reproduces"], true);

    let (status, body) = send(&app, "GET", &format!("/api/runs/compare?a={a}&b={b}"), None).await;
    assert_eq!(status, StatusCode::OK);
    let c = json_of(&body);
    let ratio = c["outputs"][0]["ratio"].as_f64().unwrap();
    assert!(
        (ratio - 2.0).abs() < 0.05,
        "facility power doubles: {ratio}"
    );
    let diff = c["input_diff"].as_array().unwrap();
    assert!(diff
        .iter()
        .any(|l| l["op"] == "added" && l["text"] == "facility_gw = 2.0"));

    for page in [
        "/runs",
        &format!("/runs/{a}"),
        &format!("/runs/compare?a={a}&b={b}"),
        &format!("/plan?run={a}"),
    ] {
        let (status, html) = send(&app, "GET", page, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(
            html.contains("Test plan") || html.contains("base"),
            "{page}"
        );
    }

    let (status, _) = send(&app, "DELETE", &format!("/api/runs/{a}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(&app, "GET", &format!("/api/runs/{a}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn train_and_bounded_search() {
    let app = app();
    let spec = "model = \"llama3-8b\"\n[cluster]\nsystem = \"dgx-h100\"\ngpus = 8\n[parallelism]\ntp = 8\n[training]\nglobal_batch = 8\nseq_len = 4096\n";
    let (status, body) = send(&app, "POST", "/api/train", Some(json!({ "spec": spec }))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(json_of(&body)["step_time_s"].as_f64().unwrap() > 0.0);
    let (status, html) = send(
        &app,
        "POST",
        "/api/train?format=html",
        Some(json!({ "spec": spec })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<svg"));
    let (status, body) = send(
        &app,
        "POST",
        "/api/runs",
        Some(json!({ "kind": "train", "input": spec })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let search = json!({ "model": "llama3-8b", "system": "dgx-h100", "gpus": 64, "global_batch": 64, "seq_len": 4096, "top": 3 });
    let (status, body) = send(&app, "POST", "/api/train/search", Some(search)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(json_of(&body)["top"].as_array().unwrap().len() <= 3);
    let huge = json!({ "model": "llama3-8b", "system": "dgx-h100", "gpus": 100_000_000, "global_batch": 64, "seq_len": 4096 });
    let (status, body) = send(&app, "POST", "/api/train/search", Some(huge)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(json_of(&body)["error"]
        .as_str()
        .unwrap()
        .contains("`gpus` is 100000000"));
}

#[tokio::test]
async fn pages_render() {
    let app = app();
    for page in [
        "/plan",
        "/plan?scenario=test",
        "/train",
        "/infer",
        "/catalog",
        "/runs",
        "/reliability",
        "/risk",
    ] {
        let (status, html) = send(&app, "GET", page, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(html.starts_with("<!doctype html>"), "{page}");
        for link in ["/infer", "/reliability", "/risk"] {
            assert!(
                html.contains(&format!("<a href=\"{link}\"")),
                "{page}: nav {link}"
            );
        }
        assert!(!html.contains("(coming)"), "{page}: nav");
    }
    let (_, html) = send(&app, "GET", "/infer", None).await;
    assert!(html.contains("llama3-70b") && html.contains("tpot_slo_s = 0.05"));
    let (_, html) = send(&app, "GET", "/reliability", None).await;
    assert!(html.contains("id=\"r-gpus\""));
    // Without a shipped portfolio the risk page says so; with one, it is in the editor.
    let (_, html) = send(&app, "GET", "/risk", None).await;
    assert!(html.contains("no shipped portfolio"));
    let (_, html) = send(&risk_app().0, "GET", "/risk", None).await;
    assert!(html.contains("openai-portfolio-risk") && html.contains("[[deal]]"));
    let (status, _) = send(&app, "GET", "/", None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn user_text_is_escaped() {
    let app = app();
    let evil = SCENARIO.replace("Test plan", "<script>alert(1)</script>");
    let (status, body) = send(
        &app,
        "POST",
        "/api/runs",
        Some(json!({ "input": evil, "name": "<img src=x onerror=alert(1)>" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = json_of(&body)["run"]["id"].as_i64().unwrap();
    for page in ["/runs".to_string(), format!("/runs/{id}")] {
        let (_, html) = send(&app, "GET", &page, None).await;
        assert!(!html.contains("<img src=x"), "{page}");
        assert!(!html.contains("<script>alert"), "{page}");
    }
}

/// The `.route("PATH", ...)` calls in this crate's router, with their methods.
fn routed() -> Vec<(String, String)> {
    let source = include_str!("lib.rs");
    let mut out = Vec::new();
    for line in source.lines() {
        let line = line.trim();
        let Some(rest) = line.strip_prefix(".route(\"") else {
            continue;
        };
        let path = rest.split('"').next().unwrap().to_string();
        if !(path.starts_with("/api/") || path == "/healthz") {
            continue;
        }
        for (needle, method) in [("get(", "get"), ("post(", "post"), ("delete(", "delete")] {
            if rest.contains(needle) {
                out.push((path.clone(), method.to_string()));
            }
        }
    }
    out
}

#[tokio::test]
async fn openapi_lists_every_route_and_only_routes() {
    let app = app();
    let (status, body) = send(&app, "GET", "/api/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    let doc = json_of(&body);
    let paths = doc["paths"].as_object().unwrap();
    let routes = routed();
    assert!(routes.len() >= 12, "found the routes: {routes:?}");
    for (path, method) in &routes {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} is routed but not in openapi.json"
        );
    }
    let mut documented = 0;
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            documented += 1;
            assert!(
                routes.iter().any(|(p, m)| p == path && m == method),
                "{method} {path} is in openapi.json but not routed"
            );
            // And the router answers it (not with its 404 fallback or 405).
            let uri = path.replace("{id}", "1");
            let (status, body) = send(&app, &method.to_uppercase(), &uri, None).await;
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert!(!body.contains("no endpoint"), "{method} {path}");
        }
    }
    assert_eq!(documented, routes.len());
}

#[tokio::test]
async fn huge_plans_are_refused_with_a_clear_message() {
    let mut text = String::from("name = \"huge\"\n");
    for i in 0..=MAX_PLAN_TRANCHES {
        text += &format!(
            "[[tranche]]\nname = \"t{i}\"\nsystem = \"gb200-nvl72\"\nfacility_gw = 0.1\nstart = \"2026-01\"\n"
        );
    }
    let (status, body) = send(&app(), "POST", "/api/plan", Some(json!({ "input": text }))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = json_of(&body)["error"].as_str().unwrap().to_string();
    assert!(message.contains("at most 200"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_request_does_not_stop_the_others() {
    let app = app();
    // Two slow plans (200 tranches over 45 years, as HTML) run on the blocking pool; a health
    // check and a small plan sent after they started are answered before they finish.
    let mut text = String::from("name = \"slow\"\nend = \"2070-12\"\n");
    for i in 0..MAX_PLAN_TRANCHES {
        text += &format!(
            "[[tranche]]\nname = \"t{i}\"\nsystem = \"gb200-nvl72\"\nfacility_gw = 0.1\nstart = \"2026-01\"\n"
        );
    }
    let slow: Vec<_> = (0..2)
        .map(|_| {
            let app = app.clone();
            let text = text.clone();
            tokio::spawn(async move {
                let (status, _) = send(
                    &app,
                    "POST",
                    "/api/plan?format=html",
                    Some(json!({ "input": text })),
                )
                .await;
                (status, std::time::Instant::now())
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(30)).await;
    let (status, _) = send(&app, "GET", "/healthz", None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(
        &app,
        "POST",
        "/api/plan",
        Some(json!({ "input": SCENARIO })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let quick_done = std::time::Instant::now();
    for s in slow {
        let (status, slow_done) = s.await.unwrap();
        assert_eq!(status, StatusCode::OK);
        assert!(
            quick_done < slow_done,
            "the quick requests did not wait for the slow ones"
        );
    }
}

/// An app with the shipped `openai-portfolio` scenario and risk portfolio, and its state.
fn risk_app() -> (Router, AppState) {
    let catalog = Catalog::embedded().expect("the shipped catalog loads");
    let scenarios = vec![ShippedScenario {
        name: "openai-portfolio".into(),
        text: include_str!("../../../scenarios/openai-portfolio.toml").into(),
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

const RISK_PORTFOLIO: &str = include_str!("../../../scenarios/openai-portfolio-risk.toml");

const SERVE_SPEC: &str = "model = \"llama3-70b\"\n[cluster]\nsystem = \"dgx-h100\"\n[serving]\ntp = 4\nprecision = \"fp8\"\ninput_tokens = 2000\noutput_tokens = 500\nttft_slo_s = 2.0\ntpot_slo_s = 0.05\n";

#[tokio::test]
async fn infer_spec_ok_bad_and_too_large() {
    let app = app();
    let (status, body) = send(
        &app,
        "POST",
        "/api/infer",
        Some(json!({ "spec": SERVE_SPEC })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v = json_of(&body);
    let catalog = Catalog::embedded().unwrap();
    let expected = engine::infer::infer_text(&catalog, "spec.toml", SERVE_SPEC).unwrap();
    // The bytes `gigawatt infer --spec spec.toml --format json` prints.
    let cli = serde_json::to_string_pretty(&expected).unwrap() + "\n";
    assert_eq!(body, cli, "the CLI's output");
    assert!(v["output_tokens_per_s"].as_f64().unwrap() > 0.0);
    assert_eq!(v["layout"]["tp"], 4);
    // The dashboard's fragment: the result table; and the example the page starts with runs.
    for spec in [SERVE_SPEC, pages::INFER_EXAMPLE] {
        let (status, html) = send(
            &app,
            "POST",
            "/api/infer?format=html",
            Some(json!({ "input": spec })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(
            html.contains("id=\"infer-table\"") && html.contains("<td>fp8</td>"),
            "{html}"
        );
        // Where the decode step's time goes, as a chart, and what the figures rest on.
        assert!(
            html.contains("id=\"decode-step\"") && html.contains("<svg class=\"chart\""),
            "{html}"
        );
        assert!(html.contains("id=\"infer-assumptions\"") && html.contains("matmul ceiling"));
    }

    let bad = SERVE_SPEC.replace("dgx-h100", "dgx-h10");
    let (status, body) = send(
        &app,
        "POST",
        "/api/infer",
        Some(json!({ "input": bad, "origin": "serve.toml" })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let EngineError::Invalid(expected) =
        engine::infer::infer_text(&catalog, "serve.toml", &bad).unwrap_err();
    let message = json_of(&body)["error"].as_str().unwrap().to_string();
    assert_eq!(message, expected.to_string());
    assert!(message.starts_with("serve.toml:3:"), "{message}");

    let big = "#".repeat(BODY_LIMIT_BYTES + 10);
    let response = app
        .oneshot(
            Request::post("/api/infer")
                .header("content-type", "application/toml")
                .body(Body::from(big))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn infer_search_ok_bad_and_bounded() {
    let app = app();
    let search = json!({ "model": "llama3-70b", "system": "dgx-h100", "input_tokens": 2000, "output_tokens": 500,
        "tpot_slo_s": 0.05, "ttft_slo_s": 2.0, "precision": "fp8", "top": 3 });
    let (status, body) = send(&app, "POST", "/api/infer/search", Some(search.clone())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v = json_of(&body);
    let top = v["top"].as_array().unwrap();
    assert!(!top.is_empty() && top.len() <= 3);
    assert!(v["evaluated"].as_u64().unwrap() >= top.len() as u64);
    assert!(top
        .iter()
        .all(|r| r["feasible"] == true && r["tpot_s"].as_f64().unwrap() <= 0.05));
    let (status, html) = send(&app, "POST", "/api/infer/search?format=html", Some(search)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("layouts evaluated") && html.contains("id=\"infer-table\""));
    // One bar per layout, labelled as the JSON's best layout.
    let best = &top[0]["layout"];
    let label = format!("tp {} pp {} ep {}", best["tp"], best["pp"], best["ep"]);
    assert!(
        html.contains("id=\"decode-step\"") && html.contains(&label),
        "{label}: {html}"
    );

    // Bad input: the CLI's message (`gigawatt infer search --input-tokens 0`), naming the JSON
    // field.
    let bad = json!({ "model": "llama3-70b", "system": "dgx-h100", "input_tokens": 0, "output_tokens": 500 });
    let (status, body) = send(&app, "POST", "/api/infer/search", Some(bad)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        json_of(&body)["error"],
        "`input_tokens` is 0\n  fix: tokens per request, from 1 to 10,000,000"
    );
    let bad_percentile = json!({ "model": "llama3-70b", "system": "dgx-h100", "input_tokens": 10, "output_tokens": 10, "slo_percentile": 100 });
    let (status, body) = send(&app, "POST", "/api/infer/search", Some(bad_percentile)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        json_of(&body)["error"]
            .as_str()
            .unwrap()
            .starts_with("`slo_percentile` is 100\n  fix:"),
        "{body}"
    );
    // A precision the chip lacks is refused as the CLI refuses it, not searched.
    let no_fp8 = json!({ "model": "llama3-8b", "system": "dgx-a100-40gb", "input_tokens": 10, "output_tokens": 10, "precision": "fp8" });
    let (status, body) = send(&app, "POST", "/api/infer/search", Some(no_fp8)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        json_of(&body)["error"]
            .as_str()
            .unwrap()
            .contains("has no fp8 matmul units"),
        "{body}"
    );
    let unknown = json!({ "model": "llama3-70b", "system": "dgx-h10", "input_tokens": 10, "output_tokens": 10 });
    let (status, body) = send(&app, "POST", "/api/infer/search", Some(unknown)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        json_of(&body)["error"]
            .as_str()
            .unwrap()
            .contains("dgx-h10"),
        "{body}"
    );

    // Heavy: too many layouts asked for.
    let huge = json!({ "model": "llama3-70b", "system": "dgx-h100", "input_tokens": 10, "output_tokens": 10, "top": 1000 });
    let (status, body) = send(&app, "POST", "/api/infer/search", Some(huge)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(json_of(&body)["error"]
        .as_str()
        .unwrap()
        .starts_with("`top` is 1000"));
}

#[tokio::test]
async fn heavy_requests_beyond_the_slots_are_429() {
    let (app, state) = risk_app();
    let held: Vec<_> = (0..SEARCH_SLOTS)
        .map(|_| {
            state
                .inner
                .search_slots
                .clone()
                .try_acquire_owned()
                .unwrap()
        })
        .collect();
    for (uri, body) in [
        (
            "/api/reliability",
            json!({ "gpus": 1024, "days": 1, "runs": 1 }),
        ),
        ("/api/risk", json!({ "samples": 10 })),
        (
            "/api/infer/search",
            json!({ "model": "llama3-70b", "system": "dgx-h100", "input_tokens": 10, "output_tokens": 10 }),
        ),
    ] {
        let (status, body) = send(&app, "POST", uri, Some(body)).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{uri}: {body}");
        assert!(json_of(&body)["error"]
            .as_str()
            .unwrap()
            .contains("already running"));
    }
    drop(held);
    let (status, _) = send(
        &app,
        "POST",
        "/api/reliability",
        Some(json!({ "gpus": 1024, "days": 1, "runs": 1, "no_search": true })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "the slots are free again");
}

#[tokio::test]
async fn reliability_ok_bad_and_bounded() {
    let app = app();
    let question = json!({ "gpus": 1024, "days": 10, "runs": 4, "seed": 3 });
    let (status, body) = send(&app, "POST", "/api/reliability", Some(question.clone())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v = json_of(&body);
    // The same keys as `gigawatt reliability --format json`.
    for key in [
        "unexpected_interruptions",
        "planned_interruptions",
        "ettr",
        "mtti_hours",
        "optimal_checkpoint_interval_min",
        "young_daly_interval_min",
        "by_cause",
        "lost_hours",
        "assumptions",
        "sources",
    ] {
        assert!(!v[key].is_null(), "missing {key}");
    }
    assert_eq!(v["seed"], 3);
    assert_eq!(v["runs"], 4);
    assert_eq!(v["inputs"]["system"], "dgx-h100");
    assert_eq!(v["inputs"]["systems"], 128);
    let ettr = v["ettr"].as_f64().unwrap();
    assert!(ettr > 0.5 && ettr < 1.0, "{ettr}");
    assert!(v["interval_search"]["best_interval_min"].as_f64().is_some());
    // Deterministic: the same question gives the same bytes.
    let (_, again) = send(&app, "POST", "/api/reliability", Some(question.clone())).await;
    assert_eq!(body, again);
    let (status, html) = send(&app, "POST", "/api/reliability?format=html", Some(question)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("id=\"by-cause\"") && html.contains("ETTR"),
        "{html}"
    );

    // Bad input: the CLI's message, naming the flag.
    for (body, expected) in [
        (
            json!({ "gpus": 1.5, "days": 10 }),
            "--gpus must be a whole number from 1 to 1000000000, got 1.5\n  fix: give the job's accelerator count, e.g. --gpus 16384",
        ),
        (
            json!({ "gpus": 1024, "days": 10, "restart_min": -1 }),
            "--restart-min must be a positive number, got -1\n  fix: minutes to restart the job, e.g. --restart-min 5",
        ),
        (
            json!({ "gpus": 1024, "days": 10, "system": "dgx-h10" }),
            "--system: unknown system `dgx-h10`\n  fix: did you mean `dgx-h100`? `gigawatt catalog list --kind systems` shows every system",
        ),
    ] {
        let (status, text) = send(&app, "POST", "/api/reliability", Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
        assert_eq!(json_of(&text)["error"], expected);
    }
    let (status, text) = send(
        &app,
        "POST",
        "/api/reliability",
        Some(json!({ "gpus": 8, "days": 1, "colour": 1 })),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "unknown fields are refused"
    );
    assert!(text.contains("colour"));

    // Heavy: refused before simulating.
    for (body, needle) in [
        (
            json!({ "gpus": 20_000_000, "days": 1 }),
            "at most 10,000,000 accelerators",
        ),
        (
            json!({ "gpus": 1024, "days": 1, "runs": 101 }),
            "at most 100 runs",
        ),
        (
            json!({ "gpus": 1024, "days": 4000, "runs": 1 }),
            "at most 3650 days",
        ),
        (
            json!({ "gpus": 1024, "work_hours": 2000, "runs": 1 }),
            "at most 3650 days",
        ),
        // Within the size limits, but a billion events: the work is what is bounded.
        (
            json!({ "gpus": 10_000_000, "days": 3650, "runs": 100 }),
            "the server simulates at most 30,000,000 events per request",
        ),
        (
            json!({ "gpus": 1_000_000, "days": 60, "runs": 20 }),
            "which allows 1,000,000,000 events",
        ),
    ] {
        let (status, text) = send(&app, "POST", "/api/reliability", Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
        let message = json_of(&text)["error"].as_str().unwrap().to_string();
        assert!(
            message.contains(needle) && message.contains("gigawatt reliability"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn reliability_rate_bounds_are_the_clis() {
    let app = app();
    for (body, expected) in [
        (
            json!({ "gpus": 16384, "days": 1, "weibull_shape": 0.01 }),
            "--weibull-shape must be from 0.2 to 10, got 0.01\n  fix: a Weibull shape from 0.2 to 10, such as 0.7 (infant mortality) or 1.5 (wear-out)",
        ),
        (
            json!({ "gpus": 16384, "days": 1, "planned_per_day": 1e9 }),
            "--planned-per-day must be at most 24, got 1000000000\n  fix: planned interruptions per day, at most 24 (one an hour), e.g. 0.87 (Llama 3)",
        ),
    ] {
        let (status, text) = send(&app, "POST", "/api/reliability", Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
        assert_eq!(json_of(&text)["error"], expected);
    }
    // Without the search there is no simulated optimum.
    let (status, text) = send(
        &app,
        "POST",
        "/api/reliability",
        Some(json!({ "gpus": 1024, "days": 2, "runs": 2, "no_search": true })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let v = json_of(&text);
    assert!(v["optimal_checkpoint_interval_min"].is_null());
    assert!(v["summary"]["expected"]["optimal_interval_min"].is_number());
}

#[tokio::test]
async fn a_timed_out_simulation_is_cancelled_and_frees_its_slot() {
    let catalog = Catalog::embedded().expect("the shipped catalog loads");
    let state = AppState::new(catalog, Vec::new(), Store::in_memory().unwrap());
    let app = local(router(state.clone()));
    // Within every limit (most of the server's event budget): about a second of work in a
    // debug build.
    let heavy = json!({ "gpus": 1_000_000, "days": 30, "runs": 20 });
    let started = std::time::Instant::now();
    let (status, text) = send(&app, "POST", "/api/reliability", Some(heavy.clone())).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let full = started.elapsed();
    state.set_model_timeout(Duration::from_millis(1));
    // More timed-out requests than slots: each must give its slot back.
    for _ in 0..=SEARCH_SLOTS {
        let started = std::time::Instant::now();
        let (status, text) = send(&app, "POST", "/api/reliability", Some(heavy.clone())).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{text}");
        assert!(
            json_of(&text)["error"]
                .as_str()
                .unwrap()
                .contains("took longer than 0.001 s"),
            "{text}"
        );
        // The simulation stopped before the answer, long before it would have finished...
        assert!(
            started.elapsed() < full / 2,
            "{:?} (the whole simulation takes {full:?}): it was not cancelled",
            started.elapsed()
        );
        // ...and gave its slot back.
        assert_eq!(
            state.inner.search_slots.available_permits(),
            SEARCH_SLOTS,
            "the abandoned simulation still holds its slot"
        );
    }
    state.set_model_timeout(MODEL_TIMEOUT);
    let (status, text) = send(
        &app,
        "POST",
        "/api/reliability",
        Some(json!({ "gpus": 1024, "days": 10, "runs": 4 })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(json_of(&text)["interval_search"]["best_interval_min"].is_number());
}

#[tokio::test]
async fn risk_ok_bad_and_bounded() {
    let (app, _) = risk_app();
    let (status, body) = send(
        &app,
        "POST",
        "/api/risk",
        Some(json!({ "samples": 200, "seed": 7, "at_least_gw": 5, "by": "2028-12" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v = json_of(&body);
    assert_eq!(v["samples"], 200);
    assert_eq!(v["seed"], 7);
    let last = v["timeline"].as_array().unwrap().last().unwrap().clone();
    let (p10, p90) = (
        last["facility_gw"]["p10"].as_f64().unwrap(),
        last["facility_gw"]["p90"].as_f64().unwrap(),
    );
    assert!(p10 > 0.0 && p10 <= p90, "{p10} {p90}");
    // The same request gives the same bytes (no clock in the result).
    let (_, again) = send(
        &app,
        "POST",
        "/api/risk",
        Some(json!({ "samples": 200, "seed": 7, "at_least_gw": 5, "by": "2028-12" })),
    )
    .await;
    assert_eq!(body, again);
    // The page's request: the edited text, as HTML with its charts.
    let (status, html) = send(
        &app,
        "POST",
        "/api/risk?format=html",
        Some(json!({ "portfolio_text": RISK_PORTFOLIO, "samples": 100 })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.starts_with("<!doctype html>") || html.starts_with("<!DOCTYPE html>"),
        "{}",
        &html[..40.min(html.len())]
    );
    assert!(html.contains("<svg"));

    // Bad input: the CLI's messages.
    let typo = RISK_PORTFOLIO.replace(
        "scenario = \"openai-portfolio\"",
        "scenario = \"openai-portfolo\"",
    );
    let (status, text) = send(
        &app,
        "POST",
        "/api/risk",
        Some(json!({ "portfolio_text": typo, "samples": 10 })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = json_of(&text)["error"].as_str().unwrap().to_string();
    assert!(
        message.starts_with("portfolio.toml:")
            && message.contains("did you mean the shipped scenario `openai-portfolio`?"),
        "{message}"
    );
    let broken = "schema_version = 1\nscenario = \"openai-portfolio\"\nsamples = \"many\"\n";
    let (status, text) = send(
        &app,
        "POST",
        "/api/risk",
        Some(json!({ "portfolio_text": broken })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let risk::RiskError::Invalid(expected) = risk::parse("portfolio.toml", broken).unwrap_err();
    assert_eq!(json_of(&text)["error"], expected.to_string());
    let (status, text) = send(&app, "POST", "/api/risk", Some(json!({ "seed": -1 }))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let expected = catalog::Diagnostic::new(risk::COMMAND_LINE, "impossible seed -1")
        .field("--seed")
        .hint("a seed is a whole number, 0 or more")
        .to_string();
    assert_eq!(json_of(&text)["error"], expected);
    let (status, _) = send(
        &app,
        "POST",
        "/api/risk",
        Some(json!({ "samples": 10, "by": "2028-13", "at_least_gw": 1 })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Heavy: refused before sampling.
    let (status, text) = send(
        &app,
        "POST",
        "/api/risk",
        Some(json!({ "samples": 300_000 })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = json_of(&text)["error"].as_str().unwrap().to_string();
    assert!(
        message.contains("at most 200,000 samples") && message.contains("gigawatt risk"),
        "{message}"
    );

    // A server without a shipped portfolio needs the text.
    let (status, text) = send(&crate::tests::app(), "POST", "/api/risk", Some(json!({}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(text.contains("portfolio_text"));
}

#[tokio::test]
async fn views_of_large_runs_share_the_heavy_slots() {
    let catalog = Catalog::embedded().unwrap();
    let state = AppState::new(catalog, Vec::new(), Store::in_memory().unwrap());
    let app = local(router(state.clone()));
    let padding = "x".repeat(LARGE_RUN_BYTES as usize);
    let run = NewRun {
        kind: RunKind::Plan,
        name: "large".into(),
        origin: "large.toml".into(),
        input_text: SCENARIO.into(),
        input_hash: engine::content_hash(SCENARIO),
        engine_version: engine::ENGINE_VERSION.into(),
        catalog_version: String::new(),
        result_json: json!({ "padding": padding }).to_string(),
        created_unix_ms: 0,
    };
    let id = state.inner.store().insert(&run).unwrap();
    let first = models::heavy_slot(&state).unwrap();
    let second = models::heavy_slot(&state).unwrap();
    let (status, body) = send(&app, "GET", &format!("/api/runs/{id}"), None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(body.contains("is large"), "{body}");
    drop(first);
    let (status, _) = send(&app, "GET", &format!("/api/runs/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    drop(second);
}
