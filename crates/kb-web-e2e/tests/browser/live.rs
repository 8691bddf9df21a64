//! Live play in the browser (issue #11 §4): two independent browsers (two
//! WebDriver sessions, two Chromium profiles) play each other through the
//! invitation link, a third follows as a spectator, the server restarts in
//! the middle of the game, and the spectator steps through the replay.
//!
//! It checks that:
//! - "Play a friend" makes a two-human game and shows an invitation link;
//!   the friend opens it in the other browser and plays seat B;
//! - each page shows the other's moves without a reload (the time from a
//!   click to the other page showing it is printed, never asserted), and
//!   shows whether the other players are connected; the friend's move is
//!   on screen on a phone;
//! - a spectator link shows the game live, read-only;
//! - the friend's browser keeps its seat credential: a reload resumes; a
//!   revoked spectator's page is told at once (its stream ends), says it
//!   cannot follow, and stops retrying;
//! - when the server stops, every page says it is reconnecting; once it is
//!   back, each resumes from its last event id by itself, the game goes
//!   on, and each page shows exactly the server's state (version, turn,
//!   phase, every resource of both kingdoms) and each move once;
//! - the replay steps through the moves, each shown as the server rebuilds
//!   it (`snapshot?at=V`), with the chronicle of what each did;
//! - axe-core finds nothing serious on the friend's page, the spectator's
//!   page and the replay, at 1366×768 and 390×844;
//! - on a server for guests only (no token works), "Play a friend" makes
//!   the game as a guest, and the friend joins and plays.

use std::time::Instant;

use serde_json::Value;

use crate::harness::{Page, Result, Server};
use crate::{accessible, json_str, log_entries, move_in_view, shot};

/// A page's marker that survives anything but a reload.
const MARK: &str = "window.kbNoReload === true";

/// The page is idle in `seat`'s action phase of `turn`, End turn usable.
fn my_move(seat: &str, turn: u32) -> String {
    format!(
        "(g => g && g.dataset.turn === '{turn}' && g.dataset.active === '{seat}' && g.dataset.phase === 'main')\
         (document.querySelector('#game')) && document.querySelector('#notice').hidden \
         && !document.querySelector('#end-turn').disabled"
    )
}

/// Every page shows the server's state now: the same version, turn, phase
/// and active seat, and every resource of both kingdoms, with no error.
async fn all_show_the_server(server: &Server, id: &str, pages: &[(&str, &Page)]) -> Result<u64> {
    let truth = server.game(id, None).await?;
    let version = truth["version"].as_u64().ok_or("a version")?;
    let game = &truth["game"];
    for (who, page) in pages {
        page.wait_idle(
            &format!("{who}'s page at the server's version {version}"),
            &format!(
                "(g => g.dataset.version === '{version}' && g.dataset.turn === {turn} \
                 && g.dataset.phase === {phase} && g.dataset.active === {active})(document.querySelector('#game')) \
                 && document.querySelector('#notice').hidden",
                turn = json_str(&game["turn"].to_string()),
                phase = json_str(game["currentPhase"].as_str().unwrap_or_default()),
                active = json_str(game["activePlayerId"].as_str().unwrap_or_default()),
            ),
        )
        .await?;
        same_kingdoms(page, game, who).await?;
        assert!(
            page.eval(&format!("return {MARK};"), vec![])
                .await?
                .as_bool()
                == Some(true),
            "{who}'s page was reloaded"
        );
    }
    Ok(version)
}

/// The board shows every resource of both kingdoms as `game` has it.
async fn same_kingdoms(page: &Page, game: &Value, who: &str) -> Result<()> {
    for player in game["players"].as_array().ok_or("players")? {
        let seat = player["id"].as_str().unwrap_or_default();
        for (key, value) in player["resources"].as_object().ok_or("resources")? {
            let css = format!("[data-player='{seat}'] [data-resource='{key}'] .value");
            let shown = page.number(&css).await?;
            assert_eq!(
                Some(shown),
                value.as_f64(),
                "{who}'s page: seat {seat}'s {key}"
            );
        }
    }
    Ok(())
}

