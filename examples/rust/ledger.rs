//! ledger: a Rust std program. State = a BTreeMap of account balances built
//! over ~30 rounds of deterministic pseudo-random transfers (heap-allocated
//! Strings and tree nodes), then a file written, read back and verified.
//!
//! Usage: ledger [dir]   (default /data, a preopened directory)
//! Env:   WMIG_LEDGER_NAME  name printed in the summary (default "ledger")
//!
//! Rust's stdout is line-buffered, so every println! is one fd_write.
use std::collections::BTreeMap;
use std::{env, fs, process};

/// Small deterministic generator (64-bit LCG, high bits used).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound
    }
}

fn main() {
    let dir = env::args().nth(1).unwrap_or_else(|| "/data".to_string());
    let mut rng = Lcg(2024);
    let mut accounts: BTreeMap<String, i64> = BTreeMap::new();

    for round in 1..=30 {
        // Open a new account every round, then make a handful of transfers.
        accounts.insert(format!("acct-{:02}", round), 1000);
        for _ in 0..8 {
            let n = accounts.len() as u64;
            let from = format!("acct-{:02}", rng.next(n) + 1);
            let to = format!("acct-{:02}", rng.next(n) + 1);
            let amount = rng.next(250) as i64;
            *accounts.get_mut(&from).unwrap() -= amount;
            *accounts.entry(to).or_insert(0) += amount;
        }
        let total: i64 = accounts.values().sum();
        let (richest, max) = accounts.iter().max_by_key(|(_, v)| **v).unwrap();
        println!(
            "round {}: {} accounts, total={}, richest={} ({})",
            round,
            accounts.len(),
            total,
            richest,
            max
        );
    }

    // Write the ledger, one "name balance" line per account, in key order.
    let path = format!("{}/ledger.txt", dir);
    let text: String = accounts.iter().map(|(k, v)| format!("{} {}\n", k, v)).collect();
    if let Err(e) = fs::write(&path, &text) {
        eprintln!("ledger: cannot write {}: {}", path, e);
        process::exit(1);
    }
    println!("wrote {} ({} bytes)", path, text.len());

    // Read it back, parse it and check it matches the in-memory map.
    let back = fs::read_to_string(&path).unwrap_or_else(|e| {
        eprintln!("ledger: cannot read {}: {}", path, e);
        process::exit(1);
    });
    let parsed: BTreeMap<String, i64> = back
        .lines()
        .map(|line| {
            let (name, bal) = line.split_once(' ').expect("malformed line");
            (name.to_string(), bal.parse().expect("bad balance"))
        })
        .collect();
    if parsed != accounts {
        eprintln!("ledger: {} does not match the in-memory ledger", path);
        process::exit(1);
    }
    println!("verified {} accounts", parsed.len());

    let name = env::var("WMIG_LEDGER_NAME").unwrap_or_else(|_| "ledger".to_string());
    let total: i64 = parsed.values().sum();
    let negative = parsed.values().filter(|v| **v < 0).count();
    println!("{}: {} accounts, total={}, overdrawn={}", name, parsed.len(), total, negative);
}
