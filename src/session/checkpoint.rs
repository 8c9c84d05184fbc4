//! Checkpoints: what is stored with an engine instance's memory image, and the image's header.
//!
//! The image itself is made and read by `src/instance/host.js` (a copy of the instance's memory
//! with its all-zero pages left out, deflate-raw compressed); [`ImageHeader`] reads its header so
//! the Worker can refuse a damaged or foreign image before restoring it.

use serde::{Deserialize, Serialize};

/// The checkpoint row's format. A row of another format is not restored.
pub const FORMAT: i64 = 1;

/// One stored checkpoint (table `checkpoints`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointMeta {
    pub format: i64,
    /// The engine build that took it (the engine module's SHA-256, shortened).
    pub build_id: String,
    /// The last journaled cell it holds.
    pub through_seq: i64,
    pub execution_count: i64,
    /// Bytes of the instance's memory.
    pub memory_bytes: u64,
    /// Bytes of the stored (compressed) image.
    pub image_bytes: u64,
    pub created_ms: i64,
    /// Whether the journal's cells up to `through_seq` were dropped: then only this engine
    /// build can rebuild the session.
    pub journal_pruned: bool,
}

/// `"ESI1"`, little-endian, at the start of every image.
pub const IMAGE_MAGIC: u32 = 0x3149_5345;
/// Wasm pages are 64 KiB.
pub const PAGE_BYTES: u64 = 65536;

/// The start of an image: `[magic u32][pages u32][bitmap bytes u32][bitmap]`, then the
/// compressed non-zero pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageHeader {
    pub pages: u32,
    /// Pages stored (the rest are zeros).
    pub stored_pages: u32,
}

impl ImageHeader {
    pub fn parse(image: &[u8]) -> Result<Self, String> {
        let word = |at: usize| -> Result<u32, String> {
            image
                .get(at..at + 4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .ok_or_else(|| "engine image truncated".to_string())
        };
        if word(0)? != IMAGE_MAGIC {
            return Err("not an engine image (bad magic)".into());
        }
        let pages = word(4)?;
        let bitmap_len = word(8)? as usize;
        if bitmap_len != (pages as usize).div_ceil(8) {
            return Err("engine image: bitmap does not match its page count".into());
        }
        let bitmap = image
            .get(12..12 + bitmap_len)
            .ok_or("engine image truncated")?;
        let stored_pages = bitmap.iter().map(|b| b.count_ones()).sum();
        Ok(Self {
            pages,
            stored_pages,
        })
    }

    /// Bytes of memory the image restores.
    pub fn memory_bytes(&self) -> u64 {
        u64::from(self.pages) * PAGE_BYTES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An image's first bytes as `host.js` writes them: 18 pages, pages 0, 1 and 17 stored.
    const STORED: [u8; 15] = [
        0x45,
        0x53,
        0x49,
        0x31, // "ESI1"
        18,
        0,
        0,
        0, // pages
        3,
        0,
        0,
        0, // bitmap bytes
        0b0000_0011,
        0,
        0b0000_0010, // bitmap
    ];

    #[test]
    fn reads_the_header_host_js_writes() {
        let header = ImageHeader::parse(&STORED).expect("parses");
        assert_eq!(
            header,
            ImageHeader {
                pages: 18,
                stored_pages: 3
            }
        );
        assert_eq!(header.memory_bytes(), 18 * 65536);
    }

    #[test]
    fn refuses_foreign_or_damaged_images() {
        for len in 0..STORED.len() {
            assert!(ImageHeader::parse(&STORED[..len]).is_err(), "prefix {len}");
        }
        let mut foreign = STORED;
        foreign[3] = b'2';
        assert!(ImageHeader::parse(&foreign).unwrap_err().contains("magic"));
        let mut wrong = STORED;
        wrong[8] = 2;
        assert!(ImageHeader::parse(&wrong).is_err());
    }

    #[test]
    fn stored_rows_of_format_1_still_read() {
        // A checkpoint of format 1 as JSON (the SQL store maps its row to this shape).
        let row = r#"{"format":1,"build_id":"3f2a9c0d1e4b","through_seq":41,"execution_count":57,
            "memory_bytes":9437184,"image_bytes":812345,"created_ms":1796000000000,
            "journal_pruned":false}"#;
        let meta: CheckpointMeta = serde_json::from_str(row).expect("reads");
        assert_eq!(meta.format, FORMAT);
        assert_eq!(meta.through_seq, 41);
        assert!(!meta.journal_pruned);
    }
}
