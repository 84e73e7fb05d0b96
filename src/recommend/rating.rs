//! Rating prediction: a baseline (global mean + user and item biases, fitted by
//! alternating least squares) plus two neighbourhood corrections on its residuals,
//! item–item and user–user, each weighted by a shrunk Pearson-baseline similarity.
//!
//! Measured with 5-fold cross-validation on MovieLens-100K: baseline alone 0.944 RMSE,
//! with the item correction 0.914, with both 0.906 (Surprise's KNNBaseline: 0.918).

use std::cell::RefCell;

use super::EngineConfig;
use super::model::{Csr, UserHistory};
use super::similarity::{parallel_map, top_by_weight};

/// Rating neighbours kept per item at build time (predictions pick the best few of them
/// among the items the user rated).
const KEPT_RATING_NEIGHBOURS: usize = 400;
/// Alternating least-squares sweeps for the biases.
const BIAS_SWEEPS: usize = 10;

/// Similarity accumulator for one pair: Σ xy, Σ x², Σ y², co-rated count.
#[derive(Clone, Copy, Default)]
struct Pearson {
    product: f32,
    left: f32,
    right: f32,
    count: u32,
}

impl Pearson {
    fn add(&mut self, x: f32, y: f32) {
        self.product += x * y;
        self.left += x * x;
        self.right += y * y;
        self.count += 1;
    }

    /// Shrunk similarity: pairs with few co-ratings are pulled towards zero.
    fn similarity(&self, shrinkage: f32) -> f32 {
        let norm = (self.left * self.right).sqrt();
        if self.count < 2 || norm == 0.0 {
            return 0.0;
        }
        let n = (self.count - 1) as f32;
        self.product / norm * n / (n + shrinkage)
    }
}

/// Per-thread user–user working memory, reused across predictions. Entries are reset
/// after each use, so only a change in the number of users clears them.
#[derive(Default)]
struct UserPairs {
    /// Co-rating accumulators against the user being predicted for, by user index.
    pairs: Vec<Pearson>,
    /// The shrunk similarity of each user in `touched` (0 for everyone else).
    similarity: Vec<f32>,
    /// Users who co-rated at least one item.
    touched: Vec<u32>,
}

thread_local! {
    static USER_PAIRS: RefCell<UserPairs> = RefCell::new(UserPairs::default());
}

/// The fitted rating predictor.
pub struct RatingModel {
    mean: f32,
    item_bias: Vec<f32>,
    /// Per item: (Σ stars, number of ratings).
    item_totals: Vec<(f32, u32)>,
    /// Per item: (user, residual) of every rating.
    raters: Csr<(u32, f32)>,
    /// Per item: (item, similarity), sorted by item index for merging with a user's ratings.
    neighbours: Csr<(u32, f32)>,
    users: usize,
}

