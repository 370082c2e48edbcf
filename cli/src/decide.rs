//! `--decide ID=OPTION`: taking decisions of the catalogue otherwise than by
//! default, refused with the catalogue's reason when the model cannot.

use vfio_mig_model::{Profile, ProfileError, ProtocolName};
use vfio_mig_spec::Catalogue;

/// The default profile of `protocol` with the `--decide` choices taken, in
/// order; a refusal names the choice and why.
pub fn profile(catalogue: &Catalogue, protocol: ProtocolName, decide: &[String]) -> Result<Profile, String> {
    let mut profile = Profile::defaults(protocol);
    for d in decide {
        let (id, option) = d
            .split_once('=')
            .ok_or_else(|| format!("--decide {d}: expected ID=OPTION, e.g. DEC-013=enomsg-or-zero"))?;
        profile.decide(id.trim(), option.trim()).map_err(|e| {
            let why = match &e {
                ProfileError::NotImplemented { id, .. } => catalogue
                    .decision(id)
                    .map(|dec| {
                        format!(
                            " ({})",
                            dec.reason.split_whitespace().collect::<Vec<_>>().join(" ")
                        )
                    })
                    .unwrap_or_default(),
                _ => String::new(),
            };
            format!("--decide {d}: {e}{why}")
        })?;
    }
    Ok(profile)
}
