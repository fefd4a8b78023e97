//! The one way the command reads an input file: scenarios, specs, portfolios, the plans they
//! name, calibration tables and `--catalog` files all come through [`read_input`].
//!
//! It refuses what is not a regular file (a FIFO would block forever, `/dev/zero` never ends,
//! a folder is a mistake) and files over [`MAX_INPUT_BYTES`], before reading a byte, and reads
//! at most that many bytes even if the file grows meanwhile: no input can hang the command or
//! exhaust its memory.

use std::io::Read;
use std::path::Path;

use crate::Failure;

/// Largest input file read: the shipped scenarios and catalog files are tens of kilobytes, the
/// calibration tables a few hundred.
pub const MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;

/// The text of the input file `path`, which `what` names in messages (`scenario file`,
/// `training spec`). Exit 2 (an input error) naming the file and the fix when it is missing,
/// not a regular file, over [`MAX_INPUT_BYTES`], or not UTF-8.
pub fn read_input(path: &Path, what: &str) -> Result<String, Failure> {
    let shown = path.display();
    // `metadata` follows links, so a link to /dev/zero is seen as the device it is; it never
    // opens the file, so a FIFO cannot block here.
    let meta = std::fs::metadata(path).map_err(|e| {
        Failure::Input(format!(
            "failed to read {shown}: {e}\n  fix: give the path of a {what}"
        ))
    })?;
    check_kind(&meta, path, what)?;
    let file = std::fs::File::open(path).map_err(|e| {
        Failure::Input(format!(
            "failed to read {shown}: {e}\n  fix: give the path of a readable {what}"
        ))
    })?;
    // Checked again on the open file: the path may have been swapped since.
    let meta = file
        .metadata()
        .map_err(|e| Failure::Input(format!("failed to read {shown}: {e}")))?;
    check_kind(&meta, path, what)?;
    let mut bytes = Vec::with_capacity(meta.len().min(MAX_INPUT_BYTES) as usize);
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            Failure::Input(format!(
                "failed to read {shown}: {e}\n  fix: give the path of a readable {what}"
            ))
        })?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(too_large(path, what));
    }
    String::from_utf8(bytes).map_err(|e| {
        Failure::Input(format!(
            "failed to read {shown}: it is not UTF-8 text (invalid byte at offset {})\n  fix: a {what} is UTF-8 TOML text; save it as UTF-8",
            e.utf8_error().valid_up_to()
        ))
    })
}

fn check_kind(meta: &std::fs::Metadata, path: &Path, what: &str) -> Result<(), Failure> {
    let shown = path.display();
    if meta.is_dir() {
        return Err(Failure::Input(format!(
            "{shown} is a folder, not a {what}\n  fix: give the path of the {what} itself"
        )));
    }
    if !meta.is_file() {
        return Err(Failure::Input(format!(
            "{shown} is not a regular file (a device, FIFO or socket), so it is not read\n  fix: save the {what} to a file and give that file's path"
        )));
    }
    if meta.len() > MAX_INPUT_BYTES {
        return Err(too_large(path, what));
    }
    Ok(())
}

fn too_large(path: &Path, what: &str) -> Failure {
    Failure::Input(format!(
        "{} is larger than {} MiB, the most an input file may be\n  fix: check that it is the {what} you meant; real ones are far smaller",
        path.display(),
        MAX_INPUT_BYTES / (1024 * 1024)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(r: Result<String, Failure>) -> String {
        match r {
            Err(Failure::Input(m)) => m,
            other => panic!("expected an input error, got {other:?}"),
        }
    }

    #[test]
    fn regular_files_are_read_and_others_refused() {
        let dir = std::env::temp_dir().join(format!("gigawatt-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("ok.toml");
        std::fs::write(&file, "name = \"x\"\n").unwrap();
        assert_eq!(
            read_input(&file, "scenario file").unwrap(),
            "name = \"x\"\n"
        );
        assert!(message(read_input(&dir, "scenario file")).contains("is a folder"));
        assert!(
            message(read_input(&dir.join("missing.toml"), "scenario file"))
                .contains("failed to read")
        );
        let binary = dir.join("binary.toml");
        std::fs::write(&binary, [0xff, 0xfe, 0x00]).unwrap();
        assert!(message(read_input(&binary, "scenario file")).contains("not UTF-8"));
        #[cfg(unix)]
        assert!(message(read_input(Path::new("/dev/zero"), "training spec"))
            .contains("not a regular file"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
