//! A simulated biometric sensor for the demo and the tests: a software biometric-bound key
//! and a user-verification prompt that a test (or the demo's script) answers.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;

use async_trait::async_trait;

use crate::platform::{DeviceSigner, PlatformError, SoftwareDeviceSigner, UserVerifier};
use crate::KeywayError;

/// A prompt whose answer is set in advance: "the finger matches" or not. It counts prompts.
#[derive(Debug)]
pub struct SimulatedBiometric {
    matches: AtomicBool,
    prompts: AtomicU32,
}

impl SimulatedBiometric {
    /// A sensor that recognises the person (`matches`) or not.
    pub fn new(matches: bool) -> Self {
        Self {
            matches: AtomicBool::new(matches),
            prompts: AtomicU32::new(0),
        }
    }

    /// Changes whether the next prompts succeed.
    pub fn set_matches(&self, matches: bool) {
        self.matches.store(matches, Ordering::SeqCst);
    }

    /// How many times the person was prompted.
    pub fn prompts(&self) -> u32 {
        self.prompts.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl UserVerifier for SimulatedBiometric {
    async fn verify(&self, _reason: String) -> Result<bool, PlatformError> {
        self.prompts.fetch_add(1, Ordering::SeqCst);
        Ok(self.matches.load(Ordering::SeqCst))
    }
}

/// A new simulated sensor that recognises the person, and a new software key standing in
/// for the biometric-bound key (a new enrolment makes another one).
pub fn simulated_biometric() -> Result<(Arc<SimulatedBiometric>, Arc<dyn DeviceSigner>), KeywayError>
{
    let (signer, _) = SoftwareDeviceSigner::generate()?;
    Ok((Arc::new(SimulatedBiometric::new(true)), Arc::new(signer)))
}
