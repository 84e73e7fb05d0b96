//! Offline evaluation on MovieLens-format data (`user item rating timestamp`), and the
//! batch commands built on the same engine.
//!
//! Protocol:
//! - rating prediction: 5-fold cross-validation over all ratings (shuffled with the seed),
//!   RMSE and MAE averaged over the folds;
//! - top-N: per-user stratified split, 75 % of each user's ratings (shuffled) to train and
//!   the rest to test; every user with test items gets a top 10 with their training items
//!   removed; any test item counts as relevant. precision@10, recall@10 (hits / test items),
//!   NDCG@10 (binary gains, ideal over min(test items, 10)) and MAP@10 (average precision
//!   over min(test items, 10)), averaged over users.
//!
//! The popularity baseline ranks by number of training interactions and predicts an item's
//! Bayesian-average rating.

use std::collections::HashMap;
use std::io::{self, BufRead, Write};
use std::time::Instant;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::{EngineConfig, Explanations, Interaction, Model, Signal};

/// Ratings read from a file or generated, with ids interned densely.
#[derive(Clone, Debug, Default)]
pub struct Dataset {
    /// User ids as written in the file, by dense index.
    pub users: Vec<String>,
    /// Item ids as written in the file, by dense index.
    pub items: Vec<String>,
    /// (user, item, stars, timestamp), one per (user, item).
    pub ratings: Vec<(u32, u32, f32, i64)>,
    user_index: HashMap<String, u32>,
    item_index: HashMap<String, u32>,
}

/// Why a data file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: io::Error,
    },
    /// A line is not `user item rating [timestamp]`.
    #[error("{path}:{line}: expected `user<TAB>item<TAB>rating<TAB>timestamp`")]
    Malformed {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
    },
}

/// Splits a MovieLens line: tabs (100K), `::` (1M/10M) or any whitespace.
fn fields(line: &str) -> Vec<&str> {
    if line.contains("::") {
        line.split("::").map(str::trim).collect()
    } else {
        line.split_whitespace().collect()
    }
}

impl Dataset {
    /// Reads `user item rating timestamp` lines; a header line is skipped, a repeated
    /// (user, item) keeps the last rating.
    pub fn read(path: &std::path::Path) -> Result<Dataset, DatasetError> {
        let shown = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|source| DatasetError::Io {
            path: shown.clone(),
            source,
        })?;
        let mut dataset = Dataset::default();
        let mut seen: HashMap<(u32, u32), usize> = HashMap::new();
        for (number, line) in io::BufReader::new(file).lines().enumerate() {
            let line = line.map_err(|source| DatasetError::Io {
                path: shown.clone(),
                source,
            })?;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let parts = fields(line);
            let stars = parts.get(2).and_then(|s| s.parse::<f32>().ok());
            let (Some(user), Some(item), Some(stars)) = (parts.first(), parts.get(1), stars) else {
                if number == 0 {
                    continue; // a header
                }
                return Err(DatasetError::Malformed {
                    path: shown,
                    line: number + 1,
                });
            };
            let at = parts
                .get(3)
                .and_then(|s| s.parse::<f64>().ok())
                .unwrap_or(0.0) as i64;
            let (user, item) = (dataset.intern_user(user), dataset.intern_item(item));
            match seen.get(&(user, item)) {
                Some(&at_index) => dataset.ratings[at_index] = (user, item, stars, at),
                None => {
                    seen.insert((user, item), dataset.ratings.len());
                    dataset.ratings.push((user, item, stars, at));
                }
            }
        }
        Ok(dataset)
    }

    /// Dense index of a user id, adding it if new.
    pub fn intern_user(&mut self, id: &str) -> u32 {
        intern(&mut self.users, &mut self.user_index, id)
    }

    /// Dense index of an item id, adding it if new.
    pub fn intern_item(&mut self, id: &str) -> u32 {
        intern(&mut self.items, &mut self.item_index, id)
    }

    /// Index of a known user id.
    pub fn user(&self, id: &str) -> Option<u32> {
        self.user_index.get(id).copied()
    }

    /// Index of a known item id.
    pub fn item(&self, id: &str) -> Option<u32> {
        self.item_index.get(id).copied()
    }

    /// The ratings at `indexes` as engine interactions.
    fn interactions(&self, indexes: impl Iterator<Item = usize>) -> Vec<Interaction> {
        indexes
            .map(|i| {
                let (user, item, stars, at) = self.ratings[i];
                Interaction {
                    user: user as i64,
                    item: item as i64,
                    signal: Signal::Rating(stars),
                    at,
                }
            })
            .collect()
    }

    /// Writes the ratings in MovieLens 100K format.
    pub fn write(&self, out: &mut impl Write) -> io::Result<()> {
        for &(user, item, stars, at) in &self.ratings {
            writeln!(
                out,
                "{}\t{}\t{}\t{}",
                self.users[user as usize], self.items[item as usize], stars, at
            )?;
        }
        Ok(())
    }

    /// Latest timestamp (the evaluation's "now").
    fn now(&self) -> i64 {
        self.ratings.iter().map(|r| r.3).max().unwrap_or(0)
    }

    /// Model over all ratings.
    pub fn train(&self, config: &EngineConfig) -> Model {
        Model::build(
            &self.interactions(0..self.ratings.len()),
            self.now(),
            config,
        )
    }
}

