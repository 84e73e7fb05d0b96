//! Engine tests on small generated data: planted taste beats popularity, exclusions,
//! explanations, cold start, predictions, incremental updates and the atomic swap.

use super::eval::{self, Dataset};
use super::*;

fn buy(user: UserKey, item: ItemKey) -> Interaction {
    Interaction {
        user,
        item,
        signal: Signal::Purchase,
        at: 1_000,
    }
}

/// Users 0..20 buy some of items 1..=3, users 20..40 some of 11..=13; item 99 is
/// bought by everyone, so popularity alone would push it.
fn two_tastes() -> Vec<Interaction> {
    let mut out = Vec::new();
    for user in 0..40 {
        let base = if user < 20 { 1 } else { 11 };
        for offset in 0..3 {
            if (user + offset) % 4 != 0 {
                out.push(buy(user, base + offset));
            }
        }
        out.push(buy(user, 99));
    }
    out
}

fn all_configs() -> Vec<EngineConfig> {
    [
        SimilarityKind::Ease,
        SimilarityKind::Cosine,
        SimilarityKind::ConditionalProbability,
    ]
    .into_iter()
    .map(|similarity| EngineConfig {
        similarity,
        ..EngineConfig::default()
    })
    .collect()
}

#[test]
fn every_model_recommends_within_the_taste_and_explains_it() {
    for config in all_configs() {
        let model = Model::build(&two_tastes(), 2_000, &config);
        let mut history = UserHistory::default();
        history.record(model.item_index(1).unwrap(), Signal::Purchase);
        // 99 is everyone's: a fair suggestion, but not the one under test.
        let list = model.recommend(
            Some(&history),
            2,
            &|item| item != 99,
            &|_| false,
            Explanations::Include,
        );
        let items: Vec<ItemKey> = list.iter().map(|r| r.item).collect();
        assert!(
            items.contains(&2) && items.contains(&3),
            "{config:?}: {items:?}"
        );
        assert_eq!(list[0].because, vec![1], "{config:?}");
        assert!(!items.contains(&1), "owned item recommended");
    }
}

#[test]
fn refused_items_are_skipped_and_short_lists_are_filled_by_popularity() {
    let model = Model::build(&two_tastes(), 2_000, &EngineConfig::default());
    let history = model.history(0).unwrap();
    let list = model.recommend(
        Some(history),
        10,
        &|item| item != 1,
        &|_| false,
        Explanations::Include,
    );
    let available = model.items().len() - history.entries().len() - 1;
    assert_eq!(list.len(), available, "{list:?}");
    assert!(
        list.iter()
            .all(|r| r.item != 1 && !history.contains(model.item_index(r.item).unwrap()))
    );
    let unique: std::collections::HashSet<_> = list.iter().map(|r| r.item).collect();
    assert_eq!(unique.len(), available);
}

#[test]
fn cold_start_ranks_preferred_items_first_then_popular_ones() {
    let model = Model::build(&two_tastes(), 2_000, &EngineConfig::default());
    let plain = model.recommend(None, 3, &|_| true, &|_| false, Explanations::Include);
    assert_eq!(plain[0].item, 99, "the most bought item leads");
    assert!(plain.iter().all(|r| r.because.is_empty()));
    let preferred = model.recommend(
        None,
        3,
        &|_| true,
        &|item| item > 10 && item < 20,
        Explanations::Include,
    );
    assert!(
        preferred.iter().all(|r| r.item > 10 && r.item < 20),
        "{preferred:?}"
    );
}

#[test]
fn predictions_follow_the_users_taste_and_stay_in_range() {
    let mut interactions = Vec::new();
    for user in 0..30 {
        let likes_a = user % 2 == 0;
        for item in 0..10 {
            let in_a = item < 5;
            let stars = if likes_a == in_a { 5.0 } else { 1.0 };
            if (user + item) % 3 != 0 {
                interactions.push(Interaction {
                    user,
                    item,
                    signal: Signal::Rating(stars),
                    at: 0,
                });
            }
        }
    }
    let model = Model::build(&interactions, 0, &EngineConfig::default());
    // User 0 likes A and did not rate item 0 (0 % 3 == 0) nor item 6 ((0 + 6) % 3 == 0).
    let predicted = model.predict(Some(0), model.history(0), &[0, 6, 12_345]);
    let (a, b, unknown) = (
        predicted[0].unwrap(),
        predicted[1].unwrap(),
        predicted[2].unwrap(),
    );
    assert!(a > 3.5 && b < 2.5 && a - b > 1.5, "A {a}, B {b}");
    assert!((1.0..=5.0).contains(&unknown));
    let empty = Model::build(&two_tastes(), 0, &EngineConfig::default());
    assert_eq!(empty.predict(Some(0), empty.history(0), &[1]), vec![None]);
}

