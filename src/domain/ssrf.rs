//! Which destination addresses Herald may connect to.
//!
//! A webhook URL is supplied by a customer, so without a guard it is a way to make Herald's
//! host call its own private network. Only globally routable addresses are allowed unless an
//! operator lists a CIDR in `allow_destinations`; the check runs on each resolved address
//! actually connected to, so DNS cannot be used to slip past it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

/// The setting an operator changes to reach a refused address; named in every refusal.
pub const ALLOW_SETTING: &str = "allow_destinations (HERALD_ALLOW_DESTINATIONS)";

#[derive(Clone, Debug, Default)]
pub struct DestinationPolicy {
    allow: Vec<IpNet>,
}

impl DestinationPolicy {
    pub fn new(allow: Vec<IpNet>) -> Self {
        Self { allow }
    }

    pub fn permits(&self, ip: IpAddr) -> bool {
        is_global(ip) || self.allow.iter().any(|net| net.contains(&ip))
    }

    /// The refusal message for an address this policy does not permit.
    pub fn refusal(ip: IpAddr) -> String {
        format!(
            "destination address {ip} is not publicly routable; allow it with {ALLOW_SETTING}, e.g. \"{}\"",
            IpNet::from(ip)
        )
    }
}

fn is_global_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64.0.0/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

fn is_global_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_global_v4(v4);
    }
    let seg = ip.segments();
    // NAT64 well-known prefix embeds an IPv4 address.
    if seg[0] == 0x64 && seg[1] == 0xff9b && seg[2..6] == [0, 0, 0, 0] {
        let v4 = Ipv4Addr::new(
            (seg[6] >> 8) as u8,
            seg[6] as u8,
            (seg[7] >> 8) as u8,
            seg[7] as u8,
        );
        return is_global_v4(v4);
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (seg[0] & 0xfe00) == 0xfc00 // unique local
        || (seg[0] & 0xffc0) == 0xfe80 // link local
        || (seg[0] == 0x2001 && seg[1] == 0x0db8) // documentation
        || seg[0] == 0x0100) // discard-only
}

pub fn is_global(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_global_v4(v4),
        IpAddr::V6(v6) => is_global_v6(v6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }

    #[test]
    fn refuses_private_ranges() {
        let policy = DestinationPolicy::default();
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(!policy.permits(ip(bad)), "{bad}");
        }
        for good in ["93.184.216.34", "2606:4700::1111", "8.8.8.8"] {
            assert!(policy.permits(ip(good)), "{good}");
        }
    }

    #[test]
    fn allow_list_opens_a_range() {
        let net: IpNet = "127.0.0.0/8"
            .parse()
            .unwrap_or_else(|_| IpNet::from(ip("127.0.0.1")));
        let policy = DestinationPolicy::new(vec![net]);
        assert!(policy.permits(ip("127.0.0.1")));
        assert!(!policy.permits(ip("10.0.0.1")));
        assert!(DestinationPolicy::refusal(ip("10.0.0.1")).contains("HERALD_ALLOW_DESTINATIONS"));
    }
}