fn intern(names: &mut Vec<String>, index: &mut HashMap<String, u32>, id: &str) -> u32 {
    if let Some(&i) = index.get(id) {
        return i;
    }
    names.push(id.to_owned());
    index.insert(id.to_owned(), names.len() as u32 - 1);
    names.len() as u32 - 1
}

/// Synthetic ratings with planted structure, shaped like MovieLens-100K at N = 100,000:
/// items fall in 20 genres with Zipf popularity inside each; every user loves two genres,
/// takes 80 % of their items from them and rates those higher; users are more or less
/// lenient and items better or worse. A model that learns taste must beat popularity.
pub fn synthetic(ratings: usize, seed: u64) -> Dataset {
    const GENRES: usize = 20;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n_users = (ratings / 106).max(30);
    let n_items = (ratings / 60).max(60);
    let quality: Vec<f32> = (0..n_items).map(|_| 0.5 * normal(&mut rng)).collect();
    // Zipf weight within the genre: item i is the (i / GENRES)-th of its genre.
    let popularity: Vec<f64> = (0..n_items)
        .map(|i| 1.0 / ((i / GENRES) as f64 + 5.0).powf(0.9))
        .collect();
    let genre_items: Vec<Vec<usize>> = (0..GENRES)
        .map(|g| (g..n_items).step_by(GENRES).collect())
        .collect();
    let mut dataset = Dataset::default();
    let per_user = ratings as f64 / n_users as f64;
    let mut clock = 880_000_000i64;
    for u in 0..n_users {
        let user = dataset.intern_user(&format!("u{}", u + 1));
        let loves = [rng.random_range(0..GENRES), rng.random_range(0..GENRES)];
        let leniency = 0.4 * normal(&mut rng);
        // Activity is skewed like real users: many light, a few heavy; at least 20 each.
        let activity = ((per_user - 20.0) * -rng.random::<f64>().max(1e-9).ln()) as usize + 20;
        let activity = activity.min(n_items / 2);
        let mut taken = std::collections::HashSet::new();
        while taken.len() < activity {
            let pool: &[usize] = if rng.random::<f32>() < 0.8 {
                &genre_items[loves[rng.random_range(0..2)]]
            } else {
                &genre_items[rng.random_range(0..GENRES)]
            };
            let total: f64 = pool.iter().map(|&i| popularity[i]).sum();
            let mut pick = rng.random::<f64>() * total;
            let mut chosen = pool[pool.len() - 1];
            for &i in pool {
                pick -= popularity[i];
                if pick <= 0.0 {
                    chosen = i;
                    break;
                }
            }
            if !taken.insert(chosen) {
                continue;
            }
            let affinity = if loves.contains(&(chosen % GENRES)) {
                0.6
            } else {
                -0.6
            };
            let stars = (3.5 + leniency + quality[chosen] + affinity + 0.7 * normal(&mut rng))
                .round()
                .clamp(1.0, 5.0);
            let item = dataset.intern_item(&format!("i{}", chosen + 1));
            clock += rng.random_range(1..600);
            dataset.ratings.push((user, item, stars, clock));
        }
    }
    dataset
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut impl Rng) -> f32 {
    let (a, b): (f32, f32) = (rng.random::<f32>().max(1e-7), rng.random());
    (-2.0 * a.ln()).sqrt() * (std::f32::consts::TAU * b).cos()
}

/// One model's figures under the protocol.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Scores {
    /// Root mean squared error of predicted stars (5-fold mean).
    pub rmse: f64,
    /// Mean absolute error of predicted stars (5-fold mean).
    pub mae: f64,
    /// Share of the top 10 that the user went on to rate.
    pub precision_at_10: f64,
    /// Share of the user's test items found in the top 10.
    pub recall_at_10: f64,
    /// Normalised discounted cumulative gain of the top 10.
    pub ndcg_at_10: f64,
    /// Mean average precision of the top 10.
    pub map_at_10: f64,
    /// Time to fit on the top-N training split.
    pub fit_seconds: f64,
    /// Time to produce a top 10 for every test user.
    pub recommend_all_seconds: f64,
}

