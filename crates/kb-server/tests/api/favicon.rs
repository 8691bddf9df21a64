//! `GET /favicon.ico`: browsers (and the reference's web client, which sets
//! its icon from the runtime config and otherwise lets the browser ask) get
//! an icon, not a 404.

use crate::helpers::TestApp;

#[tokio::test]
async fn the_site_has_an_icon() {
    let app = TestApp::game();
    let response = app.get("/favicon.ico", &[]).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.headers["content-type"], "image/x-icon");
    // An ICO file with one 32×32 image.
    assert_eq!(&response.body[..6], &[0, 0, 1, 0, 1, 0]);
    assert_eq!(&response.body[6..8], &[32, 32]);
    // Revalidation, as for the client's other files.
    let etag = response.headers["etag"].to_str().unwrap().to_owned();
    let again = app.get("/favicon.ico", &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, 304);
}
