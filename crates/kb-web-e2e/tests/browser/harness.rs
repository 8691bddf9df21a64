//! Harness for the end-to-end test of the browser client (`main.rs`).
//!
//! # Layout
//!
//! - [`Server`]: the real server, built as `kingdom serve` builds it (the
//!   router over a [`SessionManager`] on a SQLite file), on a loopback socket
//!   inside the test process. It can be stopped and started again on the same
//!   port and database, like a restart. It accepts the `local-dev` token,
//!   or serves guests only.
//! - [`Browser`]: headless Chromium driven over WebDriver (`chromedriver`
//!   and the `fantoccini` client), with a fresh profile and the flags that
//!   keep it off the network.
//! - [`Page`]: the test's view of the page: polling for a condition with a
//!   deadline (never a fixed sleep), clicking, typing, reading.
//!
//! The browser is Debian's `chromium` and `chromium-driver`, which
//! `.ci/setup` installs. A missing browser fails the test with a message
//! saying so; it never skips.

use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::middleware::{self, Next};
use fantoccini::{Client, ClientBuilder, Locator};
use kb_protocol::answers::GameAnswer;
use kb_server::guests::GuestGate;
use kb_server::{AppState, Authenticator, Metrics, TokenTable, app};
use kb_session::{Caller, ManagerOptions, SeatHolder, SessionManager};
use kb_store::GrantKind;
use kb_store_sqlite::{SqliteOptions, SqliteSessionStore};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long any awaited condition may take before the test fails. Generous:
/// the machine is small and shared, and nothing here waits this long when
/// the page works.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// How often a condition is checked while waiting for it.
const POLL: Duration = Duration::from_millis(100);

/// An error of the harness, with what it was doing.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The result type of the harness.
pub type Result<T> = std::result::Result<T, Error>;

// ----- the server ---------------------------------------------------------------

/// The game server on a loopback port, over a SQLite database file.
pub struct Server {
    address: SocketAddr,
    db_path: PathBuf,
    /// Serving guests only (`kingdom serve --guests` on a public address
    /// with no token table): no token works, anyone may create a game.
    guests_only: bool,
    running: Option<Running>,
    /// API requests answered (paths under `/api/`, the client's prefix),
    /// counted at the server across restarts.
    api_requests: Arc<AtomicU64>,
}

struct Running {
    manager: Arc<SessionManager>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Starts a server on a free loopback port with its database at
    /// `db_path` (created if missing).
    pub async fn start(db_path: &Path) -> Result<Self> {
        Self::start_as(db_path, false).await
    }

    /// [`Server::start`] for guests only: as a public `--guests` server
    /// without tokens, where `local-dev` is refused and anyone creates
    /// games as a guest.
    pub async fn start_guests_only(db_path: &Path) -> Result<Self> {
        Self::start_as(db_path, true).await
    }

