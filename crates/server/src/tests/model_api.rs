//! Serving, reliability and risk through the API: answers, bad input, bounds, slots.

use axum::http::StatusCode;
use serde_json::json;

use engine::EngineError;

use super::*;

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
async fn the_catalog_api_carries_sites_with_their_last_search_and_claims() {
    let app = app();
    let (status, body) = send(&app, "GET", "/api/catalog", None).await;
    assert_eq!(status, StatusCode::OK);
    let v = json_of(&body);
    let abilene = &v["sites"]["abilene"];
    assert_eq!(abilene["searched"], "2026-12-02", "{abilene}");
    assert!(abilene["latest"].as_str().is_some_and(|l| !l.is_empty()));
    let claims = v["claims"].as_array().expect("claims");
    assert!(claims
        .iter()
        .any(|c| c["quantity"] == "system.vera-rubin-nvl144.price_usd" && c["source"].is_string()));
    // Sources carry their quality fields.
    let source = &v["sources"]["src-reuters-ces2026-vr"];
    assert_eq!(source["kind"], "primary-press");
    assert!(source["excerpt"].as_str().is_some_and(|e| e.contains("72")));
}
