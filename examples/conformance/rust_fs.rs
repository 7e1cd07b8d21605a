//! Rust std's view of the file system over the /data preopen: what real Rust programs do.
use std::fs::{self, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::process::ExitCode;

struct Checks(u32);

impl Checks {
    fn eq<T: PartialEq + std::fmt::Debug>(&mut self, name: &str, got: T, want: T) {
        if got == want {
            println!("{name}: ok");
        } else {
            println!("{name}: FAIL expected {want:?} got {got:?}");
            self.0 += 1;
        }
    }
}

fn kind<T>(r: std::io::Result<T>) -> String {
    match r {
        Ok(_) => "ok".into(),
        // raw_os_error: this rustc's ErrorKind has no stable DirectoryNotEmpty yet
        Err(e) => match e.raw_os_error() {
            Some(55) => "ENOTEMPTY".into(),
            _ => format!("{:?}", e.kind()),
        },
    }
}

fn main() -> ExitCode {
    let mut c = Checks(0);
    c.eq("read_to_string", fs::read_to_string("/data/hello.txt").ok(), Some("hello world\n".to_string()));
    c.eq("write", kind(fs::write("/data/r.txt", b"rust\n")), "ok".into());
    let mut f = OpenOptions::new().read(true).write(true).open("/data/r.txt").unwrap();
    c.eq("seek end", f.seek(SeekFrom::End(0)).ok(), Some(5));
    f.write_all(b"more\n").unwrap();
    c.eq("seek start", f.seek(SeekFrom::Start(0)).ok(), Some(0));
    let mut s = String::new();
    f.read_to_string(&mut s).unwrap();
    c.eq("read back", s, "rust\nmore\n".to_string());
    c.eq("metadata len", f.metadata().map(|m| m.len()).ok(), Some(10));
    c.eq("set_len", kind(f.set_len(4)), "ok".into());
    c.eq("len after set_len", fs::metadata("/data/r.txt").map(|m| m.len()).ok(), Some(4));
    drop(f);

    let mut a = OpenOptions::new().append(true).open("/data/r.txt").unwrap();
    a.write_all(b"+app").unwrap();
    drop(a);
    c.eq("append", fs::read_to_string("/data/r.txt").ok(), Some("rust+app".to_string()));

    let mut names: Vec<String> = fs::read_dir("/data/sub").unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    c.eq("read_dir (std hides . and ..)", names, vec!["a".to_string(), "b".into(), "c".into()]);
    c.eq("create_dir_all", kind(fs::create_dir_all("/data/x/y/z")), "ok".into());
    c.eq("rename", kind(fs::rename("/data/r.txt", "/data/x/y/z/r.txt")), "ok".into());
    c.eq("remove_dir non-empty", kind(fs::remove_dir("/data/x")), "ENOTEMPTY".into());
    c.eq("remove_dir_all", kind(fs::remove_dir_all("/data/x")), "ok".into());
    c.eq("exists after remove", fs::metadata("/data/x").is_ok(), false);
    c.eq("open missing", kind(fs::File::open("/data/missing")), "NotFound".into());
    c.eq("create_new existing", kind(OpenOptions::new().write(true).create_new(true).open("/data/hello.txt")), "AlreadyExists".into());
    c.eq("symlink_metadata is symlink", fs::symlink_metadata("/data/link-hello").map(|m| m.file_type().is_symlink()).ok(), Some(true));
    c.eq("metadata follows symlink", fs::metadata("/data/link-hello").map(|m| m.is_file()).ok(), Some(true));
    c.eq("read_link", fs::read_link("/data/link-hello").ok().map(|p| p.display().to_string()), Some("hello.txt".to_string()));
    c.eq("hard_link", kind(fs::hard_link("/data/hello.txt", "/data/h2")), "ok".into());
    c.eq("hard link contents", fs::read("/data/h2").ok().map(|b| b.len()), Some(12));
    c.eq("remove_file", kind(fs::remove_file("/data/h2")), "ok".into());
    c.eq("copy", fs::copy("/data/hello.txt", "/data/copy.txt").ok(), Some(12));
    if c.0 == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
