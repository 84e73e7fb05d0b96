//! A built model: who did what, the item–item weights, the rating predictor and the
//! cold-start ranking, all indexed densely so queries touch only flat arrays.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::time::Instant;

use super::rating::RatingModel;
use super::similarity::{self, ItemWeights};
use super::{EngineConfig, Interaction, ItemKey, Signal, SignalKind, UserKey};

/// Rows of variable length in two flat vectors (compressed sparse rows).
#[derive(Clone, Debug, Default)]
pub struct Csr<T> {
    offsets: Vec<usize>,
    entries: Vec<T>,
}

impl<T> Csr<T> {
    /// Packs rows in order.
    pub fn from_rows(rows: impl IntoIterator<Item = Vec<T>>) -> Self {
        let mut offsets = vec![0];
        let mut entries = Vec::new();
        for row in rows {
            entries.extend(row);
            offsets.push(entries.len());
        }
        Csr { offsets, entries }
    }

    /// Row `index` (empty past the end).
    pub fn row(&self, index: usize) -> &[T] {
        match (self.offsets.get(index), self.offsets.get(index + 1)) {
            (Some(&start), Some(&end)) => &self.entries[start..end],
            _ => &[],
        }
    }

    /// Entries in all rows.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// What one user did with one item: the kinds of signal (bit flags) and the stars.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HistoryEntry {
    /// Dense item index in the model.
    pub item: u32,
    /// [`SignalKind`] bits.
    pub kinds: u8,
    /// Stars when rated, else 0.
    pub stars: f32,
}

impl HistoryEntry {
    fn has(&self, kind: SignalKind) -> bool {
        self.kinds & kind as u8 != 0
    }
}

/// One user's interactions, sorted by item index.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UserHistory {
    entries: Vec<HistoryEntry>,
}

impl UserHistory {
    /// The entries, sorted by item index.
    pub fn entries(&self) -> &[HistoryEntry] {
        &self.entries
    }

    /// Whether the user has no interactions.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether the user interacted with `item` in any way (owned items are never recommended).
    pub fn contains(&self, item: u32) -> bool {
        self.entries.binary_search_by_key(&item, |e| e.item).is_ok()
    }

    /// Records a signal; recording the same signal twice changes nothing.
    pub fn record(&mut self, item: u32, signal: Signal) {
        let at = match self.entries.binary_search_by_key(&item, |e| e.item) {
            Ok(at) => at,
            Err(at) => {
                self.entries.insert(
                    at,
                    HistoryEntry {
                        item,
                        kinds: 0,
                        stars: 0.0,
                    },
                );
                at
            }
        };
        let entry = &mut self.entries[at];
        entry.kinds |= signal.kind() as u8;
        if let Signal::Rating(stars) = signal {
            entry.stars = stars;
        }
    }

    /// Removes a signal (refund, leaving a group, a deleted rating).
    pub fn withdraw(&mut self, item: u32, kind: SignalKind) {
        if let Ok(at) = self.entries.binary_search_by_key(&item, |e| e.item) {
            let entry = &mut self.entries[at];
            entry.kinds &= !(kind as u8);
            if kind == SignalKind::Rating {
                entry.stars = 0.0;
            }
            if entry.kinds == 0 {
                self.entries.remove(at);
            }
        }
    }

    /// The rated entries as (item, stars).
    pub fn ratings(&self) -> impl Iterator<Item = (u32, f32)> + '_ {
        self.entries
            .iter()
            .filter(|e| e.has(SignalKind::Rating))
            .map(|e| (e.item, e.stars))
    }

    /// The user's mean rating, if they rated anything.
    pub fn mean_stars(&self) -> Option<f32> {
        let (sum, count) = self
            .ratings()
            .fold((0.0, 0u32), |(sum, count), (_, stars)| {
                (sum + stars, count + 1)
            });
        (count > 0).then(|| sum / count as f32)
    }

    /// Interaction strength per item: the strongest implicit signal, moved up or down by
    /// how the user rated it compared with their own mean (harsh and generous raters alike).
    pub fn weights(&self, config: &EngineConfig) -> Vec<(u32, f32)> {
        let mean = self.mean_stars();
        self.entries
            .iter()
            .map(|e| {
                let mut weight: f32 = 0.0;
                if e.has(SignalKind::Purchase) {
                    weight = weight.max(config.purchase_weight);
                }
                if e.has(SignalKind::GroupJoin) {
                    weight = weight.max(config.group_join_weight);
                }
                if e.has(SignalKind::Attendance) {
                    weight = weight.max(config.attendance_weight);
                }
                if e.has(SignalKind::Rating) {
                    let centred = e.stars - mean.unwrap_or(e.stars);
                    weight =
                        weight.max(config.rating_weight) + config.centred_rating_weight * centred;
                }
                // A disliked item still says something about taste; it never counts against.
                (e.item, weight.max(0.05))
            })
            .collect()
    }
}

