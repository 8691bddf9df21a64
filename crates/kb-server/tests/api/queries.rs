//! The read-only routes: action costs, requirements and options,
//! simulation, `/metadata` and `/runtime-config`. None of them changes a
//! session.

use axum::http::Method;
use kb_protocol::ErrorCode;
use serde_json::{Value, json};

use crate::helpers::{
    ALICE, BOB, TestApp, TestResponse, assert_same_json, session_id, sorted_keys, version,
};

async fn query(app: &TestApp, method: Method, path: &str, body: Option<&str>) -> TestResponse {
    app.call(method, path, Some(ALICE), body).await
}

fn ok(response: TestResponse) -> Value {
    assert_eq!(response.status, 200, "{}", response.text());
    assert!(
        response.headers.get("etag").is_none(),
        "queries carry no ETag"
    );
    response.json()
}

#[tokio::test]
async fn costs_are_the_actions_costs_for_the_given_params() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let costs = |action: &str| format!("/sessions/{id}/actions/{action}/costs");
    let cases = [
        ("tax", None, json!({"ap": 1})),
        ("tax", Some("{}"), json!({"ap": 1})),
        ("expand", Some("{}"), json!({"ap": 1, "gold": 2})),
        (
            "develop",
            Some(r#"{"params": {"id": "house"}}"#),
            json!({"ap": 1, "gold": 3}),
        ),
        (
            "royal_decree",
            Some(r#"{"sessionId": "ignored", "actionId": "ignored"}"#),
            json!({"ap": 1, "gold": 12}),
        ),
    ];
    for (action, body, expected) in cases {
        let body_json = ok(query(&app, Method::POST, &costs(action), body).await);
        assert_eq!(
            body_json,
            json!({"sessionId": id, "costs": expected}),
            "{action} {body:?}"
        );
    }
}

#[tokio::test]
async fn requirements_list_only_the_failing_ones() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let path = |action: &str| format!("/sessions/{id}/actions/{action}/requirements");
    let tax = ok(query(&app, Method::POST, &path("tax"), Some("{}")).await);
    assert_eq!(tax, json!({"sessionId": id, "requirements": []}));
    // Raise Population needs room: population 1 is not below the cap of 1.
    let raise = ok(query(&app, Method::POST, &path("raise_pop"), None).await);
    let failures = raise["requirements"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{raise}");
    assert_eq!(failures[0]["requirement"]["type"], "evaluator");
    assert_eq!(failures[0]["requirement"]["method"], "compare");
    assert_eq!(failures[0]["requirement"]["params"]["operator"], "lt");
    assert_eq!(failures[0]["details"], json!({"left": 1, "right": 1}));
}

#[tokio::test]
async fn options_are_the_actions_effect_groups() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let path = |action: &str| format!("/sessions/{id}/actions/{action}/options");
    let tax = ok(query(&app, Method::GET, &path("tax"), None).await);
    assert_eq!(tax, json!({"sessionId": id, "groups": []}));
    let decree = ok(query(&app, Method::GET, &path("royal_decree"), None).await);
    let groups = decree["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{decree}");
    assert_eq!(groups[0]["id"], "royal_decree_develop");
    let options = groups[0]["options"].as_array().unwrap();
    assert!(options.len() >= 2, "{decree}");
    for option in options {
        assert_eq!(option["actionId"], "develop");
        assert!(option["id"].as_str().unwrap().starts_with("royal_decree_"));
    }
    assert!(
        options
            .iter()
            .any(|o| o["params"]["developmentId"] == "house")
    );
}

#[tokio::test]
async fn an_unknown_action_is_404_on_every_action_query() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    for (method, suffix) in [
        (Method::POST, "costs"),
        (Method::POST, "requirements"),
        (Method::GET, "options"),
    ] {
        for prefix in ["", "/api"] {
            let path = format!("{prefix}/sessions/{id}/actions/nope/{suffix}");
            let envelope = query(&app, method.clone(), &path, None).await.envelope(404);
            assert_eq!(envelope.code, ErrorCode::NotFound);
            assert_eq!(
                envelope.message,
                format!("Action \"nope\" was not found in session \"{id}\".")
            );
        }
    }
}

#[tokio::test]
async fn malformed_query_bodies_are_400_with_the_route_literal() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let cases = [
        ("costs", r#"{"params": 5}"#, "Invalid action cost request."),
        ("costs", "{", "Invalid action cost request."),
        (
            "requirements",
            r#"{"params": "x"}"#,
            "Invalid action requirement request.",
        ),
        ("requirements", "[", "Invalid action requirement request."),
    ];
    for (suffix, body, message) in cases {
        let path = format!("/sessions/{id}/actions/tax/{suffix}");
        let envelope = query(&app, Method::POST, &path, Some(body))
            .await
            .envelope(400);
        assert_eq!(envelope.code, ErrorCode::InvalidRequest);
        assert_eq!(envelope.message, message, "{body}");
        assert!(!envelope.issues.unwrap_or_default().is_empty());
    }
}

