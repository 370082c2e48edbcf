//! The bytes of device regions an adapter reads as a device's state and
//! writes as scratch: named for any device by `VFIO_MIG_STATE_BYTES` and
//! `VFIO_MIG_SCRATCH_BYTES` (`region:offset,...`), known for mtty. The VFIO
//! adapter reads them from the device fd, the vfio-user adapter with
//! REGION_READ and REGION_WRITE.

use std::path::Path;

/// A byte of a device region: region index and offset in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegionByte {
    /// The region (BAR) index.
    pub region: u32,
    /// The offset inside the region.
    pub offset: u64,
}

/// Which region bytes the adapter reads as the device's state and which it
/// may freely write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Probe {
    /// Read as the fingerprint (side-effect-free registers).
    pub state: Vec<RegionByte>,
    /// Written after each restore with an instance-specific value.
    pub scratch: Vec<RegionByte>,
}

impl Probe {
    /// mtty's UART registers without read side effects (IER, LCR, MCR, SCR
    /// of each port, one port per BAR) and its scratch registers (SCR).
    /// Offsets from `include/uapi/linux/serial_reg.h`.
    pub fn mtty() -> Self {
        let byte = |region, offset| RegionByte { region, offset };
        Probe {
            state: [0, 1]
                .into_iter()
                .flat_map(|r| [1, 3, 4, 7].map(|o| byte(r, o)))
                .collect(),
            scratch: vec![byte(0, 7), byte(1, 7)],
        }
    }

    /// Parses `"0:7,1:7"` (region:offset, offsets in decimal or 0x hex).
    pub fn parse_bytes(text: &str) -> Result<Vec<RegionByte>, ProbeError> {
        let num = |s: &str| match s.trim().strip_prefix("0x") {
            Some(h) => u64::from_str_radix(h, 16),
            None => s.trim().parse(),
        };
        text.split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|item| {
                let bad = |problem: String| ProbeError::Byte {
                    item: item.trim().to_owned(),
                    problem,
                };
                let (r, o) = item
                    .trim()
                    .split_once(':')
                    .ok_or_else(|| bad("not region:offset".into()))?;
                let region = num(r).map_err(|e| bad(format!("region: {e}")))?;
                Ok(RegionByte {
                    region: u32::try_from(region).map_err(|e| bad(format!("region: {e}")))?,
                    offset: num(o).map_err(|e| bad(format!("offset: {e}")))?,
                })
            })
            .collect()
    }

    /// `VFIO_MIG_STATE_BYTES` and `VFIO_MIG_SCRATCH_BYTES`, when either is
    /// set.
    pub fn from_env() -> Result<Option<Self>, ProbeError> {
        let var = |v: &str| std::env::var(v).ok().filter(|s| !s.trim().is_empty());
        let (state, scratch) = (var("VFIO_MIG_STATE_BYTES"), var("VFIO_MIG_SCRATCH_BYTES"));
        let parse = |var: &'static str, text: Option<String>| {
            Probe::parse_bytes(text.as_deref().unwrap_or("")).map_err(|e| ProbeError::Var {
                var,
                source: Box::new(e),
            })
        };
        if state.is_none() && scratch.is_none() {
            return Ok(None);
        }
        Ok(Some(Probe {
            state: parse("VFIO_MIG_STATE_BYTES", state)?,
            scratch: parse("VFIO_MIG_SCRATCH_BYTES", scratch)?,
        }))
    }

    /// The probe for the VFIO device named `name`: `VFIO_MIG_STATE_BYTES` and
    /// `VFIO_MIG_SCRATCH_BYTES` when set, mtty's when the device is an mtty
    /// mdev, none otherwise.
    pub fn for_device(name: &str) -> Result<Self, ProbeError> {
        if let Some(p) = Probe::from_env()? {
            return Ok(p);
        }
        let mdev_type = Path::new("/sys/bus/mdev/devices").join(name).join("mdev_type");
        let is_mtty = std::fs::read_link(&mdev_type)
            .ok()
            .and_then(|t| t.file_name()?.to_str().map(|n| n.starts_with("mtty-")))
            .unwrap_or(false);
        Ok(if is_mtty { Probe::mtty() } else { Probe::default() })
    }
}

/// Why the bytes that show a device's state could not be named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    /// One `region:offset` item is wrong.
    #[error("`{item}`: {problem}")]
    Byte {
        /// The item.
        item: String,
        /// What is wrong with it.
        problem: String,
    },
    /// An environment variable holds a wrong list.
    #[error("{var}: {source}")]
    Var {
        /// The variable.
        var: &'static str,
        /// What is wrong in it.
        #[source]
        source: Box<ProbeError>,
    },
}
