//! TLS on both listeners and security profiles 2 and 3, with certificates generated at
//! test time (rcgen): a test CA, a server certificate for 127.0.0.1 / localhost, client
//! certificates signed by the CA (right and wrong CN) and one from an untrusted CA.
//! Chargers are raw tokio-tungstenite clients over rustls (the simulator speaks `ws`).

use std::path::PathBuf;
use std::sync::Arc;

use e2e_tests::TestApp;
use futures_util::{SinkExt, StreamExt};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// A certificate authority that signs server and client certificates.
struct Ca {
    issuer: Issuer<'static, KeyPair>,
    der: CertificateDer<'static>,
    pem: String,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Ca {
            der: cert.der().clone(),
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A leaf certificate with subject CN `cn`, SANs `names`, for `purpose`.
    fn leaf(&self, cn: &str, names: &[&str], purpose: ExtendedKeyUsagePurpose) -> Leaf {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        params.extended_key_usages = vec![purpose];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            der: cert.der().clone(),
            pem: cert.pem(),
            key_der: key.serialize_der(),
            key_pem: key.serialize_pem(),
        }
    }
}

struct Leaf {
    der: CertificateDer<'static>,
    pem: String,
    key_der: Vec<u8>,
    key_pem: String,
}

impl Leaf {
    fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()))
    }
}

/// PEM files on disk for the server, removed when dropped.
struct Pki {
    dir: PathBuf,
    ca: Ca,
}

