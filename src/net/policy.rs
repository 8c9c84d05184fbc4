//! The `network.allow` policy for guest `fetch`.
//!
//! A rule is a host pattern: an exact host (`api.example.com`, `127.0.0.1`, `[::1]`) or a
//! wildcard `*.example.com` (subdomains at any depth, not `example.com` itself), optionally
//! followed by `:port`. Rules and URLs go through the same WHATWG host parser (the `url` crate),
//! so `http://2130706433/`, `http://0x7f.1/` and `http://127.0.0.1/` name one host, and case,
//! IDNA spellings and a trailing dot make no difference.
//!
//! Default deny: a URL is allowed when a rule matches its host and port. Loopback, private,
//! link-local and other special addresses, `localhost` names and the sandbox's own origin are
//! restricted: only an exact rule (no `*`) naming the host allows them, so a wildcard never
//! opens the local network by accident.
//!
//! The policy judges the URL as written: it cannot see what a name resolves to.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};
use url::{Host, Url};

/// Longest rule, in bytes (the longest DNS name).
const MAX_RULE_BYTES: usize = 253;
/// How much of a bad rule, URL or scheme a message quotes, in characters.
const QUOTED_CHARS: usize = 100;

/// A session's `network.allow` rules. Serialises as the list of rules as they were given.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct AllowList {
    rules: Vec<Rule>,
}

/// A URL the guest may fetch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The URL as the `url` crate normalises it.
    pub url: String,
    /// The host as the URL serialises it (IPv6 in brackets).
    pub host: String,
    /// The explicit port, or the scheme's default.
    pub port: u16,
}

/// Why a fetch is refused. `Display` gives the message the guest's `TypeError` carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Denied {
    /// The URL does not parse. `url` is the input, shortened to 100 characters.
    BadUrl { url: String, reason: String },
    /// A scheme other than http and https (shortened like `url` above).
    Scheme(String),
    /// No rule matches. `other_ports`: some rule names the host, but with another port.
    NotAllowed {
        host: String,
        port: u16,
        other_ports: bool,
    },
    /// A restricted host that no exact rule names.
    Restricted {
        host: String,
        port: u16,
        kind: Restriction,
    },
}

