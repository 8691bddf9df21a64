//! The browser client, end to end: headless Chromium loads the page from the
//! real server (SQLite store, loopback socket), a human starts a game, taxes,
//! ends the turn, watches the AI play and turn 2 begin; the game survives a
//! reload and a server restart, a dead server is reported readably, and a
//! dev-mode game ends with the game-over banner.
//!
//! Every wait polls the page for a condition with a generous deadline.
//! Set `KB_E2E_SCREENSHOTS=DIR` to keep a screenshot of each stage; on
//! failure one is saved to the temp directory and its path printed.

use std::path::{Path, PathBuf};
use std::time::Instant;

mod harness;

use harness::{Browser, Page, Result, Server};

/// `#game`'s data attributes say: this turn, the human's main phase; and no
/// error is shown (uncaught script errors are shown there too).
fn human_main_phase(turn: u32) -> String {
    format!(
        "document.body.dataset.view === 'game' && \
         (g => g.dataset.turn === '{turn}' && g.dataset.active === 'A' && g.dataset.phase === 'main')\
         (document.querySelector('#game')) && document.querySelector('#notice').hidden"
    )
}

/// The number of chronicle entries of `kind` whose text contains `text`.
fn log_entries(kind: &str, text: &str) -> String {
    format!(
        "[...document.querySelectorAll('#log .entry.{kind}')]\
         .filter(e => e.textContent.includes({})).length",
        serde_json::to_string(text).expect("a string serialises")
    )
}

const GOLD_A: &str = "[data-player='A'] [data-resource='gold'] .value";

async fn session_id(page: &Page) -> Result<String> {
    let id = page
        .eval(
            "return document.querySelector('#game').dataset.session;",
            vec![],
        )
        .await?;
    Ok(id.as_str().unwrap_or_default().to_owned())
}

/// Saves a screenshot of `stage` when `KB_E2E_SCREENSHOTS` names a folder.
async fn stage(page: &Page, name: &str) -> Result<()> {
    if let Some(dir) = std::env::var_os("KB_E2E_SCREENSHOTS") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir)?;
        page.screenshot(&dir.join(format!("{name}.png"))).await?;
    }
    Ok(())
}