    async fn start_as(db_path: &Path, guests_only: bool) -> Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let mut server = Self {
            address,
            db_path: db_path.to_owned(),
            guests_only,
            running: None,
            api_requests: Arc::new(AtomicU64::new(0)),
        };
        server.serve(listener).await?;
        Ok(server)
    }

    /// The page's address, `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.address)
    }

    /// The number of API requests the server has received so far.
    pub fn api_requests(&self) -> u64 {
        self.api_requests.load(Ordering::SeqCst)
    }

    /// The session `id` as the server holds it, read beside the HTTP API:
    /// `{version, game}` (the game as `snapshot.game` shows it), at
    /// version `at` if given, else now.
    pub async fn game(&self, id: &str, at: Option<u64>) -> Result<Value> {
        let manager = self.manager()?;
        let caller = Caller::admin("e2e");
        let read = |view: &kb_session::SessionView<'_>| {
            let snapshot = view.game.snapshot();
            json!({ "version": view.version, "game": GameAnswer::from(&snapshot.game) })
        };
        Ok(match at {
            Some(at) => manager.read_at_async(&caller, id, at, read).await?,
            None => manager.read_async(&caller, id, read).await?,
        })
    }

    /// Revokes every spectator credential of session `id`, as its owner
    /// may; answers how many.
    pub async fn revoke_spectators(&self, id: &str) -> Result<usize> {
        let manager = self.manager()?;
        let caller = Caller::admin("e2e");
        let mut revoked = 0;
        for view in manager.seats_async(&caller, id).await? {
            if let (SeatHolder::Credential { grant_id }, "spectator") =
                (&view.holder, view.role.as_str())
            {
                manager
                    .revoke_async(&caller, id, grant_id, GrantKind::Credential)
                    .await?;
                revoked += 1;
            }
        }
        Ok(revoked)
    }

    fn manager(&self) -> Result<&Arc<SessionManager>> {
        Ok(&self
            .running
            .as_ref()
            .ok_or("the server is stopped")?
            .manager)
    }

    /// Stops serving: in-flight requests finish, then the store is closed.
    pub async fn stop(&mut self) -> Result<()> {
        let Some(running) = self.running.take() else {
            return Ok(());
        };
        // The receiver is gone only if the server already ended; its task
        // result then says why.
        let _ = running.stop.send(());
        tokio::time::timeout(DEADLINE, running.task)
            .await
            .map_err(|_| "the server did not stop in time")???;
        let manager = running.manager;
        tokio::task::spawn_blocking(move || manager.close()).await??;
        Ok(())
    }

    /// Starts again on the same port and database, as after a restart.
    pub async fn restart(&mut self) -> Result<()> {
        self.stop().await?;
        // The port was just released; binding it again can briefly fail
        // while the old socket closes.
        let started = Instant::now();
        let listener = loop {
            match tokio::net::TcpListener::bind(self.address).await {
                Ok(listener) => break listener,
                Err(error) if started.elapsed() < DEADLINE => {
                    let _ = error;
                    tokio::time::sleep(POLL).await;
                }
                Err(error) => {
                    return Err(format!("cannot bind {} again: {error}", self.address).into());
                }
            }
        };
        self.serve(listener).await
    }

    async fn serve(&mut self, listener: tokio::net::TcpListener) -> Result<()> {
        let db_path = self.db_path.clone();
        let manager = tokio::task::spawn_blocking(move || -> Result<SessionManager> {
            let store = SqliteSessionStore::open(SqliteOptions::new(db_path))?;
            Ok(SessionManager::new(ManagerOptions::new(Arc::new(store)))?)
        })
        .await??;
        let manager = Arc::new(manager);
        // No token table: the server accepts the built-in `local-dev` token,
        // which the client sends by default; or, guests only, no token.
        let state = if self.guests_only {
            let auth = Authenticator::new(TokenTable::from_json("{}")?);
            let per_hour = std::num::NonZeroUsize::new(20).expect("not zero");
            AppState::new(auth, Metrics::new(), manager.clone())
                .with_guests(GuestGate::new(per_hour))
        } else {
            let auth = Authenticator::for_listener(None, self.address)?;
            AppState::new(auth, Metrics::new(), manager.clone())
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let counter = self.api_requests.clone();
        let router =
            app::router(state).layer(middleware::from_fn(move |request: Request, next: Next| {
                if request.uri().path().starts_with("/api/") {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
                next.run(request)
            }));
        let task = tokio::spawn(app::serve(listener, router, async move {
            let _ = stopped.await;
        }));
        self.running = Some(Running {
            manager,
            stop,
            task,
        });
        Ok(())
    }
}

// ----- the browser --------------------------------------------------------------

/// Browser tests take turns: each starts Chromium (one to three of them),
/// more than this small machine runs side by side without slowing to a
/// crawl. Hold the guard for the whole test.
pub async fn one_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    TURN.lock().await
}

/// Finds a program: the environment variable `env` if set, else the first of
/// `candidates` that exists (absolute paths, then names on `PATH`).
fn find_program(env: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env) {
        return Some(PathBuf::from(path));
    }
    let path_dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    candidates.iter().find_map(|candidate| {
        let candidate = Path::new(candidate);
        if candidate.is_absolute() {
            return candidate.is_file().then(|| candidate.to_owned());
        }
        path_dirs
            .iter()
            .map(|dir| dir.join(candidate))
            .find(|path| path.is_file())
    })
}