/// Figures describing a built model.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelStats {
    /// Items known to the model.
    pub items: usize,
    /// Users with at least one interaction.
    pub users: usize,
    /// Distinct (user, item) pairs.
    pub interactions: usize,
    /// Non-zero item–item weights kept.
    pub non_zero_similarities: u64,
    /// Which item–item model was built.
    pub similarity: &'static str,
    /// Wall-clock build time.
    pub build_seconds: f64,
}

/// One ranked item with its score and the owned items that contributed most.
#[derive(Clone, Debug, PartialEq)]
pub struct Recommendation {
    /// The recommended item.
    pub item: ItemKey,
    /// Ranking score (higher is better; comparable within one answer only).
    pub score: f32,
    /// The user's items that contributed most, strongest first (empty for cold start).
    pub because: Vec<ItemKey>,
}

/// How many owned items explain one recommendation.
const EXPLANATION_LENGTH: usize = 3;

/// Whether a ranking names the owned items behind each pick. Leaving them out saves a
/// pass over the user's items per pick, for callers that do not show them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Explanations {
    /// Fill [`Recommendation::because`].
    Include,
    /// Leave [`Recommendation::because`] empty.
    Skip,
}

/// A model built from a snapshot of interactions; immutable once built.
pub struct Model {
    config: EngineConfig,
    items: Vec<ItemKey>,
    item_index: HashMap<ItemKey, u32>,
    user_index: HashMap<UserKey, u32>,
    histories: Vec<UserHistory>,
    weights: ItemWeights,
    ratings: RatingModel,
    /// Cold-start order: (item, score), best first.
    popular: Vec<(u32, f32)>,
    stats: ModelStats,
}

/// Per-query working memory, kept per thread so a query allocates almost nothing.
#[derive(Default)]
struct Scratch {
    /// Score of every item for the user being ranked.
    scores: Vec<f32>,
    /// Items whose score may be non-zero.
    touched: Vec<u32>,
    /// Scored items the user does not have.
    candidates: Vec<Ranked>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// A scored candidate: ordered by score, then by index for stable answers.
#[derive(Clone, Copy, PartialEq)]
struct Ranked(f32, u32);

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0).then(other.1.cmp(&self.1))
    }
}

/// The `k` best candidates that `accept` takes, best first. Sorting all candidates
/// would be wasted work: only the best few are ever looked at. So the best window
/// (twice `k`) is selected in linear time and sorted; when `accept` turns down too many
/// of them, the next, twice as large window follows.
fn best_accepted(candidates: &mut [Ranked], k: usize, accept: impl Fn(u32) -> bool) -> Vec<Ranked> {
    let best_first = |a: &Ranked, b: &Ranked| b.cmp(a);
    let mut picked = Vec::with_capacity(k);
    let mut rest = candidates;
    let mut window = (2 * k).max(8);
    while picked.len() < k && !rest.is_empty() {
        let size = window.min(rest.len());
        if size < rest.len() {
            rest.select_nth_unstable_by(size - 1, best_first);
        }
        let (best, others) = std::mem::take(&mut rest).split_at_mut(size);
        best.sort_unstable_by(best_first);
        picked.extend(
            best.iter()
                .filter(|candidate| accept(candidate.1))
                .take(k - picked.len()),
        );
        rest = others;
        window *= 2;
    }
    picked
}

impl Model {
    /// A model that knows nothing: every user is cold and no item is known.
    pub fn empty(config: &EngineConfig) -> Model {
        Model::build(&[], 0, config)
    }

    /// Builds a model from a snapshot of interactions; `now` (Unix seconds) dates "recent".
    pub fn build(interactions: &[Interaction], now: i64, config: &EngineConfig) -> Model {
        Model::build_with_catalogue(interactions, &[], now, config)
    }

