//! The X-Ray daemon's UDP protocol: a JSON header line, then one segment document per datagram.

use std::net::SocketAddr;
use std::time::Duration;

use crate::error::{Error, Result};

pub const HEADER: &str = "{\"format\": \"json\", \"version\": 1}\n";
pub const MAX_DATAGRAM: usize = 64 * 1024;
pub const DEFAULT_ADDRESS: &str = "127.0.0.1:2000";

/// The UDP address of `AWS_XRAY_DAEMON_ADDRESS`: `host:port`, or `tcp:h:p udp:h:p` in either order.
pub fn udp_address(value: &str) -> Result<String> {
    let value = value.trim();
    let bad = || {
        Error::usage(
            format!(
                "AWS_XRAY_DAEMON_ADDRESS '{value}' is not host:port or 'tcp:host:port udp:host:port'"
            ),
            "for example 127.0.0.1:2000".to_string(),
        )
    };
    let parts: Vec<&str> = value.split_whitespace().collect();
    let address = match parts.as_slice() {
        [single] if !single.starts_with("tcp:") && !single.starts_with("udp:") => *single,
        [a, b] => [a, b]
            .into_iter()
            .find_map(|p| p.strip_prefix("udp:"))
            .ok_or_else(bad)?,
        _ => return Err(bad()),
    };
    let (host, port) = address.rsplit_once(':').ok_or_else(bad)?;
    if host.is_empty() || port.parse::<u16>().is_err() {
        return Err(bad());
    }
    Ok(address.to_string())
}

pub fn datagram(segment: &serde_json::Value) -> Result<Vec<u8>> {
    let mut bytes = HEADER.as_bytes().to_vec();
    bytes.extend(serde_json::to_vec(segment).unwrap_or_default());
    if bytes.len() > MAX_DATAGRAM {
        return Err(Error::usage(
            format!(
                "the segment is {} bytes; the daemon takes at most 64 KB per datagram",
                bytes.len()
            ),
            "use fewer or shorter --attribute values".to_string(),
        ));
    }
    Ok(bytes)
}

/// What a send to the daemon showed. UDP has no acknowledgement; on loopback a closed port does
/// answer with ICMP, which a connected socket reports as "connection refused".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaemonSend {
    Sent { to: SocketAddr, bytes: usize },
    NothingListening { to: SocketAddr },
    Failed { message: String },
}

pub async fn send(address: &str, payload: &[u8]) -> DaemonSend {
    let target = match tokio::net::lookup_host(address).await.map(|mut a| a.next()) {
        Ok(Some(target)) => target,
        Ok(None) | Err(_) => {
            return DaemonSend::Failed {
                message: format!("cannot resolve {address}"),
            };
        }
    };
    let local = if target.is_ipv6() {
        "[::]:0"
    } else {
        "0.0.0.0:0"
    };
    let socket = match tokio::net::UdpSocket::bind(local).await {
        Ok(s) => s,
        Err(e) => {
            return DaemonSend::Failed {
                message: e.to_string(),
            };
        }
    };
    if let Err(e) = socket.connect(target).await {
        return DaemonSend::Failed {
            message: e.to_string(),
        };
    }
    match socket.send(payload).await {
        Ok(bytes) => {
            let mut buf = [0u8; 1];
            match tokio::time::timeout(Duration::from_millis(30), socket.recv(&mut buf)).await {
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    DaemonSend::NothingListening { to: target }
                }
                _ => DaemonSend::Sent { to: target, bytes },
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            DaemonSend::NothingListening { to: target }
        }
        Err(e) => DaemonSend::Failed {
            message: e.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_forms() {
        assert_eq!(udp_address("127.0.0.1:2000").unwrap(), "127.0.0.1:2000");
        assert_eq!(udp_address("xray-daemon:2000").unwrap(), "xray-daemon:2000");
        assert_eq!(
            udp_address("tcp:127.0.0.1:2000 udp:127.0.0.2:2001").unwrap(),
            "127.0.0.2:2001"
        );
        assert_eq!(udp_address("udp:h:1 tcp:h:2").unwrap(), "h:1");
        for bad in ["", "nohost", "h:port", "tcp:h:1", "a b c"] {
            assert!(udp_address(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn datagram_is_header_then_document() {
        let d = datagram(&serde_json::json!({"id": "a"})).unwrap();
        let text = String::from_utf8(d).unwrap();
        let (header, body) = text.split_once('\n').unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(header).unwrap(),
            serde_json::json!({"format": "json", "version": 1})
        );
        assert_eq!(body, r#"{"id":"a"}"#);
        let big = serde_json::json!({"x": "y".repeat(70_000)});
        assert!(datagram(&big).is_err());
    }
}