/// Headless Chromium behind a `chromedriver` process, both ended on drop.
pub struct Browser {
    driver: Child,
    client: Option<Client>,
    /// The fresh Chromium profile, removed on drop.
    profile: tempfile::TempDir,
}

impl Browser {
    /// Starts `chromedriver` on a free port and opens a headless Chromium
    /// session with a fresh profile.
    ///
    /// Fails, with a message saying to run `.ci/setup`, when Chromium or its
    /// driver is not installed (`KB_CHROMIUM` and `KB_CHROMEDRIVER` override
    /// where they are looked for).
    pub async fn start() -> Result<Self> {
        const SETUP: &str = "run `.ci/setup` (it installs Debian's chromium and chromium-driver)";
        let chromium = find_program("KB_CHROMIUM", &["/usr/bin/chromium", "chromium"])
            .ok_or_else(|| format!("Chromium is not installed: {SETUP}"))?;
        let chromedriver = find_program(
            "KB_CHROMEDRIVER",
            &["/usr/bin/chromedriver", "chromedriver"],
        )
        .ok_or_else(|| format!("chromedriver is not installed: {SETUP}"))?;

        let port = {
            let probe = StdListener::bind("127.0.0.1:0")?;
            probe.local_addr()?.port()
        };
        let profile = tempfile::Builder::new()
            .prefix("kb-e2e-chromium-")
            .tempdir()?;
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}; {SETUP}", chromedriver.display()))?;
        let mut browser = Self {
            driver,
            client: None,
            profile,
        };

        let user_data_dir = format!("--user-data-dir={}", browser.profile.path().display());
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-dev-shm-usage",
                    "--window-size=1400,1200",
                    user_data_dir,
                ],
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object literal")
        };
        let webdriver = format!("http://127.0.0.1:{port}");
        // The driver takes a moment to listen: retry until the deadline.
        let started = Instant::now();
        let client = loop {
            let mut builder =
                ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
            builder.capabilities(capabilities.clone());
            match builder.connect(&webdriver).await {
                Ok(client) => break client,
                Err(error) => {
                    if let Some(status) = browser.driver.try_wait()? {
                        return Err(format!("chromedriver exited ({status}); {SETUP}").into());
                    }
                    if started.elapsed() > DEADLINE {
                        return Err(format!("cannot open a Chromium session: {error}").into());
                    }
                    tokio::time::sleep(POLL).await;
                }
            }
        };
        browser.client = Some(client);
        Ok(browser)
    }

    /// The page, driven by this browser.
    pub fn page(&self) -> Page {
        Page {
            client: self.client.clone().expect("a started browser has a client"),
        }
    }

    /// Ends the browser session and the driver.
    pub async fn close(mut self) -> Result<()> {
        if let Some(client) = self.client.take() {
            client.close().await?;
        }
        Ok(())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        // Without a closed session (a failed test), the driver's Chromium
        // outlives it: end the processes that run on our own profile.
        if self.client.is_some() {
            kill_processes_using(self.profile.path());
        }
    }
}

/// Kills the processes whose command line names `profile` (our Chromium and
/// its helpers), by id. Linux only; elsewhere it does nothing.
fn kill_processes_using(profile: &Path) {
    let needle = profile.to_string_lossy().into_owned();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        if String::from_utf8_lossy(&cmdline).contains(&needle) {
            let _ = Command::new("kill")
                .arg("-KILL")
                .arg(pid.to_string())
                .stderr(Stdio::null())
                .status();
        }
    }
}

// ----- axe-core ---------------------------------------------------------------------

/// The axe-core version `.ci/setup` installs.
pub const AXE_CORE_VERSION: &str = "4.10.3";

/// WebDriver's Enter key.
pub const ENTER: &str = "\u{E007}";
/// WebDriver's Escape key.
pub const ESCAPE: &str = "\u{E00C}";