impl Pki {
    fn new() -> Pki {
        let dir = std::env::temp_dir().join(format!("csms-tls-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca = Ca::new("csms test CA");
        let server = ca.leaf(
            "csms test server",
            &["127.0.0.1", "localhost"],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        std::fs::write(dir.join("ca.pem"), &ca.pem).unwrap();
        std::fs::write(dir.join("server.pem"), &server.pem).unwrap();
        std::fs::write(dir.join("server.key"), &server.key_pem).unwrap();
        Pki { dir, ca }
    }

    fn path(&self, name: &str) -> Option<PathBuf> {
        Some(self.dir.join(name))
    }

    fn client(&self, cn: &str) -> Leaf {
        self.ca.leaf(cn, &[], ExtendedKeyUsagePurpose::ClientAuth)
    }

    /// A rustls client trusting the test CA, presenting `cert` if given.
    fn client_config(&self, cert: Option<&Leaf>) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca.der.clone()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
        let config = match cert {
            Some(leaf) => builder
                .with_client_auth_cert(vec![leaf.der.clone()], leaf.key())
                .unwrap(),
            None => builder.with_no_client_auth(),
        };
        Arc::new(config)
    }

    /// An HTTPS client trusting the test CA.
    fn https_client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(self.ca.pem.as_bytes()).unwrap())
            .build()
            .unwrap()
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts the app with a `wss` charger listener (and the client CA when `mtls`).
async fn spawn_wss(pki: &Pki, mtls: bool) -> TestApp {
    TestApp::spawn_with(|s| {
        s.ocpp_tls_cert = pki.path("server.pem");
        s.ocpp_tls_key = pki.path("server.key");
        if mtls {
            s.ocpp_tls_client_ca = pki.path("ca.pem");
        }
    })
    .await
}

/// How a connection attempt ended without a WebSocket.
#[derive(Debug)]
enum Refused {
    /// The server answered the upgrade with this HTTP status.
    Status(u16),
    /// The connection failed before any HTTP answer (TLS or I/O); the reason is
    /// shown by `Debug` in assertion messages.
    Transport(#[allow(dead_code)] String),
}

/// Connects as `identity` over `wss`, with Basic auth when `password` is given.
async fn connect(
    app: &TestApp,
    identity: &str,
    password: Option<&str>,
    tls: Arc<rustls::ClientConfig>,
) -> Result<Ws, Refused> {
    assert!(app.ocpp_url.starts_with("wss://"), "{}", app.ocpp_url);
    let mut request = format!("{}/{identity}", app.ocpp_url)
        .into_client_request()
        .unwrap();
    let headers = request.headers_mut();
    headers.insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("ocpp1.6"),
    );
    if let Some(password) = password {
        let token = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{identity}:{password}"),
        );
        headers.insert(
            "Authorization",
            HeaderValue::from_str(&format!("Basic {token}")).unwrap(),
        );
    }
    match tokio_tungstenite::connect_async_tls_with_config(
        request,
        None,
        false,
        Some(Connector::Rustls(tls)),
    )
    .await
    {
        Ok((ws, _)) => Ok(ws),
        Err(WsError::Http(response)) => Err(Refused::Status(response.status().as_u16())),
        Err(other) => Err(Refused::Transport(other.to_string())),
    }
}

/// Sends a BootNotification and returns the CALLRESULT payload.
async fn boot(ws: &mut Ws) -> Value {
    let call = json!([2, "boot-1", "BootNotification",
        {"chargePointVendor": "TLS-Test", "chargePointModel": "M1"}]);
    ws.send(Message::text(call.to_string())).await.unwrap();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let frame = tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("an answer to BootNotification within 10 s")
            .expect("connection open")
            .unwrap();
        if let Message::Text(text) = frame {
            let value: Value = serde_json::from_str(&text).unwrap();
            if value[0] == 3 && value[1] == "boot-1" {
                return value[2].clone();
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_serves_https_when_its_certificate_and_key_are_set() {
    let pki = Pki::new();
    let mut app = TestApp::spawn_with(|s| {
        s.api_tls_cert = pki.path("server.pem");
        s.api_tls_key = pki.path("server.key");
    })
    .await;
    assert!(app.api.starts_with("https://"), "{}", app.api);
    let health = pki
        .https_client()
        .get(format!("{}/health", app.api))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    // The same over `localhost`, also named by the certificate.
    let localhost = app.api.replace("127.0.0.1", "localhost");
    let health = pki
        .https_client()
        .get(format!("{localhost}/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    // A client that does not trust the test CA cannot talk to it.
    assert!(reqwest::get(format!("{}/health", app.api)).await.is_err());
    // The authenticated API works over https as before.
    app.client = pki.https_client();
    let (status, _) = app.get("/v1.1/chargestations").await;
    assert_eq!(status, 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_basic_auth_station_connects_over_wss_with_its_password_and_is_refused_without_it() {
    let pki = Pki::new();
    let app = spawn_wss(&pki, false).await;
    let station = app
        .create_station(json!({"endpoint": "CP-P2",
            "security": {"type": "basic_auth", "password": "profile2-secret"}}))
        .await;
    assert_eq!(
        station["connection_url"],
        format!("{}/CP-P2", app.ocpp_url),
        "connection_url is wss"
    );
    assert!(station["connection_url"]
        .as_str()
        .unwrap()
        .starts_with("wss://"));

    let refused = connect(
        &app,
        "CP-P2",
        Some("wrong-password"),
        pki.client_config(None),
    )
    .await;
    assert!(matches!(refused, Err(Refused::Status(401))), "{refused:?}");
    let refused = connect(&app, "CP-P2", None, pki.client_config(None)).await;
    assert!(matches!(refused, Err(Refused::Status(401))), "{refused:?}");

    let mut ws = connect(
        &app,
        "CP-P2",
        Some("profile2-secret"),
        pki.client_config(None),
    )
    .await
    .unwrap();
    assert_eq!(boot(&mut ws).await["status"], "Accepted");
    app.wait_for_get("/v1.1/chargestations/CP-P2", "station online", |b| {
        b["result"]["online"] == true
    })
    .await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_certificate_station_is_admitted_with_a_certificate_whose_cn_is_its_identity() {
    let pki = Pki::new();
    let app = spawn_wss(&pki, true).await;
    app.create_station(json!({"endpoint": "CP-P3", "security": {"type": "client_certificate"}}))
        .await;
    let cert = pki.client("CP-P3");
    let mut ws = connect(&app, "CP-P3", None, pki.client_config(Some(&cert)))
        .await
        .unwrap();
    assert_eq!(boot(&mut ws).await["status"], "Accepted");
    let shown = app
        .wait_for_get("/v1.1/chargestations/CP-P3", "station online", |b| {
            b["result"]["online"] == true
        })
        .await;
    assert_eq!(shown["result"]["security"]["type"], "client_certificate");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_certificate_station_is_refused_with_401_for_a_wrong_cn_or_no_certificate() {
    let pki = Pki::new();
    let app = spawn_wss(&pki, true).await;
    app.create_station(json!({"endpoint": "CP-P3", "security": {"type": "client_certificate"}}))
        .await;
    // Signed by the trusted CA, but for another identity.
    let other = pki.client("CP-OTHER");
    let refused = connect(&app, "CP-P3", None, pki.client_config(Some(&other))).await;
    assert!(matches!(refused, Err(Refused::Status(401))), "{refused:?}");
    // No certificate at all (a password does not stand in for one).
    let refused = connect(
        &app,
        "CP-P3",
        Some("any-password-1"),
        pki.client_config(None),
    )
    .await;
    assert!(matches!(refused, Err(Refused::Status(401))), "{refused:?}");
    let (_, station) = app.get("/v1.1/chargestations/CP-P3").await;
    assert_eq!(station["result"]["online"], false);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_from_an_untrusted_ca_fails_the_tls_handshake() {
    let pki = Pki::new();
    let app = spawn_wss(&pki, true).await;
    app.create_station(json!({"endpoint": "CP-P3", "security": {"type": "client_certificate"}}))
        .await;
    let rogue = Ca::new("rogue CA").leaf("CP-P3", &[], ExtendedKeyUsagePurpose::ClientAuth);
    let refused = connect(&app, "CP-P3", None, pki.client_config(Some(&rogue))).await;
    assert!(
        matches!(refused, Err(Refused::Transport(_))),
        "no HTTP answer, the TLS handshake fails: {refused:?}"
    );
    let (_, station) = app.get("/v1.1/chargestations/CP-P3").await;
    assert_eq!(station["result"]["online"], false);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_and_open_stations_still_connect_without_a_certificate_when_client_certificates_are_checked(
) {
    let pki = Pki::new();
    let app = spawn_wss(&pki, true).await;
    app.create_station(json!({"endpoint": "CP-P2",
        "security": {"type": "basic_auth", "password": "profile2-secret"}}))
        .await;
    app.create_station(json!({"endpoint": "CP-OPEN"})).await;
    let mut ws = connect(
        &app,
        "CP-P2",
        Some("profile2-secret"),
        pki.client_config(None),
    )
    .await
    .unwrap();
    assert_eq!(boot(&mut ws).await["status"], "Accepted");
    let refused = connect(
        &app,
        "CP-P2",
        Some("wrong-password"),
        pki.client_config(None),
    )
    .await;
    assert!(matches!(refused, Err(Refused::Status(401))), "{refused:?}");
    let mut open = connect(&app, "CP-OPEN", None, pki.client_config(None))
        .await
        .unwrap();
    assert_eq!(boot(&mut open).await["status"], "Accepted");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_certificate_station_is_refused_on_a_plain_listener() {
    let app = TestApp::spawn().await;
    app.create_station(json!({"endpoint": "CP-P3", "security": {"type": "client_certificate"}}))
        .await;
    let refused = simulator::Charger::connect(app.charger_config("CP-P3"))
        .await
        .err();
    assert_eq!(
        refused,
        Some(simulator::SimError::Handshake { status: 401 })
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_start_fails_naming_the_setting_for_a_key_that_does_not_match_or_a_file_that_is_not_pem(
) {
    let pki = Pki::new();
    let other = pki.client("unrelated");
    std::fs::write(pki.dir.join("other.key"), &other.key_pem).unwrap();
    std::fs::write(pki.dir.join("junk.pem"), "not a certificate\n").unwrap();
    let start = |change: &dyn Fn(&mut csms::Settings)| {
        let mut settings = e2e_tests::test_settings();
        settings.database_url = format!("sqlite://{}?mode=rwc", pki.dir.join("csms.db").display());
        change(&mut settings);
        csms::build(settings)
    };

    let mismatched = start(&|s| {
        s.ocpp_tls_cert = pki.path("server.pem");
        s.ocpp_tls_key = pki.path("other.key");
    })
    .await
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(mismatched.contains("CSMS_OCPP_TLS_KEY"), "{mismatched}");

    let junk = start(&|s| {
        s.api_tls_cert = pki.path("junk.pem");
        s.api_tls_key = pki.path("server.key");
    })
    .await
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(
        junk.contains("CSMS_API_TLS_CERT") && junk.contains("junk.pem"),
        "{junk}"
    );

    let bad_ca = start(&|s| {
        s.ocpp_tls_cert = pki.path("server.pem");
        s.ocpp_tls_key = pki.path("server.key");
        s.ocpp_tls_client_ca = pki.path("missing-ca.pem");
    })
    .await
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(
        bad_ca.contains("CSMS_OCPP_TLS_CLIENT_CA: cannot read"),
        "{bad_ca}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_session_cookie_is_secure_on_an_https_listener() {
    let pki = Pki::new();
    let app = TestApp::spawn_with(|s| {
        s.api_tls_cert = pki.path("server.pem");
        s.api_tls_key = pki.path("server.key");
    })
    .await;
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pki.ca.pem.as_bytes()).unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = client
        .post(format!("{}/console/login", app.api))
        .header("origin", &app.api)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("key={}", e2e_tests::API_KEY))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 303);
    let cookie = login.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("csms_console="), "{cookie}");
    assert!(cookie.ends_with("; Secure"), "{cookie}");
    app.stop().await;
}