/// Engine and popularity side by side.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The engine with the given configuration.
    pub engine: Scores,
    /// Most popular items / Bayesian-average ratings.
    pub popularity: Scores,
}

/// Runs the whole protocol.
pub fn evaluate(dataset: &Dataset, seed: u64, config: &EngineConfig) -> Report {
    let mut engine = Scores::default();
    let mut popularity = Scores::default();
    rating_folds(dataset, seed, config, &mut engine, &mut popularity);
    top_n(dataset, seed, config, &mut engine, &mut popularity);
    Report { engine, popularity }
}

/// 5-fold cross-validation of rating prediction.
fn rating_folds(
    dataset: &Dataset,
    seed: u64,
    config: &EngineConfig,
    engine: &mut Scores,
    popularity: &mut Scores,
) {
    const FOLDS: usize = 5;
    let mut order: Vec<usize> = (0..dataset.ratings.len()).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let fold_size = order.len().div_ceil(FOLDS);
    for fold in 0..FOLDS {
        let test_range = fold * fold_size..((fold + 1) * fold_size).min(order.len());
        let test = &order[test_range.clone()];
        let train = order[..test_range.start]
            .iter()
            .chain(&order[test_range.end..])
            .copied();
        let model = Model::build(&dataset.interactions(train), dataset.now(), config);
        let mut by_user: HashMap<u32, Vec<usize>> = HashMap::new();
        for &i in test {
            by_user.entry(dataset.ratings[i].0).or_default().push(i);
        }
        let (mut engine_errors, mut popular_errors) = (Errors::default(), Errors::default());
        for (user, tests) in by_user {
            let items: Vec<i64> = tests.iter().map(|&i| dataset.ratings[i].1 as i64).collect();
            let key = user as i64;
            let predicted = model.predict(Some(key), model.history(key), &items);
            for ((&i, &item), predicted) in tests.iter().zip(&items).zip(predicted) {
                let stars = dataset.ratings[i].2;
                engine_errors.add(predicted.unwrap_or(3.0), stars);
                popular_errors.add(bayesian_average(&model, item), stars);
            }
        }
        engine_errors.fold_into(engine, FOLDS);
        popular_errors.fold_into(popularity, FOLDS);
    }
}

/// The popularity baseline's rating: the item's mean, pulled towards the global mean.
fn bayesian_average(model: &Model, item: i64) -> f32 {
    let (sum, count, mean) = model.rating_totals(item);
    let prior = model.config().bayesian_prior_ratings;
    (prior * mean + sum) / (prior + count as f32)
}

#[derive(Default)]
struct Errors {
    squared: f64,
    absolute: f64,
    count: usize,
}

impl Errors {
    fn add(&mut self, predicted: f32, actual: f32) {
        let error = (predicted - actual) as f64;
        self.squared += error * error;
        self.absolute += error.abs();
        self.count += 1;
    }

    fn fold_into(&self, scores: &mut Scores, folds: usize) {
        if self.count > 0 {
            scores.rmse += (self.squared / self.count as f64).sqrt() / folds as f64;
            scores.mae += self.absolute / self.count as f64 / folds as f64;
        }
    }
}