/// axe-core's script: `KB_AXE_CORE` (a path to `axe.min.js`) or where
/// `.ci/setup` installs it (`$KB_CACHE_DIR`, else `$XDG_CACHE_HOME` or
/// `~/.cache`, then `kingdom-builder/axe-core-<version>`). Missing, it
/// fails with a message saying to run `.ci/setup`; it never skips.
fn axe_core_source() -> Result<String> {
    let path = match std::env::var_os("KB_AXE_CORE") {
        Some(path) => PathBuf::from(path),
        None => {
            let cache = std::env::var_os("KB_CACHE_DIR")
                .map(PathBuf::from)
                .or_else(|| {
                    std::env::var_os("XDG_CACHE_HOME")
                        .map(|dir| PathBuf::from(dir).join("kingdom-builder"))
                })
                .or_else(|| {
                    std::env::var_os("HOME")
                        .map(|home| PathBuf::from(home).join(".cache").join("kingdom-builder"))
                })
                .ok_or("no cache directory: set KB_AXE_CORE or HOME")?;
            cache
                .join(format!("axe-core-{AXE_CORE_VERSION}"))
                .join("node_modules/axe-core/axe.min.js")
        }
    };
    std::fs::read_to_string(&path).map_err(|error| {
        format!(
            "cannot read axe-core at {} ({error}): run `.ci/setup`, which installs it from npm",
            path.display()
        )
        .into()
    })
}

// ----- the page ---------------------------------------------------------------------

/// Whether a WebDriver command failed because its element left the page.
fn is_stale(error: &fantoccini::error::CmdError) -> bool {
    error.is_stale_element_reference() || error.is_no_such_element()
}

/// The page in the browser, with waiting helpers.
#[derive(Clone)]
pub struct Page {
    client: Client,
}

impl Page {
    /// Opens `url`.
    pub async fn open(&self, url: &str) -> Result<()> {
        self.client.goto(url).await?;
        Ok(())
    }

