//! Gateway bearer tokens: `fox1.<claims>.<signature>`, the claims base64url JSON (tables,
//! column-equality filters, expiry), the signature HMAC-SHA256 over `fox1.<claims>` with the
//! gateway's secret. A token reads only its tables, and only rows its filters match.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};

type Signer = Hmac<sha2_hmac::Sha256>;

const PREFIX: &str = "fox1";

/// What a token may read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// Tables it may read.
    pub tables: Vec<String>,
    /// Column equalities every delivered row must satisfy (`{"team": "a"}`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub filters: BTreeMap<String, String>,
    /// Expiry, seconds since the Unix epoch.
    pub exp: i64,
}

/// Why a token was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not `fox1.<claims>.<signature>` with valid base64url and JSON.
    #[error("the bearer token is malformed")]
    Malformed,
    /// Signed with another secret, or altered.
    #[error("the bearer token's signature is not valid")]
    BadSignature,
    /// Past its expiry.
    #[error("the bearer token expired")]
    Expired,
}

fn signer(secret: &[u8]) -> Signer {
    // HMAC takes keys of any length.
    <Signer as KeyInit>::new_from_slice(secret).unwrap_or_else(|_| unreachable!())
}

/// Mints a token for `scope`, signed with `secret`.
pub fn mint(secret: &[u8], scope: &Scope) -> String {
    let claims = URL_SAFE_NO_PAD.encode(serde_json::to_vec(scope).unwrap_or_default());
    let signed = format!("{PREFIX}.{claims}");
    let mut mac = signer(secret);
    mac.update(signed.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signed}.{signature}")
}

/// Checks a token's signature (in constant time) and expiry; returns its scope.
///
/// # Errors
/// [`TokenError`].
pub fn verify(secret: &[u8], token: &str, now: i64) -> Result<Scope, TokenError> {
    let mut parts = token.trim().split('.');
    let (Some(PREFIX), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| TokenError::Malformed)?;
    let mut mac = signer(secret);
    mac.update(format!("{PREFIX}.{claims}").as_bytes());
    mac.verify_slice(&signature)
        .map_err(|_| TokenError::BadSignature)?;
    let scope: Scope = URL_SAFE_NO_PAD
        .decode(claims)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(TokenError::Malformed)?;
    if scope.exp <= now {
        return Err(TokenError::Expired);
    }
    Ok(scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope {
            tables: vec!["items".into()],
            filters: BTreeMap::from([("team".into(), "a".into())]),
            exp: 2_000,
        }
    }

    #[test]
    fn a_minted_token_verifies_with_its_secret_only() {
        let token = mint(b"secret", &scope());
        assert_eq!(verify(b"secret", &token, 1_000), Ok(scope()));
        assert_eq!(
            verify(b"other", &token, 1_000),
            Err(TokenError::BadSignature)
        );
        assert_eq!(verify(b"secret", &token, 2_000), Err(TokenError::Expired));
    }

    #[test]
    fn an_altered_token_is_refused() {
        let token = mint(b"secret", &scope());
        let wider = Scope {
            tables: vec!["items".into(), "users".into()],
            ..scope()
        };
        let forged_claims = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&wider).unwrap_or_default());
        let signature = token.rsplit('.').next().unwrap_or_default();
        let forged = format!("fox1.{forged_claims}.{signature}");
        assert_eq!(
            verify(b"secret", &forged, 1_000),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            verify(b"secret", "nonsense", 1_000),
            Err(TokenError::Malformed)
        );
    }
}
