//! A cell's file writes, held until the cell ends.
//!
//! A cell's writes and removals are staged here and stored only when the cell's effects stand
//! (like its variables): a cell stopped by a limit leaves no file behind. Reads in the cell see
//! its own staged changes over the stored files (the [`Index`]). Quotas are checked against the
//! stored totals plus the staged changes, at each write.

use std::{collections::BTreeMap, rc::Rc};

use super::FileInfo;
use crate::engine::{
    io::{ErrorKind, Failure},
    Limits, Reply, Request,
};

/// The stored files a cell starts from.
pub trait Index {
    fn get(&self, path: &str) -> Option<FileInfo>;
    /// Files whose path starts with `prefix`, sorted by path.
    fn list(&self, prefix: &str) -> Vec<FileInfo>;
    fn totals(&self) -> Totals;
}

/// How many files, of how many bytes together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub count: u64,
    pub bytes: u64,
}

/// A session's file quotas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    pub file_bytes: u64,
    pub files_bytes: u64,
    pub files_count: u64,
}

impl From<&Limits> for Quotas {
    fn from(limits: &Limits) -> Self {
        Self {
            file_bytes: limits.file_bytes,
            files_bytes: limits.files_bytes,
            files_count: limits.files_count,
        }
    }
}

impl Quotas {
    /// Whether storing `size` bytes at a path that now holds `existing` bytes (or nothing) fits,
    /// given the current `totals`. The error names the quota, its value and what was asked.
    pub fn check(&self, totals: Totals, existing: Option<u64>, size: u64) -> Result<(), String> {
        if size > self.file_bytes {
            return Err(format!(
                "quota exceeded: the file is {size} bytes, more than limits.file_bytes \
                 ({} bytes per file)",
                self.file_bytes
            ));
        }
        let count = totals.count + u64::from(existing.is_none());
        if count > self.files_count {
            return Err(format!(
                "quota exceeded: the session holds {} files, the most limits.files_count allows \
                 ({}); remove a file first",
                totals.count, self.files_count
            ));
        }
        let bytes = totals.bytes - existing.unwrap_or(0).min(totals.bytes) + size;
        if bytes > self.files_bytes {
            return Err(format!(
                "quota exceeded: storing {size} bytes would bring the session's files to {bytes} \
                 bytes, more than limits.files_bytes ({} bytes)",
                self.files_bytes
            ));
        }
        Ok(())
    }
}

/// A file written by the running cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedFile {
    pub data: Vec<u8>,
    pub content_type: String,
    pub modified_ms: i64,
}

/// What the host must do for one fs request.
#[derive(Debug, PartialEq)]
pub enum Action {
    /// Answer with this.
    Reply(Reply),
    /// Read this stored file's bytes and answer with them.
    ReadStored(String),
}

/// The running cell's changes: path → the new file, or `None` where it removed one.
#[derive(Debug, Default)]
pub struct Staged {
    changes: BTreeMap<String, Option<StagedFile>>,
}

impl Staged {
    /// Handles an fs request against `base` plus the staged changes. `now_ms` stamps writes.
    pub fn handle(
        &mut self,
        request: Request,
        base: &dyn Index,
        quotas: Quotas,
        now_ms: i64,
    ) -> Action {
        let reply = match request {
            Request::Read { path } => {
                return match self.changes.get(&path) {
                    Some(Some(file)) => Action::Reply(Reply::Bytes(Rc::new(file.data.clone()))),
                    Some(None) => Action::Reply(Reply::Failed(Failure::not_found(&path))),
                    None if base.get(&path).is_some() => Action::ReadStored(path),
                    None => Action::Reply(Reply::Failed(Failure::not_found(&path))),
                }
            }
            Request::Stat { path } => match self.stat(base, &path) {
                Some(info) => Reply::Stat(info),
                None => Reply::Failed(Failure::not_found(&path)),
            },
            Request::List { prefix } => Reply::List(self.list(base, &prefix)),
            Request::Remove { path } => Reply::Bool(self.remove(base, &path)),
            Request::Write {
                path,
                data,
                content_type,
            } => match self.write(base, quotas, path, data, content_type, now_ms) {
                Ok(()) => Reply::Done,
                Err(message) => {
                    Reply::Failed(Failure::new(ErrorKind::Error, Some("EQUOTA"), message))
                }
            },
            Request::Fetch(_) => Reply::Failed(Failure::new(
                ErrorKind::TypeError,
                None,
                "not a file request",
            )),
        };
        Action::Reply(reply)
    }

