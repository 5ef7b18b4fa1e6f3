//! The pack: every object of the history folder in one deflate stream, made by `build.rs` and
//! read back by the binary. An object is its name (the 64 hex digits of its sha256), its
//! length (8 bytes, little-endian) and its bytes, in name order.
//!
//! This file is compiled twice: into the crate, and into `build.rs` (`#[path]`), which has
//! only the standard library and flate2; it uses nothing else.

use std::io::{Read, Write};

/// The length of an object's name.
pub(crate) const NAME_LEN: usize = 64;

/// The largest pack the binary inflates: far above what years of releases hold, so a damaged
/// or hostile pack cannot take the memory.
pub(crate) const MAX_INFLATED: u64 = 256 << 20;

/// Whether `name` names an object: 64 lowercase hex digits.
pub(crate) fn is_object_name(name: &str) -> bool {
    name.len() == NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The pack of `objects` (name, bytes), which must be in name order (`build.rs` makes it).
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn pack<'a>(
    objects: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> std::io::Result<Vec<u8>> {
    let mut out = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    for (name, bytes) in objects {
        out.write_all(name.as_bytes())?;
        out.write_all(&(bytes.len() as u64).to_le_bytes())?;
        out.write_all(bytes)?;
    }
    out.finish()
}

/// `bytes`, deflated (`build.rs` deflates the index so).
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn deflate(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    out.write_all(bytes)?;
    out.finish()
}

/// `deflated`, inflated; at most [`MAX_INFLATED`] bytes.
pub(crate) fn inflate(deflated: &[u8]) -> Result<Vec<u8>, String> {
    let mut raw = Vec::new();
    flate2::read::DeflateDecoder::new(deflated)
        .take(MAX_INFLATED + 1)
        .read_to_end(&mut raw)
        .map_err(|e| format!("cannot inflate: {e}"))?;
    if raw.len() as u64 > MAX_INFLATED {
        return Err(format!("inflates to more than {MAX_INFLATED} bytes"));
    }
    Ok(raw)
}

/// The objects of a pack, in its order; an error says what is wrong with it.
pub(crate) fn unpack(packed: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let raw = inflate(packed)?;
    let mut objects = Vec::new();
    let mut rest = &raw[..];
    while !rest.is_empty() {
        if rest.len() < NAME_LEN + 8 {
            return Err(format!(
                "ends inside the header of object {}",
                objects.len() + 1
            ));
        }
        let (name, after) = rest.split_at(NAME_LEN);
        let name = std::str::from_utf8(name)
            .ok()
            .filter(|n| is_object_name(n))
            .ok_or_else(|| format!("object {} has no valid name", objects.len() + 1))?
            .to_owned();
        let (len, after) = after.split_at(8);
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(len);
        let len = u64::from_le_bytes(bytes);
        if len > after.len() as u64 {
            return Err(format!("object {name} is cut short"));
        }
        let (body, after) = after.split_at(len as usize);
        objects.push((name, body.to_vec()));
        rest = after;
    }
    Ok(objects)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "0000000000000000000000000000000000000000000000000000000000000000";
    const B: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

    #[test]
    fn objects_come_back_as_packed() {
        let packed = pack([(A, &b""[..]), (B, &b"hello\n"[..])]).unwrap();
        let objects = unpack(&packed).unwrap();
        assert_eq!(
            objects,
            vec![(A.to_owned(), vec![]), (B.to_owned(), b"hello\n".to_vec())]
        );
        assert_eq!(unpack(&pack([]).unwrap()).unwrap(), vec![]);
        let index = b"format = 1\n".repeat(100);
        assert_eq!(inflate(&deflate(&index).unwrap()).unwrap(), index);
    }

    #[test]
    fn a_damaged_pack_is_an_error_not_a_panic() {
        let packed = pack([(A, &b"0123456789"[..])]).unwrap();
        // Every truncation of the inflated stream, and garbage.
        let mut raw = Vec::new();
        flate2::read::DeflateDecoder::new(&packed[..])
            .read_to_end(&mut raw)
            .unwrap();
        for cut in 1..raw.len() {
            let mut e = flate2::write::DeflateEncoder::new(Vec::new(), Default::default());
            e.write_all(&raw[..cut]).unwrap();
            assert!(unpack(&e.finish().unwrap()).is_err(), "cut at {cut}");
        }
        assert!(unpack(b"not deflate at all \xff\xff").is_err());
        let mut bad = raw.clone();
        bad[0] = b'G';
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), Default::default());
        e.write_all(&bad).unwrap();
        assert!(unpack(&e.finish().unwrap())
            .unwrap_err()
            .contains("no valid name"));
    }

    #[test]
    fn object_names_are_lowercase_sha256_hex() {
        assert!(is_object_name(A));
        assert!(!is_object_name(&A.to_uppercase().replace('0', "A")));
        assert!(!is_object_name("abc"));
        assert!(!is_object_name(&format!("{}g", &A[1..])));
    }
}