/// Clicks an action of the player whose page this is and waits until
/// `others` show it in their chronicle; prints how long that took.
async fn act_and_watch(
    actor: (&str, &Page),
    action: &str,
    label: &str,
    others: &[(&str, &Page)],
) -> Result<()> {
    let (who, page) = actor;
    let seen: Vec<u64> = chronicle_counts(others, label).await?;
    let started = Instant::now();
    page.click(&format!("button[data-action='{action}']"))
        .await?;
    for ((name, other), before) in others.iter().zip(seen) {
        other
            .wait_for(
                &format!("{who}'s {label} on {name}'s page"),
                &format!("{} > {before}", log_entries("action", label)),
            )
            .await?;
        eprintln!(
            "{who}'s {label} shown on {name}'s page {:.0?} after the click",
            started.elapsed()
        );
    }
    Ok(())
}

/// How many chronicle entries of `label` each page shows now.
async fn chronicle_counts(pages: &[(&str, &Page)], label: &str) -> Result<Vec<u64>> {
    let mut out = Vec::new();
    for (_, page) in pages {
        let n = page
            .eval(&format!("return {};", log_entries("action", label)), vec![])
            .await?;
        out.push(n.as_u64().unwrap_or(0));
    }
    Ok(out)
}

/// Marks a page so that a reload would show, and opens `url` first.
async fn open_marked(page: &Page, url: &str) -> Result<()> {
    page.open(url).await?;
    page.wait_for(
        "the page to load",
        "document.body.dataset.view !== 'loading'",
    )
    .await?;
    page.eval("window.kbNoReload = true; return true;", vec![])
        .await?;
    Ok(())
}