    /// Like [`Model::build`], also knowing `catalogue` items nobody has touched yet (so
    /// new items can be ranked for cold start).
    pub fn build_with_catalogue(
        interactions: &[Interaction],
        catalogue: &[ItemKey],
        now: i64,
        config: &EngineConfig,
    ) -> Model {
        let started = Instant::now();
        let mut items: Vec<ItemKey> = interactions.iter().map(|i| i.item).collect();
        items.extend_from_slice(catalogue);
        items.sort_unstable();
        items.dedup();
        let item_index: HashMap<ItemKey, u32> = items
            .iter()
            .enumerate()
            .map(|(index, &key)| (key, index as u32))
            .collect();

        let mut by_user: Vec<&Interaction> = interactions.iter().collect();
        by_user.sort_by_key(|i| (i.user, i.item));
        let mut user_index = HashMap::new();
        let mut histories: Vec<UserHistory> = Vec::new();
        let recent_since = now - config.recent_days * 86_400;
        let mut total = vec![0u32; items.len()];
        let mut recent = vec![0u32; items.len()];
        for interaction in by_user {
            let user = *user_index.entry(interaction.user).or_insert_with(|| {
                histories.push(UserHistory::default());
                histories.len() as u32 - 1
            });
            let item = item_index[&interaction.item];
            let history = &mut histories[user as usize];
            let first_signal = !history.contains(item);
            history.record(item, interaction.signal);
            if first_signal {
                total[item as usize] += 1;
            }
            if first_signal && interaction.at >= recent_since {
                recent[item as usize] += 1;
            }
        }

        let user_weights: Vec<Vec<(u32, f32)>> =
            histories.iter().map(|h| h.weights(config)).collect();
        // The two models are independent: build them side by side.
        let (weights, ratings) = std::thread::scope(|scope| {
            let ratings = scope.spawn(|| RatingModel::build(&histories, items.len(), config));
            let weights = similarity::build(&user_weights, items.len(), config);
            (
                weights,
                // A panic in the worker is carried on unchanged, as if it happened here.
                ratings
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            )
        });
        let popular = cold_start_order(&ratings, &total, &recent, config);
        let stats = ModelStats {
            items: items.len(),
            users: histories.len(),
            interactions: user_weights.iter().map(Vec::len).sum(),
            non_zero_similarities: weights.non_zero(),
            similarity: weights.name(),
            build_seconds: started.elapsed().as_secs_f64(),
        };
        Model {
            config: config.clone(),
            items,
            item_index,
            user_index,
            histories,
            weights,
            ratings,
            popular,
            stats,
        }
    }

    /// Figures describing this model.
    pub fn stats(&self) -> &ModelStats {
        &self.stats
    }

    /// The configuration it was built with.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Dense index of an item, if the model knows it.
    pub fn item_index(&self, item: ItemKey) -> Option<u32> {
        self.item_index.get(&item).copied()
    }

    /// The items the model knows, in index order.
    pub fn items(&self) -> &[ItemKey] {
        &self.items
    }

    /// A user's history as of the build.
    pub fn history(&self, user: UserKey) -> Option<&UserHistory> {
        self.user_index
            .get(&user)
            .map(|&index| &self.histories[index as usize])
    }

    /// Dense index of a user, if the build saw them.
    pub fn user_index(&self, user: UserKey) -> Option<u32> {
        self.user_index.get(&user).copied()
    }

    /// The top `k` items for a user with this `history` (None: a user the model has never
    /// seen), skipping items the user has and items `accept` refuses. A user with no usable
    /// history gets the cold-start ranking, items `prefer` likes first. Explanations are
    /// filled only when asked for.
    pub fn recommend(
        &self,
        history: Option<&UserHistory>,
        k: usize,
        accept: &dyn Fn(ItemKey) -> bool,
        prefer: &dyn Fn(ItemKey) -> bool,
        explanations: Explanations,
    ) -> Vec<Recommendation> {
        let history = history.filter(|h| !h.is_empty());
        let Some(history) = history else {
            return self.cold_start(k, &|_| true, accept, prefer);
        };
        let user_weights = history.weights(&self.config);
        let picked = SCRATCH.with_borrow_mut(|scratch| {
            let Scratch {
                scores,
                touched,
                candidates,
            } = scratch;
            scores.clear();
            scores.resize(self.items.len(), 0.0);
            self.weights.accumulate(&user_weights, scores, touched);
            // What the user has is never recommended; zeroing it once is cheaper than a
            // lookup in the history per candidate.
            for entry in history.entries() {
                if let Some(score) = scores.get_mut(entry.item as usize) {
                    *score = 0.0;
                }
            }
            candidates.clear();
            candidates.extend(
                touched
                    .iter()
                    .filter(|&&i| scores[i as usize] > 0.0)
                    .map(|&i| Ranked(scores[i as usize], i)),
            );
            best_accepted(candidates, k, |index| accept(self.items[index as usize]))
        });
        let mut answer: Vec<Recommendation> = picked
            .into_iter()
            .map(|Ranked(score, index)| Recommendation {
                item: self.items[index as usize],
                score,
                because: match explanations {
                    Explanations::Include => self.explain(&user_weights, index),
                    Explanations::Skip => Vec::new(),
                },
            })
            .collect();
        if answer.len() < k {
            // Too little signal for a full page: fill with what is popular.
            let taken: Vec<ItemKey> = answer.iter().map(|r| r.item).collect();
            let fill = self.cold_start(
                k - answer.len(),
                &|index| !history.contains(index),
                &|item| accept(item) && !taken.contains(&item),
                prefer,
            );
            answer.extend(fill.into_iter().map(|r| Recommendation { score: 0.0, ..r }));
        }
        answer
    }