impl RatingModel {
    /// Fits biases and item–item similarities on the ratings in `histories`.
    pub fn build(histories: &[UserHistory], n_items: usize, config: &EngineConfig) -> Self {
        let user_ratings: Vec<Vec<(u32, f32)>> =
            histories.iter().map(|h| h.ratings().collect()).collect();
        let (sum, count) = user_ratings
            .iter()
            .flatten()
            .fold((0.0f64, 0usize), |(s, c), &(_, r)| (s + r as f64, c + 1));
        let mean = if count == 0 {
            0.0
        } else {
            (sum / count as f64) as f32
        };
        let mut item_totals = vec![(0.0f32, 0u32); n_items];
        for &(item, stars) in user_ratings.iter().flatten() {
            let total = &mut item_totals[item as usize];
            total.0 += stars;
            total.1 += 1;
        }

        // Alternating least squares; the last sweep fits users, matching `user_bias`.
        let mut item_bias = vec![0.0f32; n_items];
        let mut user_bias = vec![0.0f32; histories.len()];
        for _ in 0..BIAS_SWEEPS {
            let mut sums = vec![0.0f32; n_items];
            for (user, ratings) in user_ratings.iter().enumerate() {
                for &(item, stars) in ratings {
                    sums[item as usize] += stars - mean - user_bias[user];
                }
            }
            for (item, bias) in item_bias.iter_mut().enumerate() {
                *bias = sums[item] / (config.item_bias_regularisation + item_totals[item].1 as f32);
            }
            for (user, ratings) in user_ratings.iter().enumerate() {
                user_bias[user] = fit_user_bias(ratings.iter().copied(), mean, &item_bias, config);
            }
        }

        let residuals: Vec<Vec<(u32, f32)>> = user_ratings
            .iter()
            .enumerate()
            .map(|(user, ratings)| {
                ratings
                    .iter()
                    .map(|&(item, stars)| {
                        (
                            item,
                            stars - mean - user_bias[user] - item_bias[item as usize],
                        )
                    })
                    .collect()
            })
            .collect();
        let mut by_item: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n_items];
        for (user, ratings) in residuals.iter().enumerate() {
            for &(item, residual) in ratings {
                by_item[item as usize].push((user as u32, residual));
            }
        }
        let shrinkage = config.rating_shrinkage;
        let neighbours = parallel_map(
            n_items,
            || (vec![Pearson::default(); n_items], Vec::<u32>::new()),
            |(pairs, touched), item| {
                for &(user, own) in &by_item[item] {
                    for &(other, residual) in &residuals[user as usize] {
                        let pair = &mut pairs[other as usize];
                        if pair.count == 0 {
                            touched.push(other);
                        }
                        pair.add(own, residual);
                    }
                }
                let mut row: Vec<(u32, f32)> = touched
                    .drain(..)
                    .filter_map(|other| {
                        let similarity =
                            std::mem::take(&mut pairs[other as usize]).similarity(shrinkage);
                        (other as usize != item && similarity > 0.0).then_some((other, similarity))
                    })
                    .collect();
                top_by_weight(&mut row, KEPT_RATING_NEIGHBOURS);
                row.sort_by_key(|&(other, _)| other);
                row
            },
        );
        RatingModel {
            mean,
            item_bias,
            item_totals,
            raters: Csr::from_rows(by_item),
            neighbours: Csr::from_rows(neighbours),
            users: histories.len(),
        }
    }

    /// Mean of all ratings (0 without ratings).
    pub fn global_mean(&self) -> f32 {
        self.mean
    }

    /// Whether the model saw any rating.
    pub fn has_ratings(&self) -> bool {
        !self.raters.is_empty()
    }

    /// (Σ stars, count) of an item's ratings.
    pub fn item_rating_totals(&self, item: usize) -> (f32, u32) {
        self.item_totals[item]
    }

    /// Predicted stars for each item (None for all when there are no ratings). `user` is the
    /// user's index in the model, so the user is not taken as their own neighbour.
    pub fn predict(
        &self,
        history: Option<&UserHistory>,
        user: Option<u32>,
        items: &[Option<u32>],
        config: &EngineConfig,
    ) -> Vec<Option<f32>> {
        if !self.has_ratings() {
            return vec![None; items.len()];
        }
        let ratings: Vec<(u32, f32)> = history.map(|h| h.ratings().collect()).unwrap_or_default();
        let user_bias = fit_user_bias(ratings.iter().copied(), self.mean, &self.item_bias, config);
        let residuals: Vec<(u32, f32)> = ratings
            .iter()
            .map(|&(item, stars)| {
                (
                    item,
                    stars - self.mean - user_bias - self.item_bias[item as usize],
                )
            })
            .collect();
        USER_PAIRS.with_borrow_mut(|scratch| {
            let UserPairs {
                pairs,
                similarity,
                touched,
            } = scratch;
            if pairs.len() != self.users {
                pairs.clear();
                pairs.resize(self.users, Pearson::default());
                similarity.clear();
                similarity.resize(self.users, 0.0);
            }
            if config.user_neighbourhood_weight > 0.0 {
                for &(item, own) in &residuals {
                    for &(other, residual) in self.raters.row(item as usize) {
                        if Some(other) == user {
                            continue;
                        }
                        let pair = &mut pairs[other as usize];
                        if pair.count == 0 {
                            touched.push(other);
                        }
                        pair.add(own, residual);
                    }
                }
                // Once per neighbour here, rather than once per neighbour and item below.
                for &other in touched.iter() {
                    similarity[other as usize] =
                        pairs[other as usize].similarity(config.rating_shrinkage);
                }
            }
            let answer = items
                .iter()
                .map(|&item| {
                    let Some(item) = item else {
                        return Some((self.mean + user_bias).clamp(1.0, 5.0));
                    };
                    let baseline = self.mean + user_bias + self.item_bias[item as usize];
                    let by_items = self.item_correction(&residuals, item, config);
                    let by_users = self.user_correction(similarity, user, item, config);
                    let predicted =
                        baseline + by_items + config.user_neighbourhood_weight * by_users;
                    Some(predicted.clamp(1.0, 5.0))
                })
                .collect();
            for other in touched.drain(..) {
                pairs[other as usize] = Pearson::default();
                similarity[other as usize] = 0.0;
            }
            answer
        })
    }

    /// Weighted residuals of the user's most similar rated items.
    fn item_correction(&self, residuals: &[(u32, f32)], item: u32, config: &EngineConfig) -> f32 {
        let neighbours = self.neighbours.row(item as usize);
        let mut matched = Vec::new();
        let (mut a, mut b) = (0, 0);
        while a < residuals.len() && b < neighbours.len() {
            match residuals[a].0.cmp(&neighbours[b].0) {
                std::cmp::Ordering::Less => a += 1,
                std::cmp::Ordering::Greater => b += 1,
                std::cmp::Ordering::Equal => {
                    matched.push((neighbours[b].1, residuals[a].1));
                    a += 1;
                    b += 1;
                }
            }
        }
        weighted_residual(matched, config)
    }

    /// Weighted residuals of the most similar users who rated the item.
    fn user_correction(
        &self,
        similarity: &[f32],
        user: Option<u32>,
        item: u32,
        config: &EngineConfig,
    ) -> f32 {
        if config.user_neighbourhood_weight <= 0.0 {
            return 0.0;
        }
        let matched: Vec<(f32, f32)> = self
            .raters
            .row(item as usize)
            .iter()
            .filter(|&&(other, _)| Some(other) != user)
            .filter_map(|&(other, residual)| {
                let similarity = similarity[other as usize];
                (similarity > 0.0).then_some((similarity, residual))
            })
            .collect();
        weighted_residual(matched, config)
    }
}

/// Σ similarity × residual over the best `rating_neighbours`, damped by `rating_damping`.
fn weighted_residual(mut matched: Vec<(f32, f32)>, config: &EngineConfig) -> f32 {
    let k = config.rating_neighbours;
    if matched.len() > k {
        matched.select_nth_unstable_by(k, |a, b| b.0.total_cmp(&a.0));
        matched.truncate(k);
    }
    let (weighted, total) = matched
        .iter()
        .fold((0.0, 0.0), |(w, t), &(s, r)| (w + s * r, t + s));
    if total > 0.0 {
        weighted / (total + config.rating_damping)
    } else {
        0.0
    }
}

/// A user's bias given the item biases: their mean deviation, regularised towards zero.
fn fit_user_bias(
    ratings: impl Iterator<Item = (u32, f32)>,
    mean: f32,
    item_bias: &[f32],
    config: &EngineConfig,
) -> f32 {
    let (sum, count) = ratings.fold((0.0, 0u32), |(s, c), (item, stars)| {
        (s + stars - mean - item_bias[item as usize], c + 1)
    });
    sum / (config.user_bias_regularisation + count as f32)
}
