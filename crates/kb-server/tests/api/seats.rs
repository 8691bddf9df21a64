//! Seats and invitations over HTTP: the owner invites, a joiner accepts for
//! a seat credential (a Bearer token), and every route obeys it: its own
//! session only (another answers 404), its own seat only (403), a
//! spectator reads only (403 on writes). Bad codes answer 4xx in the
//! envelope and change nothing; two joiners racing for one seat, one wins;
//! a credential survives a restart.

use std::sync::Arc;

use axum::http::Method;
use kb_protocol::ErrorCode;
use kb_session::{ManagerOptions, SessionManager};
use kb_store::MemoryStore;
use serde_json::{Value, json};

use crate::helpers::{ADMIN, ALICE, BOB, SESSION_ROUTES, TestApp, session_id, version};

/// A two-human session of Alice's (she holds A); returns its id.
async fn two_humans(app: &TestApp) -> String {
    session_id(&app.create_session(ALICE, r#"{"aiPlayers": []}"#).await)
}

/// `POST /sessions/:id/invitations` as `token`.
async fn invite(app: &TestApp, token: &str, id: &str, body: Value) -> crate::helpers::TestResponse {
    app.call(
        Method::POST,
        &format!("/sessions/{id}/invitations"),
        Some(token),
        Some(&body.to_string()),
    )
    .await
}

/// An invitation code to `seat`.
async fn code(app: &TestApp, id: &str, seat: &str) -> Value {
    let response = invite(
        app,
        ALICE,
        id,
        json!({"seat": seat, "expiresInSeconds": 600}),
    )
    .await;
    assert_eq!(response.status, 201, "{}", response.text());
    response.json()
}

/// `POST /invitations/accept`.
async fn accept(app: &TestApp, code: &str) -> crate::helpers::TestResponse {
    app.call(
        Method::POST,
        "/invitations/accept",
        None,
        Some(&json!({ "code": code }).to_string()),
    )
    .await
}

/// A credential for `seat` of session `id`.
async fn join(app: &TestApp, id: &str, seat: &str) -> String {
    let invitation = code(app, id, seat).await;
    let response = accept(app, invitation["code"].as_str().unwrap()).await;
    assert_eq!(response.status, 200, "{}", response.text());
    let body = response.json();
    assert_eq!(body["sessionId"], id);
    assert_eq!(body["seat"], seat);
    body["credential"].as_str().unwrap().to_owned()
}

async fn seats(app: &TestApp, token: &str, id: &str) -> Value {
    let response = app
        .call(
            Method::GET,
            &format!("/sessions/{id}/seats"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()
}

#[tokio::test]
async fn a_credential_of_another_session_finds_nothing_on_any_route() {
    let app = TestApp::game();
    let mine = two_humans(&app).await;
    let other = two_humans(&app).await;
    let credential = join(&app, &mine, "B").await;
    for route in SESSION_ROUTES {
        let response = app.call_route(&route, &other, &credential).await;
        assert_eq!(response.status, 404, "{} {}", route.method, route.path);
    }
    for path in ["seats", "log", "events"] {
        let response = app
            .call(
                Method::GET,
                &format!("/sessions/{other}/{path}"),
                Some(&credential),
                None,
            )
            .await;
        assert_eq!(response.status, 404, "{path}");
    }
    let before = app.snapshot(ALICE, &other).await;
    assert_eq!(version(&before), 1);
}

#[tokio::test]
async fn a_seat_credential_acts_for_its_own_seat_only() {
    let app = TestApp::game();
    let id = two_humans(&app).await;
    let bea = join(&app, &id, "B").await;
    let forbidden = |response: crate::helpers::TestResponse, what: &str| {
        let envelope = response.envelope(403);
        assert_eq!(envelope.code, ErrorCode::Forbidden, "{what}");
    };
    // It is A's turn: B may read, not act for A.
    assert_eq!(version(&app.snapshot(&bea, &id).await), 1);
    let advance = format!("/sessions/{id}/advance");
    forbidden(
        app.call(Method::POST, &advance, Some(&bea), None).await,
        "advance",
    );
    let rename = |player: &str| json!({"playerId": player, "playerName": "Bea"}).to_string();
    let player = format!("/sessions/{id}/player");
    forbidden(
        app.call(Method::PATCH, &player, Some(&bea), Some(&rename("A")))
            .await,
        "rename A",
    );
    forbidden(
        app.call(
            Method::POST,
            &format!("/sessions/{id}/dev-mode"),
            Some(&bea),
            Some(r#"{"enabled": true}"#),
        )
        .await,
        "dev mode",
    );
    forbidden(
        app.call(Method::DELETE, &format!("/sessions/{id}"), Some(&bea), None)
            .await,
        "delete",
    );
    forbidden(
        invite(&app, &bea, &id, json!({"seat": "spectator"})).await,
        "invite",
    );
    assert_eq!(
        version(&app.snapshot(ALICE, &id).await),
        1,
        "nothing changed"
    );
    // Its own name, and its own turn.
    let renamed = app
        .call(Method::PATCH, &player, Some(&bea), Some(&rename("B")))
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text());
    let mut state = app.snapshot(ALICE, &id).await;
    while state["snapshot"]["game"]["activePlayerId"] == "A" {
        state = app.advance(ALICE, &id).await;
    }
    let moved = app.call(Method::POST, &advance, Some(&bea), None).await;
    assert_eq!(moved.status, 200, "{}", moved.text());
    assert_eq!(version(&moved.json()), version(&state) + 1);
    // The owner and an admin keep their rights.
    assert_eq!(
        seats(&app, ADMIN, &id).await["seats"][1]["holder"],
        "credential"
    );
}

#[tokio::test]
async fn a_spectator_reads_and_streams_but_never_writes() {
    let app = TestApp::game();
    let id = two_humans(&app).await;
    let watcher = join(&app, &id, "spectator").await;
    for path in ["snapshot", "seats", "log", "forecast"] {
        let response = app
            .call(
                Method::GET,
                &format!("/sessions/{id}/{path}"),
                Some(&watcher),
                None,
            )
            .await;
        assert_eq!(response.status, 200, "{path}: {}", response.text());
    }
    for route in SESSION_ROUTES {
        let writes = matches!(
            route.path,
            "/sessions/{id}/advance"
                | "/sessions/{id}/actions"
                | "/sessions/{id}/ai-turn"
                | "/sessions/{id}/proceed"
                | "/sessions/{id}/dev-mode"
                | "/sessions/{id}/player"
                | "/sessions/{id}"
        );
        let response = app.call_route(&route, &id, &watcher).await;
        if writes {
            assert_eq!(response.status, 403, "{}: {}", route.path, response.text());
        } else {
            assert!(
                response.status.as_u16() < 400,
                "{}: {}",
                route.path,
                response.text()
            );
        }
    }
    // The AI route and proceed read before they write: the refusal still
    // comes first, before a stale version or a phase the AI has nothing to
    // do in.
    let ai_turn = format!("/sessions/{id}/ai-turn");
    let proceed = format!("/sessions/{id}/proceed");
    let (for_a, for_b) = (
        json!({"playerId": "A"}).to_string(),
        json!({"playerId": "B"}).to_string(),
    );
    for (path, body) in [
        (&ai_turn, Some(for_a.as_str())),
        (&ai_turn, Some(for_b.as_str())),
        (&proceed, None),
    ] {
        let response = app
            .call_with(
                Method::POST,
                path,
                Some(&watcher),
                body,
                &[("if-match", "\"99\"")],
            )
            .await;
        assert_eq!(
            response.envelope(403).code,
            ErrorCode::Forbidden,
            "{path} {body:?}"
        );
    }
    assert_eq!(version(&app.snapshot(ALICE, &id).await), 1);
}

#[tokio::test]
async fn seats_show_who_holds_each_seat_and_presence() {
    let app = TestApp::game();
    let id = two_humans(&app).await;
    let before = seats(&app, ALICE, &id).await;
    assert_eq!(before["seats"][0]["holder"], "owner");
    assert_eq!(before["seats"][1]["holder"], "open");
    assert_eq!(before["seats"][1]["connected"], false);
    let bea = join(&app, &id, "B").await;
    app.snapshot(&bea, &id).await;
    let after = seats(&app, ALICE, &id).await;
    assert_eq!(after["seats"][1]["holder"], "credential");
    assert_eq!(after["seats"][1]["connected"], true);
    assert!(after["seats"][1]["lastSeenAt"].as_i64().unwrap() > 0);
    // Against the AI, the AI holds B; the creator may ask for B instead.
    let vs_ai = app.new_session(ALICE).await;
    assert_eq!(seats(&app, ALICE, &vs_ai).await["seats"][1]["holder"], "ai");
    let as_b = session_id(
        &app.create_session(ALICE, r#"{"aiPlayers": ["A"], "seat": "B"}"#)
            .await,
    );
    let view = seats(&app, ALICE, &as_b).await;
    assert_eq!(
        (&view["seats"][0]["holder"], &view["seats"][1]["holder"]),
        (&json!("ai"), &json!("owner"))
    );
    let refused = app
        .call(
            Method::POST,
            "/sessions",
            Some(ALICE),
            Some(r#"{"seat": "B"}"#),
        )
        .await;
    assert_eq!(refused.envelope(400).code, ErrorCode::InvalidRequest);
    // Bob does not see Alice's session at all.
    let response = app
        .call(
            Method::GET,
            &format!("/sessions/{id}/seats"),
            Some(BOB),
            None,
        )
        .await;
    assert_eq!(response.status, 404);
}

#[tokio::test]
async fn bad_invitations_answer_in_the_envelope_and_change_nothing() {
    let app = TestApp::game();
    let id = two_humans(&app).await;
    let vs_ai = app.new_session(ALICE).await;
    let cases = [
        (json!({"seat": "C"}), 400),
        (json!({"seat": "B", "expiresInSeconds": 0}), 400),
        (json!({"seat": "B", "expiresInSeconds": 99_999_999}), 400),
        (json!({"seats": "B"}), 400),
        (json!({"seat": "A"}), 409),
    ];
    for (body, status) in cases {
        let response = invite(&app, ALICE, &id, body.clone()).await;
        response.envelope(status);
    }
    invite(&app, ALICE, &vs_ai, json!({"seat": "B"}))
        .await
        .envelope(409);
    invite(&app, BOB, &id, json!({"seat": "B"}))
        .await
        .envelope(404);

    for code in ["", "guess", "kbi_12", "kbc_00"] {
        accept(&app, code).await.envelope(400);
    }
    accept(&app, &format!("kbi_{}", "ab".repeat(32)))
        .await
        .envelope(404);
    let revoked = code(&app, &id, "B").await;
    let path = format!(
        "/sessions/{id}/invitations/{}",
        revoked["grantId"].as_str().unwrap()
    );
    let response = app.call(Method::DELETE, &path, Some(ALICE), None).await;
    assert_eq!(response.status, 200, "{}", response.text());
    accept(&app, revoked["code"].as_str().unwrap())
        .await
        .envelope(404);
    let unknown = format!("/sessions/{id}/credentials/no-such-grant");
    app.call(Method::DELETE, &unknown, Some(ALICE), None)
        .await
        .envelope(404);

    let once = code(&app, &id, "B").await;
    let once = once["code"].as_str().unwrap();
    assert_eq!(accept(&app, once).await.status, 200);
    let envelope = accept(&app, once).await.envelope(409);
    assert_eq!(envelope.code, ErrorCode::Conflict);
    assert_eq!(
        seats(&app, ALICE, &id).await["seats"][1]["holder"],
        "credential"
    );
    assert_eq!(version(&app.snapshot(ALICE, &id).await), 1);
}

#[tokio::test]
async fn the_owner_plays_no_seat_an_invited_player_holds_until_it_revokes_it() {
    let app = TestApp::game();
    let id = two_humans(&app).await;
    let mut state = app.snapshot(ALICE, &id).await;
    while state["snapshot"]["game"]["activePlayerId"] == "A" {
        state = app.advance(ALICE, &id).await;
    }
    // B's turn, nobody invited yet: the owner plays both seats.
    state = app.advance(ALICE, &id).await;
    join(&app, &id, "B").await;
    while state["snapshot"]["game"]["activePlayerId"] == "A" {
        state = app.advance(ALICE, &id).await;
    }
    let advance = format!("/sessions/{id}/advance");
    let rename = json!({"playerId": "B", "playerName": "Not Bea"}).to_string();
    let player = format!("/sessions/{id}/player");
    for (method, path, body) in [
        (Method::POST, &advance, None),
        (Method::PATCH, &player, Some(rename.as_str())),
    ] {
        let refused = app.call(method, path, Some(ALICE), body).await;
        let envelope = refused.envelope(403);
        assert!(
            envelope.message.contains("invited player"),
            "{}",
            envelope.message
        );
    }
    assert_eq!(version(&app.snapshot(ALICE, &id).await), version(&state));
    // An admin still may; so does the owner once the credential is revoked.
    let by_admin = app.call(Method::POST, &advance, Some(ADMIN), None).await;
    assert_eq!(by_admin.status, 200, "{}", by_admin.text());
    state = by_admin.json();
    while state["snapshot"]["game"]["activePlayerId"] == "A" {
        state = app.advance(ALICE, &id).await;
    }
    let grant = seats(&app, ALICE, &id).await["seats"][1]["grantId"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoke = format!("/sessions/{id}/credentials/{grant}");
    assert_eq!(
        app.call(Method::DELETE, &revoke, Some(ALICE), None)
            .await
            .status,
        200
    );
    let by_owner = app.call(Method::POST, &advance, Some(ALICE), None).await;
    assert_eq!(by_owner.status, 200, "{}", by_owner.text());
}

#[tokio::test]
async fn a_revoked_credential_stops_working_and_frees_its_seat() {
    let app = TestApp::game();
    let id = two_humans(&app).await;
    let bea = join(&app, &id, "B").await;
    let grant = seats(&app, ALICE, &id).await["seats"][1]["grantId"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/sessions/{id}/credentials/{grant}");
    assert_eq!(
        app.call(Method::DELETE, &path, Some(ALICE), None)
            .await
            .status,
        200
    );
    let response = app
        .call(
            Method::GET,
            &format!("/sessions/{id}/snapshot"),
            Some(&bea),
            None,
        )
        .await;
    assert_eq!(response.envelope(403).code, ErrorCode::Forbidden);
    assert_eq!(seats(&app, ALICE, &id).await["seats"][1]["holder"], "open");
    join(&app, &id, "B").await;
}

#[tokio::test]
async fn two_joiners_accepting_one_seat_invitation_at_once_exactly_one_wins() {
    let app = TestApp::game();
    for _ in 0..5 {
        let id = two_humans(&app).await;
        let invitation = code(&app, &id, "B").await;
        let code = invitation["code"].as_str().unwrap();
        let (first, second) = tokio::join!(accept(&app, code), accept(&app, code));
        let mut statuses = [first.status, second.status];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409]);
    }
}

#[tokio::test]
async fn a_credential_still_works_after_a_restart() {
    let store = MemoryStore::new();
    let over = |store: &MemoryStore| {
        let manager = SessionManager::new(ManagerOptions::new(Arc::new(store.reopen())));
        TestApp::game_over(Arc::new(manager.expect("hydrates")))
    };
    let app = over(&store);
    let id = two_humans(&app).await;
    let bea = join(&app, &id, "B").await;
    let other = two_humans(&app).await;
    drop(app);

    let app = over(&store);
    assert_eq!(version(&app.snapshot(&bea, &id).await), 1);
    let response = app
        .call(
            Method::GET,
            &format!("/sessions/{other}/snapshot"),
            Some(&bea),
            None,
        )
        .await;
    assert_eq!(response.status, 404);
    let response = app
        .call(
            Method::POST,
            &format!("/sessions/{id}/advance"),
            Some(&bea),
            None,
        )
        .await;
    assert_eq!(response.status, 403, "still A's turn: {}", response.text());
}

/// An app over the game tokens that lets guests create `per_hour`
/// sessions per address.
fn guests_app(per_hour: usize) -> TestApp {
    use kb_server::guests::GuestGate;
    let base = TestApp::game();
    let state = base
        .state
        .clone()
        .with_guests(GuestGate::new(per_hour.try_into().unwrap()));
    let router = kb_server::app::router(state.clone());
    TestApp { state, router }
}

/// `POST /sessions` without a token, from `address`.
async fn create_as_guest(app: &TestApp, address: &str, body: &str) -> crate::helpers::TestResponse {
    let mut request = crate::helpers::request(
        Method::POST,
        "/sessions",
        &[("content-type", "application/json")],
        axum::body::Body::from(body.to_owned()),
    );
    let peer: std::net::SocketAddr = format!("{address}:40000").parse().unwrap();
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    app.send(request).await
}

#[tokio::test]
async fn a_guest_creates_without_a_token_plays_its_seat_and_invites_a_friend() {
    let app = guests_app(2);
    let created = create_as_guest(&app, "192.0.2.7", r#"{"aiPlayers": []}"#).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let body = created.json();
    let id = session_id(&body);
    assert_eq!(body["seat"], "A");
    let guest = body["credential"].as_str().unwrap().to_owned();
    // Its seat, its session: it plays A, invites B, and is refused B.
    let advanced = app
        .call(
            Method::POST,
            &format!("/sessions/{id}/advance"),
            Some(&guest),
            None,
        )
        .await;
    assert_eq!(advanced.status, 200, "{}", advanced.text());
    let invitation = invite(&app, &guest, &id, json!({"seat": "B"})).await;
    assert_eq!(invitation.status, 201, "{}", invitation.text());
    let friend = accept(&app, invitation.json()["code"].as_str().unwrap()).await;
    assert_eq!(friend.status, 200);
    let rename_b = json!({"playerId": "B", "playerName": "Not me"}).to_string();
    let response = app
        .call(
            Method::PATCH,
            &format!("/sessions/{id}/player"),
            Some(&guest),
            Some(&rename_b),
        )
        .await;
    assert_eq!(response.status, 403);
    // Tokens work as before beside guests.
    assert_eq!(version(&app.snapshot(ADMIN, &id).await), 2);
}

#[tokio::test]
async fn guests_are_limited_per_address_with_a_429() {
    let app = guests_app(2);
    for _ in 0..2 {
        assert_eq!(create_as_guest(&app, "192.0.2.7", "{}").await.status, 201);
    }
    let refused = create_as_guest(&app, "192.0.2.7", "{}").await;
    let envelope = refused.envelope(429);
    assert_eq!(envelope.code, ErrorCode::TooManyRequests);
    assert_eq!(
        create_as_guest(&app, "198.51.100.1", "{}").await.status,
        201
    );
    // A bad body is a 400 and changes nothing.
    let bad = create_as_guest(&app, "198.51.100.2", r#"{"seat": "Z"}"#).await;
    bad.envelope(400);
    // A guest must hold a seat.
    let no_seat = create_as_guest(&app, "198.51.100.3", r#"{"aiPlayers": ["A", "B"]}"#).await;
    no_seat.envelope(400);
    // Without --guests, no token is still a 401.
    let plain = TestApp::game();
    create_as_guest(&plain, "192.0.2.9", "{}")
        .await
        .envelope(401);
}

#[tokio::test]
async fn a_seat_is_connected_while_its_credential_streams_events() {
    use tower::ServiceExt;
    let clock = Arc::new(kb_session::ManualClock::new(1_800_000_000_000));
    let mut options = ManagerOptions::new(Arc::new(MemoryStore::new()));
    options.clock = clock.clone();
    let app = TestApp::game_over(Arc::new(SessionManager::new(options).unwrap()));
    let id = two_humans(&app).await;
    let bea = join(&app, &id, "B").await;
    app.snapshot(&bea, &id).await;
    let connected = || async { seats(&app, ALICE, &id).await["seats"][1]["connected"].clone() };
    assert_eq!(connected().await, true, "just used");
    clock.advance(120_000);
    assert_eq!(connected().await, false, "used two minutes ago");
    let stream = app
        .router
        .clone()
        .oneshot(crate::helpers::request(
            Method::GET,
            &format!("/sessions/{id}/events"),
            &[("authorization", &format!("Bearer {bea}"))],
            axum::body::Body::empty(),
        ))
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    clock.advance(120_000);
    assert_eq!(connected().await, true, "streaming for two minutes");
    drop(stream);
    assert_eq!(connected().await, false, "stream closed");
}

/// The next event of a stream, which must be a `presence` event without an
/// id; its data.
async fn presence(body: &mut axum::body::BodyDataStream, buffer: &mut String) -> Value {
    let (name, id, data) = crate::events::next_any(body, buffer).await;
    assert_eq!(name.as_deref(), Some("presence"), "{data}");
    assert_eq!(id, None, "a presence event does not move Last-Event-ID");
    serde_json::from_str(&data).unwrap()
}

#[tokio::test]
async fn streams_tell_each_other_when_a_seat_connects_or_leaves() {
    let app = TestApp::game();
    let id = two_humans(&app).await;
    let bea = join(&app, &id, "B").await;
    let watcher = join(&app, &id, "spectator").await;
    let path = format!("/sessions/{id}/events");
    let mut buffer = String::new();
    // The owner plays A: her stream starts with who is connected.
    let (status, mut alice) = crate::events::open(&app, &path, ALICE, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(
        presence(&mut alice, &mut buffer).await,
        json!({"seats": {"A": true, "B": false}})
    );
    assert_eq!(seats(&app, ALICE, &id).await["seats"][0]["connected"], true);
    // B connects: A hears of it, and B's stream starts with both.
    let (_, mut b_stream) = crate::events::open(&app, &path, &bea, &[]).await;
    assert_eq!(
        presence(&mut alice, &mut buffer).await,
        json!({"seat": "B", "connected": true, "seats": {"A": true, "B": true}})
    );
    let mut b_buffer = String::new();
    assert_eq!(
        presence(&mut b_stream, &mut b_buffer).await,
        json!({"seats": {"A": true, "B": true}})
    );
    // A spectator comes and goes unannounced; a move is an event with an
    // id, as ever.
    let (_, spectator) = crate::events::open(&app, &path, &watcher, &[]).await;
    drop(spectator);
    let moved = version(&app.advance(ALICE, &id).await);
    let (name, event_id, _) = crate::events::next_any(&mut alice, &mut buffer).await;
    assert_eq!((name, event_id), (None, Some(moved)));
    // B leaves: A hears of it next, and the seats say so.
    drop(b_stream);
    assert_eq!(
        presence(&mut alice, &mut buffer).await,
        json!({"seat": "B", "connected": false, "seats": {"A": true, "B": false}})
    );
    assert_eq!(seats(&app, ALICE, &id).await["seats"][0]["connected"], true);
    drop(alice);
    assert_eq!(seats(&app, &bea, &id).await["seats"][0]["connected"], false);
}

#[tokio::test]
async fn the_owners_seat_is_connected_while_the_owner_streams_events() {
    use tower::ServiceExt;
    let app = TestApp::game();
    let id = two_humans(&app).await;
    let bea = join(&app, &id, "B").await;
    let owner_connected = || async { seats(&app, &bea, &id).await["seats"][0].clone() };
    let seat = owner_connected().await;
    assert_eq!(seat["holder"], "owner");
    assert_eq!(seat["connected"], false, "the owner streams nothing yet");
    let open = |token: String| {
        app.router.clone().oneshot(crate::helpers::request(
            Method::GET,
            &format!("/sessions/{id}/events"),
            &[("authorization", &format!("Bearer {token}"))],
            axum::body::Body::empty(),
        ))
    };
    // The friend's own stream is not the owner's presence.
    let theirs = open(bea.clone()).await.unwrap();
    assert_eq!(theirs.status(), 200);
    assert_eq!(owner_connected().await["connected"], false);
    let stream = open(ALICE.to_owned()).await.unwrap();
    assert_eq!(stream.status(), 200);
    assert_eq!(
        owner_connected().await["connected"],
        true,
        "the owner streams"
    );
    // Another session of the owner's is not this one.
    let other = two_humans(&app).await;
    assert_eq!(
        seats(&app, ALICE, &other).await["seats"][0]["connected"],
        false
    );
    drop(stream);
    assert_eq!(owner_connected().await["connected"], false, "stream closed");
}

/// The next event of a stream, or a failure naming `what` when none comes
/// (a stream left open would otherwise hang the test).
async fn next_of(
    what: &str,
    body: &mut axum::body::BodyDataStream,
    buffer: &mut String,
) -> crate::events::Sse {
    tokio::time::timeout(
        std::time::Duration::from_secs(20),
        crate::events::next_any(body, buffer),
    )
    .await
    .unwrap_or_else(|_| panic!("no event on {what}"))
}

#[tokio::test]
async fn revoking_a_credential_ends_its_open_streams_and_no_other() {
    use futures_util::StreamExt;
    let app = TestApp::game();
    let id = two_humans(&app).await;
    let bea = join(&app, &id, "B").await;
    let watcher = join(&app, &id, "spectator").await;
    let path = format!("/sessions/{id}/events");
    let (mut a_buffer, mut b_buffer, mut w_buffer) = (String::new(), String::new(), String::new());
    let (_, mut alice) = crate::events::open(&app, &path, ALICE, &[]).await;
    presence(&mut alice, &mut a_buffer).await;
    let (_, mut b_stream) = crate::events::open(&app, &path, &bea, &[]).await;
    presence(&mut b_stream, &mut b_buffer).await;
    presence(&mut alice, &mut a_buffer).await; // B connected
    let (_, mut w_stream) = crate::events::open(&app, &path, &watcher, &[]).await;
    presence(&mut w_stream, &mut w_buffer).await;
    let revoke = |grant: &Value| {
        format!(
            "/sessions/{id}/credentials/{}",
            grant["grantId"].as_str().unwrap()
        )
    };

    // The spectator's link is revoked: its stream ends at once, saying why.
    let listed = seats(&app, ALICE, &id).await;
    let answer = app
        .call(
            Method::DELETE,
            &revoke(&listed["spectators"][0]),
            Some(ALICE),
            None,
        )
        .await;
    assert_eq!(answer.status, 200);
    let (name, event_id, data) =
        next_of("the spectator's stream", &mut w_stream, &mut w_buffer).await;
    assert_eq!((name.as_deref(), event_id), (Some("end"), None));
    let end: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(end, json!({"reason": "revoked", "version": 1}));
    assert!(w_stream.next().await.is_none(), "the stream closes");

    // The players' streams go on: the next thing on each is the move.
    let moved = version(&app.advance(ALICE, &id).await);
    for (who, body, buffer) in [
        ("Alice's stream", &mut alice, &mut a_buffer),
        ("Bea's stream", &mut b_stream, &mut b_buffer),
    ] {
        let (name, event_id, _) = next_of(who, body, buffer).await;
        assert_eq!((name, event_id), (None, Some(moved)), "{who}");
    }

    // Bea's credential is revoked: her stream ends, and Alice hears that
    // seat B left.
    let answer = app
        .call(
            Method::DELETE,
            &revoke(&listed["seats"][1]),
            Some(ALICE),
            None,
        )
        .await;
    assert_eq!(answer.status, 200);
    let (name, _, data) = next_of("Bea's stream", &mut b_stream, &mut b_buffer).await;
    assert_eq!(name.as_deref(), Some("end"));
    assert_eq!(
        serde_json::from_str::<Value>(&data).unwrap(),
        json!({"reason": "revoked", "version": moved})
    );
    assert!(b_stream.next().await.is_none(), "the stream closes");
    let (name, _, data) = next_of("Alice's stream", &mut alice, &mut a_buffer).await;
    assert_eq!(name.as_deref(), Some("presence"));
    assert_eq!(
        serde_json::from_str::<Value>(&data).unwrap()["seat"],
        json!("B")
    );
}
