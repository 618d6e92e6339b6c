//! The outbound network policy (SPEC: "no loopback, private, link-local or
//! metadata addresses unless allowlisted, checked after DNS resolution and
//! pinned against rebinding").

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

/// Environment variable holding the allowlist: comma-separated CIDRs or bare IPs.
pub const ALLOW_NETWORKS_ENV: &str = "SWITCHBOARD_ALLOW_NETWORKS";

/// Which addresses outbound requests may reach. Public unicast addresses are
/// always allowed; special-purpose ones (loopback, private, link-local, cloud
/// metadata, CGNAT, multicast, reserved, …) only when inside an allowlisted
/// network.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkPolicy {
    allow: Vec<IpNet>,
}

/// An address the policy refuses, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyDenied {
    pub ip: IpAddr,
    /// Human-readable kind of address, e.g. `"private"`, `"loopback"`, `"cloud metadata"`.
    pub category: &'static str,
}

impl PolicyDenied {
    /// `"a private address"`, `"an unspecified address"`.
    pub fn describe(&self) -> String {
        let article = match self.category.chars().next() {
            Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
            _ => "a",
        };
        format!("{article} {} address", self.category)
    }
}

impl fmt::Display for PolicyDenied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is {}", self.ip, self.describe())
    }
}

impl std::error::Error for PolicyDenied {}

/// A malformed `SWITCHBOARD_ALLOW_NETWORKS` entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{ALLOW_NETWORKS_ENV}: `{entry}` is not a CIDR network or an IP address")]
pub struct NetworkPolicyError {
    pub entry: String,
}

impl NetworkPolicy {
    /// A policy that additionally allows the given networks.
    pub fn new(allow: Vec<IpNet>) -> Self {
        NetworkPolicy { allow }
    }

    /// The policy configured by `SWITCHBOARD_ALLOW_NETWORKS` (unset or empty: deny
    /// every special-purpose address).
    pub fn from_env() -> Result<Self, NetworkPolicyError> {
        match std::env::var(ALLOW_NETWORKS_ENV) {
            Ok(value) => Ok(Self::new(Self::parse_allowlist(&value)?)),
            Err(_) => Ok(Self::default()),
        }
    }

    /// Parses a comma-separated list of CIDRs or bare IPs (a bare IP allows
    /// exactly that address). Blank entries are ignored.
    pub fn parse_allowlist(value: &str) -> Result<Vec<IpNet>, NetworkPolicyError> {
        value
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| NetworkPolicyError {
                        entry: entry.to_string(),
                    })
            })
            .collect()
    }

    /// The allowlisted networks.
    pub fn allowed_networks(&self) -> &[IpNet] {
        &self.allow
    }

    /// Whether `ip` may be contacted.
    pub fn check(&self, ip: IpAddr) -> Result<(), PolicyDenied> {
        let Some(category) = classify(ip) else {
            return Ok(());
        };
        let embedded = embedded_ipv4(ip).map(IpAddr::V4);
        let allowed = self
            .allow
            .iter()
            .any(|net| net.contains(&ip) || embedded.is_some_and(|v4| net.contains(&v4)));
        if allowed {
            Ok(())
        } else {
            Err(PolicyDenied { ip, category })
        }
    }
}

/// The special-purpose category of `ip`, or `None` for ordinary public unicast.
fn classify(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], prefix: u32) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    };
    (u32::from(ip) & mask) == (u32::from(Ipv4Addr::from(net)) & mask)
}

fn classify_v4(ip: Ipv4Addr) -> Option<&'static str> {
    const TABLE: &[([u8; 4], u32, &str)] = &[
        ([169, 254, 169, 254], 32, "cloud metadata"),
        // Azure's platform address (wireserver), reachable from every Azure VM.
        ([168, 63, 129, 16], 32, "cloud metadata"),
        ([0, 0, 0, 0], 8, "unspecified (this-network)"),
        ([127, 0, 0, 0], 8, "loopback"),
        ([10, 0, 0, 0], 8, "private"),
        ([172, 16, 0, 0], 12, "private"),
        ([192, 168, 0, 0], 16, "private"),
        ([169, 254, 0, 0], 16, "link-local"),
        ([100, 64, 0, 0], 10, "shared (CGNAT)"),
        ([192, 0, 0, 0], 24, "reserved (IETF protocol assignment)"),
        ([192, 0, 2, 0], 24, "documentation"),
        ([198, 51, 100, 0], 24, "documentation"),
        ([203, 0, 113, 0], 24, "documentation"),
        ([198, 18, 0, 0], 15, "benchmarking"),
        ([255, 255, 255, 255], 32, "broadcast"),
        ([224, 0, 0, 0], 4, "multicast"),
        ([240, 0, 0, 0], 4, "reserved"),
    ];
    TABLE
        .iter()
        .find(|(net, prefix, _)| in_v4(ip, *net, *prefix))
        .map(|(_, _, category)| *category)
}

