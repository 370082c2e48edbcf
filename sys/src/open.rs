//! Finding and opening a VFIO device by the name a user gives: an mdev UUID,
//! a PCI address, a sysfs device directory, or a `/dev/vfio/devices/vfioN`
//! cdev.

use crate::{deadline::Worker, ioctl, uapi};
use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

/// How a user names a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceName {
    /// A device directory in sysfs (from an mdev UUID, a PCI address or a
    /// path under `/sys`); the last component is the VFIO device name.
    Sysfs(PathBuf),
    /// A VFIO device cdev (`/dev/vfio/devices/vfioN`), opened with iommufd.
    Cdev(PathBuf),
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts.iter().all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

fn is_pci_address(s: &str) -> bool {
    // dddd:bb:dd.f
    let b = s.as_bytes();
    b.len() == 12
        && b[4] == b':'
        && b[7] == b':'
        && b[10] == b'.'
        && s.chars()
            .enumerate()
            .all(|(i, c)| matches!(i, 4 | 7 | 10) || c.is_ascii_hexdigit())
}

impl DeviceName {
    /// Interprets `name` under the sysfs root `sys` (normally `/sys`).
    pub fn parse(name: &str, sys: &Path) -> Result<Self, String> {
        let name = name.trim();
        if name.starts_with("/dev/") {
            return Ok(DeviceName::Cdev(PathBuf::from(name)));
        }
        if is_uuid(name) {
            return Ok(DeviceName::Sysfs(sys.join("bus/mdev/devices").join(name)));
        }
        if is_pci_address(name) {
            return Ok(DeviceName::Sysfs(sys.join("bus/pci/devices").join(name)));
        }
        if name.starts_with('/') {
            return Ok(DeviceName::Sysfs(PathBuf::from(name)));
        }
        Err(format!(
            "`{name}` is not an mdev UUID, a PCI address (dddd:bb:dd.f), a sysfs device \
             directory or a /dev/vfio/devices/vfioN path"
        ))
    }
}

/// Why a device could not be opened: each path tried, and why it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenError {
    /// The device as the user named it.
    pub device: String,
    /// One line per path tried.
    pub tried: Vec<String>,
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cannot open VFIO device {}: {}",
            self.device,
            self.tried.join("; ")
        )
    }
}

impl std::error::Error for OpenError {}

/// The descriptors that keep an open device usable.
#[derive(Debug)]
pub struct Opened {
    /// The device fd.
    pub device: OwnedFd,
    /// The container and group, or the iommufd, held open with it.
    pub keep: Vec<OwnedFd>,
    /// How it was opened, for reports.
    pub route: String,
}

fn rw(path: &Path) -> Result<File, String> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| format!("open {}: {e}", path.display()))
}

fn os(what: &str) -> impl Fn(rustix::io::Errno) -> String + '_ {
    move |e| format!("{what}: {}", std::io::Error::from(e))
}

/// The group route: container, group from `iommu_group`, type1v2 IOMMU,
/// then the device by name.
fn via_group(sysdir: &Path, dev: &Path) -> Result<Opened, String> {
    let link = sysdir.join("iommu_group");
    let target = std::fs::read_link(&link).map_err(|e| format!("read {}: {e}", link.display()))?;
    let group_nr = target
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("{} points nowhere", link.display()))?
        .to_owned();
    let name = sysdir
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("{} has no device name", sysdir.display()))?;
    let container = OwnedFd::from(rw(&dev.join("vfio/vfio"))?);
    let version = ioctl::api_version(container.as_fd()).map_err(os("VFIO_GET_API_VERSION"))?;
    if version != uapi::VFIO_API_VERSION {
        return Err(format!(
            "VFIO API version {version}, expected {}",
            uapi::VFIO_API_VERSION
        ));
    }
    if !ioctl::check_extension(container.as_fd(), uapi::VFIO_TYPE1V2_IOMMU)
        .map_err(os("VFIO_CHECK_EXTENSION"))?
    {
        return Err("the container has no type1v2 IOMMU (is vfio_iommu_type1 loaded?)".into());
    }
    let group_path = dev.join("vfio").join(&group_nr);
    let group = OwnedFd::from(rw(&group_path)?);
    let status = ioctl::group_status(group.as_fd()).map_err(os("VFIO_GROUP_GET_STATUS"))?;
    if status.flags & uapi::VFIO_GROUP_FLAGS_VIABLE == 0 {
        return Err(format!(
            "group {group_nr} is not viable: every device in it must be bound to a VFIO driver"
        ));
    }
    ioctl::group_set_container(group.as_fd(), container.as_fd()).map_err(os("VFIO_GROUP_SET_CONTAINER"))?;
    ioctl::set_iommu(container.as_fd(), uapi::VFIO_TYPE1V2_IOMMU).map_err(os("VFIO_SET_IOMMU"))?;
    let cname = CString::new(name).map_err(|_| format!("device name {name:?} holds a NUL byte"))?;
    let device = ioctl::group_device_fd(group.as_fd(), &cname).map_err(os("VFIO_GROUP_GET_DEVICE_FD"))?;
    Ok(Opened {
        device,
        keep: vec![group, container],
        route: format!("group {group_nr} in a type1v2 container"),
    })
}

