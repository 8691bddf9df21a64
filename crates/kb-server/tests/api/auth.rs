//! Authentication and role checks through the `Caller` extractor.

use std::net::SocketAddr;

use kb_protocol::ErrorCode;
use kb_server::auth::AuthSetupError;
use kb_server::{Authenticator, TokenTable};
use serde_json::json;

use crate::helpers::TestApp;

const MISSING: &str = "Missing authentication token.";
const UNKNOWN: &str = "Token is not authorized for this server.";

async fn user_of(app: &TestApp, headers: &[(&str, &str)]) -> String {
    let response = app.get("/whoami", headers).await;
    assert_eq!(response.status, 200, "{headers:?}: {}", response.text());
    response.json()["userId"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn bearer_token_identifies_the_caller() {
    let app = TestApp::new();
    let response = app
        .get("/whoami", &[("Authorization", "Bearer player-token")])
        .await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response.json(),
        json!({"userId": "paul", "roles": ["session:advance", "custom"]})
    );
}

#[tokio::test]
async fn raw_token_and_scheme_spelling_variants_work() {
    let app = TestApp::new();
    for value in [
        "player-token",
        "  player-token  ",
        "bearer player-token",
        "BEARER   player-token ",
    ] {
        assert_eq!(user_of(&app, &[("Authorization", value)]).await, "paul");
    }
}

#[tokio::test]
async fn header_names_are_case_insensitive() {
    let app = TestApp::new();
    assert_eq!(
        user_of(&app, &[("AUTHORIZATION", "Bearer admin-token")]).await,
        "root"
    );
    assert_eq!(
        user_of(&app, &[("x-Kb-DEV-token", "admin-token")]).await,
        "root"
    );
}

#[tokio::test]
async fn dev_token_header_is_used_when_authorization_is_absent_or_empty() {
    let app = TestApp::new();
    assert_eq!(
        user_of(&app, &[("X-KB-Dev-Token", " creator-token ")]).await,
        "carol"
    );
    assert_eq!(
        user_of(
            &app,
            &[("Authorization", ""), ("X-KB-Dev-Token", "creator-token")]
        )
        .await,
        "carol"
    );
}

#[tokio::test]
async fn wrong_authorization_is_not_rescued_by_a_correct_dev_token_header() {
    let app = TestApp::new();
    let response = app
        .get(
            "/whoami",
            &[
                ("Authorization", "Bearer wrong"),
                ("X-KB-Dev-Token", "admin-token"),
            ],
        )
        .await;
    let envelope = response.envelope(403);
    assert_eq!(envelope.code, ErrorCode::Forbidden);
    assert_eq!(envelope.message, UNKNOWN);
}

#[tokio::test]
async fn last_authorization_value_counts() {
    let app = TestApp::new();
    let response = app
        .get(
            "/whoami",
            &[
                ("Authorization", "Bearer admin-token"),
                ("Authorization", "Bearer wrong"),
            ],
        )
        .await;
    assert_eq!(response.envelope(403).message, UNKNOWN);
    let response = app
        .get(
            "/whoami",
            &[
                ("Authorization", "Bearer wrong"),
                ("Authorization", "Bearer admin-token"),
            ],
        )
        .await;
    assert_eq!(response.status, 200);
}

#[tokio::test]
async fn missing_token_is_401() {
    let app = TestApp::new();
    for headers in [
        &[][..],
        &[("Authorization", "   ")][..],
        &[("X-KB-Dev-Token", "")][..],
    ] {
        let envelope = app.get("/whoami", headers).await.envelope(401);
        assert_eq!(envelope.code, ErrorCode::Unauthorized);
        assert_eq!(envelope.message, MISSING);
        assert_eq!(envelope.issues, None);
    }
}

#[tokio::test]
async fn unknown_or_inexact_token_is_403() {
    let app = TestApp::new();
    for token in [
        "Bearer nope",
        "Bearer PLAYER-TOKEN",
        "Bearer player-toke",
        "Bearer player-tokenx",
    ] {
        let envelope = app
            .get("/whoami", &[("Authorization", token)])
            .await
            .envelope(403);
        assert_eq!(envelope.code, ErrorCode::Forbidden);
        assert_eq!(envelope.message, UNKNOWN);
    }
}

#[tokio::test]
async fn missing_role_is_403_naming_the_role() {
    let app = TestApp::new();
    let envelope = app
        .post("/advance", &[("Authorization", "Bearer creator-token")])
        .await
        .envelope(403);
    assert_eq!(envelope.code, ErrorCode::Forbidden);
    assert_eq!(
        envelope.message,
        "Missing required role \"session:advance\"."
    );
    let envelope = app
        .post("/create", &[("Authorization", "Bearer player-token")])
        .await
        .envelope(403);
    assert_eq!(
        envelope.message,
        "Missing required role \"session:create\"."
    );
    // A token without roles is authenticated but may do nothing protected.
    assert_eq!(
        user_of(&app, &[("Authorization", "nobody-token")]).await,
        "nina"
    );
    let envelope = app
        .post("/create", &[("Authorization", "nobody-token")])
        .await
        .envelope(403);
    assert_eq!(
        envelope.message,
        "Missing required role \"session:create\"."
    );
}

#[tokio::test]
async fn holders_of_a_role_pass_its_check() {
    let app = TestApp::new();
    let response = app
        .post("/create", &[("Authorization", "Bearer creator-token")])
        .await;
    assert_eq!(response.json(), json!({"created": true, "by": "carol"}));
    let response = app
        .post("/advance", &[("Authorization", "Bearer player-token")])
        .await;
    assert_eq!(response.status, 200);
}

#[tokio::test]
async fn admin_satisfies_every_role() {
    let app = TestApp::new();
    for path in ["/create", "/advance"] {
        let response = app
            .post(path, &[("Authorization", "Bearer admin-token")])
            .await;
        assert_eq!(response.status, 200, "{path}");
    }
}

#[tokio::test]
async fn empty_table_rejects_every_token_including_the_dev_token() {
    let app = TestApp::with_tokens("{}");
    assert!(!app.state.auth().uses_dev_token());
    assert_eq!(app.get("/whoami", &[]).await.envelope(401).message, MISSING);
    for token in ["Bearer local-dev", "Bearer admin-token"] {
        let response = app.get("/whoami", &[("Authorization", token)]).await;
        assert_eq!(response.envelope(403).message, UNKNOWN);
    }
    // Public routes still work.
    assert_eq!(app.get("/healthz", &[]).await.status, 200);
}

#[tokio::test]
async fn entries_without_user_id_are_ignored() {
    let app = TestApp::with_tokens(
        r#"{"ghost": {"userId": "", "roles": ["admin"]}, "real": {"userId": "r"}}"#,
    );
    let response = app.get("/whoami", &[("Authorization", "ghost")]).await;
    assert_eq!(response.envelope(403).message, UNKNOWN);
    assert_eq!(user_of(&app, &[("Authorization", "real")]).await, "r");
}

#[tokio::test]
async fn without_a_table_the_dev_token_has_every_role_on_loopback() {
    let app = TestApp::dev();
    assert!(app.state.auth().uses_dev_token());
    let response = app
        .get("/whoami", &[("Authorization", "Bearer local-dev")])
        .await;
    assert_eq!(
        response.json(),
        json!({"userId": "local-dev", "roles": ["admin", "session:create", "session:advance"]})
    );
    for path in ["/create", "/advance"] {
        let response = app.post(path, &[("X-KB-Dev-Token", "local-dev")]).await;
        assert_eq!(response.status, 200, "{path}");
    }
    let response = app
        .get("/whoami", &[("Authorization", "Bearer other")])
        .await;
    assert_eq!(response.envelope(403).message, UNKNOWN);
    assert_eq!(app.get("/whoami", &[]).await.envelope(401).message, MISSING);
}

#[test]
fn without_a_table_only_loopback_addresses_may_serve() {
    for loopback in ["127.0.0.1:3001", "127.0.0.2:80", "[::1]:3001"] {
        let address: SocketAddr = loopback.parse().unwrap();
        let auth = Authenticator::for_listener(None, address).unwrap();
        assert!(auth.uses_dev_token(), "{loopback}");
    }
    for public in [
        "0.0.0.0:3001",
        "[::]:3001",
        "192.0.2.7:3001",
        "[2001:db8::1]:80",
    ] {
        let address: SocketAddr = public.parse().unwrap();
        let error = Authenticator::for_listener(None, address).unwrap_err();
        let AuthSetupError::PublicBindWithoutTokens { address: refused } = &error;
        assert_eq!(*refused, address);
        let message = error.to_string();
        for hint in ["--tokens", "KB_SERVER_AUTH_TOKENS", "loopback", public] {
            assert!(message.contains(hint), "{message:?} lacks {hint:?}");
        }
    }
}

#[test]
fn with_a_table_public_addresses_may_serve_and_the_dev_token_is_off() {
    let table = TokenTable::from_json(crate::helpers::TOKENS).unwrap();
    let address: SocketAddr = "0.0.0.0:3001".parse().unwrap();
    let auth = Authenticator::for_listener(Some(table), address).unwrap();
    assert!(!auth.uses_dev_token());
}

#[tokio::test]
async fn dev_mode_on_a_real_loopback_listener() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let auth = Authenticator::for_listener(None, listener.local_addr().unwrap()).unwrap();
    assert!(auth.uses_dev_token());
}
