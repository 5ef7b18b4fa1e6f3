//! A file the check did not read, or read only in part, and why: every output names these, so
//! no file is dropped without a word.

/// A file left out of the check, wholly or in part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NotRead {
    /// Relative to the checked folder, with `/` separators.
    pub file: String,
    /// 1-based; 0 when it is about the whole file.
    pub line: usize,
    /// Why, starting with what was left out: `not read: larger than 2 MiB (3.1 MiB)`.
    pub reason: String,
}

impl NotRead {
    pub(crate) fn new(file: impl Into<String>, line: usize, reason: impl Into<String>) -> NotRead {
        NotRead {
            file: file.into(),
            line,
            reason: reason.into(),
        }
    }
}

/// A size as a person reads it, for reasons: `812 bytes`, `512 KiB`, `2 MiB`, `3.1 MiB`.
pub(crate) fn human_size(bytes: u64) -> String {
    if bytes < 1 << 20 {
        if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
            return format!("{} KiB", bytes >> 10);
        }
        return format!("{bytes} bytes");
    }
    // Precision is not at stake: a file size as a person reads it.
    #[allow(clippy::cast_precision_loss)]
    let m = bytes as f64 / f64::from(1u32 << 20);
    if bytes.is_multiple_of(1 << 20) {
        format!("{m:.0} MiB")
    } else {
        format!("{m:.1} MiB")
    }
}
