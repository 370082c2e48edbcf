//! `--decide ID=OPTION`: taking decisions of the catalogue otherwise than by
//! default, refused with the catalogue's reason when the model cannot.

use vfio_mig_model::{Profile, ProfileError, ProtocolName};
use vfio_mig_spec::Catalogue;

/// The default profile of `protocol` with the `--decide` choices taken, in
/// order; a refusal names the choice and why. A decision taken twice with
/// different options is refused (no choice silently wins), as is one that
/// does not apply to `protocol`.
pub fn profile(catalogue: &Catalogue, protocol: ProtocolName, decide: &[String]) -> Result<Profile, String> {
    let mut profile = Profile::defaults(protocol);
    let mut taken: Vec<(&str, &str, &str)> = Vec::new();
    for d in decide {
        let (id, option) = d
            .split_once('=')
            .ok_or_else(|| format!("--decide {d}: expected ID=OPTION, e.g. DEC-013=enomsg-or-zero"))?;
        let (id, option) = (id.trim(), option.trim());
        match taken.iter().find(|(i, _, _)| *i == id) {
            Some((_, o, _)) if *o == option => continue,
            Some((_, _, first)) => {
                return Err(format!(
                    "--decide {d} contradicts --decide {first}: take each decision once"
                ))
            }
            None => taken.push((id, option, d)),
        }
        profile.decide(id, option).map_err(|e| {
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
