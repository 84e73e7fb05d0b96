//! The cryptography of WeChat Pay API v3: SHA256withRSA (PKCS#1 v1.5) signatures,
//! AEAD_AES_256_GCM for notification resources, key loading from PEM.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::signature::{SignatureEncoding, Signer};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;

/// Why a key or a message could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The PEM holds no usable key.
    #[error("unreadable key: {0}")]
    Key(String),
    /// A signature did not verify or was malformed.
    #[error("bad signature")]
    Signature,
    /// Decryption failed (wrong key, tampered or truncated ciphertext).
    #[error("cannot decrypt the resource")]
    Decrypt,
    /// Encryption failed (the text is too long for the key).
    #[error("cannot encrypt the field")]
    Encrypt,
}

/// Reads an RSA private key from PEM (PKCS#8 or PKCS#1), as the merchant key file is.
pub fn private_key_from_pem(pem: &str) -> Result<RsaPrivateKey, CryptoError> {
    RsaPrivateKey::from_pkcs8_pem(pem)
        .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
        .map_err(|e| CryptoError::Key(e.to_string()))
}

/// Reads an RSA public key from a PEM public key (SPKI) or X.509 certificate, as
/// WeChat Pay publishes platform keys.
pub fn public_key_from_pem(pem: &str) -> Result<RsaPublicKey, CryptoError> {
    if pem.contains("BEGIN CERTIFICATE") {
        use x509_cert::der::{DecodePem, Encode};
        let certificate = x509_cert::Certificate::from_pem(pem.as_bytes())
            .map_err(|e| CryptoError::Key(e.to_string()))?;
        let spki = certificate
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| CryptoError::Key(e.to_string()))?;
        return RsaPublicKey::from_public_key_der(&spki)
            .map_err(|e| CryptoError::Key(e.to_string()));
    }
    RsaPublicKey::from_public_key_pem(pem).map_err(|e| CryptoError::Key(e.to_string()))
}

/// SHA256withRSA over `message`, base64 encoded.
pub fn sign(key: &RsaPrivateKey, message: &[u8]) -> String {
    let signing = SigningKey::<Sha256>::new(key.clone());
    STANDARD.encode(signing.sign(message).to_bytes())
}

/// Checks a base64 SHA256withRSA signature over `message`.
///
/// Verification goes through ring, whose RSA is several times faster than the `rsa`
/// crate's: it runs on every notification (see `benches/notifications.rs`).
pub fn verify(key: &RsaPublicKey, message: &[u8], signature_b64: &str) -> Result<(), CryptoError> {
    use rsa::pkcs1::EncodeRsaPublicKey;
    let bytes = STANDARD
        .decode(signature_b64.trim())
        .map_err(|_| CryptoError::Signature)?;
    let der = key.to_pkcs1_der().map_err(|_| CryptoError::Signature)?;
    ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        der.as_bytes(),
    )
    .verify(message, &bytes)
    .map_err(|_| CryptoError::Signature)
}

/// AEAD_AES_256_GCM decryption of a notification resource (ciphertext in base64, with
/// its 16-byte tag at the end).
pub fn decrypt(
    apiv3_key: &[u8; 32],
    nonce: &str,
    associated_data: &str,
    ciphertext_b64: &str,
) -> Result<Vec<u8>, CryptoError> {
    let nonce: [u8; 12] = nonce
        .as_bytes()
        .try_into()
        .map_err(|_| CryptoError::Decrypt)?;
    let ciphertext = STANDARD
        .decode(ciphertext_b64)
        .map_err(|_| CryptoError::Decrypt)?;
    let cipher = Aes256Gcm::new(apiv3_key.into());
    cipher
        .decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: &ciphertext,
                aad: associated_data.as_bytes(),
            },
        )
        .map_err(|_| CryptoError::Decrypt)
}

/// AEAD_AES_256_GCM encryption, as WeChat Pay does it (for the simulated provider).
pub fn encrypt(
    apiv3_key: &[u8; 32],
    nonce: &[u8; 12],
    associated_data: &str,
    plaintext: &[u8],
) -> String {
    let cipher = Aes256Gcm::new(apiv3_key.into());
    // Encryption with a 12-byte nonce cannot fail for messages of our size.
    let sealed = cipher
        .encrypt(
            &Nonce::from(*nonce),
            Payload {
                msg: plaintext,
                aad: associated_data.as_bytes(),
            },
        )
        .unwrap_or_default();
    STANDARD.encode(sealed)
}

/// The APIv3 key as the 32 bytes it is (the configured value is the 32-character key).
pub fn apiv3_key(text: &str) -> Result<[u8; 32], CryptoError> {
    text.as_bytes()
        .try_into()
        .map_err(|_| CryptoError::Key("the APIv3 key must be exactly 32 characters".into()))
}

/// Encrypts a sensitive field for WeChat Pay with its platform public key:
/// RSA/ECB/OAEPWithSHA-1AndMGF1Padding, base64 (the request then names the key's serial
/// in `Wechatpay-Serial`).
pub fn encrypt_sensitive(key: &RsaPublicKey, plain: &str) -> Result<String, CryptoError> {
    let cipher = key
        .encrypt(
            &mut rsa::rand_core::OsRng,
            rsa::Oaep::new::<sha1::Sha1>(),
            plain.as_bytes(),
        )
        .map_err(|_| CryptoError::Encrypt)?;
    Ok(STANDARD.encode(cipher))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/wechatpay");

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap()
    }

    #[test]
    fn signatures_match_openssl() {
        let key = private_key_from_pem(&fixture("merchant_key.pem")).unwrap();
        for name in ["prepay_message", "paysign_message"] {
            let message = fixture(&format!("{name}.txt"));
            let expected = fixture(&format!("{name}.sig"));
            assert_eq!(sign(&key, message.as_bytes()), expected.trim(), "{name}");
            let public = public_key_from_pem(&fixture("merchant_pub.pem")).unwrap();
            verify(&public, message.as_bytes(), &expected).unwrap();
            assert!(verify(&public, b"tampered", &expected).is_err());
        }
    }

    #[test]
    fn certificates_and_spki_give_the_same_key() {
        let from_cert = public_key_from_pem(&fixture("platform_cert.pem")).unwrap();
        let from_spki = public_key_from_pem(&fixture("platform_pub.pem")).unwrap();
        assert_eq!(from_cert, from_spki);
    }

    #[test]
    fn aes_gcm_round_trips_and_rejects_tampering() {
        let key = apiv3_key("0123456789abcdef0123456789abcdef").unwrap();
        let sealed = encrypt(&key, b"nonce0123456", "transaction", b"{\"a\":1}");
        assert_eq!(
            decrypt(&key, "nonce0123456", "transaction", &sealed).unwrap(),
            b"{\"a\":1}"
        );
        assert!(decrypt(&key, "nonce0123456", "refund", &sealed).is_err());
        let truncated = &sealed[..sealed.len() - 8];
        assert!(decrypt(&key, "nonce0123456", "transaction", truncated).is_err());
        assert!(apiv3_key("short").is_err());
    }
}