    /// Reloads the page.
    pub async fn reload(&self) -> Result<()> {
        self.client.refresh().await?;
        Ok(())
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page
    /// and returns its result.
    pub async fn eval(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        Ok(self.client.execute(script, args).await?)
    }

    /// Waits until the JavaScript expression `condition` is truthy in the
    /// page. On timeout, fails with `what` and what the page shows.
    pub async fn wait_for(&self, what: &str, condition: &str) -> Result<()> {
        let script = format!("return Boolean({condition});");
        let started = Instant::now();
        loop {
            // A navigation in progress can make one evaluation fail: retry.
            if let Ok(Value::Bool(true)) = self.client.execute(&script, vec![]).await {
                return Ok(());
            }
            if started.elapsed() > DEADLINE {
                return Err(format!(
                    "timed out after {DEADLINE:?} waiting for {what} ({condition})\n{}",
                    self.describe().await
                )
                .into());
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the page is idle (no game request in flight) and
    /// `condition` holds.
    pub async fn wait_idle(&self, what: &str, condition: &str) -> Result<()> {
        self.wait_for(
            what,
            &format!("document.body.dataset.busy === 'false' && ({condition})"),
        )
        .await
    }

    /// Clicks the element matching `css` once it exists and is enabled.
    ///
    /// The page re-renders parts of itself (the action panel when live
    /// costs arrive), so the element found can be replaced before the click
    /// lands: then it is found again and clicked again, until the deadline.
    pub async fn click(&self, css: &str) -> Result<()> {
        let quoted = serde_json::to_string(css)?;
        let started = Instant::now();
        loop {
            self.wait_for(
                &format!("{css} to be enabled"),
                &format!("(e => e && !e.disabled)(document.querySelector({quoted}))"),
            )
            .await?;
            // Into the middle of the viewport, as a player would scroll it:
            // at an edge, the sticky top bar or End turn bar may cover it.
            self.eval(
                "const e = document.querySelector(arguments[0]); \
                 if (e) e.scrollIntoView({ block: 'center', inline: 'nearest' }); return true;",
                vec![json!(css)],
            )
            .await?;
            let clicked = match self.client.find(Locator::Css(css)).await {
                Ok(element) => element.click().await,
                Err(error) => Err(error),
            };
            match clicked {
                Ok(()) => return Ok(()),
                Err(error) if is_stale(&error) && started.elapsed() < DEADLINE => {}
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// Replaces the text of the input matching `css`.
    pub async fn type_into(&self, css: &str, text: &str) -> Result<()> {
        let input = self.client.find(Locator::Css(css)).await?;
        input.clear().await?;
        input.send_keys(text).await?;
        Ok(())
    }

    /// The value of the input matching `css` (empty if none).
    pub async fn value(&self, css: &str) -> Result<String> {
        let value = self
            .eval(
                "const e = document.querySelector(arguments[0]); return e ? e.value : '';",
                vec![json!(css)],
            )
            .await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    /// The text of the first element matching `css` (empty if none).
    pub async fn text(&self, css: &str) -> Result<String> {
        let value = self
            .eval(
                "const e = document.querySelector(arguments[0]); return e ? e.textContent : '';",
                vec![json!(css)],
            )
            .await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    /// The number shown in `css` (the page's own rendering of a value).
    pub async fn number(&self, css: &str) -> Result<f64> {
        let text = self.text(css).await?;
        text.trim()
            .parse()
            .map_err(|_| format!("{css} shows {text:?}, not a number").into())
    }

    /// Makes the page's viewport `width` × `height` CSS pixels (the window
    /// is resized by what its frame takes).
    pub async fn set_viewport(&self, width: u32, height: u32) -> Result<()> {
        self.client.set_window_size(width, height).await?;
        for _ in 0..3 {
            let inner = self
                .eval("return [window.innerWidth, window.innerHeight];", vec![])
                .await?;
            let (w, h) = (
                inner[0].as_u64().unwrap_or(0),
                inner[1].as_u64().unwrap_or(0),
            );
            if w == u64::from(width) && h == u64::from(height) {
                return Ok(());
            }
            let (_, _, outer_w, outer_h) = self.client.get_window_rect().await?;
            let fix = |outer: u64, inner: u64, want: u32| {
                (outer + u64::from(want)).saturating_sub(inner).max(100) as u32
            };
            self.client
                .set_window_size(fix(outer_w, w, width), fix(outer_h, h, height))
                .await?;
        }
        let inner = self
            .eval("return [window.innerWidth, window.innerHeight];", vec![])
            .await?;
        Err(format!("cannot make the viewport {width}x{height}: it is {inner}").into())
    }

    /// Sends keys (WebDriver key codes, such as [`ENTER`]) to the focused
    /// element.
    pub async fn press(&self, keys: &str) -> Result<()> {
        self.client.active_element().await?.send_keys(keys).await?;
        Ok(())
    }

    /// Runs axe-core on the page and returns its serious and critical
    /// violations as readable lines (empty when there are none).
    pub async fn axe_serious(&self) -> Result<Vec<String>> {
        let source = axe_core_source()?;
        self.client
            .execute(&format!("{source}\n;return true;"), vec![])
            .await?;
        let script = "const done = arguments[arguments.length - 1];\
            axe.run(document, { resultTypes: ['violations'] })\
              .then(r => done(r.violations\
                 .filter(v => v.impact === 'serious' || v.impact === 'critical')\
                 .map(v => v.impact + ' ' + v.id + ': ' + v.help + ' at ' + v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' (' + (n.failureSummary || '').replace(/\\s+/g, ' ').slice(0, 160) + ')').join('; '))))\
              .catch(e => done(['axe failed: ' + e]));";
        let found = self.client.execute_async(script, vec![]).await?;
        Ok(found
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Saves a screenshot to `path`.
    pub async fn screenshot(&self, path: &Path) -> Result<()> {
        let png = self.client.screenshot().await?;
        std::fs::write(path, png)?;
        Ok(())
    }

    /// What the page shows, for failure messages: its view, the error
    /// notice and the end of its text.
    pub async fn describe(&self) -> String {
        let script = "return JSON.stringify({\
            url: location.href,\
            view: document.body.dataset.view,\
            busy: document.body.dataset.busy,\
            notice: document.querySelector('#notice')?.hidden ? null : document.querySelector('#notice-text')?.textContent,\
            text: document.body.innerText.slice(-1500)\
        }, null, 1);";
        match self.client.execute(script, vec![]).await {
            Ok(Value::String(text)) => format!("page: {text}"),
            Ok(other) => format!("page: {other}"),
            Err(error) => format!("the page could not be read: {error}"),
        }
    }
}