#[test]
fn a_recorded_purchase_changes_the_next_answer_and_survives_a_swap() {
    let config = EngineConfig::default();
    let live = LiveRecommender::new(Model::build(&two_tastes(), 2_000, &config));
    let newcomer = 1_000;
    let cold = live.recommend(
        Some(newcomer),
        3,
        &|_| true,
        &|_| false,
        Explanations::Include,
    );
    assert!(cold.iter().all(|r| r.because.is_empty()));

    let checkpoint = live.checkpoint();
    live.record(Change::Record(buy(newcomer, 11)));
    let not_99 = |item: ItemKey| item != 99;
    let warm = live.recommend(
        Some(newcomer),
        2,
        &not_99,
        &|_| false,
        Explanations::Include,
    );
    let items: Vec<ItemKey> = warm.iter().map(|r| r.item).collect();
    assert!(items.contains(&12) && items.contains(&13), "{items:?}");
    assert_eq!(warm[0].because, vec![11]);

    // A rebuild from a snapshot that missed the purchase still knows it afterwards.
    live.install(Model::build(&two_tastes(), 2_000, &config), checkpoint);
    let after_swap = live.recommend(
        Some(newcomer),
        2,
        &not_99,
        &|_| false,
        Explanations::Include,
    );
    assert_eq!(after_swap, warm);

    // Withdrawn (refunded): cold again.
    live.record(Change::Withdraw {
        user: newcomer,
        item: 11,
        kind: SignalKind::Purchase,
    });
    let refunded = live.recommend(
        Some(newcomer),
        3,
        &|_| true,
        &|_| false,
        Explanations::Include,
    );
    assert!(
        refunded.iter().all(|r| r.because.is_empty()),
        "{refunded:?}"
    );
}

#[test]
fn the_engine_clearly_beats_popularity_on_planted_structure() {
    let dataset = eval::synthetic(20_000, 7);
    let report = eval::evaluate(&dataset, 42, &EngineConfig::default());
    assert!(
        report.engine.precision_at_10 > 2.0 * report.popularity.precision_at_10,
        "{report:?}"
    );
    assert!(report.engine.ndcg_at_10 > 2.0 * report.popularity.ndcg_at_10);
    assert!(report.engine.rmse < report.popularity.rmse, "{report:?}");
    assert!(
        report.engine.rmse > 0.3,
        "a rating model this exact means a leak: {report:?}"
    );
}

#[test]
fn batch_commands_print_every_user_and_every_pair() {
    let dataset = eval::synthetic(3_000, 1);
    let mut out = Vec::new();
    eval::recommend_batch(&dataset, 5, &EngineConfig::default(), &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.lines().count(), dataset.users.len());
    let first = text.lines().next().unwrap();
    let (user, items) = first.split_once('\t').unwrap();
    let items: Vec<&str> = items.split(',').collect();
    assert_eq!(items.len(), 5);
    let user = dataset.user(user).unwrap();
    for item in items {
        let item = dataset.item(item).unwrap();
        assert!(
            !dataset.ratings.iter().any(|r| r.0 == user && r.1 == item),
            "a seen item was recommended"
        );
    }

    let pairs = "u1\ti1\nnobody\ti2\n";
    let mut out = Vec::new();
    eval::predict_pairs(
        &dataset,
        pairs.as_bytes(),
        &EngineConfig::default(),
        &mut out,
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    for line in lines {
        let stars: f32 = line.split('\t').nth(2).unwrap().parse().unwrap();
        assert!((1.0..=5.0).contains(&stars), "{line}");
    }
}

#[test]
fn datasets_read_movielens_lines_and_refuse_garbage() {
    let dir = std::env::temp_dir().join(format!("zhiku-eval-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.data");
    std::fs::write(
        &good,
        "user\titem\trating\ttime\n1\t10\t4\t100\n1::11::5::101\n2 10 3 102\n1\t10\t2\t103\n",
    )
    .unwrap();
    let dataset = Dataset::read(&good).unwrap();
    assert_eq!(dataset.users.len(), 2);
    assert_eq!(
        dataset.ratings.len(),
        3,
        "a repeated pair keeps the last rating"
    );
    assert!(dataset.ratings.contains(&(0, 0, 2.0, 103)));
    let bad = dir.join("bad.data");
    std::fs::write(&bad, "1\t10\t4\t100\n1\t10\n").unwrap();
    let error = Dataset::read(&bad).unwrap_err().to_string();
    assert!(error.contains(":2:"), "{error}");
}

#[test]
fn an_empty_model_answers_nothing_and_does_not_fail() {
    for config in all_configs() {
        let model = Model::empty(&config);
        assert!(
            model
                .recommend(None, 5, &|_| true, &|_| false, Explanations::Include)
                .is_empty()
        );
        assert!(model.similar(1, 5, &|_| true).is_empty());
        assert_eq!(model.predict(Some(1), None, &[1]), vec![None]);
    }
}