    fn stat(&self, base: &dyn Index, path: &str) -> Option<FileInfo> {
        match self.changes.get(path) {
            Some(Some(file)) => Some(info(path, file)),
            Some(None) => None,
            None => base.get(path),
        }
    }

    fn list(&self, base: &dyn Index, prefix: &str) -> Vec<FileInfo> {
        let mut files: BTreeMap<String, FileInfo> = base
            .list(prefix)
            .into_iter()
            .map(|f| (f.path.clone(), f))
            .collect();
        for (path, change) in self.changes.range(prefix.to_string()..) {
            if !path.starts_with(prefix) {
                break;
            }
            match change {
                Some(file) => files.insert(path.clone(), info(path, file)),
                None => files.remove(path),
            };
        }
        files.into_values().collect()
    }

    fn remove(&mut self, base: &dyn Index, path: &str) -> bool {
        let existed = self.stat(base, path).is_some();
        if base.get(path).is_some() {
            self.changes.insert(path.to_string(), None);
        } else {
            self.changes.remove(path);
        }
        existed
    }

    fn write(
        &mut self,
        base: &dyn Index,
        quotas: Quotas,
        path: String,
        data: Vec<u8>,
        content_type: String,
        now_ms: i64,
    ) -> Result<(), String> {
        let existing = self.stat(base, &path).map(|f| f.size);
        quotas.check(self.totals(base), existing, data.len() as u64)?;
        let file = StagedFile {
            data,
            content_type,
            modified_ms: now_ms,
        };
        self.changes.insert(path, Some(file));
        Ok(())
    }

    /// The totals the cell sees: the stored files with its changes applied.
    pub fn totals(&self, base: &dyn Index) -> Totals {
        let mut totals = base.totals();
        for (path, change) in &self.changes {
            if let Some(stored) = base.get(path) {
                totals.count -= 1;
                totals.bytes -= stored.size.min(totals.bytes);
            }
            if let Some(file) = change {
                totals.count += 1;
                totals.bytes += file.data.len() as u64;
            }
        }
        totals
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The changes, by path: the file written, or `None` for a removal.
    pub fn into_changes(self) -> BTreeMap<String, Option<StagedFile>> {
        self.changes
    }
}

fn info(path: &str, file: &StagedFile) -> FileInfo {
    FileInfo {
        path: path.to_string(),
        size: file.data.len() as u64,
        content_type: file.content_type.clone(),
        // Known once stored.
        etag: String::new(),
        modified_ms: file.modified_ms,
    }
}

/// Files held in memory: the input files of a one-shot run, and the index in tests.
#[derive(Debug, Default, Clone)]
pub struct MemoryFiles {
    pub files: BTreeMap<String, StagedFile>,
}

impl MemoryFiles {
    /// The bytes of `path`.
    pub fn read(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(|f| f.data.as_slice())
    }
}

impl Index for MemoryFiles {
    fn get(&self, path: &str) -> Option<FileInfo> {
        self.files.get(path).map(|f| info(path, f))
    }

    fn list(&self, prefix: &str) -> Vec<FileInfo> {
        self.files
            .range(prefix.to_string()..)
            .take_while(|(p, _)| p.starts_with(prefix))
            .map(|(p, f)| info(p, f))
            .collect()
    }

