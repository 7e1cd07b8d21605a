//! Rust std: args, environment, clocks, randomness through HashMap, stdout/stderr, exit codes.
//! Run with args "alpha" "two words" and env CONF_A=1 CONF_B=x=y.
use std::collections::HashMap;
use std::io::Write;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn main() {
    let mut failures = 0;
    let mut eq = |name: &str, got: String, want: &str| {
        if got == want {
            println!("{name}: ok");
        } else {
            println!("{name}: FAIL expected {want:?} got {got:?}");
            failures += 1;
        }
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    eq("args", format!("{args:?}"), r#"["alpha", "two words"]"#);
    eq("env CONF_A", std::env::var("CONF_A").unwrap_or_default(), "1");
    eq("env CONF_B", std::env::var("CONF_B").unwrap_or_default(), "x=y");
    eq("env missing", format!("{:?}", std::env::var("CONF_UNSET").ok()), "None");
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    eq("SystemTime after 2020", (secs > 1_577_836_800).to_string(), "true");
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_millis(5));
    eq("sleep 5ms", (t0.elapsed() >= Duration::from_millis(5)).to_string(), "true");
    let mut m = HashMap::new();
    m.insert("k", 1); // RandomState seeds from random_get
    eq("HashMap", m.get("k").copied().unwrap_or(0).to_string(), "1");
    eq("cwd", format!("{:?}", std::env::current_dir().ok().map(|p| p.display().to_string())), "Some(\"/\")");
    std::io::stdout().flush().unwrap();
    eprintln!("to stderr");
    let code = if failures == 0 { 0 } else { 1 };
    std::process::exit(code);
}
