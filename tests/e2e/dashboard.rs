//! The dashboard at `/ui`: driven in real headless Chromium (Debian's `chromium`, through
//! `playwright-core`; see tests/browser), and its sessions checked from outside: sign-in,
//! CSRF, sign-out and what an app key may see.

use std::process::Command;

use reqwest::redirect::Policy;
use serde_json::json;

use crate::harness::{Herald, TempDir, ADMIN};
use crate::receiver::{Receiver, Reply};

const BROWSER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser");

/// Whether Chromium and playwright-core are installed; in CI they must be.
fn browser_ready() -> bool {
    let ready = std::path::Path::new("/usr/bin/chromium").exists()
        && std::path::Path::new(&format!("{BROWSER}/node_modules/playwright-core")).exists();
    if !ready && std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI needs chromium and tests/browser/node_modules (see .ci/run)");
    }
    ready
}

#[tokio::test]
async fn the_dashboard_works_in_a_real_browser() {
    if !browser_ready() {
        eprintln!("skipped: no chromium or playwright-core here");
        return;
    }
    let dir = TempDir::new("dashboard");
    let herald = Herald::start(&dir.0);
    let rx = Receiver::start().await;
    rx.set_default(Reply::Text(200, "received"));
    let app = herald.create_app("standard").await;
    let out = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/target/test-artifacts/dashboard"
    );
    let args = [
        format!("{BROWSER}/dashboard.mjs"),
        herald.base.clone(),
        ADMIN.to_owned(),
        app,
        rx.url.clone(),
        out.to_owned(),
    ];
    let run = tokio::task::spawn_blocking(move || Command::new("node").args(&args).output());
    let output = run.await.expect("join").expect("node");
    let log = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "the browser run failed (screenshots in {out}):\n{log}"
    );
    assert!(log.contains("dashboard: ok"), "{log}");
}

/// Posts a form with the session `cookie`.
async fn post_form(url: &str, cookie: &str, form: &[(&str, &str)]) -> reqwest::Response {
    let req = client().post(url).header("cookie", cookie).form(form);
    req.send().await.expect("post")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
}

/// Signs in with `token`; answers the session cookie (`name=value`).
async fn sign_in(base: &str, token: &str) -> String {
    let resp = client()
        .post(format!("{base}/ui/sign-in"))
        .form(&[("token", token)])
        .send()
        .await
        .expect("sign in");
    assert_eq!(resp.status().as_u16(), 303, "sign-in did not redirect");
    let cookie = resp.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_owned();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/ui"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    cookie.split(';').next().unwrap_or_default().to_owned()
}

async fn get(base: &str, cookie: &str, path: &str) -> (u16, String) {
    let resp = client()
        .get(format!("{base}{path}"))
        .header("cookie", cookie)
        .send()
        .await
        .expect("get");
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let text = resp.text().await.unwrap_or_default();
    (status, if status == 303 { location } else { text })
}

