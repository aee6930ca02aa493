//! The one TLS stack in the build: rustls on ring, for reqwest, the AWS SDK, the gRPC client and
//! doctor's certificate probe.

use std::sync::Arc;

use aws_smithy_http_client::{Builder, ConnectorBuilder, proxy::ProxyConfig, tls};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// The cryptography rustls runs on.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Make [`provider`] the process's default, which reqwest's clients take; called before building
/// one, and harmless when already done.
pub fn install() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The AWS SDK's HTTPS client: its default client (proxy settings from the environment, the
/// SDK's timeouts and sleep), on this stack.
pub fn aws_http_client() -> SharedHttpClient {
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector = ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}