/// The cdev route: the device node bound to a fresh iommufd.
fn via_cdev(cdev: &Path, dev: &Path) -> Result<Opened, String> {
    let device = OwnedFd::from(rw(cdev)?);
    let iommufd = OwnedFd::from(rw(&dev.join("iommu"))?);
    ioctl::bind_iommufd(device.as_fd(), iommufd.as_fd()).map_err(os("VFIO_DEVICE_BIND_IOMMUFD"))?;
    Ok(Opened {
        device,
        keep: vec![iommufd],
        route: format!("cdev {} bound to iommufd", cdev.display()),
    })
}

/// The cdev of a sysfs device, when the kernel offers one
/// (`<dir>/vfio-dev/vfioN`).
fn cdev_of(sysdir: &Path, dev: &Path) -> Option<PathBuf> {
    let entries = std::fs::read_dir(sysdir.join("vfio-dev")).ok()?;
    entries
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .find(|n| n.starts_with("vfio"))
        .map(|n| dev.join("vfio/devices").join(n))
}

/// Opens `name` (roots `sys` and `dev` are `/sys` and `/dev` outside tests):
/// through the group first, then through the cdev when the kernel offers
/// one. Runs on `worker`, so a hung open is reported, not waited for.
pub fn open(worker: &mut Worker, name: &str, sys: &Path, dev: &Path) -> Result<Opened, OpenError> {
    let fail = |tried: Vec<String>| OpenError {
        device: name.to_owned(),
        tried,
    };
    let parsed = DeviceName::parse(name, sys).map_err(|e| fail(vec![e]))?;
    let dev = dev.to_path_buf();
    let job = move || -> rustix::io::Result<Result<Opened, Vec<String>>> {
        let mut tried = Vec::new();
        match parsed {
            DeviceName::Cdev(cdev) => match via_cdev(&cdev, &dev) {
                Ok(o) => return Ok(Ok(o)),
                Err(e) => tried.push(format!("cdev route: {e}")),
            },
            DeviceName::Sysfs(dir) => {
                if !dir.exists() {
                    tried.push(format!("{} does not exist", dir.display()));
                    return Ok(Err(tried));
                }
                match via_group(&dir, &dev) {
                    Ok(o) => return Ok(Ok(o)),
                    Err(e) => tried.push(format!("group route: {e}")),
                }
                match cdev_of(&dir, &dev) {
                    Some(cdev) => match via_cdev(&cdev, &dev) {
                        Ok(o) => return Ok(Ok(o)),
                        Err(e) => tried.push(format!("cdev route: {e}")),
                    },
                    None => tried.push(format!(
                        "cdev route: the kernel offers no cdev ({} is absent)",
                        dir.join("vfio-dev").display()
                    )),
                }
            }
        }
        Ok(Err(tried))
    };
    match worker.call("open", job) {
        Ok(r) => r.map_err(fail),
        Err(e) => Err(fail(vec![e.to_string()])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn names_are_recognised() {
        let sys = Path::new("/sys");
        let uuid = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001";
        assert_eq!(
            DeviceName::parse(uuid, sys).unwrap(),
            DeviceName::Sysfs(PathBuf::from(format!("/sys/bus/mdev/devices/{uuid}")))
        );
        assert_eq!(
            DeviceName::parse("0000:3b:00.1", sys).unwrap(),
            DeviceName::Sysfs(PathBuf::from("/sys/bus/pci/devices/0000:3b:00.1"))
        );
        assert_eq!(
            DeviceName::parse("/dev/vfio/devices/vfio3", sys).unwrap(),
            DeviceName::Cdev(PathBuf::from("/dev/vfio/devices/vfio3"))
        );
        let e = DeviceName::parse("mtty0", sys).unwrap_err();
        assert!(e.contains("not an mdev UUID"), "{e}");
    }

    #[test]
    fn a_missing_device_names_each_route_tried() {
        let tmp = std::env::temp_dir().join(format!("vfio-mig-sys-open-{}", std::process::id()));
        let devdir = tmp.join("sys/bus/pci/devices/0000:00:01.0");
        std::fs::create_dir_all(&devdir).unwrap();
        let mut w = Worker::new(Duration::from_secs(5));
        let e = open(&mut w, "0000:00:01.0", &tmp.join("sys"), &tmp.join("dev")).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("group route: read"), "{text}");
        assert!(text.contains("cdev route: the kernel offers no cdev"), "{text}");
        let e = open(&mut w, "0000:00:02.0", &tmp.join("sys"), &tmp.join("dev")).unwrap_err();
        assert!(e.to_string().contains("does not exist"), "{e}");
        let e = open(
            &mut w,
            "/dev/vfio/devices/vfio9",
            &tmp.join("sys"),
            &tmp.join("dev"),
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("cdev route: open /dev/vfio/devices/vfio9"),
            "{e}"
        );
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}
