//! A browser's side of the console over HTTP, without a browser: cookies kept between requests,
//! forms posted as `application/x-www-form-urlencoded`, the CSRF token read from the page.

use super::TestApp;
use actix_web::http::StatusCode;
use std::collections::BTreeMap;

pub struct Browser<'a> {
    app: &'a TestApp,
    client: awc::Client,
    pub cookies: BTreeMap<String, String>,
}

pub struct Page {
    pub status: StatusCode,
    pub headers: actix_web::http::header::HeaderMap,
    pub html: String,
}

impl Page {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn location(&self) -> &str {
        self.header("location").unwrap_or_default()
    }

    /// The value of the first hidden field `name` on the page.
    pub fn field(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.html.find(&marker)? + marker.len();
        let end = self.html[start..].find('"')? + start;
        Some(self.html[start..end].to_string())
    }

    pub fn csrf(&self) -> String {
        self.field("csrf_token").expect("the page has a form token")
    }
}

/// The console's people's password.
pub const PASSWORD: &str = "correct horse battery";

/// People to sign in as: `op`, `sup`, `adm`, `sj` (区市监局) and `sf` (区司法局), password `PASSWORD`.
pub fn people(app: &TestApp) {
    use closedloop::domain::ticket::Role;
    for (name, role, department) in [
        ("op", Role::Operator, None),
        ("sup", Role::Supervisor, None),
        ("adm", Role::Admin, None),
        ("sj", Role::Department, Some("shijian")),
        ("sf", Role::Department, Some("sifa")),
    ] {
        closedloop::app::accounts::add_user(
            &mut app.conn(),
            &closedloop::app::accounts::NewUser {
                username: name.into(),
                role,
                department: department.map(str::to_string),
                email: None,
            },
            Some(PASSWORD),
        )
        .expect("a user");
    }
}

/// `a=b&c=d` with each part percent-encoded.
pub fn encode(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).expect("pairs encode")
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Browser<'a> {
        Browser {
            app,
            client: awc::Client::builder()
                .timeout(std::time::Duration::from_secs(60))
                .disable_redirects()
                .finish(),
            cookies: BTreeMap::new(),
        }
    }

    async fn send(&mut self, method: &str, path: &str, form: Option<String>) -> Page {
        let method = actix_web::http::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.app.base));
        if !self.cookies.is_empty() {
            let cookie: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req = req.insert_header(("Cookie", cookie.join("; ")));
        }
        let mut res = match form {
            Some(body) => {
                req.insert_header(("Content-Type", "application/x-www-form-urlencoded"))
                    .send_body(body)
                    .await
            }
            None => req.send().await,
        }
        .expect("the server answers");
        for value in res.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap_or_default();
            let (pair, attributes) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            if value.is_empty() || attributes.contains("Max-Age=0") {
                self.cookies.remove(name.trim());
            } else {
                self.cookies
                    .insert(name.trim().to_string(), value.to_string());
            }
        }
        let bytes = res.body().limit(16 << 20).await.expect("a body");
        Page {
            status: res.status(),
            headers: res.headers().clone(),
            html: String::from_utf8_lossy(&bytes).into(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        self.send("GET", path, None).await
    }

    pub async fn post(&mut self, path: &str, pairs: &[(&str, &str)]) -> Page {
        self.send("POST", path, Some(encode(pairs))).await
    }

    /// Signs in through the form; panics unless it worked.
    pub async fn sign_in(&mut self, username: &str, password: &str) -> Page {
        let form = self.get("/login").await;
        assert_eq!(form.status, StatusCode::OK);
        let csrf = form.csrf();
        let done = self
            .post(
                "/login",
                &[
                    ("username", username),
                    ("password", password),
                    ("csrf_token", &csrf),
                ],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
        assert!(self.cookies.contains_key("cl_session"));
        done
    }
}
