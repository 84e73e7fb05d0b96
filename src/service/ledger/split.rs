//! How a paid amount is divided, to the fen.
//!
//! The platform's fee and each promoter's commission are the paid amount times their
//! rate in basis points, rounded down; the creator gets the rest, so every fen lost to
//! rounding goes to the creator and the parts always add up to what was paid.

/// A promoter owed a commission on a sale, at a rate in basis points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Commission {
    /// The promoter (a user).
    pub promoter_id: i64,
    /// Their rate in basis points of the amount paid.
    pub rate_bps: i64,
}

/// A paid amount divided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// The platform's fee.
    pub fee_fen: i64,
    /// Each promoter's commission, in the order given.
    pub commissions: Vec<(i64, i64)>,
    /// The creator's share: what is left.
    pub creator_fen: i64,
}

/// `paid_fen` times `bps` basis points, rounded down (0 for a negative amount or rate).
fn share(paid_fen: i64, bps: i64) -> i64 {
    if paid_fen <= 0 || bps <= 0 {
        return 0;
    }
    // i128: a large order times 10,000 must not overflow.
    ((i128::from(paid_fen) * i128::from(bps.min(10_000))) / 10_000) as i64
}

/// Divides `paid_fen` into the platform's fee at `fee_bps`, the `commissions` and the
/// creator's share. Rates that together exceed the whole are cut at what is left, so
/// the creator's share is never negative.
pub fn split(paid_fen: i64, fee_bps: i64, commissions: &[Commission]) -> Split {
    let fee_fen = share(paid_fen, fee_bps);
    let mut left = paid_fen.max(0) - fee_fen;
    let commissions = commissions
        .iter()
        .map(|c| {
            let owed = share(paid_fen, c.rate_bps).min(left);
            left -= owed;
            (c.promoter_id, owed)
        })
        .collect();
    Split {
        fee_fen,
        commissions,
        creator_fen: left,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn promoter(promoter_id: i64, rate_bps: i64) -> Commission {
        Commission {
            promoter_id,
            rate_bps,
        }
    }

    /// Worked by hand: fee = floor(paid × fee / 10,000), each commission likewise, and
    /// the creator the remainder.
    #[test]
    fn splits_match_the_hand_computed_table() {
        // (paid, fee rate, commissions, fee, commissions owed, creator's share)
        type Case = (i64, i64, Vec<Commission>, i64, Vec<(i64, i64)>, i64);
        let cases: [Case; 6] = [
            // 99.00 yuan at 10 %: 990 fee, 8,910 to the creator.
            (9_900, 1_000, vec![], 990, vec![], 8_910),
            // 0.99 yuan at 10 %: 9.9 rounds down to 9; the creator gets 90.
            (99, 1_000, vec![], 9, vec![], 90),
            // 199.99 at 5 % with a 20 % promoter: 999.95 → 999, 3,999.8 → 3,999.
            (
                19_999,
                500,
                vec![promoter(7, 2_000)],
                999,
                vec![(7, 3_999)],
                15_001,
            ),
            // Two levels, 15 % and 5 %, on 66.66: 666, 999.9 → 999, 333.3 → 333.
            (
                6_666,
                1_000,
                vec![promoter(7, 1_500), promoter(8, 500)],
                666,
                vec![(7, 999), (8, 333)],
                4_668,
            ),
            // No fee (a creator's own rate of 0) and 1 fen.
            (1, 0, vec![promoter(7, 5_000)], 0, vec![(7, 0)], 1),
            // Rates over the whole are cut at what is left.
            (
                1_000,
                6_000,
                vec![promoter(7, 6_000)],
                600,
                vec![(7, 400)],
                0,
            ),
        ];
        for (paid, fee_bps, commissions, fee, owed, creator) in cases {
            let split = split(paid, fee_bps, &commissions);
            assert_eq!(
                split,
                Split {
                    fee_fen: fee,
                    commissions: owed,
                    creator_fen: creator,
                },
                "{paid} fen at {fee_bps} bps"
            );
            let parts: i64 = split.fee_fen
                + split.commissions.iter().map(|(_, c)| c).sum::<i64>()
                + split.creator_fen;
            assert_eq!(parts, paid, "the parts add up to what was paid");
        }
    }

    #[test]
    fn large_amounts_do_not_overflow() {
        let split = split(i64::MAX / 2, 10_000, &[]);
        assert_eq!(split.fee_fen, i64::MAX / 2);
        assert_eq!(split.creator_fen, 0);
    }
}