/// Per-user 75/25 split and top-10 ranking metrics.
fn top_n(
    dataset: &Dataset,
    seed: u64,
    config: &EngineConfig,
    engine: &mut Scores,
    popularity: &mut Scores,
) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut by_user: Vec<Vec<usize>> = vec![Vec::new(); dataset.users.len()];
    for (i, rating) in dataset.ratings.iter().enumerate() {
        by_user[rating.0 as usize].push(i);
    }
    let mut train = Vec::new();
    let mut test: Vec<Vec<u32>> = vec![Vec::new(); dataset.users.len()];
    for (user, ratings) in by_user.iter_mut().enumerate() {
        ratings.shuffle(&mut rng);
        let cut = (ratings.len() as f64 * 0.75).round() as usize;
        train.extend_from_slice(&ratings[..cut]);
        test[user] = ratings[cut..]
            .iter()
            .map(|&i| dataset.ratings[i].1)
            .collect();
    }

    let started = Instant::now();
    let model = Model::build(
        &dataset.interactions(train.iter().copied()),
        dataset.now(),
        config,
    );
    engine.fit_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let lists: Vec<(usize, Vec<u32>)> = (0..dataset.users.len())
        .filter(|&user| !test[user].is_empty())
        .map(|user| {
            let list = model
                .recommend(
                    model.history(user as i64),
                    10,
                    &|_| true,
                    &|_| false,
                    Explanations::Skip,
                )
                .into_iter()
                .map(|r| r.item as u32)
                .collect();
            (user, list)
        })
        .collect();
    engine.recommend_all_seconds = started.elapsed().as_secs_f64();
    rank_metrics(&lists, &test, engine);

    let started = Instant::now();
    let mut counts = vec![0u32; dataset.items.len()];
    for &i in &train {
        counts[dataset.ratings[i].1 as usize] += 1;
    }
    let mut by_count: Vec<u32> = (0..dataset.items.len() as u32).collect();
    by_count.sort_by(|a, b| counts[*b as usize].cmp(&counts[*a as usize]).then(a.cmp(b)));
    popularity.fit_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let lists: Vec<(usize, Vec<u32>)> = lists
        .iter()
        .map(|&(user, _)| {
            let seen = model.history(user as i64);
            let list = by_count
                .iter()
                .copied()
                .filter(|&item| {
                    let index = model.item_index(item as i64);
                    !matches!((seen, index), (Some(h), Some(i)) if h.contains(i))
                })
                .take(10)
                .collect();
            (user, list)
        })
        .collect();
    popularity.recommend_all_seconds = started.elapsed().as_secs_f64();
    rank_metrics(&lists, &test, popularity);
}

/// Averages the ranking metrics of each user's list against their test items.
fn rank_metrics(lists: &[(usize, Vec<u32>)], test: &[Vec<u32>], scores: &mut Scores) {
    let (mut precision, mut recall, mut ndcg, mut map) = (0.0, 0.0, 0.0, 0.0);
    for (user, list) in lists {
        let relevant = &test[*user];
        let (mut hits, mut dcg, mut average_precision) = (0usize, 0.0, 0.0);
        for (rank, item) in list.iter().take(10).enumerate() {
            if relevant.contains(item) {
                hits += 1;
                dcg += 1.0 / (rank as f64 + 2.0).log2();
                average_precision += hits as f64 / (rank + 1) as f64;
            }
        }
        let ideal_hits = relevant.len().min(10);
        let ideal: f64 = (0..ideal_hits).map(|r| 1.0 / (r as f64 + 2.0).log2()).sum();
        precision += hits as f64 / 10.0;
        recall += hits as f64 / relevant.len() as f64;
        ndcg += dcg / ideal;
        map += average_precision / ideal_hits as f64;
    }
    let users = lists.len().max(1) as f64;
    scores.precision_at_10 = precision / users;
    scores.recall_at_10 = recall / users;
    scores.ndcg_at_10 = ndcg / users;
    scores.map_at_10 = map / users;
}

/// `user<TAB>item,item,...` for every user: top `k`, seen items excluded, best first.
pub fn recommend_batch(
    dataset: &Dataset,
    k: usize,
    config: &EngineConfig,
    out: &mut impl Write,
) -> io::Result<()> {
    let model = dataset.train(config);
    for (user, name) in dataset.users.iter().enumerate() {
        let list = model.recommend(
            model.history(user as i64),
            k,
            &|_| true,
            &|_| false,
            Explanations::Skip,
        );
        let items: Vec<&str> = list
            .iter()
            .map(|r| dataset.items[r.item as usize].as_str())
            .collect();
        writeln!(out, "{name}\t{}", items.join(","))?;
    }
    Ok(())
}

/// `user<TAB>item<TAB>predicted` for every `user<TAB>item` line of `pairs`.
pub fn predict_pairs(
    dataset: &Dataset,
    pairs: impl BufRead,
    config: &EngineConfig,
    out: &mut impl Write,
) -> io::Result<()> {
    let model = dataset.train(config);
    for line in pairs.lines() {
        let line = line?;
        let parts = fields(line.trim());
        let (Some(user), Some(item)) = (parts.first(), parts.get(1)) else {
            continue;
        };
        let user_key = dataset.user(user).map(i64::from);
        // Unknown ids get a key no dataset index can have, so they fall back to biases.
        let item_key = dataset.item(item).map(i64::from).unwrap_or(-1);
        let history = user_key.and_then(|u| model.history(u));
        let predicted = model.predict(user_key, history, &[item_key])[0];
        let predicted = predicted.unwrap_or(3.0);
        writeln!(out, "{user}\t{item}\t{predicted:.4}")?;
    }
    Ok(())
}