/// Ada plays Bea, Cy watches; the server restarts between two moves.
pub async fn friends_play_live(
    server: &mut Server,
    ada: &Page,
    bea: &Page,
    cy: &Page,
) -> Result<()> {
    ada.set_viewport(1366, 768).await?;
    bea.set_viewport(390, 844).await?;
    cy.set_viewport(1366, 768).await?;

    // Ada makes the game; the page shows the invitation link.
    open_marked(ada, &server.url()).await?;
    ada.wait_idle(
        "the start screen",
        "document.querySelector('#new-friend-game')",
    )
    .await?;
    ada.type_into("#player-name", "Ada").await?;
    ada.click("#new-friend-game").await?;
    ada.wait_idle(
        "the invitation link and Ada's first move",
        &format!("document.querySelector('#invite-B') && {}", my_move("A", 1)),
    )
    .await?;
    let link = ada.value("#invite-B").await?;
    assert!(link.contains("#join=kbi_"), "the invitation link: {link}");
    let id = ada
        .eval(
            "return document.querySelector('#game').dataset.session;",
            vec![],
        )
        .await?;
    let id = id.as_str().ok_or("a session id")?.to_owned();
    ada.wait_for(
        "Bea's seat waiting for her",
        "document.querySelector('#presence-B').dataset.holder === 'open'",
    )
    .await?;
    shot(ada, "live-1-invitation").await?;
    accessible(ada, "the invitation, 1366x768").await?;

    // Bea opens the link in her own browser: she plays B, and Ada sees her
    // connected.
    open_marked(bea, &link).await?;
    bea.wait_idle(
        "Bea in the game as seat B, Ada to move",
        "document.body.dataset.mode === 'friend' && document.body.dataset.live === 'live' \
         && document.querySelector('#game').dataset.active === 'A' \
         && document.querySelector('#active-player').textContent.includes('Ada')",
    )
    .await?;
    assert!(
        !bea.eval("return location.hash.includes('kbi_');", vec![])
            .await?
            .as_bool()
            .unwrap_or(true),
        "the invitation code left the address bar"
    );
    ada.wait_for(
        "Bea shown as connected on Ada's page",
        "document.querySelector('#presence-B').dataset.connected === 'true' && !document.querySelector('#invite-B')",
    )
    .await?;

    // Ada hands out a spectator link; Cy follows the game with it.
    ada.click("#make-invite-spectator").await?;
    ada.wait_for(
        "the spectator link",
        "document.querySelector('#invite-spectator')",
    )
    .await?;
    let watch = ada.value("#invite-spectator").await?;
    open_marked(cy, &watch).await?;
    cy.wait_idle(
        "Cy watching, read-only",
        "document.body.dataset.mode === 'watch' && document.body.dataset.live === 'live' \
         && !document.querySelector(\"button[data-action]\") && document.querySelector('#endbar').hidden",
    )
    .await?;
    let players = [("Ada", ada), ("Bea", bea), ("Cy", cy)];
    all_show_the_server(server, &id, &players).await?;

    // Turn 1: Ada taxes, Bea and Cy see it; Ada ends her turn and Bea's
    // page plays her growth and upkeep by itself.
    act_and_watch(("Ada", ada), "tax", "Tax", &[("Bea", bea), ("Cy", cy)]).await?;
    ada.click("#end-turn").await?;
    bea.wait_idle("Bea's move", &my_move("B", 1)).await?;
    move_in_view(bea, "390x844").await?;
    bea.wait_for(
        "Ada shown as connected on Bea's page",
        "document.querySelector('#presence-A').dataset.connected === 'true'",
    )
    .await?;
    cy.wait_for(
        "both players shown as connected on Cy's page",
        "document.querySelector('#presence-A').dataset.connected === 'true' \
         && document.querySelector('#presence-B').dataset.connected === 'true'",
    )
    .await?;
    shot(bea, "live-2-friend-phone").await?;
    accessible(bea, "the friend's move, 390x844").await?;
    act_and_watch(("Bea", bea), "tax", "Tax", &[("Ada", ada), ("Cy", cy)]).await?;
    let before_restart = all_show_the_server(server, &id, &players).await?;
    shot(cy, "live-3-spectator").await?;
    accessible(cy, "the spectator's page").await?;

    // The server stops: every page says it is reconnecting.
    server.stop().await?;
    for (who, page) in players {
        page.wait_for(
            &format!("{who}'s page reconnecting"),
            "document.body.dataset.live === 'reconnecting' \
             && document.querySelector('#live-status').textContent.includes('Reconnecting')",
        )
        .await?;
    }
    shot(ada, "live-4-reconnecting").await?;
    server.restart().await?;
    for (who, page) in players {
        page.wait_for(
            &format!("{who}'s page live again"),
            "document.body.dataset.live === 'live'",
        )
        .await?;
    }
    assert_eq!(
        all_show_the_server(server, &id, &players).await?,
        before_restart,
        "nothing moved meanwhile"
    );

    // The game goes on: Bea ends her turn, Ada's turn 2 begins by itself,
    // Ada develops, Bea and Cy see it.
    bea.click("#end-turn").await?;
    ada.wait_idle("Ada's turn 2", &my_move("A", 2)).await?;
    act_and_watch(("Ada", ada), "tax", "Tax", &[("Bea", bea), ("Cy", cy)]).await?;
    ada.click("#end-turn").await?;
    bea.wait_idle("Bea's turn 2", &my_move("B", 2)).await?;
    let version = all_show_the_server(server, &id, &players).await?;
    // Each move once in every chronicle: three taxes so far.
    for (who, page) in players {
        let taxes = page
            .eval(&format!("return {};", log_entries("action", "Tax")), vec![])
            .await?;
        assert_eq!(
            taxes.as_u64(),
            Some(3),
            "{who}'s chronicle shows each Tax once"
        );
    }
    shot(ada, "live-5-after-restart").await?;

    // Cy steps through the replay, each move as the server rebuilds it.
    cy.click("#open-replay").await?;
    cy.wait_idle(
        "the replay at the first move",
        "(r => !r.hidden && r.dataset.version === '1')(document.querySelector('#replay'))",
    )
    .await?;
    let mut at = 1;
    while at < 12 {
        cy.click("#replay-next").await?;
        at += 1;
        cy.wait_idle(
            &format!("the replay at move {at}"),
            &format!(
                "document.querySelector('#replay').dataset.version === '{at}' \
                 && document.querySelector(\"#log [aria-current='step']\")?.dataset.version === '{at}'"
            ),
        )
        .await?;
        same_kingdoms(
            cy,
            &server.game(&id, Some(at)).await?["game"],
            &format!("the replay at {at}"),
        )
        .await?;
    }
    cy.click("#replay-last").await?;
    cy.wait_idle(
        "the replay at the last move",
        &format!("document.querySelector('#replay').dataset.version === '{version}'"),
    )
    .await?;
    same_kingdoms(
        cy,
        &server.game(&id, Some(version)).await?["game"],
        "the replay's last move",
    )
    .await?;
    cy.wait_for(
        "the chronicle of the replay: the taxes and the turns' ends",
        &format!("{} >= 1 && [...document.querySelectorAll('#log .entry')].some(e => e.textContent.includes('ended the turn'))", log_entries("action", "Tax")),
    )
    .await?;
    shot(cy, "live-6-replay").await?;
    accessible(cy, "the replay").await?;
    cy.click("#close-replay").await?;
    cy.wait_idle(
        "Cy following live again",
        "document.body.dataset.mode === 'watch' && document.body.dataset.live === 'live'",
    )
    .await?;

    // Bea moves once more; everyone, Cy after the replay too, sees it.
    act_and_watch(("Bea", bea), "tax", "Tax", &[("Ada", ada), ("Cy", cy)]).await?;
    all_show_the_server(server, &id, &players).await?;

    // Ada revokes Cy's credential: Cy's stream ends at once, and her page
    // says it cannot follow the game and stops; after a restart it still
    // does not try, while Ada and Bea go on.
    assert_eq!(server.revoke_spectators(&id).await?, 1);
    let refused = "document.body.dataset.live === 'ended' && !document.querySelector('#notice').hidden \
         && document.querySelector('#notice-text').textContent.includes('cannot be followed')";
    cy.wait_for("Cy's page told at once that she was revoked", refused)
        .await?;
    server.restart().await?;
    cy.wait_for("Cy's page refused, no longer reconnecting", refused)
        .await?;
    let players = [("Ada", ada), ("Bea", bea)];
    all_show_the_server(server, &id, &players).await?;

    // Bea's browser kept her seat credential: a reload resumes her game.
    bea.reload().await?;
    bea.wait_idle(
        "Bea's game resumed after a reload, as seat B",
        "document.body.dataset.mode === 'friend' && document.body.dataset.live === 'live' \
         && document.querySelector(\"[data-player='B'] h2\").textContent.includes('(you)')",
    )
    .await?;
    bea.eval("window.kbNoReload = true; return true;", vec![])
        .await?;
    all_show_the_server(server, &id, &players).await?;
    Ok(())
}

/// On a server for guests only, Ada's page (whose default token is refused)
/// makes the game as a guest, and Bea joins it and sees Ada's move.
pub async fn guests_play_a_friend(ada: &Page, bea: &Page) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut server = Server::start_guests_only(&dir.path().join("guests.db")).await?;
    let played = async {
        // Another origin: another storage, no game to resume.
        open_marked(ada, &server.url()).await?;
        ada.click("#new-friend-game").await?;
        ada.wait_idle(
            "a guest's game with its invitation link",
            &format!("document.querySelector('#invite-B') && {}", my_move("A", 1)),
        )
        .await?;
        let link = ada.value("#invite-B").await?;
        open_marked(bea, &link).await?;
        bea.wait_idle(
            "Bea in the guest's game",
            "document.body.dataset.mode === 'friend' && document.body.dataset.live === 'live'",
        )
        .await?;
        ada.wait_for(
            "Bea connected, on the guest's page",
            "document.querySelector('#presence-B').dataset.connected === 'true'",
        )
        .await?;
        act_and_watch(("Ada", ada), "tax", "Tax", &[("Bea", bea)]).await
    }
    .await;
    let stopped = server.stop().await;
    played.and(stopped)
}
