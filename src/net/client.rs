//! Performs guest `fetch` requests from the Worker: every URL, redirects included, is checked
//! against the session's [`AllowList`]; redirects are followed by hand so each hop is checked;
//! request count and response bytes are capped per execution.

use futures_util::StreamExt;
use worker::{Fetch, Headers, Method, RequestInit, RequestRedirect};

use super::policy::AllowList;
use crate::engine::{
    io::{ErrorKind, Failure, FetchRequest, FetchResponse},
    Limits, Reply,
};

/// Most redirects followed for one `fetch`, as in browsers' spirit (they allow 20).
const MAX_REDIRECTS: usize = 10;
/// How long one request (each hop, body included) may take: a server that never answers must
/// not hold the session's turn forever.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// One execution's network access.
pub struct Client {
    allow: AllowList,
    /// The sandbox's own host and port: refused unless a rule names it exactly.
    self_origin: Option<(String, u16)>,
    max_requests: u64,
    max_bytes: u64,
    requests: u64,
    bytes: u64,
}

fn failure(kind: ErrorKind, message: impl Into<String>) -> Reply {
    Reply::Failed(Failure::new(kind, None, message))
}

impl Client {
    pub fn new(allow: AllowList, self_origin: Option<(String, u16)>, limits: &Limits) -> Self {
        Self {
            allow,
            self_origin,
            max_requests: limits.fetch_requests,
            max_bytes: limits.fetch_bytes,
            requests: 0,
            bytes: 0,
        }
    }

    /// Performs `request`; every outcome, failures included, is a [`Reply`] for the guest.
    pub async fn fetch(&mut self, request: FetchRequest) -> Reply {
        let url = request.url.clone();
        let work = Box::pin(self.follow(request));
        let timer = Box::pin(worker::Delay::from(TIMEOUT));
        match futures_util::future::select(work, timer).await {
            futures_util::future::Either::Left((reply, _)) => reply,
            futures_util::future::Either::Right(_) => failure(
                ErrorKind::TypeError,
                format!(
                    "fetch failed: {url}: no complete response within {} s",
                    TIMEOUT.as_secs()
                ),
            ),
        }
    }

    async fn follow(&mut self, request: FetchRequest) -> Reply {
        // Taken apart rather than cloned: the body is not copied on the Rust side.
        let FetchRequest {
            url: start,
            mut method,
            headers,
            mut body,
            redirect: mode,
        } = request;
        let mut url = start.clone();
        for hop in 0..=MAX_REDIRECTS {
            let origin = self.self_origin.as_ref().map(|(h, p)| (h.as_str(), *p));
            let target = match self.allow.check(&url, origin) {
                Ok(target) => target,
                Err(denied) => return failure(ErrorKind::TypeError, denied.to_string()),
            };
            if self.requests >= self.max_requests {
                return failure(
                    ErrorKind::RangeError,
                    format!(
                        "fetch limit: this execution already made {} requests, the limit \
                         (limits.fetch_requests; each redirect counts)",
                        self.requests
                    ),
                );
            }
            self.requests += 1;
            let response = match send(&target.url, &method, &headers, body.as_deref()).await {
                Ok(response) => response,
                Err(e) => {
                    return failure(ErrorKind::TypeError, format!("fetch failed: {url}: {e}"))
                }
            };
            let status = response.status_code();
            let location = response.headers().get("location").ok().flatten();
            let redirect = matches!(status, 301 | 302 | 303 | 307 | 308) && location.is_some();
            if redirect && mode != "manual" {
                if mode == "error" {
                    return failure(
                        ErrorKind::TypeError,
                        format!("fetch failed: {url} redirected and redirect is \"error\""),
                    );
                }
                let next = match worker::Url::parse(&target.url)
                    .and_then(|base| base.join(location.as_deref().unwrap_or_default()))
                {
                    Ok(next) => next,
                    Err(e) => {
                        return failure(
                            ErrorKind::TypeError,
                            format!("fetch failed: {url} redirected to a bad location: {e}"),
                        )
                    }
                };
                // As browsers do: 303 (and 301/302 after a POST) continue as a GET without a body.
                if status == 303 || (matches!(status, 301 | 302) && method == "POST") {
                    method = "GET".into();
                    body = None;
                }
                url = next.to_string();
                continue;
            }
            return self.read(response, status, target.url, hop > 0).await;
        }
        failure(
            ErrorKind::TypeError,
            format!(
                "fetch failed: more than {MAX_REDIRECTS} redirects from {}",
                start
            ),
        )
    }

    /// Reads the response body within the execution's byte cap.
    async fn read(
        &mut self,
        response: worker::Response,
        status: u16,
        url: String,
        redirected: bool,
    ) -> Reply {
        let over = |bytes: u64| {
            failure(
                ErrorKind::RangeError,
                format!(
                    "fetch limit: response bodies would reach {bytes} bytes in this execution, \
                     more than limits.fetch_bytes ({})",
                    self.max_bytes
                ),
            )
        };
        let raw: worker::worker_sys::web_sys::Response = response.into();
        let status_text = raw.status_text();
        let mut response = worker::Response::from(raw);
        let declared = response
            .headers()
            .get("content-length")
            .ok()
            .flatten()
            .and_then(|v| v.parse::<u64>().ok());
        if let Some(length) = declared {
            if self.bytes + length > self.max_bytes {
                return over(self.bytes + length);
            }
        }
        let mut body = Vec::new();
        if let Ok(mut stream) = response.stream() {
            while let Some(chunk) = stream.next().await {
                match chunk {
                    Ok(chunk) => {
                        if self.bytes + (body.len() + chunk.len()) as u64 > self.max_bytes {
                            return over(self.bytes + (body.len() + chunk.len()) as u64);
                        }
                        body.extend_from_slice(&chunk);
                    }
                    Err(e) => {
                        return failure(ErrorKind::TypeError, format!("fetch failed: {url}: {e}"))
                    }
                }
            }
        }
        self.bytes += body.len() as u64;
        let headers = response.headers().entries().collect();
        Reply::Fetched(FetchResponse {
            status,
            status_text,
            url,
            redirected,
            headers,
            body: std::rc::Rc::new(body),
        })
    }
}

async fn send(
    url: &str,
    method: &str,
    headers: &[(String, String)],
    body: Option<&[u8]>,
) -> worker::Result<worker::Response> {
    let h = Headers::new();
    for (name, value) in headers {
        h.append(name, value)?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::from(method.to_string()))
        .with_headers(h)
        .with_redirect(RequestRedirect::Manual);
    if let Some(body) = body {
        init.with_body(Some(worker::js_sys::Uint8Array::from(body).into()));
    }
    let request = worker::Request::new_with_init(url, &init)?;
    Fetch::Request(request).send().await
}
