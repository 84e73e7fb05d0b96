//! The model being served: swapped atomically when a rebuild finishes, and kept current
//! between rebuilds by applying each new interaction to the user's history at once.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use arc_swap::ArcSwap;

use super::model::{Explanations, Model, Recommendation, UserHistory};
use super::{Interaction, ItemKey, SignalKind, UserKey};

/// A change to one user's interactions, reported after it is committed.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// Everything the user has now (re-read after a write): replaces their history.
    Replace {
        /// Who.
        user: UserKey,
        /// All their interactions.
        interactions: Vec<Interaction>,
    },
    /// A new (or repeated) interaction.
    Record(Interaction),
    /// An interaction taken back: a refund, leaving a group, a deleted rating.
    Withdraw {
        /// Who.
        user: UserKey,
        /// What.
        item: ItemKey,
        /// Which signal is withdrawn.
        kind: SignalKind,
    },
}

impl Change {
    fn user(&self) -> UserKey {
        match self {
            Change::Record(interaction) => interaction.user,
            Change::Withdraw { user, .. } | Change::Replace { user, .. } => *user,
        }
    }
}

/// Changes since the served model's snapshot, and the histories they produced.
#[derive(Default)]
struct Overlay {
    /// Sequence number of the last recorded change.
    sequence: u64,
    /// Changes not yet in the served model's snapshot, oldest first.
    pending: Vec<(u64, Change)>,
    /// Current histories of users changed since the snapshot.
    users: HashMap<UserKey, UserHistory>,
}

impl Overlay {
    fn apply(&mut self, model: &Model, change: &Change) {
        let user = change.user();
        let history = self
            .users
            .entry(user)
            .or_insert_with(|| model.history(user).cloned().unwrap_or_default());
        match change {
            Change::Replace { interactions, .. } => {
                *history = UserHistory::default();
                for interaction in interactions {
                    if let Some(item) = model.item_index(interaction.item) {
                        history.record(item, interaction.signal);
                    }
                }
            }
            Change::Record(interaction) => {
                if let Some(item) = model.item_index(interaction.item) {
                    history.record(item, interaction.signal);
                }
            }
            Change::Withdraw { item, kind, .. } => {
                if let Some(item) = model.item_index(*item) {
                    history.withdraw(item, *kind);
                }
            }
        }
    }
}

/// The served model plus the changes since it was built.
pub struct LiveRecommender {
    model: ArcSwap<Model>,
    overlay: RwLock<Overlay>,
}

impl LiveRecommender {
    /// Serves `model`.
    pub fn new(model: Model) -> Self {
        LiveRecommender {
            model: ArcSwap::from_pointee(model),
            overlay: RwLock::new(Overlay::default()),
        }
    }

    /// The model being served.
    pub fn model(&self) -> Arc<Model> {
        self.model.load_full()
    }

    /// Call before reading a snapshot for a rebuild; pass the result to [`Self::install`].
    /// Changes recorded up to here are in the snapshot (they were committed before it).
    pub fn checkpoint(&self) -> u64 {
        self.read().sequence
    }

    /// Applies a committed change to the user's history: takes effect on the next query.
    pub fn record(&self, change: Change) {
        // The lock first: `install` swaps the model under it, so indexes stay consistent.
        let mut overlay = self.write();
        let model = self.model.load();
        overlay.sequence += 1;
        let sequence = overlay.sequence;
        overlay.apply(&model, &change);
        overlay.pending.push((sequence, change));
    }

    /// Swaps in a model built from a snapshot taken after `checkpoint`; changes recorded
    /// since then are replayed onto it (replaying one the snapshot has is harmless).
    pub fn install(&self, model: Model, checkpoint: u64) {
        let mut overlay = self.write();
        overlay
            .pending
            .retain(|(sequence, _)| *sequence > checkpoint);
        overlay.users.clear();
        let pending = std::mem::take(&mut overlay.pending);
        for (_, change) in &pending {
            overlay.apply(&model, change);
        }
        overlay.pending = pending;
        self.model.store(Arc::new(model));
    }

    /// Runs `f` on the served model and the user's current history.
    pub fn with_user<R>(
        &self,
        user: Option<UserKey>,
        f: impl FnOnce(&Model, Option<&UserHistory>) -> R,
    ) -> R {
        let overlay = self.read();
        let model = self.model.load();
        let history =
            user.and_then(|user| overlay.users.get(&user).or_else(|| model.history(user)));
        f(&model, history)
    }

    /// Top `k` for a user (see [`Model::recommend`]).
    pub fn recommend(
        &self,
        user: Option<UserKey>,
        k: usize,
        accept: &dyn Fn(ItemKey) -> bool,
        prefer: &dyn Fn(ItemKey) -> bool,
        explanations: Explanations,
    ) -> Vec<Recommendation> {
        self.with_user(user, |model, history| {
            model.recommend(history, k, accept, prefer, explanations)
        })
    }

    /// Predicted stars for each item (see [`Model::predict`]).
    pub fn predict(&self, user: Option<UserKey>, items: &[ItemKey]) -> Vec<Option<f32>> {
        self.with_user(user, |model, history| model.predict(user, history, items))
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Overlay> {
        // A panic while holding the lock leaves a consistent overlay (each step is whole).
        self.overlay.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Overlay> {
        self.overlay.write().unwrap_or_else(|e| e.into_inner())
    }
}
