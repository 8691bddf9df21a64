//! Cross-origin requests: refused by default, allowed for the origins the
//! operator lists (`--cors-origin`, `KB_SERVER_CORS_ORIGINS`), preflights
//! answered either way.

use std::collections::HashMap;

use axum::Router;
use axum::http::Method;
use clap::Parser;
use kb_server::app::router_with;
use kb_server::{
    AppState, Authenticator, CorsOrigins, Metrics, ServeArgs, ServeConfig, TokenTable,
};

use crate::helpers::{ALICE, GAME_TOKENS, TestApp, TestResponse, bearer, memory_manager};

const PORTAL: &str = "https://play.example";

/// The game app, allowing `origins`.
fn app_allowing(origins: &[&str]) -> TestApp {
    let table = TokenTable::from_json(GAME_TOKENS).unwrap();
    let state = AppState::new(Authenticator::new(table), Metrics::new(), memory_manager())
        .with_cors(CorsOrigins::parse(origins).unwrap());
    let router = router_with(state.clone(), Router::new());
    TestApp { state, router }
}

/// A browser's preflight for `POST /api/sessions` with a bearer token and
/// a JSON body, from `origin`.
async fn preflight(app: &TestApp, origin: &str) -> TestResponse {
    app.call_with(
        Method::OPTIONS,
        "/api/sessions",
        None,
        None,
        &[
            ("origin", origin),
            ("access-control-request-method", "POST"),
            (
                "access-control-request-headers",
                "authorization,content-type",
            ),
        ],
    )
    .await
}

fn header<'a>(response: &'a TestResponse, name: &str) -> Option<&'a str> {
    response.headers.get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn a_listed_origin_passes_the_preflight_and_reads_the_answer() {
    let app = app_allowing(&[PORTAL, "http://localhost:5173"]);
    let answer = preflight(&app, PORTAL).await;
    assert!(answer.status.is_success(), "{}", answer.status);
    assert_eq!(header(&answer, "access-control-allow-origin"), Some(PORTAL));
    let methods = header(&answer, "access-control-allow-methods").unwrap();
    for method in ["GET", "POST", "PATCH", "DELETE"] {
        assert!(methods.contains(method), "{methods}");
    }
    let headers = header(&answer, "access-control-allow-headers").unwrap();
    for name in ["authorization", "content-type", "if-match"] {
        assert!(headers.contains(name), "{headers}");
    }
    assert_eq!(header(&answer, "access-control-max-age"), Some("600"));
    assert!(header(&answer, "access-control-allow-credentials").is_none());

    // The request itself: created, and the page may read the ETag.
    let token = bearer(ALICE);
    let created = app
        .call_with(
            Method::POST,
            "/api/sessions",
            None,
            Some("{}"),
            &[("origin", PORTAL), ("authorization", &token)],
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(
        header(&created, "access-control-allow-origin"),
        Some(PORTAL)
    );
    assert_eq!(
        header(&created, "access-control-expose-headers"),
        Some("etag")
    );
    // Vary may come as several lines (compression adds accept-encoding).
    let vary: Vec<&str> = created
        .headers
        .get_all("vary")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert!(vary.iter().any(|v| v.contains("origin")), "{vary:?}");
    // Errors too, so the page can show them.
    let refused = app
        .call_with(
            Method::POST,
            "/api/sessions",
            None,
            Some("{}"),
            &[("origin", PORTAL)],
        )
        .await;
    assert_eq!(refused.status, 401);
    assert_eq!(
        header(&refused, "access-control-allow-origin"),
        Some(PORTAL)
    );
}

#[tokio::test]
async fn other_origins_are_refused() {
    // By default no origin, and with a list only those listed.
    for app in [TestApp::game(), app_allowing(&[PORTAL])] {
        for origin in [
            "https://evil.example",
            "https://play.example:8443",
            "http://play.example",
        ] {
            let answer = preflight(&app, origin).await;
            assert!(answer.status.is_success(), "a preflight is answered");
            assert_eq!(
                header(&answer, "access-control-allow-origin"),
                None,
                "{origin}"
            );
            let read = app
                .call_with(
                    Method::GET,
                    "/runtime-config",
                    None,
                    None,
                    &[("origin", origin)],
                )
                .await;
            assert_eq!(read.status, 200);
            assert_eq!(
                header(&read, "access-control-allow-origin"),
                None,
                "{origin}"
            );
        }
    }
    // Same-origin and non-browser requests carry no Origin and are served
    // as ever, with no CORS headers.
    let app = app_allowing(&[PORTAL]);
    let plain = app.get("/runtime-config", &[]).await;
    assert_eq!(plain.status, 200);
    assert_eq!(header(&plain, "access-control-allow-origin"), None);
}

/// Parses `kingdom serve <flags>` against an injected environment.
fn config(flags: &[&str], env: &[(&str, &str)]) -> Result<ServeConfig, String> {
    let args = ServeArgs::try_parse_from(std::iter::once("serve").chain(flags.iter().copied()))
        .map_err(|e| e.to_string())?;
    let env: HashMap<&str, &str> = env.iter().copied().collect();
    ServeConfig::from_args(args, |name| env.get(name).map(|v| (*v).to_owned()))
        .map_err(|e| e.to_string())
}

fn origins(config: &ServeConfig) -> Vec<&str> {
    config.cors.iter().collect()
}

#[test]
fn origins_come_from_repeated_flags_or_the_environment() {
    assert!(config(&[], &[]).unwrap().cors.is_empty(), "none by default");
    let flags = config(
        &[
            "--cors-origin",
            PORTAL,
            "--cors-origin",
            "http://localhost:5173",
        ],
        &[("KB_SERVER_CORS_ORIGINS", "https://ignored.example")],
    )
    .unwrap();
    assert_eq!(origins(&flags), [PORTAL, "http://localhost:5173"]);
    let env = config(
        &[],
        &[(
            "KB_SERVER_CORS_ORIGINS",
            "https://a.example, https://b.example",
        )],
    )
    .unwrap();
    assert_eq!(origins(&env), ["https://a.example", "https://b.example"]);

    let error = config(&["--cors-origin", "https://play.example/"], &[]).unwrap_err();
    assert!(error.contains("https://play.example/"), "{error}");
    assert!(error.contains("--cors-origin"), "{error}");
    let error = config(&[], &[("KB_SERVER_CORS_ORIGINS", "*")]).unwrap_err();
    assert!(error.contains("KB_SERVER_CORS_ORIGINS"), "{error}");
    assert!(error.contains("wildcard"), "{error}");
}