/// Why a host is restricted: only an exact rule allows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restriction {
    Loopback,
    /// `localhost` and `*.localhost`, which resolve to loopback.
    LoopbackName,
    Private,
    /// 100.64.0.0/10, carrier-grade NAT.
    Shared,
    LinkLocal,
    Unspecified,
    Multicast,
    Broadcast,
    Reserved,
    /// The sandbox's own host and port: a guest calling its own API could loop.
    SandboxItself,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Rule {
    /// The rule as given, kept for serialisation.
    source: String,
    pattern: Pattern,
    /// `None`: any port.
    port: Option<u16>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Pattern {
    /// One host (a domain is lowercase, without a trailing dot).
    Exact(Host<String>),
    /// Strict subdomains of this domain (the part after `*.`).
    Subdomains(String),
}

impl AllowList {
    pub const MAX_RULES: usize = 64;

    /// Parses `network.allow`. The error names the first bad rule by index and quotes it.
    pub fn parse(rules: &[String]) -> Result<AllowList, String> {
        if rules.len() > Self::MAX_RULES {
            return Err(format!(
                "network.allow has {} rules; at most {} are allowed",
                rules.len(),
                Self::MAX_RULES
            ));
        }
        let rules = rules
            .iter()
            .enumerate()
            .map(|(i, raw)| {
                Rule::parse(raw).map_err(|reason| {
                    format!(
                        "network.allow[{i}] {:?} is not a host pattern: {reason}",
                        shorten(raw)
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(AllowList { rules })
    }

    /// The rules as they were given.
    pub fn rules(&self) -> Vec<String> {
        self.rules.iter().map(|rule| rule.source.clone()).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Decides whether the guest may fetch `url`. `self_origin` is the sandbox's own
    /// (host, port), when known.
    pub fn check(&self, url: &str, self_origin: Option<(&str, u16)>) -> Result<Target, Denied> {
        let parsed = parse_url(url)?;
        let (key, target) = target_of(&parsed)?;
        let port = target.port;
        match restriction(&key, port, self_origin) {
            Some(kind)
                if !self
                    .rules
                    .iter()
                    .any(|r| r.allows_restricted(&key, port, kind)) =>
            {
                Err(Denied::Restricted {
                    host: target.host,
                    port,
                    kind,
                })
            }
            None if !self.rules.iter().any(|r| r.allows(&key, port)) => Err(Denied::NotAllowed {
                other_ports: self.rules.iter().any(|r| r.host_matches(&key)),
                host: target.host,
                port,
            }),
            _ => Ok(target),
        }
    }
}

impl TryFrom<Vec<String>> for AllowList {
    type Error = String;

    fn try_from(rules: Vec<String>) -> Result<Self, String> {
        AllowList::parse(&rules)
    }
}

impl From<AllowList> for Vec<String> {
    fn from(list: AllowList) -> Self {
        list.rules.into_iter().map(|rule| rule.source).collect()
    }
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("fetch denied: ")?;
        match self {
            Denied::BadUrl { url, reason } => write!(f, "{url:?} is not a valid URL: {reason}"),
            Denied::Scheme(scheme) => {
                write!(f, "{scheme}: URLs are not supported (only http and https)")
            }
            Denied::NotAllowed {
                host,
                other_ports: false,
                ..
            } => write!(f, "{host} is not in network.allow (default deny)"),
            Denied::NotAllowed { host, port, .. } => write!(
                f,
                "{host} is not in network.allow for port {port} (default deny)"
            ),
            Denied::Restricted {
                host,
                port,
                kind: Restriction::SandboxItself,
            } => write!(
                f,
                "{host} is the sandbox itself; only an exact network.allow rule with its port \
                 ({host}:{port}) allows it"
            ),
            Denied::Restricted { host, kind, .. } => write!(
                f,
                "{host} is {kind}; only an exact network.allow rule (without *) allows it"
            ),
        }
    }
}

impl std::error::Error for Denied {}

impl fmt::Display for Restriction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Restriction::Loopback => "a loopback address",
            Restriction::LoopbackName => "a loopback name",
            Restriction::Private => "a private address",
            Restriction::Shared => "a shared (carrier-grade NAT) address",
            Restriction::LinkLocal => "a link-local address",
            Restriction::Unspecified => "an unspecified address",
            Restriction::Multicast => "a multicast address",
            Restriction::Broadcast => "a broadcast address",
            Restriction::Reserved => "a reserved address",
            Restriction::SandboxItself => "the sandbox itself",
        })
    }
}

fn parse_url(input: &str) -> Result<Url, Denied> {
    let url = Url::parse(input).map_err(|err| Denied::BadUrl {
        url: shorten(input),
        reason: err.to_string(),
    })?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(Denied::Scheme(shorten(other))),
    }
}

/// The host to match (normalised) and the target to report.
fn target_of(url: &Url) -> Result<(Host<String>, Target), Denied> {
    // http(s) URLs always have a host and a default port; stay total anyway.
    let (Some(host), Some(port)) = (url.host(), url.port_or_known_default()) else {
        return Err(Denied::BadUrl {
            url: shorten(url.as_str()),
            reason: "no host".into(),
        });
    };
    let target = Target {
        url: url.as_str().to_owned(),
        host: url.host_str().unwrap_or_default().to_owned(),
        port,
    };
    Ok((normalise(host.to_owned()), target))
}

/// `example.com.` is the fully qualified spelling of `example.com`: match them alike.
fn normalise(host: Host<String>) -> Host<String> {
    match host {
        Host::Domain(name) => match name.strip_suffix('.') {
            Some(stripped) => Host::Domain(stripped.to_owned()),
            None => Host::Domain(name),
        },
        other => other,
    }
}

fn restriction(
    host: &Host<String>,
    port: u16,
    self_origin: Option<(&str, u16)>,
) -> Option<Restriction> {
    let is_self = self_origin.is_some_and(|(self_host, self_port)| {
        self_port == port && Host::parse(self_host).is_ok_and(|h| &normalise(h) == host)
    });
    if is_self {
        return Some(Restriction::SandboxItself);
    }
    match host {
        Host::Domain(name) => is_localhost(name).then_some(Restriction::LoopbackName),
        Host::Ipv4(ip) => classify_v4(*ip),
        Host::Ipv6(ip) => classify_v6(*ip),
    }
}

fn is_localhost(name: &str) -> bool {
    name == "localhost" || name.ends_with(".localhost")
}

fn classify_v4(ip: Ipv4Addr) -> Option<Restriction> {
    let [a, b, ..] = ip.octets();
    match (a, b) {
        (0, _) => Some(Restriction::Unspecified),
        (127, _) => Some(Restriction::Loopback),
        (10, _) | (172, 16..=31) | (192, 168) => Some(Restriction::Private),
        (100, 64..=127) => Some(Restriction::Shared),
        (169, 254) => Some(Restriction::LinkLocal),
        (224..=239, _) => Some(Restriction::Multicast),
        _ if ip.is_broadcast() => Some(Restriction::Broadcast),
        (240..=255, _) => Some(Restriction::Reserved),
        _ => None,
    }
}

fn classify_v6(ip: Ipv6Addr) -> Option<Restriction> {
    // Before the embedded forms: `::1` and `::` are also `::0.0.0.1` and `::0.0.0.0`.
    if ip.is_loopback() {
        return Some(Restriction::Loopback);
    }
    if ip.is_unspecified() {
        return Some(Restriction::Unspecified);
    }
    if let Some(v4) = embedded_v4(ip) {
        return classify_v4(v4);
    }
    match ip.segments()[0] {
        s if s & 0xfe00 == 0xfc00 => Some(Restriction::Private), // fc00::/7 unique local
        s if s & 0xffc0 == 0xfe80 => Some(Restriction::LinkLocal), // fe80::/10
        s if s & 0xffc0 == 0xfec0 => Some(Restriction::Private), // fec0::/10 old site-local
        s if s & 0xff00 == 0xff00 => Some(Restriction::Multicast), // ff00::/8
        _ => None,
    }
}

/// The IPv4 address inside an IPv6 form that reaches it, so `[::ffff:127.0.0.1]` is loopback.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let join = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match ip.segments() {
        // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated)
        [0, 0, 0, 0, 0, 0xffff | 0, hi, lo] => Some(join(hi, lo)),
        // 64:ff9b::a.b.c.d, the well-known NAT64 prefix
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(join(hi, lo)),
        // 2002:aabb:ccdd::/48, 6to4
        [0x2002, hi, lo, ..] => Some(join(hi, lo)),
        _ => None,
    }
}