#[tokio::test]
async fn a_parameter_the_engine_cannot_use_is_400_naming_it() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let cases = [
        (
            "build",
            r#"{"params": {"id": "moat"}}"#,
            "Unknown building \"moat\"",
        ),
        (
            "royal_decree",
            r#"{"params": {"choices": {"royal_decree_develop": {"optionId": "bogus"}}}}"#,
            "Unknown option \"bogus\" for effect group \"royal_decree_develop\"",
        ),
    ];
    for (action, body, message) in cases {
        let path = format!("/sessions/{id}/actions/{action}/costs");
        let envelope = query(&app, Method::POST, &path, Some(body))
            .await
            .envelope(400);
        assert_eq!(envelope.message, message);
    }
}

#[tokio::test]
async fn simulate_previews_the_players_growth_and_upkeep_without_playing() {
    let app = TestApp::game();
    let created = app.create_session(ALICE, "{}").await;
    let id = session_id(&created);
    let path = format!("/sessions/{id}/simulate");
    let body = ok(query(&app, Method::POST, &path, Some(r#"{"playerId": "A"}"#)).await);
    assert_eq!(body["sessionId"], id.as_str());
    let result = &body["result"];
    assert_eq!(result["playerId"], "A");
    assert_eq!(
        result["delta"],
        json!({"resources": {"ap": 1}, "stats": {}, "population": {}})
    );
    assert_eq!(result["steps"].as_array().unwrap().len(), 7);
    assert_eq!(result["before"]["resources"]["ap"], 0);
    assert_eq!(result["after"]["resources"]["ap"], 1);
    // B's preview runs through A's turn first.
    let body = ok(query(&app, Method::POST, &path, Some(r#"{"playerId": "B"}"#)).await);
    assert_eq!(body["result"]["steps"].as_array().unwrap().len(), 15);
    assert_eq!(body["result"]["after"]["resources"]["ap"], 2);
    // Nothing was played.
    assert_same_json(
        &app.snapshot(ALICE, &id).await,
        &created,
        "after simulating",
    );
}

#[tokio::test]
async fn simulate_options_and_their_failures() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let path = format!("/sessions/{id}/simulate");
    let explicit = r#"{"playerId": "A", "options": {"phaseIds": {"growth": "growth", "upkeep": "upkeep"}, "maxIterations": 7}}"#;
    let body = ok(query(&app, Method::POST, &path, Some(explicit)).await);
    assert_eq!(body["result"]["steps"].as_array().unwrap().len(), 7);

    // Deliberate difference: the reference let these engine errors escape
    // as 500s.
    let limited = r#"{"playerId": "A", "options": {"maxIterations": 2}}"#;
    let envelope = query(&app, Method::POST, &path, Some(limited))
        .await
        .envelope(409);
    assert_eq!(envelope.message, "Simulation did not finish within 2 steps");
    let unknown =
        r#"{"playerId": "A", "options": {"phaseIds": {"growth": "spring", "upkeep": "upkeep"}}}"#;
    let envelope = query(&app, Method::POST, &path, Some(unknown))
        .await
        .envelope(400);
    assert_eq!(envelope.message, "Unknown phase \"spring\"");

    for bad in [
        "{}",
        r#"{"playerId": "C"}"#,
        r#"{"playerId": "A", "options": {"maxIterations": -1}}"#,
        r#"{"playerId": "A", "options": 3}"#,
    ] {
        let envelope = query(&app, Method::POST, &path, Some(bad))
            .await
            .envelope(400);
        assert_eq!(envelope.message, "Invalid simulation request.", "{bad}");
    }
    assert_eq!(version(&app.snapshot(ALICE, &id).await), 1);
}

#[tokio::test]
async fn metadata_without_a_session_is_the_default_content_and_public() {
    let app = TestApp::game();
    let response = app.call(Method::GET, "/metadata", None, None).await;
    let body = ok(response);
    assert_eq!(sorted_keys(&body), ["metadata", "registries"]);
    let metadata = body["metadata"].as_object().unwrap();
    for section in [
        "resources",
        "populations",
        "buildings",
        "developments",
        "stats",
        "phases",
        "triggers",
        "assets",
        "overview",
    ] {
        assert!(metadata.contains_key(section), "{section}");
    }
    assert!(!metadata.contains_key("passiveEvaluationModifiers"));
    // The same registries a default session carries, and the same static
    // sections its snapshot metadata starts from.
    let state = app.create_session(ALICE, "{}").await;
    assert_eq!(body["registries"], state["registries"]);
    for (key, value) in metadata {
        assert_eq!(&state["snapshot"]["metadata"][key], value, "{key}");
    }
    assert_eq!(
        app.call(Method::GET, "/api/metadata", None, None)
            .await
            .json(),
        body
    );
}

#[tokio::test]
async fn metadata_of_a_session_is_that_sessions_content() {
    let app = TestApp::game();
    let config = json!({"config": {"buildings": [
        {"id": "mill", "name": "Windmill", "costs": {"gold": 1}}
    ]}});
    let state = app.create_session(ALICE, &config.to_string()).await;
    let id = session_id(&state);
    let path = format!("/metadata?sessionId={id}");
    let body = ok(app.call(Method::GET, &path, Some(ALICE), None).await);
    assert_eq!(body["registries"], state["registries"]);
    let buildings = body["registries"]["buildings"].as_object().unwrap();
    assert_eq!(buildings.keys().collect::<Vec<_>>(), ["mill"]);
    assert_eq!(body["metadata"]["buildings"]["mill"]["label"], "Windmill");
    let default = ok(app.call(Method::GET, "/metadata", None, None).await);
    assert_ne!(default["registries"], body["registries"]);
}

#[tokio::test]
async fn metadata_session_id_errors() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    // An empty id is refused, with or without a token (reference §1.3).
    for token in [None, Some(ALICE)] {
        let envelope = app
            .call(Method::GET, "/metadata?sessionId=", token, None)
            .await
            .envelope(400);
        assert_eq!(envelope.code, ErrorCode::InvalidRequest);
        assert_eq!(envelope.message, "Invalid session identifier.");
    }
    // Deliberate differences from the reference, which answered an unknown
    // id with a 500 and served any session's metadata without a token:
    // sessions belong to their creator, so a session's metadata needs a
    // token that may read it, and an unknown id is 404.
    let missing = format!("/metadata?sessionId={id}");
    let envelope = app
        .call(Method::GET, &missing, None, None)
        .await
        .envelope(401);
    assert_eq!(envelope.message, "Missing authentication token.");
    let envelope = app
        .call(Method::GET, &missing, Some(BOB), None)
        .await
        .envelope(404);
    assert_eq!(envelope.message, format!("Session \"{id}\" was not found."));
    let envelope = app
        .call(Method::GET, "/metadata?sessionId=nope", Some(ALICE), None)
        .await
        .envelope(404);
    assert_eq!(envelope.message, "Session \"nope\" was not found.");
}

#[tokio::test]
async fn runtime_config_is_public_and_stable() {
    let app = TestApp::game();
    let first = ok(app.call(Method::GET, "/runtime-config", None, None).await);
    assert_eq!(
        sorted_keys(&first),
        ["phases", "primaryIconId", "resources", "rules", "start"]
    );
    let phases: Vec<&str> = first["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(phases, ["growth", "upkeep", "main"]);
    assert_eq!(
        first["rules"]["corePhaseIds"],
        json!({"growth": "growth", "upkeep": "upkeep"})
    );
    assert_eq!(first["rules"]["defaultActionAPCost"].as_f64(), Some(1.0));
    assert_eq!(
        first["start"]["player"]["resources"]["gold"].as_f64(),
        Some(10.0)
    );
    assert_eq!(first["resources"]["gold"]["key"], "gold");
    assert_eq!(first["resources"]["gold"]["label"], "Gold");
    assert_eq!(first["primaryIconId"], "castleHP");
    // Same object each call, at both prefixes, with or without a token.
    assert_eq!(
        ok(app
            .call(Method::GET, "/api/runtime-config", Some(BOB), None)
            .await),
        first
    );
}

#[tokio::test]
async fn queries_change_nothing() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    app.to_main(ALICE, &id).await;
    let before = app.snapshot(ALICE, &id).await;
    let calls = [
        (
            Method::POST,
            format!("/sessions/{id}/actions/tax/costs"),
            Some("{}"),
        ),
        (
            Method::POST,
            format!("/sessions/{id}/actions/raise_pop/requirements"),
            None,
        ),
        (
            Method::GET,
            format!("/sessions/{id}/actions/royal_decree/options"),
            None,
        ),
        (
            Method::POST,
            format!("/sessions/{id}/simulate"),
            Some(r#"{"playerId": "B"}"#),
        ),
        (Method::GET, format!("/metadata?sessionId={id}"), None),
    ];
    for (method, path, body) in calls {
        for _ in 0..3 {
            ok(query(&app, method.clone(), &path, body).await);
        }
    }
    assert_same_json(
        &app.snapshot(ALICE, &id).await,
        &before,
        "after the queries",
    );
}
