//! Reading the files a user hands the tool: migrations, pack files, the prelude, accepted
//! differences, settings. The tool often runs as root, so each must be a regular file,
//! checked before it is opened: a symbolic link could name `/etc/shadow`, a device
//! `/dev/zero` (read until memory runs out), and opening a FIFO waits forever.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::Path;

use sha2::Digest;

/// The bytes of the regular file at `path`; anything else is refused, unopened, with an
/// error of kind `InvalidInput` that says what it is.
pub fn read(path: &Path) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    open(path)?.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// As [`read`], as UTF-8 text.
pub fn read_to_string(path: &Path) -> io::Result<String> {
    let mut text = String::new();
    open(path)?.read_to_string(&mut text)?;
    Ok(text)
}

/// The digest of the regular file at `path`, read in blocks rather than whole.
pub fn hash<D: Digest>(path: &Path) -> io::Result<sha2::digest::Output<D>> {
    let mut file = open(path)?;
    let mut hasher = D::new();
    let mut block = vec![0; 64 * 1024];
    loop {
        match file.read(&mut block)? {
            0 => return Ok(hasher.finalize()),
            read => hasher.update(&block[..read]),
        }
    }
}

/// Refuses, without opening it, anything at `path` but a regular file.
pub fn check_regular(path: &Path) -> io::Result<()> {
    let kind = fs::symlink_metadata(path)?.file_type();
    if kind.is_file() {
        return Ok(());
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("not a regular file but {}", kind_name(kind)),
    ))
}

/// Opens a regular file, checked before opening and again once open (the path may have
/// been replaced in between).
fn open(path: &Path) -> io::Result<File> {
    check_regular(path)?;
    let file = File::open(path)?;
    let kind = file.metadata()?.file_type();
    if !kind.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a regular file but {}", kind_name(kind)),
        ));
    }
    Ok(file)
}

fn kind_name(kind: fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_symlink() {
        "a symbolic link: only regular files are read; replace it with a copy of the file"
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO (named pipe): only regular files are read"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device: only regular files are read"
    } else if kind.is_socket() {
        "a socket: only regular files are read"
    } else {
        "a special file: only regular files are read"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(path: &Path) -> String {
        let err = read(path).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        err.to_string()
    }

    #[test]
    fn links_devices_and_fifos_are_refused_without_reading() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("00010_x.sql");
        std::os::unix::fs::symlink("/etc/shadow", &link).unwrap();
        assert!(refusal(&link).contains("a symbolic link"));
        assert!(refusal(Path::new("/dev/zero")).contains("a device"));
        let fifo = dir.path().join("fifo.sql");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        // Opening a FIFO without a writer would block: this returning at all is the test.
        assert!(refusal(&fifo).contains("a FIFO"));
        assert!(refusal(dir.path()).contains("a directory"));
    }

    #[test]
    fn a_regular_file_is_read_and_hashed_in_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.sql");
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        fs::write(&path, &bytes).unwrap();
        assert_eq!(read(&path).unwrap(), bytes);
        assert_eq!(
            hash::<sha2::Sha256>(&path).unwrap(),
            sha2::Sha256::digest(&bytes)
        );
    }
}