async fn scenario(page: &Page, server: &mut Server) -> Result<()> {
    // The start screen.
    page.open(&server.url()).await?;
    page.wait_idle(
        "the start screen",
        "document.body.dataset.view === 'start' && document.querySelector('#overview:not([hidden])')",
    )
    .await?;
    stage(page, "1-start").await?;

    // A new game: the page advances through growth and upkeep by itself and
    // stops in the human's main phase of turn 1.
    page.type_into("#player-name", "Ada").await?;
    page.click("#new-game").await?;
    page.wait_idle("turn 1, the human's main phase", &human_main_phase(1))
        .await?;
    page.wait_for(
        "the human's name on the board",
        "document.querySelector(\"[data-player='A'] h2\").textContent.includes('Ada')",
    )
    .await?;
    let session = session_id(page).await?;
    assert!(!session.is_empty(), "the page shows its session id");

    // Tax: +4 gold (one person), logged.
    let gold = page.number(GOLD_A).await?;
    page.click("button[data-action='tax']").await?;
    page.wait_idle(
        "Tax to pay 4 gold",
        &format!(
            "Number(document.querySelector(\"{GOLD_A}\").textContent) === {} && {} === 1",
            gold + 4.0,
            log_entries("action", "Tax")
        ),
    )
    .await?;
    stage(page, "2-taxed").await?;

    // End the turn: the AI plays its turn, then turn 2 comes to the human.
    page.click("#end-turn").await?;
    page.wait_idle("turn 2, the human's main phase", &human_main_phase(2))
        .await?;
    page.wait_for(
        "the AI's turn in the chronicle",
        &format!(
            "{} >= 1 && {} === 1",
            log_entries("ai", "Tax"),
            log_entries("turn", "Turn 2")
        ),
    )
    .await?;
    stage(page, "3-turn-2").await?;
    let gold = page.number(GOLD_A).await?;

    // A reload resumes the same game where it was.
    page.reload().await?;
    page.wait_idle(
        "the game to resume after a reload",
        &format!(
            "{} && {} === 1",
            human_main_phase(2),
            log_entries("info", "Game resumed")
        ),
    )
    .await?;
    assert_eq!(session_id(page).await?, session, "the same session resumes");
    assert_eq!(
        page.number(GOLD_A).await?,
        gold,
        "the same gold after reload"
    );

    // A dead server is reported readably; the page keeps working.
    server.stop().await?;
    page.click("button[data-action='tax']").await?;
    page.wait_idle(
        "an error notice about the unreachable server",
        "!document.querySelector('#notice').hidden && \
         document.querySelector('#notice-text').textContent.includes('Cannot reach the server')",
    )
    .await?;
    stage(page, "4-server-down").await?;

    // After a restart (same database, same port) a reload resumes the game,
    // unchanged, and play goes on.
    server.restart().await?;
    page.reload().await?;
    page.wait_idle(
        "the game to resume after a server restart",
        &format!(
            "{} && {} === 2",
            human_main_phase(2),
            log_entries("info", "Game resumed")
        ),
    )
    .await?;
    assert_eq!(session_id(page).await?, session, "the same session resumes");
    assert_eq!(
        page.number(GOLD_A).await?,
        gold,
        "the failed Tax changed nothing"
    );
    page.click("button[data-action='tax']").await?;
    page.wait_idle(
        "Tax to work after the restart",
        &format!(
            "Number(document.querySelector(\"{GOLD_A}\").textContent) === {}",
            gold + 4.0
        ),
    )
    .await?;

    // A dev-mode game: the AI's castle starts at 1 HP, so one Army Attack
    // wins, and the page says so.
    page.click("#to-start").await?;
    page.wait_idle(
        "the start screen with a way back",
        "document.body.dataset.view === 'start' && !document.querySelector('#resume').hidden",
    )
    .await?;
    page.click("#dev-mode").await?;
    page.click("#new-game").await?;
    page.wait_idle(
        "a new dev-mode game in the human's main phase",
        &format!(
            "{} && document.querySelector('#game').dataset.session !== {}",
            human_main_phase(1),
            serde_json::to_string(&session)?
        ),
    )
    .await?;
    page.click("button[data-action='army_attack']").await?;
    page.wait_idle(
        "the game-over banner: castle destroyed, the human wins",
        "(b => !b.hidden && b.dataset.condition === 'castle-destroyed' && b.dataset.winner === 'A' \
           && b.textContent.includes('Victory'))(document.querySelector('#game-over'))",
    )
    .await?;
    page.wait_for(
        "the end of the game in the chronicle, and no actions offered",
        &format!(
            "{} === 1 && !document.querySelector('button[data-action]')",
            log_entries("end", "Victory")
        ),
    )
    .await?;
    stage(page, "5-game-over").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_human_plays_the_ai_in_chromium_and_the_game_survives_reloads_and_restarts() {
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut server = Server::start(&dir.path().join("sessions.db"))
        .await
        .expect("the server starts");
    let browser = Browser::start()
        .await
        .unwrap_or_else(|error| panic!("cannot start the browser: {error}"));
    let page = browser.page();

    let outcome = scenario(&page, &mut server).await;
    if outcome.is_err() {
        let path = std::env::temp_dir().join("kb-web-e2e-failure.png");
        if page.screenshot(Path::new(&path)).await.is_ok() {
            eprintln!("screenshot of the failure: {}", path.display());
        }
    }
    let closed = browser.close().await;
    let stopped = server.stop().await;
    if let Err(error) = outcome {
        panic!("{error}");
    }
    closed.expect("the browser closes");
    stopped.expect("the server stops");
    eprintln!("browser test took {:.1?}", started.elapsed());
}
