//! Writing results: to standard output (a closed pipe is not an error) or to a file (written
//! to a temporary name and renamed, so a failure never leaves half a report behind).

use std::io::{self, Write};
use std::path::Path;

use crate::Failure;

/// Writes `text` to `out` if given, else to standard output.
pub fn emit(text: &str, out: Option<&Path>) -> Result<(), Failure> {
    match out {
        Some(path) => write_file(path, text),
        None => {
            let stdout = io::stdout();
            let mut lock = stdout.lock();
            match lock.write_all(text.as_bytes()).and_then(|()| lock.flush()) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                Err(e) => Err(Failure::Io(format!(
                    "failed to write to standard output: {e}"
                ))),
            }
        }
    }
}

fn write_file(path: &Path, text: &str) -> Result<(), Failure> {
    let file_name = path
        .file_name()
        .ok_or_else(|| Failure::Input(format!("--out {} is not a file name", path.display())))?;
    let mut temporary = path.to_path_buf();
    temporary.set_file_name(format!(".{}.partial", file_name.to_string_lossy()));
    let result = std::fs::write(&temporary, text).and_then(|()| std::fs::rename(&temporary, path));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&temporary);
        return Err(Failure::Io(format!(
            "failed to write {}: {e}\n  fix: check that the folder exists and is writable",
            path.display()
        )));
    }
    eprintln!("wrote {}", path.display());
    Ok(())
}
