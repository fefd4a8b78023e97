//! Stored runs: save, list, view, compare, verify, delete; views of large runs.

use axum::http::StatusCode;
use serde_json::json;

use super::*;

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
