//! A message's response budget: the most answer bytes one request message may make the server build.
//!
//! Why: the request size limit bounds what a client sends, not what it asks for. 64 RNG Retrieve items of
//! 16 MiB fit in a 3 KB request and once drove the server to abort on allocation failure; a batch of Gets of a
//! large object does the same. The budget is the request's Maximum Response Size, capped by the server's
//! `[limits] max_response_bytes` (default 64 MiB), so a client can lower it but never raise it past the server's.
//! What a request asks for up front (RNG Retrieve's Data Length) is reserved before any item runs; every answer
//! is then charged as it is made (the registry's `answer` column plus a per-item allowance). An item that would
//! overrun is answered Response Too Large instead, so memory held for one message stays within the budget plus
//! one item's answer.

use kmip::ResultReason;

use crate::error::KmipError;

/// Which limit a budget enforces (named in the error so the client knows what to change).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Limit {
    Request,
    Server,
}

/// The answer bytes one message may still use.
#[derive(Debug)]
pub struct ResponseBudget {
    limit: u64,
    which: Limit,
    used: u64,
}

impl ResponseBudget {
    /// The budget of a message whose header asked for `maximum_response_size`, on a server allowing
    /// `server_limit` bytes.
    pub fn new(maximum_response_size: Option<i32>, server_limit: usize) -> Self {
        let server_limit = server_limit as u64;
        match maximum_response_size.and_then(|m| u64::try_from(m).ok()) {
            Some(asked) if asked <= server_limit => Self {
                limit: asked,
                which: Limit::Request,
                used: 0,
            },
            _ => Self {
                limit: server_limit,
                which: Limit::Server,
                used: 0,
            },
        }
    }

    fn too_large(&self, needed: u64) -> KmipError {
        let limit = match self.which {
            Limit::Request => format!("the request's Maximum Response Size ({} bytes)", self.limit),
            Limit::Server => format!(
                "the server's response limit ({} bytes, [limits] max_response_bytes)",
                self.limit
            ),
        };
        KmipError::new(
            ResultReason::ResponseTooLarge,
            format!(
                "the answer would need {needed} bytes, more than {limit} allows; ask for less per message"
            ),
        )
    }

    /// Reserves what the whole message asks for before anything runs; refuses the message if it cannot fit.
    pub fn reserve(&mut self, asked: u64) -> Result<(), KmipError> {
        self.charge(asked)
    }

    /// Charges `bytes` more; refuses (charging nothing) when they do not fit.
    pub fn charge(&mut self, bytes: u64) -> Result<(), KmipError> {
        let total = self.used.saturating_add(bytes);
        if total > self.limit {
            return Err(self.too_large(total));
        }
        self.used = total;
        Ok(())
    }

    /// Gives back a reservation that the answer replaced (the answer is charged for what it really is).
    pub fn release(&mut self, bytes: u64) {
        self.used = self.used.saturating_sub(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_may_lower_the_limit_but_never_raise_it() {
        let mut lowered = ResponseBudget::new(Some(1000), 64 << 20);
        assert!(lowered.charge(1000).is_ok());
        let error = lowered.charge(1).unwrap_err();
        assert_eq!(error.reason, ResultReason::ResponseTooLarge);
        assert!(error.message.contains("Maximum Response Size"));

        let mut capped = ResponseBudget::new(Some(i32::MAX), 4096);
        let error = capped.reserve(64 * (16 << 20)).unwrap_err();
        assert!(
            error.message.contains("max_response_bytes"),
            "{}",
            error.message
        );
        assert!(capped.charge(4096).is_ok());
    }

    #[test]
    fn a_refused_charge_costs_nothing_and_a_release_gives_back() {
        let mut budget = ResponseBudget::new(None, 100);
        assert!(budget.charge(60).is_ok());
        assert!(budget.charge(60).is_err());
        assert!(budget.charge(40).is_ok());
        budget.release(50);
        assert!(budget.charge(50).is_ok());
        assert!(budget.charge(u64::MAX).is_err());
    }
}