    fn totals(&self) -> Totals {
        Totals {
            count: self.files.len() as u64,
            bytes: self.files.values().map(|f| f.data.len() as u64).sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUOTAS: Quotas = Quotas {
        file_bytes: 10,
        files_bytes: 15,
        files_count: 3,
    };

    fn stored(files: &[(&str, &[u8])]) -> MemoryFiles {
        let mut base = MemoryFiles::default();
        for (path, data) in files {
            base.files.insert(
                path.to_string(),
                StagedFile {
                    data: data.to_vec(),
                    content_type: "text/plain".into(),
                    modified_ms: 1,
                },
            );
        }
        base
    }

    fn write(path: &str, data: &[u8]) -> Request {
        Request::Write {
            path: path.into(),
            data: data.to_vec(),
            content_type: "application/octet-stream".into(),
        }
    }

    fn reply(action: Action) -> Reply {
        match action {
            Action::Reply(reply) => reply,
            Action::ReadStored(path) => panic!("expected a reply, got a read of {path}"),
        }
    }

    fn code(reply: &Reply) -> Option<&str> {
        match reply {
            Reply::Failed(f) => f.code.as_deref(),
            _ => None,
        }
    }

    #[test]
    fn reads_see_the_cells_own_writes_and_removals() {
        let base = stored(&[("a", b"old")]);
        let mut staged = Staged::default();
        let read =
            |s: &mut Staged, p: &str| s.handle(Request::Read { path: p.into() }, &base, QUOTAS, 2);
        assert_eq!(read(&mut staged, "a"), Action::ReadStored("a".into()));
        assert_eq!(
            reply(staged.handle(write("a", b"new"), &base, QUOTAS, 2)),
            Reply::Done
        );
        assert_eq!(
            reply(read(&mut staged, "a")),
            Reply::Bytes(Rc::new(b"new".to_vec()))
        );
        assert_eq!(
            reply(staged.handle(Request::Remove { path: "a".into() }, &base, QUOTAS, 2)),
            Reply::Bool(true)
        );
        assert_eq!(code(&reply(read(&mut staged, "a"))), Some("ENOENT"));
        assert_eq!(
            reply(staged.handle(Request::Remove { path: "a".into() }, &base, QUOTAS, 2)),
            Reply::Bool(false)
        );
        assert_eq!(code(&reply(read(&mut staged, "missing"))), Some("ENOENT"));
    }

    #[test]
    fn listing_merges_staged_changes_in_path_order() {
        let base = stored(&[("d/1", b"x"), ("d/2", b"y"), ("e", b"z")]);
        let mut staged = Staged::default();
        staged.handle(Request::Remove { path: "d/2".into() }, &base, QUOTAS, 5);
        assert_eq!(
            reply(staged.handle(write("d/0", b"new"), &base, QUOTAS, 5)),
            Reply::Done
        );
        let Reply::List(files) = reply(staged.handle(
            Request::List {
                prefix: "d/".into(),
            },
            &base,
            QUOTAS,
            5,
        )) else {
            panic!("not a list")
        };
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["d/0", "d/1"]);
        assert_eq!(files[0].size, 3);
        assert_eq!(files[0].modified_ms, 5);
        assert_eq!(files[0].etag, "", "not stored yet");
    }

    #[test]
    fn quotas_count_stored_files_and_staged_changes() {
        let base = stored(&[("a", b"12345"), ("b", b"12345")]);
        let mut staged = Staged::default();
        // One file over file_bytes.
        let r = reply(staged.handle(write("c", &[0; 11]), &base, QUOTAS, 1));
        assert_eq!(code(&r), Some("EQUOTA"));
        assert!(format!("{r:?}").contains("limits.file_bytes"));
        // 5 + 5 + 6 > 15 total bytes.
        let r = reply(staged.handle(write("c", &[0; 6]), &base, QUOTAS, 1));
        assert!(format!("{r:?}").contains("limits.files_bytes"));
        // Replacing a file counts only the difference.
        assert_eq!(
            reply(staged.handle(write("a", &[0; 10]), &base, QUOTAS, 1)),
            Reply::Done
        );
        // A third file fits the count; a fourth does not.
        staged.handle(Request::Remove { path: "a".into() }, &base, QUOTAS, 1);
        assert_eq!(
            reply(staged.handle(write("c", b"1"), &base, QUOTAS, 1)),
            Reply::Done
        );
        assert_eq!(
            reply(staged.handle(write("d", b"1"), &base, QUOTAS, 1)),
            Reply::Done
        );
        let r = reply(staged.handle(write("e", b"1"), &base, QUOTAS, 1));
        assert!(format!("{r:?}").contains("limits.files_count"), "{r:?}");
        assert_eq!(staged.totals(&base), Totals { count: 3, bytes: 7 });
    }

    #[test]
    fn quota_check_for_uploads_names_each_quota() {
        let totals = Totals {
            count: 3,
            bytes: 10,
        };
        assert!(QUOTAS.check(totals, Some(2), 7).is_ok());
        let err = QUOTAS.check(totals, None, 1).expect_err("count");
        assert!(err.contains("limits.files_count"), "{err}");
        let err = QUOTAS.check(totals, Some(0), 6).expect_err("bytes");
        assert!(err.contains("limits.files_bytes"), "{err}");
        let err = QUOTAS.check(Totals::default(), None, 11).expect_err("size");
        assert!(err.contains("limits.file_bytes"), "{err}");
    }
}