/// The CSRF token a signed-in page carries.
fn csrf_of(page: &str) -> String {
    let at = page.find("name=\"_csrf\" value=\"").expect("a csrf field") + 20;
    page[at..].split('"').next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn sessions_are_scoped_need_csrf_and_end_on_sign_out() {
    let dir = TempDir::new("dashboard-sessions");
    let herald = Herald::start(&dir.0);
    let base = herald.base.clone();
    let (mine, other) = (
        herald.create_app("standard").await,
        herald.create_app("standard").await,
    );
    let (status, _, key) = herald
        .call(
            "POST",
            &format!("/v1/apps/{mine}/keys"),
            Some(json!({"name": "ui"})),
        )
        .await;
    assert_eq!(status, 201, "{key}");
    let key_id = key["id"].as_str().expect("key id").to_owned();
    let key = key["token"]
        .as_str()
        .or_else(|| key["key"].as_str())
        .expect("a key token")
        .to_owned();

    let (status, to) = get(&base, "", "/ui/apps").await;
    assert_eq!(
        (status, to.as_str()),
        (303, "/ui/sign-in"),
        "signed out, no redirect"
    );
    let (status, page) = client()
        .post(format!("{base}/ui/sign-in"))
        .form(&[("token", "wrong")])
        .send()
        .await
        .map(|r| (r.status().as_u16(), r))
        .expect("sign in");
    assert_eq!(status, 200, "a wrong token signs nobody in");
    drop(page);

    let app_cookie = sign_in(&base, &key).await;
    let (status, _) = get(&base, &app_cookie, &format!("/ui/apps/{mine}")).await;
    assert_eq!(status, 200);
    for path in [
        format!("/ui/apps/{other}"),
        "/ui/apps".to_owned(),
        format!("/ui/apps/{other}/rooms/r1"),
    ] {
        let (status, _) = get(&base, &app_cookie, &path).await;
        assert_eq!(status, 404, "an app key reached {path}");
    }

    let admin = sign_in(&base, ADMIN).await;
    let (status, page) = get(&base, &admin, &format!("/ui/apps/{mine}")).await;
    assert_eq!(status, 200);
    let csrf = csrf_of(&page);
    let filtered = format!("/ui/apps/{mine}?type=room.created&since=2020-01-01T00%3A00%3A00Z");
    assert_eq!(get(&base, &admin, &filtered).await.0, 200);
    let by_status = format!("/ui/apps/{mine}?status=failed&room_id=r1");
    assert_eq!(get(&base, &admin, &by_status).await.0, 200);
    let (_, page) = get(&base, &admin, &format!("/ui/apps/{mine}?status=lost")).await;
    assert!(
        page.contains("is not a delivery status"),
        "a bad status filter was not named"
    );
    let custom = json!({"name": "caption.line"});
    let (status, _, _) = herald
        .call(
            "POST",
            &format!("/v1/apps/{mine}/event-types"),
            Some(custom),
        )
        .await;
    assert_eq!(status, 201);
    let (_, form) = get(&base, &admin, &format!("/ui/apps/{mine}/endpoints/new")).await;
    assert!(
        form.contains("caption.line"),
        "the form does not offer the app's own types"
    );
    let (status, page) = get(&base, &admin, &format!("/ui/apps/{mine}?since=soon")).await;
    assert!(
        status == 200 && page.contains("is not a date and time"),
        "{status}"
    );
    let new = format!("{base}/ui/apps/{mine}/endpoints/new");
    let form = [("url", "http://127.0.0.1:9/hook")];
    let refused = post_form(&new, &admin, &form).await;
    assert_eq!(
        refused.status().as_u16(),
        403,
        "a form without the CSRF token was taken"
    );
    let with = [("url", "http://127.0.0.1:9/hook"), ("_csrf", csrf.as_str())];
    let taken = post_form(&new, &admin, &with).await;
    assert_eq!(
        taken.status().as_u16(),
        303,
        "a form with the CSRF token was refused"
    );

    // The app's keys are listed (never their tokens) and revoked from its page.
    let (_, _, keys) = herald
        .call("GET", &format!("/v1/apps/{mine}/keys"), None)
        .await;
    assert_eq!(keys["data"][0]["id"], json!(key_id), "{keys}");
    assert!(!keys.to_string().contains(&key), "a key's token was listed");
    let (_, page) = get(&base, &admin, &format!("/ui/apps/{mine}")).await;
    assert!(page.contains(&key_id), "the app page does not list its key");
    let revoke = format!("{base}/ui/apps/{mine}/keys/revoke");
    let revoked = post_form(
        &revoke,
        &admin,
        &[("id", key_id.as_str()), ("_csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(revoked.status().as_u16(), 303);
    let (status, to) = get(&base, &app_cookie, &format!("/ui/apps/{mine}")).await;
    assert_eq!(
        (status, to.as_str()),
        (303, "/ui/sign-in"),
        "a session outlived its key"
    );
    let (status, _, _) = herald
        .call_as(&key, "GET", &format!("/v1/apps/{mine}/events"), None)
        .await;
    assert_eq!(status, 401, "a revoked key still worked");

    let sign_out = format!("{base}/ui/sign-out");
    let out = post_form(&sign_out, &admin, &[("_csrf", csrf.as_str())]).await;
    assert_eq!(out.status().as_u16(), 303);
    let (status, to) = get(&base, &admin, &format!("/ui/apps/{mine}")).await;
    assert_eq!(
        (status, to.as_str()),
        (303, "/ui/sign-in"),
        "a cookie kept after sign-out still worked"
    );
}

/// Mints a portal link to `app`; answers its path.
async fn portal_link(herald: &Herald, app: &str, body: serde_json::Value) -> String {
    let path = format!("/v1/apps/{app}/portal-links");
    let (status, _, link) = herald.call("POST", &path, Some(body)).await;
    assert_eq!(status, 201, "{link}");
    link["url"].as_str().expect("url").to_owned()
}

/// Opens a link; answers the status and the session cookie it set.
async fn open_link(base: &str, link: &str) -> (u16, String) {
    let resp = client()
        .get(format!("{base}{link}"))
        .send()
        .await
        .expect("open");
    let cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|c| c.to_str().ok())
        .unwrap_or("");
    (
        resp.status().as_u16(),
        cookie.split(';').next().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn portal_links_open_one_app_expire_and_refuse_tampering_and_writes() {
    let dir = TempDir::new("dashboard-portal");
    let herald = Herald::start(&dir.0);
    let base = herald.base.clone();
    let (mine, other) = (
        herald.create_app("standard").await,
        herald.create_app("standard").await,
    );
    let link = portal_link(&herald, &mine, json!({"expires_in_s": 600})).await;
    let (status, cookie) = open_link(&base, &link).await;
    assert_eq!(status, 303, "{link}");
    assert_eq!(
        get(&base, &cookie, &format!("/ui/apps/{mine}")).await.0,
        200
    );
    assert_eq!(
        get(&base, &cookie, &format!("/ui/apps/{other}")).await.0,
        404
    );
    assert_eq!(get(&base, &cookie, "/ui/apps").await.0, 404);

    let mut tampered = link.clone().into_bytes();
    let at = tampered.len() - 3;
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let (status, _) = open_link(&base, &String::from_utf8_lossy(&tampered)).await;
    assert_eq!(status, 403, "a tampered link opened");

    let read_only = portal_link(
        &herald,
        &mine,
        json!({"expires_in_s": 600, "read_only": true}),
    )
    .await;
    let (_, ro) = open_link(&base, &read_only).await;
    let (status, page) = get(&base, &ro, &format!("/ui/apps/{mine}")).await;
    assert_eq!(status, 200);
    assert!(
        !page.contains("New endpoint"),
        "a read-only page offers a form"
    );
    let csrf = csrf_of(&page);
    let new = format!("{base}/ui/apps/{mine}/endpoints/new");
    let with = [("url", "http://127.0.0.1:9/hook"), ("_csrf", csrf.as_str())];
    let refused = post_form(&new, &ro, &with).await;
    assert_eq!(
        refused.status().as_u16(),
        403,
        "a read-only link posted a form"
    );

    let short = portal_link(&herald, &mine, json!({"expires_in_s": 1})).await;
    let (_, early) = open_link(&base, &short).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(
        open_link(&base, &short).await.0,
        403,
        "an expired link opened"
    );
    let (status, to) = get(&base, &early, &format!("/ui/apps/{mine}")).await;
    assert_eq!(
        (status, to.as_str()),
        (303, "/ui/sign-in"),
        "its session outlived the link"
    );
    let (status, _, problem) = herald
        .call(
            "POST",
            &format!("/v1/apps/{mine}/portal-links"),
            Some(json!({"expires_in_s": 0})),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
}
