//! The plan, training and catalog API, errors, limits and the OpenAPI document.

use axum::http::StatusCode;
use serde_json::json;

use engine::EngineError;

use super::*;

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
    // The dashboard's plan page shows this report: its capability section is there, and the
    // JSON carries the same section.
    assert!(
        html.contains("<section id=\"capability\">"),
        "capability section"
    );
    assert!(v["capability"]["months"]
        .as_array()
        .is_some_and(|m| !m.is_empty()));
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
    // Where the step goes, and what its compute runs by kind of kernel.
    assert!(html.contains("Where a step goes") && html.contains("What the compute runs"));
    let b = &json_of(&body)["breakdown"];
    let kinds: f64 = perf::Breakdown::COMPUTE_KIND_FIELDS
        .iter()
        .map(|k| b[*k].as_f64().unwrap())
        .sum();
    assert!(
        (kinds / b["compute_s"].as_f64().unwrap() - 1.0).abs() < 1e-9,
        "{b}"
    );
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

    // Recipe names work as they do in `gigawatt train search`; a recipe the chip lacks is a 400
    // naming the field.
    let recipe = json!({ "model": "llama3-8b", "system": "dgx-h100", "gpus": 64, "global_batch": 64, "seq_len": 4096, "precision": "fp8-current", "top": 1 });
    let (status, body) = send(&app, "POST", "/api/train/search", Some(recipe)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let lacking = json!({ "model": "llama3-8b", "system": "dgx-h100", "gpus": 64, "global_batch": 64, "seq_len": 4096, "precision": "mxfp8" });
    let (status, body) = send(&app, "POST", "/api/train/search", Some(lacking)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let error = json_of(&body)["error"].as_str().unwrap().to_string();
    assert!(
        error.contains("`precision`") && error.contains("mxfp8"),
        "{error}"
    );
    let unknown = json!({ "model": "llama3-8b", "system": "dgx-h100", "gpus": 64, "global_batch": 64, "seq_len": 4096, "precision": "fp9" });
    let (status, body) = send(&app, "POST", "/api/train/search", Some(unknown)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(json_of(&body)["error"].as_str().unwrap().contains("nvfp4"));
}

/// The `.route("PATH", ...)` calls in this crate's router, with their methods.
fn routed() -> Vec<(String, String)> {
    let source = include_str!("../lib.rs");
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
    // The small plan once beforehand, central values only: its capability layout search is
    // memoised process-wide and takes seconds cold in a debug build, which would time the
    // memo rather than the executor. Its ranges are not cached by this request.
    let (status, _) = send(
        &app,
        "POST",
        "/api/plan?no_ranges=true",
        Some(json!({ "input": SCENARIO })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Two slow plans (200 tranches over 45 years, as HTML) run on the blocking pool; a health
    // check and a small plan with ranges (1,000 draws) sent after they started are answered
    // before they finish.
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
    let (status, quick) = send(
        &app,
        "POST",
        "/api/plan",
        Some(json!({ "input": SCENARIO })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json_of(&quick)["ranges"]["draws"], 1_000);
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

#[tokio::test]
async fn plans_carry_ranges_beside_totals_with_the_clis_options() {
    let catalog = Catalog::embedded().expect("the shipped catalog loads");
    let state = AppState::new(catalog, Vec::new(), Store::in_memory().unwrap());
    let app = local(router(state.clone()));
    // Default: 1,000 draws, seed 0, p10/p50/p90 of the headlines and a tornado; `totals` keeps
    // the central values.
    let (status, body) = send(
        &app,
        "POST",
        "/api/plan",
        Some(json!({ "input": SCENARIO })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v = json_of(&body);
    let ranges = &v["ranges"];
    assert_eq!(ranges["draws"], 1_000, "{ranges}");
    assert_eq!(ranges["seed"], 0);
    let accelerators = &ranges["headlines"]["accelerators"];
    let (p10, p90) = (
        accelerators["p10"].as_f64().unwrap(),
        accelerators["p90"].as_f64().unwrap(),
    );
    assert!(p10 < p90, "{accelerators}");
    assert!(v["totals"]["accelerators"].as_f64().unwrap() > 0.0);
    assert!(ranges["tornado"].as_array().is_some_and(|t| !t.is_empty()));
    assert_eq!(state.inner.ranges_cache.len(), 1);
    // The same plan again comes from the cache, identical.
    let (_, again) = send(
        &app,
        "POST",
        "/api/plan",
        Some(json!({ "input": SCENARIO })),
    )
    .await;
    assert_eq!(json_of(&again)["ranges"], *ranges);
    assert_eq!(state.inner.ranges_cache.len(), 1);
    // Query options, as the CLI's --draws and --seed.
    let (status, body) = send(
        &app,
        "POST",
        "/api/plan?draws=200&seed=3",
        Some(json!({ "input": SCENARIO })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v = json_of(&body);
    assert_eq!(
        (v["ranges"]["draws"].clone(), v["ranges"]["seed"].clone()),
        (json!(200), json!(3))
    );
    // Body options win over the query's.
    let (_, body) = send(
        &app,
        "POST",
        "/api/plan?draws=200",
        Some(json!({ "input": SCENARIO, "draws": 150, "seed": 4 })),
    )
    .await;
    let v = json_of(&body);
    assert_eq!(
        (v["ranges"]["draws"].clone(), v["ranges"]["seed"].clone()),
        (json!(150), json!(4))
    );
    // --no-ranges: central values only, the same totals.
    for (uri, body) in [
        ("/api/plan?no_ranges=true", json!({ "input": SCENARIO })),
        ("/api/plan", json!({ "input": SCENARIO, "no_ranges": true })),
    ] {
        let (status, text) = send(&app, "POST", uri, Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{text}");
        let v = json_of(&text);
        assert!(v["ranges"].is_null(), "{uri}: {}", v["ranges"]);
        assert_eq!(v["totals"], json_of(&again)["totals"]);
    }
}

#[tokio::test]
async fn bad_range_options_are_400_naming_the_field() {
    let app = app();
    for (uri, body) in [
        ("/api/plan?draws=0", json!({ "input": SCENARIO })),
        ("/api/plan", json!({ "input": SCENARIO, "draws": 10_001 })),
    ] {
        let (status, text) = send(&app, "POST", uri, Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {text}");
        let message = json_of(&text)["error"].as_str().unwrap().to_string();
        assert!(message.contains("draws = "), "{message}");
        assert!(message.contains("fix:"), "{message}");
    }
    // Other endpoints refuse the plan's options rather than ignore them.
    let spec = "model = \"llama3-8b\"\n[cluster]\nsystem = \"dgx-h100\"\ngpus = 8\n[parallelism]\ntp = 8\n[training]\nglobal_batch = 8\nseq_len = 4096\n";
    let (status, text) = send(
        &app,
        "POST",
        "/api/train",
        Some(json!({ "input": spec, "draws": 10 })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    assert!(text.contains("options of /api/plan"), "{text}");
    // A query parameter of the wrong type is a 400 too.
    let (status, _) = send(
        &app,
        "POST",
        "/api/plan?draws=many",
        Some(json!({ "input": SCENARIO })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_plans_with_ranges_are_all_answered() {
    let app = app();
    // More plans at once than model slots (2 per core): each with its own seed, so none is
    // served from the cache; every one answers 200 with its ranges.
    let plans: Vec<_> = (0..12u64)
        .map(|seed| {
            let app = app.clone();
            tokio::spawn(async move {
                send(
                    &app,
                    "POST",
                    &format!("/api/plan?seed={seed}"),
                    Some(json!({ "input": SCENARIO })),
                )
                .await
            })
        })
        .collect();
    for (seed, plan) in plans.into_iter().enumerate() {
        let (status, text) = plan.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{text}");
        assert_eq!(json_of(&text)["ranges"]["seed"], seed as u64);
    }
}

#[tokio::test]
async fn plans_too_large_for_the_budget_leave_the_ranges_out_and_say_so() {
    // 200 tranches over 45 years: 200 x ~560 tranche-months leave room for ~44 draws in the
    // budget (5,000,000 / 112,600), fewer than the 100 worth reporting.
    let mut text = String::from("name = \"big\"\nend = \"2070-12\"\n");
    for i in 0..MAX_PLAN_TRANCHES {
        text += &format!(
            "[[tranche]]\nname = \"t{i}\"\nsystem = \"gb200-nvl72\"\nfacility_gw = 0.1\nstart = \"2026-01\"\n"
        );
    }
    let (status, body) = send(&app(), "POST", "/api/plan", Some(json!({ "input": text }))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v = json_of(&body);
    assert!(v["ranges"].is_null());
    let months = v["timeline"].as_array().unwrap().len() as u64;
    let fit = 5_000_000 / (200 * months);
    assert!(fit < 100, "{months} months");
    let warnings = v["warnings"].to_string();
    assert!(warnings.contains("ranges left out"), "{warnings}");
    assert!(
        warnings.contains(&format!("only {fit} draws")),
        "{warnings}"
    );
}