    /// The cold-start ranking: Bayesian-average rating and recent sales, preferred items first.
    fn cold_start(
        &self,
        k: usize,
        allowed: &dyn Fn(u32) -> bool,
        accept: &dyn Fn(ItemKey) -> bool,
        prefer: &dyn Fn(ItemKey) -> bool,
    ) -> Vec<Recommendation> {
        let mut preferred = Vec::new();
        let mut others = Vec::new();
        for &(index, score) in &self.popular {
            if preferred.len() >= k {
                break;
            }
            let item = self.items[index as usize];
            if !allowed(index) || !accept(item) {
                continue;
            }
            let recommendation = Recommendation {
                item,
                score,
                because: Vec::new(),
            };
            if prefer(item) {
                preferred.push(recommendation);
            } else if others.len() < k {
                others.push(recommendation);
            }
        }
        preferred.extend(others);
        preferred.truncate(k);
        preferred
    }

    /// The owned items contributing most to `index`'s score.
    fn explain(&self, user_weights: &[(u32, f32)], index: u32) -> Vec<ItemKey> {
        let mut contributions: Vec<(f32, u32)> = user_weights
            .iter()
            .filter_map(|&(source, weight)| {
                let contribution = weight * self.weights.weight(source, index)?;
                (contribution > 0.0).then_some((contribution, source))
            })
            .collect();
        contributions.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        contributions
            .into_iter()
            .take(EXPLANATION_LENGTH)
            .map(|(_, source)| self.items[source as usize])
            .collect()
    }

    /// The items most strongly suggested by `item`, best first, that `accept` takes.
    pub fn similar(
        &self,
        item: ItemKey,
        k: usize,
        accept: &dyn Fn(ItemKey) -> bool,
    ) -> Vec<(ItemKey, f32)> {
        let Some(index) = self.item_index(item) else {
            return Vec::new();
        };
        let mut neighbours = self.weights.neighbours(index);
        neighbours.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        neighbours
            .into_iter()
            .filter(|&(other, weight)| other != index && weight > 0.0)
            .map(|(other, weight)| (self.items[other as usize], weight))
            .filter(|&(other, _)| accept(other))
            .take(k)
            .collect()
    }

    /// (Σ stars, number of ratings, global mean) for an item (zeros when unknown).
    pub fn rating_totals(&self, item: ItemKey) -> (f32, u32, f32) {
        let (sum, count) = self
            .item_index(item)
            .map(|index| self.ratings.item_rating_totals(index as usize))
            .unwrap_or((0.0, 0));
        (sum, count, self.ratings.global_mean())
    }

    /// Predicted stars (1 to 5) for each item, or None when the model has no ratings at all.
    pub fn predict(
        &self,
        user: Option<UserKey>,
        history: Option<&UserHistory>,
        items: &[ItemKey],
    ) -> Vec<Option<f32>> {
        let indexes: Vec<Option<u32>> = items.iter().map(|&i| self.item_index(i)).collect();
        let user_index = user.and_then(|u| self.user_index(u));
        self.ratings
            .predict(history, user_index, &indexes, &self.config)
    }
}

/// Cold-start order: Bayesian-average rating (pulled towards the global mean until an item
/// has enough ratings) times a log of sales, where recent sales count ten times older ones.
fn cold_start_order(
    ratings: &RatingModel,
    total: &[u32],
    recent: &[u32],
    config: &EngineConfig,
) -> Vec<(u32, f32)> {
    let prior = config.bayesian_prior_ratings;
    // Without any rating every item gets the same neutral prior; sales decide.
    let mean = if ratings.has_ratings() {
        ratings.global_mean()
    } else {
        3.0
    };
    let mut order: Vec<(u32, f32)> = (0..total.len())
        .map(|index| {
            let (sum, count) = ratings.item_rating_totals(index);
            let average = (prior * mean + sum) / (prior + count as f32);
            let sales = recent[index] as f32 + 0.1 * (total[index] - recent[index]) as f32;
            (index as u32, average / 5.0 * (2.0 + sales).ln())
        })
        .collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    order
}
