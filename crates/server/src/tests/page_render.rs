//! The dashboard's pages: each renders, and user text is escaped.

use axum::http::StatusCode;
use serde_json::json;

use super::*;

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
    // The catalog page shows the knowledge cut-off and every deal's timeline, as /api/deals.
    let (_, html) = send(&app, "GET", "/catalog", None).await;
    let (status, deals) = send(&app, "GET", "/api/deals", None).await;
    assert_eq!(status, StatusCode::OK);
    let deals = json_of(&deals);
    let cutoff = deals["knowledge_cutoff"].as_str().unwrap();
    assert!(html.contains(&format!(
        "Knowledge cut-off: <strong class=\"nw\">{cutoff}</strong>"
    )));
    let timelines = deals["deals"].as_array().unwrap();
    assert!(!timelines.is_empty());
    for t in timelines {
        let id = t["deal"].as_str().unwrap();
        assert!(html.contains(&format!("id=\"timeline-{id}\"")), "{id}");
    }
    let (status, _) = send(&app, "GET", "/", None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_training_validation_page_is_the_clis_and_the_train_page_links_it() {
    let app = app();
    let (_, train) = send(&app, "GET", "/train", None).await;
    assert!(train.contains("<a href=\"/train/validation\">"));
    let (status, html) = send(&app, "GET", "/train/validation", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.starts_with("<!doctype html>"));
    for text in [
        "Left out (leave one source out)",
        "Targets met",
        "<circle ",
        "Every row",
    ] {
        assert!(html.contains(text), "the page misses `{text}`");
    }
    // Computed once: the second answer is the same page.
    let (_, again) = send(&app, "GET", "/train/validation", None).await;
    assert_eq!(again, html);
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