/// The IPv4 address an IPv6 address stands for, when it embeds one that the
/// connection would effectively reach: IPv4-mapped (`::ffff:a.b.c.d`),
/// IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) and 6to4
/// (`2002:AABB:CCDD::`).
fn embedded_ipv4(ip: IpAddr) -> Option<Ipv4Addr> {
    let IpAddr::V6(v6) = ip else { return None };
    let s = v6.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(low),
        // `::` and `::1` are IPv6's own unspecified and loopback addresses.
        [0, 0, 0, 0, 0, 0, 0, 0] | [0, 0, 0, 0, 0, 0, 0, 1] => None,
        [0, 0, 0, 0, 0, 0, _, _] => Some(low),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(low),
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::new(
            (hi >> 8) as u8,
            hi as u8,
            (lo >> 8) as u8,
            lo as u8,
        )),
        _ => None,
    }
}

fn classify_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if ip == Ipv6Addr::UNSPECIFIED {
        return Some("unspecified");
    }
    if ip == Ipv6Addr::LOCALHOST {
        return Some("loopback");
    }
    if let Some(v4) = embedded_ipv4(IpAddr::V6(ip)) {
        return classify_v4(v4);
    }
    let s = ip.segments();
    // AWS IMDS over IPv6 (also used by other clouds' metadata services).
    if s == [0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254] {
        return Some("cloud metadata");
    }
    match s[0] {
        x if x & 0xfe00 == 0xfc00 => Some("private (unique-local)"),
        x if x & 0xffc0 == 0xfe80 => Some("link-local"),
        x if x & 0xffc0 == 0xfec0 => Some("private (site-local)"),
        x if x & 0xff00 == 0xff00 => Some("multicast"),
        0x2001 if s[1] == 0x0db8 => Some("documentation"),
        // Local-use NAT64 prefix 64:ff9b:1::/48.
        0x0064 if s[1] == 0xff9b && s[2] == 0x0001 => Some("private (local-use NAT64)"),
        // Discard-only prefix 100::/64.
        0x0100 if s[1] == 0 && s[2] == 0 && s[3] == 0 => Some("reserved"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn denied(ip: &str) -> Option<&'static str> {
        NetworkPolicy::default()
            .check(ip.parse().unwrap())
            .err()
            .map(|d| d.category)
    }

    #[test]
    fn public_addresses_pass() {
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "140.82.112.3",
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "100.63.255.255",
            "100.128.0.0",
            "172.32.0.1",
            "172.15.255.255",
        ] {
            assert_eq!(denied(ip), None, "{ip}");
        }
    }

    #[test]
    fn special_addresses_are_denied() {
        let cases = [
            ("127.0.0.1", "loopback"),
            ("127.255.0.9", "loopback"),
            ("10.0.0.5", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "cloud metadata"),
            ("169.254.10.1", "link-local"),
            ("100.64.0.1", "shared (CGNAT)"),
            ("100.127.255.255", "shared (CGNAT)"),
            ("0.0.0.0", "unspecified (this-network)"),
            ("0.1.2.3", "unspecified (this-network)"),
            ("255.255.255.255", "broadcast"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("240.0.0.1", "reserved"),
            ("::1", "loopback"),
            ("::", "unspecified"),
            ("fc00::1", "private (unique-local)"),
            ("fd12:3456::1", "private (unique-local)"),
            ("fe80::1", "link-local"),
            ("ff02::1", "multicast"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:10.1.2.3", "private"),
            ("::ffff:169.254.169.254", "cloud metadata"),
            ("::127.0.0.1", "loopback"),
            ("64:ff9b::7f00:1", "loopback"),
            ("64:ff9b::a9fe:a9fe", "cloud metadata"),
            ("fd00:ec2::254", "cloud metadata"),
            ("2002:7f00:1::", "loopback"),
        ];
        for (ip, category) in cases {
            assert_eq!(denied(ip), Some(category), "{ip}");
        }
    }

    #[test]
    fn allowlist_admits_networks_and_embedded_ipv4() {
        let policy = NetworkPolicy::new(
            NetworkPolicy::parse_allowlist(" 127.0.0.0/8, 10.1.2.3 ,,fd00::/8").unwrap(),
        );
        assert!(policy.check("127.0.0.1".parse().unwrap()).is_ok());
        assert!(policy.check("::ffff:127.0.0.1".parse().unwrap()).is_ok());
        assert!(policy.check("10.1.2.3".parse().unwrap()).is_ok());
        assert!(policy.check("10.1.2.4".parse().unwrap()).is_err());
        assert!(policy.check("fd00:ec2::254".parse().unwrap()).is_ok());
        assert!(policy.check("::1".parse().unwrap()).is_err());
        assert!(policy.check("169.254.169.254".parse().unwrap()).is_err());
    }

    #[test]
    fn bad_allowlist_entry_is_named() {
        let err = NetworkPolicy::parse_allowlist("10.0.0.0/8, not-a-net").unwrap_err();
        assert_eq!(err.entry, "not-a-net");
        assert!(err.to_string().contains("not-a-net"));
        assert!(err.to_string().contains(ALLOW_NETWORKS_ENV));
        assert!(NetworkPolicy::parse_allowlist("10.0.0.0/33").is_err());
    }

    #[test]
    fn denial_reads_well() {
        let d = NetworkPolicy::default()
            .check("10.0.0.5".parse().unwrap())
            .unwrap_err();
        assert_eq!(d.to_string(), "10.0.0.5 is a private address");
        let d = NetworkPolicy::default()
            .check("::".parse().unwrap())
            .unwrap_err();
        assert_eq!(d.to_string(), ":: is an unspecified address");
    }
}
