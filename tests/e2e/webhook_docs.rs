//! The per-app webhook document: `GET /v1/apps/{app}/openapi.json` passes an independent
//! OpenAPI 3.1 validator (`openapi-spec-validator` from PyPI) and lists every type an
//! endpoint subscribes to, for every format in use, with its body schema and headers.

use serde_json::{json, Value};

use crate::harness::{python_on_json, Herald, TempDir};

fn validate(doc: &Value) -> String {
    let (ok, text) = python_on_json("check_openapi.py", doc);
    assert!(ok, "{text}");
    text
}

#[tokio::test]
async fn the_app_document_is_valid_openapi_and_lists_what_each_format_receives() {
    let dir = TempDir::new("webhook-docs");
    let herald = Herald::start(&dir.0);
    let app = herald.create_app("livekit").await;
    let doc_path = format!("/v1/apps/{app}/openapi.json");

    // No endpoint yet: a valid document with no webhooks.
    let (status, _, doc) = herald.call("GET", &doc_path, None).await;
    assert_eq!(status, 200, "{doc}");
    assert!(validate(&doc).contains("valid OpenAPI 3.1"));
    assert_eq!(doc["webhooks"], json!({}), "{doc}");

    let schema = json!({"type": "object", "properties": {"text": {"type": "string"}},
        "examples": [{"text": "hello"}]});
    let custom = json!({"name": "caption.line", "schema": schema});
    let types = format!("/v1/apps/{app}/event-types");
    let (status, _, made) = herald.call("POST", &types, Some(custom)).await;
    assert_eq!(status, 201, "{made}");
    let endpoints = [
        json!({"url": "http://127.0.0.1:9/lk", "events": ["participant_joined", "room_started"]}),
        json!({"url": "http://127.0.0.1:9/all", "format": "standard"}),
        json!({"url": "http://127.0.0.1:9/ops", "format": "standard", "data_only": true,
            "events": ["room_finished", "herald.endpoint.failing"]}),
    ];
    for ep in endpoints {
        herald.create_endpoint(&app, ep).await;
    }

    let (status, _, doc) = herald.call("GET", &doc_path, None).await;
    assert_eq!(status, 200, "{doc}");
    assert!(validate(&doc).contains("valid OpenAPI 3.1"));
    let webhooks = doc["webhooks"].as_object().expect("webhooks");
    let mut keys: Vec<&str> = webhooks.keys().map(String::as_str).collect();
    keys.sort();

    // The LiveKit endpoint's two types; every LiveKit type and the custom one in the
    // standard format (`*` leaves out Herald's own); the data-only endpoint's two.
    let (_, _, catalog) = herald.call("GET", &types, None).await;
    let mut wanted = vec![
        "participant_joined [livekit]".to_owned(),
        "room_started [livekit]".to_owned(),
        "room_finished [standard (data only)]".to_owned(),
        "herald.endpoint.failing [standard (data only)]".to_owned(),
    ];
    for t in catalog["data"].as_array().expect("catalog") {
        let name = t["name"].as_str().expect("name");
        if !name.starts_with("herald.") {
            wanted.push(format!("{name} [standard]"));
        }
    }
    wanted.sort();
    assert_eq!(keys, wanted);

    let joined = &webhooks["participant_joined [livekit]"]["post"];
    let body = &joined["requestBody"]["content"]["application/webhook+json"]["schema"];
    assert_eq!(
        body["allOf"][0]["$ref"],
        "#/components/schemas/participant_joined"
    );
    assert_eq!(joined["parameters"][0]["name"], "authorization", "{joined}");
    let standard = &webhooks["caption.line [standard]"]["post"];
    let names: Vec<&Value> = standard["parameters"]
        .as_array()
        .expect("headers")
        .iter()
        .map(|h| &h["name"])
        .collect();
    assert_eq!(
        names,
        ["webhook-id", "webhook-timestamp", "webhook-signature"]
    );
    let component = &doc["components"]["schemas"]["caption.line"];
    assert_eq!(
        component["examples"],
        json!([{"text": "hello"}]),
        "{component}"
    );
    let room = &doc["components"]["schemas"]["participant_joined"]["properties"]["room"];
    assert_eq!(room["type"], "object", "{room}");

    // An app key reads its own app's document, not another's.
    let other = herald.create_app("standard").await;
    let (_, _, key) = herald
        .call(
            "POST",
            &format!("/v1/apps/{other}/keys"),
            Some(json!({"name": "k"})),
        )
        .await;
    let token = key["token"].as_str().expect("token");
    let (status, _, _) = herald.call_as(token, "GET", &doc_path, None).await;
    assert_eq!(status, 404);
}