impl Rule {
    fn parse(raw: &str) -> Result<Rule, String> {
        check_shape(raw)?;
        let (wildcard, rest) = match raw.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, raw),
        };
        if raw == "*" {
            return Err("a lone * would allow every host; list hosts or *.domain patterns".into());
        }
        if rest.contains('*') {
            return Err(
                "* may only start a rule, as *. followed by a domain (*.example.com)".into(),
            );
        }
        let (host, port) = split_port(rest)?;
        let host = parse_host(host)?;
        let pattern = if wildcard {
            subdomains_of(host)?
        } else {
            Pattern::Exact(host)
        };
        Ok(Rule {
            source: raw.to_owned(),
            pattern,
            port,
        })
    }

    fn host_matches(&self, host: &Host<String>) -> bool {
        match (&self.pattern, host) {
            (Pattern::Exact(exact), host) => exact == host,
            (Pattern::Subdomains(suffix), Host::Domain(name)) => is_subdomain(name, suffix),
            (Pattern::Subdomains(_), _) => false,
        }
    }

    fn port_matches(&self, port: u16) -> bool {
        self.port.is_none_or(|p| p == port)
    }

    fn allows(&self, host: &Host<String>, port: u16) -> bool {
        self.host_matches(host) && self.port_matches(port)
    }

    /// Only an exact rule opens a restricted host; for the sandbox itself, only with the port.
    fn allows_restricted(&self, host: &Host<String>, port: u16, kind: Restriction) -> bool {
        let Pattern::Exact(exact) = &self.pattern else {
            return false;
        };
        let port_ok = match kind {
            Restriction::SandboxItself => self.port == Some(port),
            _ => self.port_matches(port),
        };
        exact == host && port_ok
    }
}

/// The rules that hold for the raw string, before the host is parsed.
fn check_shape(raw: &str) -> Result<(), String> {
    if raw.is_empty() {
        return Err("a rule must not be empty".into());
    }
    if raw.len() > MAX_RULE_BYTES {
        return Err(format!("longer than {MAX_RULE_BYTES} bytes"));
    }
    if raw.contains("://") {
        return Err("write the host without a scheme (e.g. api.example.com)".into());
    }
    match raw.chars().find(|&c| !is_rule_char(c)) {
        None => Ok(()),
        Some('/') => Err("a rule is a host and optional port, without a path".into()),
        Some(c) if c.is_whitespace() => Err("a rule must not contain whitespace".into()),
        Some(c) => Err(format!("{c:?} is not allowed in a host")),
    }
}

/// ASCII host characters, `*`, port and bracket syntax, and non-ASCII letters for IDNA.
/// Everything else (`%`, `@`, `/`, ...) the host parser might decode or skip, so refuse it here.
fn is_rule_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '.' | '-' | '_' | '*' | ':' | '[' | ']')
        || (!c.is_ascii() && !c.is_whitespace() && !c.is_control())
}

/// Splits `host[:port]` and `[v6][:port]`.
fn split_port(rest: &str) -> Result<(&str, Option<u16>), String> {
    let (host, port) = if rest.starts_with('[') {
        let end = rest
            .find(']')
            .ok_or("an IPv6 address needs its closing ]")?;
        let (host, after) = rest.split_at(end + 1);
        if after.is_empty() {
            (host, None)
        } else {
            let port = after.strip_prefix(':').ok_or("expected :port after ]")?;
            (host, Some(port))
        }
    } else {
        match rest.split_once(':') {
            None => (rest, None),
            Some((_, port)) if port.contains(':') => {
                return Err("an IPv6 address must be in brackets (e.g. [::1] or [::1]:8080)".into())
            }
            Some((host, port)) => (host, Some(port)),
        }
    };
    Ok((host, port.map(parse_port).transpose()?))
}

fn parse_port(text: &str) -> Result<u16, String> {
    // `u16::from_str` accepts a leading `+`; a port is digits only.
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    match text.parse::<u16>() {
        Ok(port) if digits && port != 0 => Ok(port),
        _ => Err(format!("port {text:?} is not a number from 1 to 65535")),
    }
}

/// Parses a host exactly as URL hosts are parsed, so the two compare equal.
fn parse_host(text: &str) -> Result<Host<String>, String> {
    if text.is_empty() {
        return Err("the host is empty".into());
    }
    let host = normalise(Host::parse(text).map_err(|err| err.to_string())?);
    if let Host::Domain(name) = &host {
        if name.split('.').any(str::is_empty) {
            return Err("a host name must not have empty labels".into());
        }
    }
    Ok(host)
}

