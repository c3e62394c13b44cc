//! Which member addresses may be published in an EndpointSlice.
//!
//! An EndpointSlice makes kube-proxy and network policies send a Service's traffic to the
//! addresses in it. Whoever may create a FoxReplicaSet must not get a way around network policy
//! from it: a member host that resolves to a loopback or link-local address (the node itself,
//! a cloud metadata endpoint such as 169.254.169.254) or into the cluster's Service range
//! (another Service's ClusterIP) is therefore not published unless the operator was started
//! allowing it (`fox run --allow-member-addresses`, `--service-cidr`).

use std::net::IpAddr;
use std::str::FromStr;

/// A kind of address that is refused unless allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AddressClass {
    /// 127.0.0.0/8, ::1.
    Loopback,
    /// 169.254.0.0/16, fe80::/10.
    LinkLocal,
    /// Inside one of the `--service-cidr` ranges.
    ServiceRange,
}

impl AddressClass {
    /// The spelling in `--allow-member-addresses`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Loopback => "loopback",
            Self::LinkLocal => "link-local",
            Self::ServiceRange => "service-range",
        }
    }
}

impl FromStr for AddressClass {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim() {
            "loopback" => Ok(Self::Loopback),
            "link-local" => Ok(Self::LinkLocal),
            "service-range" => Ok(Self::ServiceRange),
            other => Err(format!(
                "unknown address class {other:?}: expected loopback, link-local or service-range"
            )),
        }
    }
}

/// An IP range in CIDR notation (`10.96.0.0/12`, `fd00:10:96::/108`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (address, prefix) = text
            .trim()
            .split_once('/')
            .ok_or_else(|| format!("{text:?} is not a CIDR range (for example 10.96.0.0/12)"))?;
        let network: IpAddr = address
            .parse()
            .map_err(|_| format!("{address:?} is not an IP address"))?;
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix: u8 = prefix
            .parse()
            .ok()
            .filter(|p| *p <= bits)
            .ok_or_else(|| format!("{prefix:?} is not a prefix length of at most {bits}"))?;
        Ok(Self { network, prefix })
    }
}

impl Cidr {
    /// Whether `ip` lies in this range.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let (network, ip, bits) = match (self.network, ip) {
            (IpAddr::V4(n), IpAddr::V4(i)) => {
                (u128::from(n.to_bits()), u128::from(i.to_bits()), 32)
            }
            (IpAddr::V6(n), IpAddr::V6(i)) => (n.to_bits(), i.to_bits(), 128),
            _ => return false,
        };
        if self.prefix == 0 {
            return true;
        }
        let shift = bits - u32::from(self.prefix);
        network >> shift == ip >> shift
    }
}

/// What the operator publishes: every address except the refused classes not allowed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemberAddressPolicy {
    /// Classes published anyway (`--allow-member-addresses`).
    pub allowed: Vec<AddressClass>,
    /// The cluster's Service ranges (`--service-cidr`).
    pub service_ranges: Vec<Cidr>,
}

impl MemberAddressPolicy {
    /// A policy that publishes every address (for tests and local runs against loopback
    /// servers).
    pub fn allow_all() -> Self {
        Self {
            allowed: vec![
                AddressClass::Loopback,
                AddressClass::LinkLocal,
                AddressClass::ServiceRange,
            ],
            service_ranges: Vec::new(),
        }
    }

    /// The class that keeps `ip` out of an EndpointSlice, if any.
    pub fn refusal(&self, ip: IpAddr) -> Option<AddressClass> {
        let class = if ip.is_loopback() || ip.to_canonical().is_loopback() {
            AddressClass::Loopback
        } else if is_link_local(ip) {
            AddressClass::LinkLocal
        } else if self.service_ranges.iter().any(|r| r.contains(ip)) {
            AddressClass::ServiceRange
        } else {
            return None;
        };
        (!self.allowed.contains(&class)).then_some(class)
    }
}

fn is_link_local(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    }
}

/// Why `ip` of `member` is not published, for its status message.
pub fn refusal_message(member: &str, ip: IpAddr, class: AddressClass) -> String {
    let how = match class {
        AddressClass::ServiceRange => {
            "is inside the cluster's Service range (another Service's ClusterIP)"
        }
        AddressClass::Loopback => "is a loopback address",
        AddressClass::LinkLocal => "is a link-local address",
    };
    format!(
        "{member}: address {ip} {how}; it is not published in the EndpointSlices (the operator allows it with --allow-member-addresses={})",
        class.as_str()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_link_local_and_service_addresses_are_refused_unless_allowed() {
        let policy = MemberAddressPolicy {
            allowed: Vec::new(),
            service_ranges: vec!["10.96.0.0/12".parse().unwrap()],
        };
        let refusal = |ip: &str| policy.refusal(ip.parse().unwrap());
        assert_eq!(refusal("127.0.0.1"), Some(AddressClass::Loopback));
        assert_eq!(refusal("::1"), Some(AddressClass::Loopback));
        assert_eq!(refusal("::ffff:127.0.0.1"), Some(AddressClass::Loopback));
        assert_eq!(refusal("169.254.169.254"), Some(AddressClass::LinkLocal));
        assert_eq!(refusal("fe80::1"), Some(AddressClass::LinkLocal));
        assert_eq!(refusal("10.96.0.10"), Some(AddressClass::ServiceRange));
        assert_eq!(refusal("10.111.255.255"), Some(AddressClass::ServiceRange));
        assert_eq!(refusal("10.112.0.1"), None, "outside the /12");
        assert_eq!(refusal("10.244.1.7"), None, "a pod address");
        let open = MemberAddressPolicy {
            allowed: vec![AddressClass::Loopback],
            ..policy
        };
        assert_eq!(open.refusal("127.0.0.1".parse().unwrap()), None);
        assert_eq!(
            open.refusal("169.254.169.254".parse().unwrap()),
            Some(AddressClass::LinkLocal)
        );
    }

    #[test]
    fn cidrs_and_classes_parse_with_clear_errors() {
        assert!("10.96.0.0/33".parse::<Cidr>().is_err());
        assert!("10.96.0.0".parse::<Cidr>().is_err());
        assert!(
            "fd00::/108"
                .parse::<Cidr>()
                .unwrap()
                .contains("fd00::5".parse().unwrap())
        );
        assert!("everything".parse::<AddressClass>().is_err());
    }
}
