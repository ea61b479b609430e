//! Name resolution for static builds (`scripts/build-release`).
//!
//! glibc's resolver inside a static binary loads NSS modules that must come
//! from the very glibc it was linked with, which a copied binary cannot
//! promise; so static builds resolve names with hickory-dns, from the
//! system's own configuration (`/etc/resolv.conf`, `/etc/hosts`). Unlike
//! reqwest's built-in hickory resolver, this one never puts a public resolver
//! in place of a configuration it cannot read: the lookup fails and says why,
//! so a verifier's queries never go where the system did not send them.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use hickory_resolver::TokioResolver;
use hickory_resolver::config::LookupIpStrategy;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// hickory-dns with the system's configuration only.
#[derive(Debug, Default, Clone)]
pub struct SystemDns {
    /// Built on first use, inside the HTTP client's runtime.
    resolver: Arc<OnceLock<Result<TokioResolver, String>>>,
}

fn build() -> Result<TokioResolver, String> {
    let mut builder = TokioResolver::builder_tokio().map_err(|e| {
        format!("cannot read the system's DNS configuration (/etc/resolv.conf): {e}")
    })?;
    // Both families, for happy eyeballs (as reqwest's own resolvers do).
    builder.options_mut().ip_strategy = LookupIpStrategy::Ipv6AndIpv4;
    builder
        .build()
        .map_err(|e| format!("cannot start the DNS resolver: {e}"))
}

impl Resolve for SystemDns {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        Box::pin(async move {
            let resolver =
                this.resolver.get_or_init(build).as_ref().map_err(
                    |e| -> Box<dyn std::error::Error + Send + Sync> { e.clone().into() },
                )?;
            let found = resolver.lookup_ip(name.as_str()).await?;
            let addrs: Addrs = Box::new(
                found
                    .iter()
                    .map(|ip| SocketAddr::new(ip, 0))
                    .collect::<Vec<_>>()
                    .into_iter(),
            );
            Ok(addrs)
        })
    }
}