fn subdomains_of(host: Host<String>) -> Result<Pattern, String> {
    let Host::Domain(suffix) = host else {
        return Err("a wildcard matches host names, not IP addresses".into());
    };
    if !suffix.contains('.') {
        return Err(format!(
            "*.{suffix} is too broad: a wildcard needs at least two labels after *. \
             (e.g. *.example.com)"
        ));
    }
    if is_localhost(&suffix) {
        return Err("localhost names are allowed only by an exact rule".into());
    }
    Ok(Pattern::Subdomains(suffix))
}

/// `name` is `<one or more labels>.suffix`; the bare suffix is not its own subdomain.
fn is_subdomain(name: &str, suffix: &str) -> bool {
    name.strip_suffix(suffix)
        .and_then(|head| head.strip_suffix('.'))
        .is_some_and(|labels| !labels.is_empty())
}

/// At most [`QUOTED_CHARS`] characters of `text`, for messages.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(QUOTED_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(rules: &[&str]) -> AllowList {
        let rules: Vec<String> = rules.iter().map(|r| r.to_string()).collect();
        AllowList::parse(&rules).unwrap_or_else(|err| panic!("{rules:?}: {err}"))
    }

    fn allowed(rules: &[&str], url: &str) -> Target {
        list(rules)
            .check(url, None)
            .unwrap_or_else(|denied| panic!("{url} with {rules:?}: {denied}"))
    }

    fn denied(rules: &[&str], url: &str) -> String {
        match list(rules).check(url, None) {
            Ok(target) => panic!("{url} with {rules:?} was allowed: {target:?}"),
            Err(denied) => denied.to_string(),
        }
    }

    fn rule_error(rule: &str) -> String {
        let err = AllowList::parse(&[rule.to_string()]).expect_err(rule);
        let prefix = format!(
            "network.allow[0] {:?} is not a host pattern: ",
            shorten(rule)
        );
        assert!(err.starts_with(&prefix), "{err}");
        err
    }

    fn not_in_allow(host: &str) -> String {
        format!("fetch denied: {host} is not in network.allow (default deny)")
    }

    fn restricted(host: &str, kind: &str) -> String {
        format!(
            "fetch denied: {host} is {kind}; only an exact network.allow rule (without *) \
             allows it"
        )
    }

    // --- default deny, exact and wildcard rules ---

    #[test]
    fn default_deny_names_the_host() {
        assert_eq!(denied(&[], "https://evil.com/x"), not_in_allow("evil.com"));
        let err = AllowList::default()
            .check("http://evil.com/", None)
            .unwrap_err();
        assert_eq!(err.to_string(), not_in_allow("evil.com"));
    }

    #[test]
    fn an_exact_rule_allows_that_host_only() {
        let target = allowed(&["api.example.com"], "https://api.example.com/v1?q=1");
        assert_eq!(
            target,
            Target {
                url: "https://api.example.com/v1?q=1".into(),
                host: "api.example.com".into(),
                port: 443
            }
        );
        for url in [
            "https://example.com/",
            "https://sub.api.example.com/",
            "https://api.example.com.evil.com/",
            "https://xapi.example.com/",
        ] {
            let host = Url::parse(url).unwrap().host_str().unwrap().to_owned();
            assert_eq!(denied(&["api.example.com"], url), not_in_allow(&host));
        }
    }

    #[test]
    fn a_wildcard_matches_subdomains_at_any_depth() {
        for url in [
            "https://a.example.org/",
            "https://a.b.c.example.org/x",
            "http://www.example.org:8080/",
        ] {
            allowed(&["*.example.org"], url);
        }
    }

    #[test]
    fn a_wildcard_does_not_match_the_bare_suffix_or_lookalikes() {
        for (url, host) in [
            ("https://example.org/", "example.org"),
            ("https://notexample.org/", "notexample.org"),
            ("https://example.org.evil.com/", "example.org.evil.com"),
            ("https://evil.com/example.org", "evil.com"),
        ] {
            assert_eq!(denied(&["*.example.org"], url), not_in_allow(host));
        }
        // Listing both is how to allow both.
        allowed(&["*.example.org", "example.org"], "https://example.org/");
    }

    #[test]
    fn the_target_url_is_normalised() {
        let target = allowed(
            &["api.example.com"],
            "HTTPS://Api.Example.COM:443/a/../b?x=1#frag",
        );
        assert_eq!(target.url, "https://api.example.com/b?x=1#frag");
        assert_eq!(target.host, "api.example.com");
        assert_eq!(target.port, 443);
    }

    #[test]
    fn hosts_and_rules_are_case_insensitive() {
        allowed(&["API.Example.COM"], "https://api.example.com/");
        allowed(&["api.example.com"], "https://API.EXAMPLE.com/");
        allowed(&["*.Example.ORG"], "https://WWW.example.org/");
        // The rule is kept as it was written.
        assert_eq!(list(&["API.Example.COM"]).rules(), ["API.Example.COM"]);
    }

    #[test]
    fn a_trailing_dot_is_the_same_host() {
        allowed(&["example.com"], "https://example.com./");
        allowed(&["example.com."], "https://example.com/");
        allowed(&["*.example.com"], "https://a.example.com./");
        allowed(&["*.example.com."], "https://a.example.com/");
        // Messages name the host as the URL wrote it.
        assert_eq!(denied(&[], "https://evil.com./"), not_in_allow("evil.com."));
        assert_eq!(
            denied(&["*.example.com"], "http://localhost./"),
            restricted("localhost.", "a loopback name")
        );
    }

    #[test]
    fn userinfo_does_not_change_the_host() {
        let target = allowed(&["api.example.com"], "https://user:pass@api.example.com/");
        assert_eq!(target.host, "api.example.com");
        assert_eq!(
            denied(&["api.example.com"], "https://api.example.com@evil.com/"),
            not_in_allow("evil.com")
        );
        assert_eq!(
            denied(&["api.example.com"], "https://api.example.com:x@127.0.0.1/"),
            restricted("127.0.0.1", "a loopback address")
        );
    }

    #[test]
    fn international_names_match_in_either_spelling() {
        let target = allowed(&["bücher.example"], "https://BÜCHER.example/");
        assert_eq!(target.host, "xn--bcher-kva.example");
        allowed(&["xn--bcher-kva.example"], "https://bücher.example/");
        allowed(&["*.bücher.example"], "https://www.xn--bcher-kva.example/");
    }

    #[test]
    fn duplicate_rules_are_kept_and_harmless() {
        let rules = list(&["a.example.com", "a.example.com"]);
        assert_eq!(rules.rules(), ["a.example.com", "a.example.com"]);
        assert!(rules.check("https://a.example.com/", None).is_ok());
    }

    // --- ports ---

    #[test]
    fn a_rule_with_a_port_allows_only_that_port() {
        let rules = &["api.example.com:8443"];
        allowed(rules, "https://api.example.com:8443/");
        // The scheme is not part of the rule.
        allowed(rules, "http://api.example.com:8443/");
        assert_eq!(
            denied(rules, "https://api.example.com/"),
            "fetch denied: api.example.com is not in network.allow for port 443 (default deny)"
        );
        assert_eq!(
            denied(rules, "https://api.example.com:8444/"),
            "fetch denied: api.example.com is not in network.allow for port 8444 (default deny)"
        );
    }

    #[test]
    fn a_rule_port_compares_with_the_scheme_default() {
        allowed(&["example.com:443"], "https://example.com/");
        allowed(&["example.com:443"], "http://example.com:443/");
        allowed(&["example.com:80"], "http://example.com/");
        allowed(&["example.com:80"], "https://example.com:80/");
        assert!(denied(&["example.com:443"], "http://example.com/").contains("for port 80"));
    }

    #[test]
    fn a_rule_without_a_port_allows_any_port() {
        allowed(&["api.example.com"], "https://api.example.com:8443/");
        allowed(&["api.example.com"], "http://api.example.com:1/");
        allowed(&["8.8.8.8"], "http://8.8.8.8:53/");
    }

    #[test]
    fn a_wildcard_with_a_port() {
        let rules = &["*.example.com:8080"];
        allowed(rules, "http://a.b.example.com:8080/");
        assert!(denied(rules, "http://a.example.com/").contains("for port 80"));
        assert_eq!(
            denied(rules, "http://example.com:8080/"),
            not_in_allow("example.com")
        );
    }

    // --- schemes and bad URLs ---

    #[test]
    fn only_http_and_https() {
        for (url, scheme) in [
            ("ftp://example.com/file", "ftp"),
            ("file:///etc/passwd", "file"),
            ("data:text/plain,hi", "data"),
            ("javascript:alert(1)", "javascript"),
            ("ws://example.com/", "ws"),
            ("HTTPX://example.com/", "httpx"),
        ] {
            assert_eq!(
                denied(&["example.com"], url),
                format!("fetch denied: {scheme}: URLs are not supported (only http and https)")
            );
        }
        allowed(&["example.com"], "HTTP://example.com/");
    }

    #[test]
    fn a_bad_url_is_quoted_with_the_reason() {
        assert_eq!(
            denied(&[], "not a url"),
            "fetch denied: \"not a url\" is not a valid URL: relative URL without a base"
        );
        assert_eq!(
            denied(&[], "/relative/path"),
            "fetch denied: \"/relative/path\" is not a valid URL: relative URL without a base"
        );
        assert_eq!(
            denied(&[], "http://"),
            "fetch denied: \"http://\" is not a valid URL: empty host"
        );
        assert!(denied(&[], "http://exa mple.com/").contains("invalid international domain name"));
        assert!(denied(&[], "http://example.com:99999/").contains("invalid port number"));
        assert!(denied(&[], "http://1.2.3.4.5/").contains("invalid IPv4 address"));
        assert!(denied(&[], "http://[::1/").contains("invalid IPv6 address"));
    }

    #[test]
    fn a_long_bad_url_is_shortened_in_the_message() {
        let url = format!("{}:// nope", "x".repeat(10_000));
        let message = denied(&[], &url);
        assert!(message.len() < 300, "{message}");
        assert!(message.contains(&format!("{}...", "x".repeat(QUOTED_CHARS))));
    }

    // --- restricted addresses ---

    #[test]
    fn loopback_is_refused_with_the_documented_message() {
        assert_eq!(
            denied(&[], "http://127.0.0.1:8080/"),
            "fetch denied: 127.0.0.1 is a loopback address; only an exact network.allow rule \
             (without *) allows it"
        );
        for url in [
            "http://127.0.0.2/",
            "http://127.255.255.254/",
            "http://[::1]/",
        ] {
            assert!(denied(&[], url).contains("is a loopback address"), "{url}");
        }
    }

    #[test]
    fn an_exact_rule_opens_a_restricted_host() {
        let rules = &["127.0.0.1:8080"];
        let target = allowed(rules, "http://127.0.0.1:8080/path");
        assert_eq!((target.host.as_str(), target.port), ("127.0.0.1", 8080));
        assert_eq!(
            denied(rules, "http://127.0.0.1:8081/"),
            restricted("127.0.0.1", "a loopback address")
        );
        // Only that address: 127.0.0.2 is another host.
        assert_eq!(
            denied(rules, "http://127.0.0.2:8080/"),
            restricted("127.0.0.2", "a loopback address")
        );
        allowed(&["127.0.0.1"], "http://127.0.0.1:9999/");
        allowed(&["10.1.2.3"], "http://10.1.2.3/");
        allowed(&["169.254.169.254"], "http://169.254.169.254/latest");
    }

    #[test]
    fn numeric_ipv4_spellings_are_the_same_address() {
        for url in [
            "http://2130706433/",
            "http://0x7f.1/",
            "http://0x7f000001/",
            "http://0177.0.0.1/",
            "http://127.1/",
            "http://127.0.0.1./",
        ] {
            assert_eq!(
                denied(&["*.example.com"], url),
                restricted("127.0.0.1", "a loopback address"),
                "{url}"
            );
            let target = allowed(&["127.0.0.1"], url);
            assert_eq!(target.url, "http://127.0.0.1/", "{url}");
            assert_eq!(target.host, "127.0.0.1");
        }
        // A rule may use the same spellings.
        allowed(&["2130706433"], "http://127.0.0.1/");
    }

    #[test]
    fn ipv4_ranges_are_classified() {
        for (ip, kind) in [
            ("0.0.0.0", "an unspecified address"),
            ("0.1.2.3", "an unspecified address"),
            ("10.0.0.1", "a private address"),
            ("10.255.255.255", "a private address"),
            ("172.16.0.1", "a private address"),
            ("172.31.255.255", "a private address"),
            ("192.168.1.1", "a private address"),
            ("100.64.0.1", "a shared (carrier-grade NAT) address"),
            ("100.127.255.255", "a shared (carrier-grade NAT) address"),
            ("169.254.169.254", "a link-local address"),
            ("224.0.0.1", "a multicast address"),
            ("239.255.255.250", "a multicast address"),
            ("240.0.0.1", "a reserved address"),
            ("255.255.255.254", "a reserved address"),
            ("255.255.255.255", "a broadcast address"),
        ] {
            assert_eq!(
                denied(&[], &format!("http://{ip}/")),
                restricted(ip, kind),
                "{ip}"
            );
        }
    }

    #[test]
    fn ipv4_neighbours_of_the_ranges_are_public() {
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "172.15.255.255",
            "172.32.0.1",
            "192.167.1.1",
            "192.169.1.1",
            "100.63.255.255",
            "100.128.0.1",
            "169.253.1.1",
            "223.255.255.255",
            "11.0.0.1",
            "126.255.255.255",
            "128.0.0.1",
        ] {
            let url = format!("http://{ip}/");
            assert_eq!(denied(&[], &url), not_in_allow(ip), "{ip}");
            allowed(&[ip], &url);
        }
    }

    #[test]
    fn ipv6_ranges_are_classified() {
        for (ip, kind) in [
            ("[::1]", "a loopback address"),
            ("[::]", "an unspecified address"),
            ("[fc00::1]", "a private address"),
            ("[fd12:3456:789a::1]", "a private address"),
            ("[fec0::1]", "a private address"),
            ("[fe80::1]", "a link-local address"),
            ("[febf::1]", "a link-local address"),
            ("[ff02::1]", "a multicast address"),
        ] {
            assert_eq!(
                denied(&[], &format!("http://{ip}:8080/")),
                restricted(ip, kind),
                "{ip}"
            );
        }
        assert_eq!(
            denied(&[], "http://[2606:4700:4700::1111]/"),
            not_in_allow("[2606:4700:4700::1111]")
        );
        assert_eq!(
            denied(&[], "http://[FE80:0:0::1]/"),
            restricted("[fe80::1]", "a link-local address")
        );
    }

    #[test]
    fn ipv6_forms_of_ipv4_addresses_are_classified_by_the_ipv4_address() {
        for (url, host, kind) in [
            // mapped; the url crate serialises the embedded address in hex
            (
                "http://[::ffff:127.0.0.1]/",
                "[::ffff:7f00:1]",
                "a loopback address",
            ),
            (
                "http://[::ffff:10.0.0.1]/",
                "[::ffff:a00:1]",
                "a private address",
            ),
            (
                "http://[::ffff:169.254.169.254]/",
                "[::ffff:a9fe:a9fe]",
                "a link-local address",
            ),
            // compatible (deprecated)
            ("http://[::127.0.0.1]/", "[::7f00:1]", "a loopback address"),
            // NAT64
            (
                "http://[64:ff9b::192.168.0.1]/",
                "[64:ff9b::c0a8:1]",
                "a private address",
            ),
            // 6to4
            (
                "http://[2002:a9fe:a9fe::1]/",
                "[2002:a9fe:a9fe::1]",
                "a link-local address",
            ),
        ] {
            assert_eq!(denied(&[], url), restricted(host, kind), "{url}");
        }
        // A public embedded address is public (and still needs a rule).
        assert_eq!(
            denied(&[], "http://[::ffff:8.8.8.8]/"),
            not_in_allow("[::ffff:808:808]")
        );
    }

    #[test]
    fn an_ipv4_rule_does_not_open_its_ipv6_forms() {
        assert_eq!(
            denied(&["127.0.0.1"], "http://[::ffff:127.0.0.1]/"),
            restricted("[::ffff:7f00:1]", "a loopback address")
        );
        allowed(&["[::ffff:127.0.0.1]"], "http://[::ffff:7f00:1]/");
    }

    #[test]
    fn ipv6_rules_in_brackets_with_and_without_port() {
        allowed(&["[::1]:8080"], "http://[::1]:8080/");
        assert_eq!(
            denied(&["[::1]:8080"], "http://[::1]:8081/"),
            restricted("[::1]", "a loopback address")
        );
        allowed(&["[::1]"], "http://[::1]:9/");
        allowed(&["[0:0:0:0:0:0:0:1]"], "http://[::1]/");
        allowed(&["[2606:4700::1111]"], "https://[2606:4700:0::1111]/");
    }

    #[test]
    fn localhost_names_are_restricted() {
        for (url, host) in [
            ("http://localhost:3000/", "localhost"),
            ("http://LOCALHOST/", "localhost"),
            ("http://api.localhost/", "api.localhost"),
            ("http://a.b.localhost./", "a.b.localhost."),
        ] {
            assert_eq!(
                denied(&["*.example.com"], url),
                restricted(host, "a loopback name"),
                "{url}"
            );
        }
        allowed(&["localhost:3000"], "http://localhost:3000/");
        allowed(&["api.localhost"], "http://api.localhost/");
        assert!(denied(&["localhost:3000"], "http://localhost:3001/").contains("loopback name"));
        // Not a localhost name.
        assert_eq!(
            denied(&[], "http://localhost.example.com/"),
            not_in_allow("localhost.example.com")
        );
    }

    // --- the sandbox itself ---

    #[test]
    fn the_sandbox_itself_needs_an_exact_rule_with_the_port() {
        let own = Some(("sandbox.example.com", 443));
        let denied_self = "fetch denied: sandbox.example.com is the sandbox itself; only an \
                           exact network.allow rule with its port (sandbox.example.com:443) \
                           allows it";
        for rules in [
            &["*.example.com"][..],
            &["sandbox.example.com"],
            &["sandbox.example.com:8443"],
        ] {
            let err = list(rules)
                .check("https://sandbox.example.com/v1/sessions", own)
                .unwrap_err();
            assert_eq!(err.to_string(), denied_self, "{rules:?}");
        }
        let rules = list(&["sandbox.example.com:443"]);
        assert!(rules.check("https://sandbox.example.com/", own).is_ok());
    }

    #[test]
    fn the_sandbox_is_its_host_and_port_in_any_spelling() {
        let rules = list(&["*.example.com"]);
        let own = Some(("Sandbox.Example.com.", 443));
        for url in [
            "https://SANDBOX.example.com/",
            "https://sandbox.example.com./",
            "http://sandbox.example.com:443/",
        ] {
            let err = rules.check(url, own).unwrap_err();
            assert!(matches!(
                err,
                Denied::Restricted {
                    kind: Restriction::SandboxItself,
                    port: 443,
                    ..
                }
            ));
        }
        // Another port or another host is not the sandbox.
        assert!(rules.check("http://sandbox.example.com/", own).is_ok());
        assert!(rules.check("https://other.example.com/", own).is_ok());
        assert!(rules.check("https://sandbox.example.com/", None).is_ok());
    }

    #[test]
    fn a_local_sandbox_is_told_apart_from_a_local_test_server() {
        let rules = list(&["127.0.0.1"]);
        let own = Some(("127.0.0.1", 8787));
        let err = rules.check("http://127.0.0.1:8787/", own).unwrap_err();
        assert!(err.to_string().contains(
            "127.0.0.1 is the sandbox itself; only an exact network.allow rule with its port \
             (127.0.0.1:8787)"
        ));
        assert!(rules.check("http://127.0.0.1:9000/", own).is_ok());
        let own_v6 = Some(("[::1]", 8787));
        let err = list(&["[::1]"])
            .check("http://[::1]:8787/", own_v6)
            .unwrap_err();
        assert!(err.to_string().contains("([::1]:8787)"), "{err}");
        assert!(list(&["[::1]:8787"])
            .check("http://[::1]:8787/", own_v6)
            .is_ok());
    }

    // --- rule parsing ---

    #[test]
    fn rule_errors_name_the_rule_by_index() {
        let rules = ["a.example.com", "b.example.com", "http://x"].map(String::from);
        let err = AllowList::parse(&rules).unwrap_err();
        assert_eq!(
            err,
            "network.allow[2] \"http://x\" is not a host pattern: write the host without a \
             scheme (e.g. api.example.com)"
        );
    }

    #[test]
    fn empty_schemes_paths_and_odd_characters_are_refused() {
        for (rule, reason) in [
            ("", "must not be empty"),
            ("https://api.example.com", "without a scheme"),
            ("api.example.com/v1", "without a path"),
            ("api.example.com/", "without a path"),
            ("exa mple.com", "whitespace"),
            (" example.com", "whitespace"),
            ("example.com\t", "whitespace"),
            ("user@example.com", "'@' is not allowed"),
            ("ex%61mple.com", "'%' is not allowed"),
            ("example.com?x", "'?' is not allowed"),
            ("a..b.com", "empty labels"),
            (".example.com", "empty labels"),
            (":8080", "the host is empty"),
            ("1.2.3.4.5", "invalid IPv4 address"),
            ("example.123", "invalid IPv4 address"),
        ] {
            let err = rule_error(rule);
            assert!(err.contains(reason), "{rule:?}: {err}");
        }
    }

    #[test]
    fn wildcards_must_lead_and_cover_a_domain() {
        for (rule, reason) in [
            ("*", "a lone * would allow every host"),
            ("*.", "the host is empty"),
            ("*.com", "*.com is too broad"),
            ("*.com.", "*.com is too broad"),
            ("*.localhost", "too broad"),
            ("*.dev.localhost", "only by an exact rule"),
            ("*example.com", "* may only start a rule"),
            ("api.*.example.com", "* may only start a rule"),
            ("example.*", "* may only start a rule"),
            ("*.*.example.com", "* may only start a rule"),
            ("127.0.0.*", "* may only start a rule"),
            ("*.127.0.0.1", "not IP addresses"),
            ("*.[::1]", "not IP addresses"),
            ("*.10.0.0.1:80", "not IP addresses"),
        ] {
            let err = rule_error(rule);
            assert!(err.contains(reason), "{rule:?}: {err}");
        }
        allowed(&["*.co.uk"], "https://bbc.co.uk/");
    }

    #[test]
    fn ports_must_be_from_1_to_65535() {
        for (rule, reason) in [
            (
                "example.com:0",
                "port \"0\" is not a number from 1 to 65535",
            ),
            ("example.com:65536", "port \"65536\" is not"),
            ("example.com:", "port \"\" is not"),
            ("example.com:http", "port \"http\" is not"),
            ("example.com:-1", "port \"-1\" is not"),
            ("example.com:+80", "'+' is not allowed"),
            ("[::1]:0", "port \"0\" is not"),
            ("*.example.com:99999", "port \"99999\" is not"),
            ("example.com:80:80", "must be in brackets"),
        ] {
            let err = rule_error(rule);
            assert!(err.contains(reason), "{rule:?}: {err}");
        }
        allowed(&["example.com:65535"], "http://example.com:65535/");
        allowed(&["example.com:1"], "http://example.com:1/");
    }

    #[test]
    fn ipv6_rules_need_brackets() {
        for (rule, reason) in [
            ("::1", "must be in brackets"),
            ("fe80::1:8080", "must be in brackets"),
            ("[::1", "needs its closing ]"),
            ("[::1]8080", "expected :port after ]"),
            ("[::1]]", "expected :port after ]"),
            ("[zz::1]", "invalid IPv6 address"),
            ("[example.com]", "invalid IPv6 address"),
        ] {
            let err = rule_error(rule);
            assert!(err.contains(reason), "{rule:?}: {err}");
        }
    }

    #[test]
    fn rules_are_at_most_253_bytes() {
        let longest = format!("{}.com", "a.".repeat(124) + "a");
        assert_eq!(longest.len(), 253);
        list(&[&longest]);
        let err = rule_error(&format!("{longest}m"));
        assert!(err.contains("longer than 253 bytes"), "{err}");
        assert!(err.contains("...\" is not a host pattern"), "{err}");
    }

    #[test]
    fn at_most_64_rules() {
        let rules: Vec<String> = (0..64).map(|i| format!("h{i}.example.com")).collect();
        assert_eq!(AllowList::parse(&rules).unwrap().rules(), rules);
        let mut too_many = rules;
        too_many.push("h64.example.com".into());
        assert_eq!(
            AllowList::parse(&too_many).unwrap_err(),
            "network.allow has 65 rules; at most 64 are allowed"
        );
    }

    // --- serde ---

    #[test]
    fn serialises_as_the_rules_as_given() {
        let json = r#"["API.example.com","*.example.org:8443","[::1]:8080"]"#;
        let rules: AllowList = serde_json::from_str(json).unwrap();
        assert_eq!(serde_json::to_string(&rules).unwrap(), json);
        assert!(rules.check("https://api.example.com/", None).is_ok());
        assert_eq!(
            serde_json::from_str::<AllowList>("[]").unwrap(),
            AllowList::default()
        );
        assert!(AllowList::default().is_empty());
    }

    #[test]
    fn deserialising_a_bad_rule_fails_with_its_message() {
        let err = serde_json::from_str::<AllowList>(r#"["ok.example.com","*"]"#).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("network.allow[1] \"*\" is not a host pattern: a lone *"),
            "{err}"
        );
    }
}
