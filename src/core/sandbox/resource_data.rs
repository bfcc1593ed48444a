//! Fake account data in the shapes of the samples (S-BAL, S-TXN; the UAE's Data.Account),
//! the same for the same consent and account: amounts come from a hash of them, not a clock.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::resource_store::ConsentRecord;

/// At most this many transactions per page.
pub const MAX_PAGE: usize = 100;

/// FNV-1a: small, stable across versions and platforms, unlike std's hasher.
fn stable_hash(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain([0xff]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

fn amount(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

pub fn accounts(consent_id: &str, record: &ConsentRecord, uae: bool) -> Value {
    let listed = record
        .consent
        .get("accounts")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if !uae {
        return Value::Array(listed);
    }
    // The UAE consent carries no accounts: two made from the consent id.
    let hash = stable_hash(&[consent_id]);
    json!([
        {"AccountId": format!("uae-acc-{:04}", hash % 10_000), "AccountType": "Retail",
         "AccountSubType": "CurrentAccount", "Currency": "AED", "Nickname": "Sandbox Current"},
        {"AccountId": format!("uae-acc-{:04}", (hash / 10_000) % 10_000), "AccountType": "Retail",
         "AccountSubType": "Savings", "Currency": "AED", "Nickname": "Sandbox Savings"},
    ])
}

pub fn balances(consent_id: &str, account_id: &str) -> Value {
    let hash = stable_hash(&[consent_id, account_id]);
    let current = 10_000 + hash % 5_000_000;
    let statement = current - (hash >> 20) % current.min(500_000);
    json!({
        "account_id": account_id,
        "current_balance": {
            "amount": {"amount": amount(current), "currency": "MYR"},
            "credit_debit_indicator": "credit",
        },
        "statement_balance": {
            "amount": {"amount": amount(statement), "currency": "MYR"},
            "credit_debit_indicator": "credit",
        },
        "statement_date": "2026-01-31",
        "credit_lines_included": false,
    })
}

pub fn transactions(consent_id: &str, account_id: &str, page_size: usize, now: Timestamp) -> Value {
    const METHODS: [(&str, &str); 3] = [
        ("duitnow", "qr"),
        ("ibg", "interbank_giro"),
        ("fpx", "online_banking"),
    ];
    const DESCRIPTIONS: [&str; 4] = ["Grocery store", "Salary", "Electricity bill", "Coffee shop"];
    // Dates count back from the day the consent's data was asked, whole days only, so the
    // same page is the same within a day.
    let today = now.as_second() - now.as_second().rem_euclid(86_400);
    (0..page_size.clamp(1, MAX_PAGE))
        .map(|i| {
            let index = i.to_string();
            let hash = stable_hash(&[consent_id, account_id, &index]);
            let (method, submethod) = METHODS[(hash % 3) as usize];
            let credit = hash % 4 == 1;
            let date = Timestamp::from_second(today).unwrap_or(now)
                - SignedDuration::from_hours(24 * (i as i64 + (hash % 2) as i64));
            json!({
                "account_id": account_id,
                "transaction_id": format!("txn-{:012x}", hash & 0xffff_ffff_ffff),
                "transaction_date": date.to_string(),
                "credit_debit_indicator": if credit { "credit" } else { "debit" },
                "amount": {"amount": amount(100 + (hash >> 8) % 50_000), "currency": "MYR"},
                "description": DESCRIPTIONS[((hash >> 4) % 4) as usize],
                "transfer_method": method,
                "transfer_submethod": submethod,
                "is_settled": i > 0,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_consent_and_account_give_the_same_data() {
        assert_eq!(balances("c1", "a1"), balances("c1", "a1"));
        assert_ne!(balances("c1", "a1"), balances("c2", "a1"));
        let now: Timestamp = "2026-01-30T10:00:00Z".parse().unwrap();
        let later: Timestamp = "2026-01-30T18:00:00Z".parse().unwrap();
        let page = transactions("c1", "a1", 5, now);
        assert_eq!(page.as_array().unwrap().len(), 5);
        assert_eq!(page, transactions("c1", "a1", 5, later));
        assert_eq!(
            transactions("c1", "a1", 1000, now)
                .as_array()
                .unwrap()
                .len(),
            MAX_PAGE
        );
        let b = balances("c1", "a1");
        assert!(
            b["current_balance"]["amount"]["amount"]
                .as_str()
                .unwrap()
                .contains('.')
        );
    }
}
