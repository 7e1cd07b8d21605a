//! rsum: a std-only sha256sum work-alike (no crates.io here; no Debian source package with a std-only
//! Rust program could be fetched). Its output has sha256sum's format, so the native tool checks it.
//!
//!   rsum [FILE|DIR|-]...       print "HEX  NAME" per file; directories are walked in sorted order
//!   rsum -o OUT [FILE|DIR]...  also write that manifest to OUT
//!   rsum -c MANIFEST           verify a manifest: "NAME: OK" / "NAME: FAILED", status 1 on a failure
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::exit;

const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

struct Sha256 {
    h: [u32; 8],
    buf: Vec<u8>,
    len: u64,
}

impl Sha256 {
    fn new() -> Self {
        Sha256 {
            h: [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19],
            buf: Vec::with_capacity(64),
            len: 0,
        }
    }
    fn block(&mut self, b: &[u8]) {
        let mut w = [0u32; 64];
        for i in 0..16 {
            w[i] = u32::from_be_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16].wrapping_add(s0).wrapping_add(w[i - 7]).wrapping_add(s1);
        }
        let mut v = self.h;
        for i in 0..64 {
            let s1 = v[4].rotate_right(6) ^ v[4].rotate_right(11) ^ v[4].rotate_right(25);
            let ch = (v[4] & v[5]) ^ (!v[4] & v[6]);
            let t1 = v[7].wrapping_add(s1).wrapping_add(ch).wrapping_add(K[i]).wrapping_add(w[i]);
            let s0 = v[0].rotate_right(2) ^ v[0].rotate_right(13) ^ v[0].rotate_right(22);
            let maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
            let t2 = s0.wrapping_add(maj);
            v = [t1.wrapping_add(t2), v[0], v[1], v[2], v[3].wrapping_add(t1), v[4], v[5], v[6]];
        }
        for i in 0..8 {
            self.h[i] = self.h[i].wrapping_add(v[i]);
        }
    }
    fn update(&mut self, mut data: &[u8]) {
        self.len += data.len() as u64;
        if !self.buf.is_empty() {
            let take = (64 - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buf.len() == 64 {
                let b = std::mem::take(&mut self.buf);
                self.block(&b);
            }
        }
        while data.len() >= 64 {
            self.block(&data[..64]);
            data = &data[64..];
        }
        self.buf.extend_from_slice(data);
    }
    fn hex(mut self) -> String {
        let bits = self.len * 8;
        let mut pad = vec![0x80u8];
        while (self.len as usize + pad.len()) % 64 != 56 {
            pad.push(0);
        }
        pad.extend_from_slice(&bits.to_be_bytes());
        let len = self.len;
        self.update(&pad);
        self.len = len;
        self.h.iter().map(|x| format!("{:08x}", x)).collect()
    }
}

fn hash_reader(mut r: impl Read) -> io::Result<String> {
    let mut h = Sha256::new();
    // A small buffer on purpose: many fd_read calls, so freezes land in the middle of a file.
    let mut buf = [0u8; 16384];
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            return Ok(h.hex());
        }
        h.update(&buf[..n]);
    }
}

fn walk(path: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    if fs::metadata(path)?.is_dir() {
        let mut entries: Vec<PathBuf> = fs::read_dir(path)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
        entries.sort();
        for e in entries {
            walk(&e, out)?;
        }
    } else {
        out.push(path.to_path_buf());
    }
    Ok(())
}

fn check(manifest: &str) -> i32 {
    let text = match fs::read_to_string(manifest) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("rsum: {}: {}", manifest, e);
            return 2;
        }
    };
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut failed = 0;
    for line in text.lines() {
        let (want, name) = match line.split_once("  ") {
            Some(p) => p,
            None => continue,
        };
        let ok = fs::File::open(name).and_then(hash_reader).map(|got| got == want).unwrap_or(false);
        if !ok {
            failed += 1;
        }
        writeln!(out, "{}: {}", name, if ok { "OK" } else { "FAILED" }).unwrap();
    }
    if failed > 0 {
        eprintln!("rsum: WARNING: {} computed checksum{} did NOT match", failed, if failed == 1 { "" } else { "s" });
        1
    } else {
        0
    }
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() == 2 && args[0] == "-c" {
        exit(check(&args[1]));
    }
    let mut manifest: Option<String> = None;
    if args.len() >= 2 && args[0] == "-o" {
        manifest = Some(args[1].clone());
        args.drain(..2);
    }
    if args.is_empty() {
        args.push("-".into());
    }
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut lines = String::new();
    let mut status = 0;
    let (mut files, mut bytes) = (0u64, 0u64);
    for arg in &args {
        let mut paths = Vec::new();
        if arg == "-" {
            match hash_reader(io::stdin().lock()) {
                Ok(hex) => lines.push_str(&format!("{}  -\n", hex)),
                Err(e) => {
                    eprintln!("rsum: -: {}", e);
                    status = 1;
                }
            }
            continue;
        }
        if let Err(e) = walk(Path::new(arg), &mut paths) {
            eprintln!("rsum: {}: {}", arg, e);
            status = 1;
        }
        for p in paths {
            match fs::File::open(&p).and_then(hash_reader) {
                Ok(hex) => {
                    let line = format!("{}  {}\n", hex, p.display());
                    out.write_all(line.as_bytes()).unwrap();
                    lines.push_str(&line);
                    files += 1;
                    bytes += fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
                }
                Err(e) => {
                    eprintln!("rsum: {}: {}", p.display(), e);
                    status = 1;
                }
            }
        }
    }
    if args.iter().any(|a| a == "-") {
        out.write_all(lines.lines().filter(|l| l.ends_with("  -")).map(|l| format!("{}\n", l)).collect::<String>().as_bytes()).unwrap();
    }
    if let Some(m) = manifest {
        if let Err(e) = fs::write(&m, &lines) {
            eprintln!("rsum: {}: {}", m, e);
            status = 1;
        }
    }
    eprintln!("rsum: {} files, {} bytes", files, bytes);
    exit(status);
}
