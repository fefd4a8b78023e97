//! Writing results: to standard output (a closed pipe is not an error) or to a file (written
//! to a temporary name and renamed, so a failure never leaves half a report behind).

use std::io::{self, Write};
use std::path::Path;

use crate::Failure;

/// Writes `text` to `out` if given, else to standard output.
pub fn emit(text: &str, out: Option<&Path>) -> Result<(), Failure> {
    emit_bytes(text.as_bytes(), out)
}

/// Writes `bytes` (a binary format such as Parquet, or text) to `out` if given, else to
/// standard output.
pub fn emit_bytes(bytes: &[u8], out: Option<&Path>) -> Result<(), Failure> {
    match out {
        Some(path) => write_file(path, bytes),
        None => {
            let stdout = io::stdout();
            let mut lock = stdout.lock();
            match lock.write_all(bytes).and_then(|()| lock.flush()) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                Err(e) => Err(Failure::Io(format!(
                    "failed to write to standard output: {e}"
                ))),
            }
        }
    }
}

fn write_file(path: &Path, text: &[u8]) -> Result<(), Failure> {
    let failed = |e: std::io::Error| {
        Failure::Io(format!(
            "failed to write {}: {e}\n  fix: check that the folder exists and is writable",
            path.display()
        ))
    };
    // Write through a link to what it points at, and straight into a pipe or device: only a
    // regular file (or a new one) is written to a temporary name and renamed into place.
    let target = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => std::fs::canonicalize(path).map_err(failed)?,
        Ok(meta) if !meta.is_file() => {
            if meta.is_dir() {
                return Err(Failure::Input(format!(
                    "--out {} is a folder\n  fix: give a file name inside it",
                    path.display()
                )));
            }
            std::fs::write(path, text).map_err(failed)?;
            eprintln!("wrote {}", path.display());
            return Ok(());
        }
        _ => path.to_path_buf(),
    };
    let file_name = target
        .file_name()
        .ok_or_else(|| Failure::Input(format!("--out {} is not a file name", path.display())))?;
    let mut temporary = target.clone();
    temporary.set_file_name(format!(".{}.partial", file_name.to_string_lossy()));
    let result =
        std::fs::write(&temporary, text).and_then(|()| std::fs::rename(&temporary, &target));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&temporary);
        return Err(failed(e));
    }
    eprintln!("wrote {}", path.display());
    Ok(())
}

/// The output format: the one asked for, else the one `--out`'s extension names, else a
/// table. An extension that names no format is an error rather than a table in disguise.
pub fn format_for<F: Copy>(
    given: Option<F>,
    out: Option<&Path>,
    table: F,
    by_extension: &[(&str, F)],
) -> Result<F, Failure> {
    if let Some(format) = given {
        return Ok(format);
    }
    // `.HTML` names the same format as `.html`.
    let lower = out
        .and_then(Path::extension)
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let Some(extension) = lower.as_deref() else {
        return Ok(table);
    };
    if extension == "txt" {
        return Ok(table);
    }
    by_extension.iter().find(|(e, _)| *e == extension).map(|(_, f)| *f).ok_or_else(|| {
        let known: Vec<&str> = by_extension.iter().map(|(e, _)| *e).collect();
        Failure::Input(format!(
            "--out {}: `.{extension}` names no output format\n  fix: add --format, or use one of .{} or .txt",
            out.map(|p| p.display().to_string()).unwrap_or_default(),
            known.join(", .")
        ))
    })
}
