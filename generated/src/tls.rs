//! The TLS crypto provider every HTTP client of this crate (and of the
//! `sentinelone` facade) uses.
//!
//! reqwest is built with rustls but without a provider of its own, so that a
//! program does not have to compile the aws-lc C library before anything
//! else (about 40 s of a cold build on two cores). [`install_crypto_provider`]
//! makes rustls' `ring` provider the process default, unless the program
//! installed one itself first, which is then kept. With the `aws-lc-rs`
//! feature it installs aws-lc-rs instead, which adds the post-quantum hybrid
//! key exchange (X25519MLKEM768) and a FIPS-capable module.
//!
//! Either way the connection is rustls' TLS 1.3 (or 1.2) with its default
//! AEAD suites only (AES-GCM, ChaCha20-Poly1305), ECDHE key exchange
//! (X25519, P-256, P-384) and the platform's certificate verifier.

/// Installs rustls' process-wide crypto provider (`ring`, or `aws-lc-rs`
/// with that feature) unless one is installed already. Called before any
/// HTTP client is built: by [`crate::Client::new`] and by the facade's
/// client builder; call it yourself before building a `reqwest::Client` of
/// your own.
///
/// ```
/// sentinelone_generated::install_crypto_provider();
/// assert!(rustls::crypto::CryptoProvider::get_default().is_some());
/// let http = reqwest::Client::builder().build().expect("a TLS client");
/// # drop(http);
/// ```
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_some() {
        return;
    }
    #[cfg(feature = "aws-lc-rs")]
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    #[cfg(not(feature = "aws-lc-rs"))]
    let provider = rustls::crypto::ring::default_provider();
    // Another thread may have installed one in between: theirs stays.
    let _ = provider.install_default();
}
