//! `public_url`: where Herald is reached from outside. When it is https the dashboard's
//! session cookies are `Secure` even though no proxy says `X-Forwarded-Proto: https`, and
//! portal links are answered in full; without it, only a proxy's word makes them `Secure`.

use reqwest::redirect::Policy;
use serde_json::json;

use crate::harness::{Herald, TempDir, ADMIN};

/// Signs in with the admin token; answers the whole `Set-Cookie` header.
async fn session_cookie(herald: &Herald, forwarded_https: bool) -> String {
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client");
    let mut req = client
        .post(format!("{}/ui/sign-in", herald.base))
        .form(&[("token", ADMIN)]);
    if forwarded_https {
        req = req.header("x-forwarded-proto", "https");
    }
    let resp = req.send().await.expect("sign in");
    assert_eq!(resp.status().as_u16(), 303, "sign-in did not redirect");
    resp.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_owned()
}

async fn portal_url(herald: &Herald) -> String {
    let app = herald.create_app("standard").await;
    let path = format!("/v1/apps/{app}/portal-links");
    let body = json!({"expires_in_s": 60});
    let (status, _, link) = herald.call("POST", &path, Some(body)).await;
    assert_eq!(status, 201, "{link}");
    link["url"].as_str().expect("url").to_owned()
}

#[tokio::test]
async fn an_https_public_url_makes_cookies_secure_whatever_the_proxy_says() {
    let dir = TempDir::new("public-url");
    let public = [("HERALD_PUBLIC_URL", "https://hooks.example.com/")];
    let herald = Herald::start_with(&dir.0, &public);
    let cookie = session_cookie(&herald, false).await;
    assert!(cookie.contains("; Secure"), "{cookie}");
    let link = portal_url(&herald).await;
    assert!(
        link.starts_with("https://hooks.example.com/ui/portal/"),
        "{link}"
    );
    drop(herald);

    let plain = Herald::start(&dir.0);
    assert!(!session_cookie(&plain, false).await.contains("Secure"));
    assert!(session_cookie(&plain, true).await.contains("; Secure"));
    assert!(portal_url(&plain).await.starts_with("/ui/portal/"));
}

#[tokio::test]
async fn a_public_url_that_is_not_http_stops_the_start_naming_the_key() {
    let dir = TempDir::new("public-url-bad");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database"])
        .arg(crate::harness::database_url(&dir.0))
        .env("HERALD_CONFIG", dir.0.join("absent.toml"))
        .env("HERALD_ADMIN_TOKEN", ADMIN)
        .env("HERALD_PUBLIC_URL", "hooks.example.com")
        .output()
        .expect("run herald");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("public_url"), "{err}");
}
